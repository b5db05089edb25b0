"""What the audio handler works with, built once per Lambda environment.

`AudioServices.from_env()` is the production wiring: the shared session store and rate
limiter, the audio metrics, and a processor whose buffers and Transcribe streams live as
long as the environment. Tests construct it with an emulator-backed store, metrics on a
memory sink and an `InProcessTranscriber`.
"""

from __future__ import annotations

from dataclasses import dataclass

from audio_transcription.audio_buffer import SessionAudioBuffers
from audio_transcription.metrics import AudioMetrics
from audio_transcription.processing import AudioProcessor
from audio_transcription.transcriber import transcriber_from_env
from session_management.services import WebSocketServices


@dataclass(kw_only=True)
class AudioServices(WebSocketServices):
    metrics: AudioMetrics
    processor: AudioProcessor

    @classmethod
    def from_env(cls) -> AudioServices:
        store, rate_limiter = cls.aws_from_env()
        metrics = AudioMetrics()
        processor = AudioProcessor(transcriber_from_env(), metrics, SessionAudioBuffers.from_env())
        return cls(store=store, rate_limiter=rate_limiter, metrics=metrics, processor=processor)
