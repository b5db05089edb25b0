"""What the session operations mean, independent of Lambda and WebSocket events.

Control actions map to state changes here; the messages clients receive (state changes,
status) are built here, so every handler sends the same shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from session_management.routes import END_SESSION, MUTE, PAUSE, RESUME, SET_VOLUME, UNMUTE
from session_management.session_model import MAX_VOLUME, MIN_VOLUME, Session, SessionState
from session_management.store import SessionStore
from websocket_service.events import require_int

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from session_management.notifier import BroadcastResult, ListenerNotifier


@dataclass(frozen=True)
class SessionChange:
    state: SessionState | None = None
    muted: bool | None = None
    volume: int | None = None


def change_for(action: str, body: Mapping[str, Any]) -> SessionChange:
    """The change a control action makes; raises `RequestError` for bad parameters."""
    if action == PAUSE:
        return SessionChange(state=SessionState.PAUSED)
    if action == RESUME:
        return SessionChange(state=SessionState.ACTIVE)
    if action == MUTE:
        return SessionChange(muted=True)
    if action == UNMUTE:
        return SessionChange(muted=False)
    if action == SET_VOLUME:
        volume = require_int(body, "volume", minimum=MIN_VOLUME, maximum=MAX_VOLUME)
        return SessionChange(volume=volume)
    if action == END_SESSION:
        return SessionChange(state=SessionState.ENDED)
    raise ValueError(f"not a control action: {action!r}")  # callers check CONTROL_ACTIONS


def broadcast_state(session: Session, action: str) -> dict[str, Any]:
    """What listeners receive after a control action."""
    return {
        "type": "broadcastState",
        "action": action,
        "sessionId": session.session_id,
        "state": session.state.value,
        "muted": session.muted,
        "volume": session.volume,
    }


def session_ended(session_id: str, reason: str) -> dict[str, Any]:
    return {"type": "sessionEnded", "sessionId": session_id, "reason": reason}


def session_status(session: Session, listener_count: int, now: float) -> dict[str, Any]:
    """The status of a session as getSessionStatus and the periodic update report it."""
    until = session.ended_at if session.ended_at is not None else now
    return {
        "type": "sessionStatus",
        "sessionId": session.session_id,
        "state": session.state.value,
        "muted": session.muted,
        "volume": session.volume,
        "listenerCount": listener_count,
        "durationSeconds": max(0, int(until - session.created_at)),
    }


def end_session(
    store: SessionStore, notifier: ListenerNotifier, session_id: str, reason: str
) -> BroadcastResult | None:
    """End a live session and tell its listeners why; None if it had already ended."""
    ended = store.end_session(session_id)
    if ended is None:
        return None
    return notifier.notify_listeners(session_id, session_ended(session_id, reason))
