"""Lambda: session status, on request and on a schedule.

| event                               | what                                                   |
|-------------------------------------|--------------------------------------------------------|
| getSessionStatus {"sessionId"?: ..} | state, muted, volume, listener count and duration of   |
|                                     | the caller's session (a member of it: speaker/listener)|
| EventBridge scheduled event         | the same status pushed to the speaker of every live    |
|                                     | session (needs APIGW_MANAGEMENT_ENDPOINT)              |

A speaker that is gone (410) when its update is pushed left without a $disconnect: its
session ends as if it had disconnected.
"""

from __future__ import annotations

import logging

from session_management.notifier import ListenerNotifier
from session_management.services import SessionServices
from session_management.session_ids import optional_session_id
from session_management.session_model import Session
from session_management.sessions import end_session, session_status
from websocket_service.dynamodb import StoreError
from websocket_service.events import (
    RequestError,
    WebSocketRequest,
    respond,
)
from websocket_service.handler_guard import LazyHandler, websocket_handler
from websocket_service.management_api import NotificationError
from websocket_service.message_types import STATUS
from websocket_service.rate_limit import enforce_rate_limit
from websocket_service.structured_logging import log_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from websocket_service.handler_guard import LambdaHandler

HANDLER_NAME = "session_status"


def build_handler(services: SessionServices) -> LambdaHandler:
    return websocket_handler(
        HANDLER_NAME,
        services.metrics,
        lambda request: _status_query(services, request),
        on_schedule=lambda: _periodic_update(services),
    )


# The Lambda entry point (session_status.handler); services are built on the first invocation.
handler = LazyHandler(HANDLER_NAME, lambda: build_handler(SessionServices.from_env()))


def _status_query(services: SessionServices, request: WebSocketRequest) -> dict[str, Any]:
    metrics = services.metrics
    try:
        body = request.json_body()
        requested = optional_session_id(body)
        invalid: RequestError | None = None
    except RequestError as exc:
        requested, invalid = None, exc
    metrics.emit_status_query_received(requested)
    if not enforce_rate_limit(
        services.rate_limiter,
        metrics,
        services.connection_closer(request),
        request.connection_id,
        STATUS,
    ):
        raise RequestError(429, "RateLimited", "too many status queries; slow down")
    if invalid is not None:
        raise invalid
    with metrics.time_status_query():
        connection = services.store.get_connection(request.connection_id)
        if connection is None:
            raise RequestError(403, "NotInSession", "this connection has not joined a session")
        session_id = requested or connection.session_id
        if session_id != connection.session_id:
            raise RequestError(
                403, "NotInSession", "only members of a session may query its status"
            )
        metrics.annotate(session_id=session_id)
        session = services.store.get_session(session_id)
        if session is None:
            raise RequestError(404, "SessionNotFound", f"session {session_id!r} does not exist")
        listeners = services.store.count_listeners(session_id)
        return respond(200, session_status(session, listeners, services.clock()))


def _periodic_update(services: SessionServices) -> dict[str, Any]:
    notifier = services.notifier()
    api = notifier.api
    sent = failed = ended = 0
    for session in services.store.live_sessions():
        try:
            status = session_status(
                session, services.store.count_listeners(session.session_id), services.clock()
            )
            api.post(session.speaker_connection_id, status)
        except StoreError as exc:  # one session's failure must not stop the others' updates
            services.metrics.emit_dynamodb_error(exc.operation, exc.code)
            failed += 1
            continue
        except NotificationError as exc:
            failed += 1
            log_json(
                logging.WARNING,
                "PeriodicStatusUpdateFailed",
                sessionId=session.session_id,
                connectionId=session.speaker_connection_id,
                errorType=exc.error_type,
            )
            if exc.gone and _end_abandoned(services, notifier, session):
                ended += 1
            continue
        services.metrics.emit_periodic_status_update_sent()
        sent += 1
    log_json(logging.INFO, "PeriodicStatusUpdate", sent=sent, failed=failed, ended=ended)
    return respond(
        200, {"type": "periodicStatusUpdate", "sent": sent, "failed": failed, "ended": ended}
    )


def _end_abandoned(services: SessionServices, notifier: ListenerNotifier, session: Session) -> bool:
    """The speaker's connection is gone but its $disconnect never arrived: clean up."""
    try:
        services.store.remove_connection(session.speaker_connection_id)
        return end_session(services.store, notifier, session.session_id, "speakerGone") is not None
    except StoreError as exc:
        services.metrics.emit_dynamodb_error(exc.operation, exc.code)
        return False
