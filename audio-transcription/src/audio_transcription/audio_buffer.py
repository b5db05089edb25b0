"""Bounded per-session audio buffers, held by one Lambda environment.

Audio waits here while Transcribe is unavailable or slow, and leaves once it was sent.
Both the bytes per session and the number of sessions are bounded: a full buffer evicts its
OLDEST audio (live transcription wants the newest), and a new session evicts the least
recently used one. Every eviction is reported so it can be counted as a drop.

| env var                      | meaning                                   | default      |
|------------------------------|-------------------------------------------|--------------|
| AUDIO_BUFFER_MAX_BYTES       | audio held per session                    | 262144 (8 s) |
| AUDIO_BUFFER_MAX_SESSIONS    | sessions with a buffer in one environment | 32           |
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass

from audio_transcription.audio_chunk import MAX_CHUNK_BYTES
from websocket_service.env_config import positive_int

# 8 seconds of PCM16 mono 16 kHz: rides out a Transcribe reconnect, bounds Lambda memory
# (32 sessions x 256 KiB = 8 MiB).
DEFAULT_MAX_BYTES_PER_SESSION = 256 * 1024
DEFAULT_MAX_SESSIONS = 32


@dataclass(frozen=True)
class AppendResult:
    evicted_chunks: int  # this session's oldest chunks, evicted to make room
    evicted_idle_chunks: int  # chunks of a least recently used session, evicted with it
    pending_chunks: int  # this session's chunks now waiting, the new one included

    @property
    def overflowed(self) -> bool:
        return self.evicted_chunks > 0


class _SessionBuffer:
    __slots__ = ("chunks", "size")

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.size = 0


class SessionAudioBuffers:
    def __init__(
        self,
        max_bytes_per_session: int = DEFAULT_MAX_BYTES_PER_SESSION,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
    ) -> None:
        if max_bytes_per_session <= 0 or max_sessions <= 0:
            raise ValueError("buffer limits must be positive")
        self.max_bytes_per_session = max_bytes_per_session
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, _SessionBuffer] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SessionAudioBuffers:
        env = os.environ if environ is None else environ
        max_bytes = positive_int(env, "AUDIO_BUFFER_MAX_BYTES", DEFAULT_MAX_BYTES_PER_SESSION)
        # A buffer must hold at least the largest chunk a client may send.
        return cls(
            max(max_bytes, MAX_CHUNK_BYTES),
            positive_int(env, "AUDIO_BUFFER_MAX_SESSIONS", DEFAULT_MAX_SESSIONS),
        )

    def append(self, session_id: str, chunk: bytes) -> AppendResult:
        """Queue a chunk (no larger than the per-session limit) for the session."""
        if len(chunk) > self.max_bytes_per_session:
            raise ValueError("chunk is larger than a whole session buffer")
        with self._lock:
            evicted_idle = 0
            buffer = self._sessions.get(session_id)
            if buffer is None:
                if len(self._sessions) >= self.max_sessions:
                    _, idle = self._sessions.popitem(last=False)
                    evicted_idle = len(idle.chunks)
                buffer = self._sessions[session_id] = _SessionBuffer()
            else:
                self._sessions.move_to_end(session_id)
            evicted = 0
            while buffer.size + len(chunk) > self.max_bytes_per_session:
                buffer.size -= len(buffer.chunks.popleft())
                evicted += 1
            buffer.chunks.append(chunk)
            buffer.size += len(chunk)
            return AppendResult(evicted, evicted_idle, len(buffer.chunks))

    def pending(self, session_id: str) -> list[bytes]:
        """The session's waiting chunks, oldest first (they stay until `consume`)."""
        with self._lock:
            buffer = self._sessions.get(session_id)
            return list(buffer.chunks) if buffer else []

    def consume(self, session_id: str, count: int) -> None:
        """Remove the ``count`` oldest chunks: they were sent."""
        with self._lock:
            buffer = self._sessions.get(session_id)
            if buffer is None:
                return
            for _ in range(min(count, len(buffer.chunks))):
                buffer.size -= len(buffer.chunks.popleft())

    def discard(self, session_id: str) -> int:
        """Forget a session's buffer; returns how many chunks were still waiting."""
        with self._lock:
            buffer = self._sessions.pop(session_id, None)
            return len(buffer.chunks) if buffer else 0

    def buffered_bytes(self, session_id: str) -> int:
        with self._lock:
            buffer = self._sessions.get(session_id)
            return buffer.size if buffer else 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
