"""What the audio handler works with, built once per Lambda environment.

`AudioServices.from_env()` is the production wiring: the shared session store and rate
limiter, the audio metrics, and a processor whose buffers and Transcribe streams live as
long as the environment. Tests construct it with an emulator-backed store, metrics on a
memory sink and an `InProcessTranscriber`.

``TRANSCRIBER`` selects the transcriber: ``amazon`` (default) or ``in-process``;
``TRANSCRIBE_LANGUAGE_CODE`` sets the language (default en-US).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from audio_transcription.audio_buffer import SessionAudioBuffers
from audio_transcription.metrics import AudioMetrics
from audio_transcription.processing import AudioProcessor
from audio_transcription.transcriber import InProcessTranscriber, StreamSettings
from session_management.backend import sessions_from_env
from session_management.store import SessionStore
from websocket_service.services import WebSocketServices

TYPE_CHECKING = False
if TYPE_CHECKING:
    from audio_transcription.transcriber import Transcriber


@dataclass(kw_only=True)
class AudioServices(WebSocketServices):
    store: SessionStore
    metrics: AudioMetrics
    processor: AudioProcessor

    @classmethod
    def from_env(cls) -> AudioServices:
        store, rate_limiter = sessions_from_env()
        metrics = AudioMetrics()
        processor = AudioProcessor(transcriber_from_env(), metrics, SessionAudioBuffers.from_env())
        return cls(store=store, rate_limiter=rate_limiter, metrics=metrics, processor=processor)


def transcriber_from_env(environ: Mapping[str, str] | None = None) -> Transcriber:
    env = os.environ if environ is None else environ
    settings = StreamSettings(language_code=env.get("TRANSCRIBE_LANGUAGE_CODE") or "en-US")
    if env.get("TRANSCRIBER", "").strip().lower() == "in-process":
        return InProcessTranscriber(settings)
    # Imported here: the SDK and awscrt load only in the function that transcribes.
    from audio_transcription.transcribe_adapter import AmazonTranscribeStreaming

    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    return AmazonTranscribeStreaming(region, settings)
