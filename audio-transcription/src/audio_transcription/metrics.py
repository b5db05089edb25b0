"""`AudioMetrics`: the audio-transcription metrics, as methods named for what happened."""

from __future__ import annotations

from audio_transcription.metrics_spec import (
    AUDIO_BUFFER_OVERFLOWS,
    AUDIO_CHUNK_SIZE,
    AUDIO_CHUNKS_DROPPED,
    AUDIO_CHUNKS_RECEIVED,
    AUDIO_PROCESSING_LATENCY,
    DROP_REASONS,
    HANDLERS,
    NAMESPACE,
    TRANSCRIBE_ERROR_TYPES,
    TRANSCRIBE_STREAM_ATTEMPTS,
    TRANSCRIBE_STREAM_ERRORS,
    TRANSCRIBE_STREAM_INIT_LATENCY,
    closed,
)
from shared_metrics import Timer
from websocket_service.service_metrics import ServiceMetrics


class AudioMetrics(ServiceMetrics):
    """Metrics of `AudioTranscription/WebSocket`."""

    NAMESPACE = NAMESPACE
    HANDLERS = HANDLERS

    def emit_audio_chunk_received(self, session_id: str | None, chunk_size: int | None) -> None:
        """A sendAudio message arrived; ``chunk_size`` is its decoded size, if it decoded."""
        self.annotate(session_id=session_id)
        self._count(AUDIO_CHUNKS_RECEIVED)
        if chunk_size is not None:
            self._record(AUDIO_CHUNK_SIZE, chunk_size)

    def emit_audio_chunk_dropped(self, session_id: str | None, reason: str, count: int = 1) -> None:
        """Audio that will never reach Transcribe; reasons outside DROP_REASONS count as Other."""
        self.annotate(session_id=session_id)
        self._count(AUDIO_CHUNKS_DROPPED, {"Reason": closed(reason, DROP_REASONS)}, count)

    def emit_audio_buffer_overflow(self, session_id: str | None) -> None:
        self.annotate(session_id=session_id)
        self._count(AUDIO_BUFFER_OVERFLOWS)

    def time_audio_processing(self) -> Timer:
        return self._timer(AUDIO_PROCESSING_LATENCY)

    def time_transcribe_stream_init(self) -> Timer:
        return self._timer(TRANSCRIBE_STREAM_INIT_LATENCY)

    def emit_transcribe_stream_attempt(self) -> None:
        self._count(TRANSCRIBE_STREAM_ATTEMPTS)

    def emit_transcribe_stream_error(self, error_type: str) -> None:
        self._count(
            TRANSCRIBE_STREAM_ERRORS, {"ErrorType": closed(error_type, TRANSCRIBE_ERROR_TYPES)}
        )
