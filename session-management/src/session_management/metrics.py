"""`SessionMetrics`: the session-management metrics, as methods named for what happened."""

from __future__ import annotations

from session_management.metrics_spec import (
    ACTION_TYPES,
    CONTROL_MESSAGE_LATENCY,
    CONTROL_MESSAGES_RECEIVED,
    CONTROL_MESSAGES_REJECTED,
    CONTROL_REJECTION_REASONS,
    HANDLERS,
    LISTENER_NOTIFICATION_FAILURES,
    LISTENER_NOTIFICATION_LATENCY,
    LISTENERS_NOTIFIED,
    NAMESPACE,
    NOTIFICATION_ERROR_TYPES,
    PERIODIC_STATUS_UPDATES_SENT,
    STATUS_QUERIES_RECEIVED,
    STATUS_QUERY_LATENCY,
    closed,
)
from shared_metrics import Timer
from websocket_service.service_metrics import ServiceMetrics


class SessionMetrics(ServiceMetrics):
    """Metrics of `SessionManagement/WebSocket`."""

    NAMESPACE = NAMESPACE
    HANDLERS = HANDLERS

    # -- control messages --------------------------------------------------------------------

    def emit_control_message_received(self, session_id: str | None, action: str) -> None:
        """A control message arrived; an action outside the known set counts as Other."""
        self.annotate(session_id=session_id)
        self._count(CONTROL_MESSAGES_RECEIVED, {"ActionType": closed(action, ACTION_TYPES)})

    def emit_control_message_rejected(self, reason: str) -> None:
        self._count(
            CONTROL_MESSAGES_REJECTED, {"Reason": closed(reason, CONTROL_REJECTION_REASONS)}
        )

    def time_control_message(self) -> Timer:
        return self._timer(CONTROL_MESSAGE_LATENCY)

    # -- listener notifications --------------------------------------------------------------

    def time_listener_notification(self) -> Timer:
        return self._timer(LISTENER_NOTIFICATION_LATENCY)

    def emit_listener_notified(self, count: int = 1) -> None:
        self._count(LISTENERS_NOTIFIED, amount=count)

    def emit_listener_notification_failed(self, error_type: str) -> None:
        self._count(
            LISTENER_NOTIFICATION_FAILURES,
            {"ErrorType": closed(error_type, NOTIFICATION_ERROR_TYPES)},
        )

    # -- status --------------------------------------------------------------------------------

    def emit_status_query_received(self, session_id: str | None) -> None:
        self.annotate(session_id=session_id)
        self._count(STATUS_QUERIES_RECEIVED)

    def time_status_query(self) -> Timer:
        return self._timer(STATUS_QUERY_LATENCY)

    def emit_periodic_status_update_sent(self, count: int = 1) -> None:
        self._count(PERIODIC_STATUS_UPDATES_SENT, amount=count)
