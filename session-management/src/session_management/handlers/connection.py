"""Lambda: WebSocket connections and the speaker's control messages.

Routes:
- ``$connect?sessionId=<id>&role=speaker`` creates the session (409 if the id is taken);
  ``role=listener`` joins a live one (404 unknown, 409 ended).
- ``$disconnect`` forgets the connection; the speaker leaving ends the session, and its
  listeners are told.
- ``pauseBroadcast``, ``resumeBroadcast``, ``muteBroadcast``, ``unmuteBroadcast``,
  ``setVolume`` (``{"volume": 0..100}``), ``endSession``: from the session's speaker only
  (others get 403); the session changes in DynamoDB, then every listener is notified.
  Anything else (``$default``) is an unknown action (400).

Every control message counts in ControlMessagesReceived (an unknown action as Other) and
against the connection's rate limit, malformed ones included; refusals also count in
ControlMessagesRejected by reason.
"""

from __future__ import annotations

import logging

from session_management.metrics import SessionMetrics
from session_management.notifier import BroadcastResult
from session_management.routes import CONTROL_ACTIONS, END_SESSION
from session_management.services import SessionServices
from session_management.session_ids import check_session_id, optional_session_id
from session_management.session_model import JoinOutcome, Role, Session
from session_management.sessions import (
    SessionChange,
    broadcast_state,
    change_for,
    end_session,
    session_ended,
)
from websocket_service.events import (
    CONNECT,
    DISCONNECT,
    RequestError,
    WebSocketRequest,
    respond,
)
from websocket_service.handler_guard import LazyHandler, websocket_handler
from websocket_service.message_types import CONTROL
from websocket_service.rate_limit import enforce_rate_limit
from websocket_service.structured_logging import log_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from websocket_service.handler_guard import LambdaHandler

HANDLER_NAME = "connection"


def build_handler(services: SessionServices) -> LambdaHandler:
    def route(request: WebSocketRequest) -> dict[str, Any]:
        if request.route_key == CONNECT:
            return _connect(services, request)
        if request.route_key == DISCONNECT:
            return _disconnect(services, request)
        return _control(services, request)

    return websocket_handler(HANDLER_NAME, services.metrics, route)


# The Lambda entry point (connection.handler); services are built on the first invocation.
handler = LazyHandler(HANDLER_NAME, lambda: build_handler(SessionServices.from_env()))


def _connect(services: SessionServices, request: WebSocketRequest) -> dict[str, Any]:
    session_id = check_session_id(request.query.get("sessionId"), "query parameter sessionId")
    role = request.query.get("role")
    if role not in (Role.SPEAKER.value, Role.LISTENER.value):
        raise RequestError(
            400, "InvalidField", "query parameter role must be 'speaker' or 'listener'"
        )
    services.metrics.annotate(session_id=session_id)
    if role == Role.SPEAKER.value:
        if not services.store.create_session(session_id, request.connection_id):
            raise RequestError(409, "SessionExists", f"session {session_id!r} already exists")
    else:
        outcome = services.store.join_session(session_id, request.connection_id)
        if outcome is JoinOutcome.SESSION_NOT_FOUND:
            raise RequestError(404, "SessionNotFound", f"session {session_id!r} does not exist")
        if outcome is JoinOutcome.SESSION_ENDED:
            raise RequestError(409, "SessionEnded", f"session {session_id!r} has ended")
    log_json(
        logging.INFO,
        "Connected",
        sessionId=session_id,
        connectionId=request.connection_id,
        role=role,
    )
    return respond(200, {"type": "connected", "sessionId": session_id, "role": role})


def _disconnect(services: SessionServices, request: WebSocketRequest) -> dict[str, Any]:
    connection = services.store.remove_connection(request.connection_id)
    if connection is None:
        return respond(200)  # unknown or already removed (e.g. as a gone listener): fine
    services.metrics.annotate(session_id=connection.session_id)
    if connection.role is Role.SPEAKER:
        session = services.store.get_session(connection.session_id)
        # Listeners cannot hear a speaker who left: the session ends with the connection.
        if session is not None and session.speaker_connection_id == request.connection_id:
            end_session(
                services.store,
                services.notifier(request),
                session.session_id,
                "speakerDisconnected",
            )
    return respond(200)


