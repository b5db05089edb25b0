"""Sessions and connections as the services see them (`store.SessionStore` persists them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

MIN_VOLUME = 0
MAX_VOLUME = 100
DEFAULT_VOLUME = 100


class SessionState(enum.StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    ENDED = "ENDED"


class Role(enum.StrEnum):
    SPEAKER = "speaker"
    LISTENER = "listener"


@dataclass(frozen=True)
class Session:
    session_id: str
    speaker_connection_id: str
    state: SessionState
    muted: bool
    volume: int
    created_at: float  # epoch seconds
    ended_at: float | None = None

    @property
    def ended(self) -> bool:
        return self.state is SessionState.ENDED


@dataclass(frozen=True)
class Connection:
    connection_id: str
    session_id: str
    role: Role
    connected_at: float


class JoinOutcome(enum.Enum):
    JOINED = "joined"
    SESSION_NOT_FOUND = "session_not_found"
    SESSION_ENDED = "session_ended"
