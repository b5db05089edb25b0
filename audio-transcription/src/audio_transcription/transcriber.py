"""The small interface audio is transcribed through, and an in-process implementation.

`Transcriber.start_stream` opens one streaming transcription per session; the stream takes
PCM chunks until it is closed. Implementations raise `TranscriptionError` with an error type
from TRANSCRIBE_ERROR_TYPES, so the caller never sees SDK exceptions.

- `AmazonTranscribeStreaming` (`transcribe_adapter`): Amazon Transcribe streaming through
  the `amazon-transcribe` SDK (imported only when used).
- `InProcessTranscriber`: keeps the audio in memory and can be told to fail or to be slow;
  for tests and local runs.

`services.transcriber_from_env` picks one by configuration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from audio_transcription.audio_chunk import MEDIA_ENCODING, SAMPLE_RATE_HZ

# The two protocols below are structural types for mypy; at run time they are plain classes.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object

# (session id, transcript text, is_partial): where transcripts go, if anywhere.
TranscriptCallback = Callable[[str, str, bool], None]


class TranscriptionError(Exception):
    """A stream could not be opened or failed; ``error_type`` is from TRANSCRIBE_ERROR_TYPES."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


@dataclass(frozen=True)
class StreamSettings:
    language_code: str = "en-US"
    sample_rate_hz: int = SAMPLE_RATE_HZ
    media_encoding: str = MEDIA_ENCODING


class TranscriptionStream(Protocol):
    def send_audio(self, chunk: bytes) -> None:
        """Send one PCM chunk; raises `TranscriptionError` (the stream is then unusable)."""
        ...

    def close(self) -> None:
        """End the stream; never raises."""
        ...


class Transcriber(Protocol):
    def start_stream(self, session_id: str) -> TranscriptionStream:
        """Open a stream for a session; raises `TranscriptionError`."""
        ...


class InProcessTranscriber:
    """Keeps each session's audio in memory. For tests and local runs.

    ``fail_next_start(error_type)`` / ``fail_next_send(error_type)`` make the next calls
    fail; ``start_delay_seconds`` / ``send_delay_seconds`` make them slow.
    """

    def __init__(self, settings: StreamSettings | None = None) -> None:
        self.settings = settings or StreamSettings()
        self.start_delay_seconds = 0.0
        self.send_delay_seconds = 0.0
        self.streams_started = 0
        self.streams_closed = 0
        self._audio: dict[str, bytearray] = {}
        self._start_failures: list[str] = []
        self._send_failures: list[str] = []
        self._lock = threading.Lock()

    def fail_next_start(self, error_type: str = "ServiceUnavailable", times: int = 1) -> None:
        with self._lock:
            self._start_failures.extend([error_type] * times)

    def fail_next_send(self, error_type: str = "InternalFailure", times: int = 1) -> None:
        with self._lock:
            self._send_failures.extend([error_type] * times)

    def audio(self, session_id: str) -> bytes:
        """All audio a session's streams received."""
        with self._lock:
            return bytes(self._audio.get(session_id, b""))

    def start_stream(self, session_id: str) -> TranscriptionStream:
        if self.start_delay_seconds:
            time.sleep(self.start_delay_seconds)
        with self._lock:
            if self._start_failures:
                error_type = self._start_failures.pop(0)
                raise TranscriptionError(error_type, "injected start failure")
            self.streams_started += 1
            self._audio.setdefault(session_id, bytearray())
        return _InProcessStream(self, session_id)

    def _receive(self, session_id: str, chunk: bytes) -> None:
        if self.send_delay_seconds:
            time.sleep(self.send_delay_seconds)
        with self._lock:
            if self._send_failures:
                error_type = self._send_failures.pop(0)
                raise TranscriptionError(error_type, "injected send failure")
            self._audio.setdefault(session_id, bytearray()).extend(chunk)

    def _closed(self) -> None:
        with self._lock:
            self.streams_closed += 1


class _InProcessStream:
    def __init__(self, transcriber: InProcessTranscriber, session_id: str) -> None:
        self._transcriber = transcriber
        self._session_id = session_id
        self._open = True

    def send_audio(self, chunk: bytes) -> None:
        if not self._open:
            raise TranscriptionError("Other", "the stream is closed")
        try:
            self._transcriber._receive(self._session_id, chunk)
        except TranscriptionError:
            self.close()  # like a real stream: a failure ends it
            raise

    def close(self) -> None:
        if self._open:
            self._open = False
            self._transcriber._closed()