def _control(services: SessionServices, request: WebSocketRequest) -> dict[str, Any]:
    metrics = services.metrics
    try:
        body: dict[str, Any] = request.json_body()
        invalid: RequestError | None = None
    except RequestError as exc:
        body, invalid = {}, exc
    action = body.get("action", request.route_key)
    metrics.emit_control_message_received(None, action if isinstance(action, str) else "")
    # Garbage counts against the limit too: abuse should not be free because it is malformed.
    if not enforce_rate_limit(
        services.rate_limiter,
        metrics,
        services.connection_closer(request),
        request.connection_id,
        CONTROL,
    ):
        raise RequestError(429, "RateLimited", "too many control messages; slow down")
    if invalid is not None:
        raise _rejected(metrics, "InvalidPayload", invalid)
    if action not in CONTROL_ACTIONS:
        raise _rejected(
            metrics,
            "UnknownAction",
            RequestError(
                400,
                "UnknownAction",
                f"unknown action; control actions are: {', '.join(CONTROL_ACTIONS)}",
            ),
        )
    try:
        requested_session = optional_session_id(body)
        change = change_for(action, body)
    except RequestError as exc:
        raise _rejected(metrics, "InvalidPayload", exc) from None

    connection = services.store.get_connection(request.connection_id)
    if (
        connection is None
        or connection.role is not Role.SPEAKER
        or (requested_session is not None and requested_session != connection.session_id)
    ):
        raise _not_speaker(metrics)
    metrics.annotate(session_id=connection.session_id)
    session = services.store.get_session(connection.session_id)
    if session is None:
        raise _rejected(
            metrics, "SessionNotFound", RequestError(404, "SessionNotFound", "no such session")
        )
    if session.speaker_connection_id != request.connection_id:
        raise _not_speaker(metrics)
    if session.ended:
        raise _rejected(
            metrics, "SessionEnded", RequestError(409, "SessionEnded", "the session has ended")
        )

    with metrics.time_control_message():
        applied = _apply(services, request, session, action, change)
    if applied is None:  # the session ended between our read and the update
        raise _rejected(
            metrics, "SessionEnded", RequestError(409, "SessionEnded", "the session has ended")
        )
    updated, result = applied
    return respond(
        200,
        {
            "type": "controlApplied",
            "action": action,
            "sessionId": updated.session_id,
            "state": updated.state.value,
            "muted": updated.muted,
            "volume": updated.volume,
            "listeners": result.listeners,
            "listenersNotified": result.delivered,
        },
    )


def _apply(
    services: SessionServices,
    request: WebSocketRequest,
    session: Session,
    action: str,
    change: SessionChange,
) -> tuple[Session, BroadcastResult] | None:
    """Change the session, then tell every listener; None if the session had ended."""
    # Who to tell is settled first: a change nobody can be told of must not be stored (an
    # unknown Management API endpoint fails here, before anything changed).
    notifier = services.notifier(request)
    updated = services.store.update_session(
        session.session_id, state=change.state, muted=change.muted, volume=change.volume
    )
    if updated is None:
        return None
    message = (
        session_ended(session.session_id, "endedBySpeaker")
        if action == END_SESSION
        else broadcast_state(updated, action)
    )
    return updated, notifier.notify_listeners(session.session_id, message)


def _rejected(metrics: SessionMetrics, reason: str, error: RequestError) -> RequestError:
    metrics.emit_control_message_rejected(reason)
    return error


def _not_speaker(metrics: SessionMetrics) -> RequestError:
    return _rejected(
        metrics,
        "NotSpeaker",
        RequestError(403, "NotSpeaker", "only the session's speaker may send control messages"),
    )
