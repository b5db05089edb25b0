"""From a valid chunk to Transcribe: buffer, open the session's stream if needed, forward.

One `AudioProcessor` lives per Lambda environment, holding the per-session buffers and open
streams. Audio leaves a buffer only once the stream took it, so while Transcribe is down
chunks accumulate (and the oldest are evicted, counted as BufferFull drops with an
AudioBufferOverflows) instead of being lost silently.

Stream metrics: each attempt to open a stream counts in TranscribeStreamAttempts and its
duration in TranscribeStreamInitLatency; a stream that fails, at start or later, counts
once in TranscribeStreamErrors and is discarded, so errors / attempts is an error rate.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from audio_transcription.audio_buffer import SessionAudioBuffers
from audio_transcription.metrics import AudioMetrics
from audio_transcription.transcriber import (
    Transcriber,
    TranscriptionError,
    TranscriptionStream,
)
from websocket_service.structured_logging import log_json

# Open streams per environment; the least recently used is closed beyond that.
DEFAULT_MAX_STREAMS = 8


@dataclass(frozen=True)
class ProcessResult:
    forwarded: int  # chunks handed to Transcribe by this call (earlier buffered ones too)
    pending: int  # chunks of the session still waiting in the buffer
    error_type: str | None = None  # why forwarding stopped, if it did


class AudioProcessor:
    def __init__(
        self,
        transcriber: Transcriber,
        metrics: AudioMetrics,
        buffers: SessionAudioBuffers | None = None,
        max_streams: int = DEFAULT_MAX_STREAMS,
    ) -> None:
        self.transcriber = transcriber
        self.metrics = metrics
        self.buffers = buffers if buffers is not None else SessionAudioBuffers()
        self.max_streams = max_streams
        self._streams: OrderedDict[str, TranscriptionStream] = OrderedDict()
        # One chunk at a time per environment: Lambda sends one event at a time anyway, and
        # a session's chunks must reach its stream in order.
        self._lock = threading.Lock()

    def process(self, session_id: str, chunk: bytes) -> ProcessResult:
        with self._lock:
            appended = self.buffers.append(session_id, chunk)
            if appended.evicted_chunks:
                self.metrics.emit_audio_chunk_dropped(
                    session_id, "BufferFull", appended.evicted_chunks
                )
                self.metrics.emit_audio_buffer_overflow(session_id)
            if appended.evicted_idle_chunks:
                self.metrics.emit_audio_chunk_dropped(
                    None, "BufferFull", appended.evicted_idle_chunks
                )
            return self._forward(session_id)

    def end_session(self, session_id: str) -> int:
        """Close the session's stream and drop its waiting audio; returns the chunks dropped."""
        with self._lock:
            stream = self._streams.pop(session_id, None)
            if stream is not None:
                stream.close()
            return self.buffers.discard(session_id)

    def open_streams(self) -> int:
        with self._lock:
            return len(self._streams)

    def _forward(self, session_id: str) -> ProcessResult:
        try:
            stream = self._stream(session_id)
        except TranscriptionError as exc:
            return ProcessResult(0, len(self.buffers.pending(session_id)), exc.error_type)
        pending = self.buffers.pending(session_id)
        sent = 0
        try:
            for chunk in pending:
                stream.send_audio(chunk)
                sent += 1
        except TranscriptionError as exc:
            self._streams.pop(session_id, None)  # a failed stream is done; reopen next time
            self._failed(session_id, exc, "send")
            return ProcessResult(sent, len(pending) - sent, exc.error_type)
        finally:
            self.buffers.consume(session_id, sent)
        return ProcessResult(sent, 0)

    def _stream(self, session_id: str) -> TranscriptionStream:
        stream = self._streams.get(session_id)
        if stream is not None:
            self._streams.move_to_end(session_id)
            return stream
        self.metrics.emit_transcribe_stream_attempt()
        try:
            with self.metrics.time_transcribe_stream_init():
                stream = self.transcriber.start_stream(session_id)
        except TranscriptionError as exc:
            self._failed(session_id, exc, "start")
            raise
        if len(self._streams) >= self.max_streams:
            _, oldest = self._streams.popitem(last=False)
            oldest.close()
        self._streams[session_id] = stream
        return stream

    def _failed(self, session_id: str, exc: TranscriptionError, step: str) -> None:
        self.metrics.emit_transcribe_stream_error(exc.error_type)
        log_json(
            logging.WARNING,
            "TranscribeStreamFailed",
            sessionId=session_id,
            step=step,
            errorType=exc.error_type,
            error=str(exc),
        )
