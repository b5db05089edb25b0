"""`ListenerNotifier`: one message to every listener of a session.

It fans the message out through the API Gateway Management API
(`websocket_service.management_api`), measuring each delivery; a listener that is gone
(410) is removed from the session and counted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from session_management.metrics import SessionMetrics
from session_management.store import SessionStore
from websocket_service.dynamodb import StoreError
from websocket_service.management_api import ManagementApi, NotificationError
from websocket_service.structured_logging import log_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Posting is I/O bound; a few threads cut a fan-out's wall time without flooding the API.
MAX_PARALLEL_NOTIFICATIONS = 8


@dataclass(frozen=True)
class BroadcastResult:
    listeners: int
    delivered: int
    failed: int
    removed: int  # gone listeners taken out of the session


class ListenerNotifier:
    """Sends one message to every listener of a session and counts what happened."""

    def __init__(
        self,
        store: SessionStore,
        api: ManagementApi,
        metrics: SessionMetrics,
        max_parallel: int = MAX_PARALLEL_NOTIFICATIONS,
    ) -> None:
        self.store = store
        self.api = api
        self.metrics = metrics
        self.max_parallel = max_parallel

    def notify_listeners(self, session_id: str, message: Mapping[str, Any]) -> BroadcastResult:
        """Deliver ``message`` to each listener; raises `StoreError` if listing them fails."""
        listeners = self.store.listener_connection_ids(session_id)
        if len(listeners) <= 1 or self.max_parallel <= 1:
            outcomes = [self._notify(session_id, c, message) for c in listeners]
        else:
            # Imported here: only broadcasts to several listeners need it, and the functions
            # that never broadcast (audio) save it at cold start.
            from concurrent.futures import ThreadPoolExecutor

            workers = min(self.max_parallel, len(listeners))
            with ThreadPoolExecutor(workers, thread_name_prefix="notify") as pool:
                outcomes = list(pool.map(lambda c: self._notify(session_id, c, message), listeners))
        return BroadcastResult(
            listeners=len(listeners),
            delivered=sum(1 for o in outcomes if o == "delivered"),
            failed=sum(1 for o in outcomes if o != "delivered"),
            removed=sum(1 for o in outcomes if o == "removed"),
        )

    def _notify(self, session_id: str, connection_id: str, message: Mapping[str, Any]) -> str:
        try:
            with self.metrics.time_listener_notification():
                self.api.post(connection_id, message)
        except NotificationError as exc:
            self.metrics.emit_listener_notification_failed(exc.error_type)
            if exc.gone:
                return "removed" if self._remove(session_id, connection_id) else "failed"
            log_json(
                logging.WARNING,
                "ListenerNotificationFailed",
                sessionId=session_id,
                connectionId=connection_id,
                errorType=exc.error_type,
                error=str(exc),
            )
            return "failed"
        self.metrics.emit_listener_notified()
        return "delivered"

    def _remove(self, session_id: str, connection_id: str) -> bool:
        # The client left without a $disconnect reaching us; stop notifying it.
        try:
            self.store.remove_connection(connection_id)
        except StoreError as exc:
            self.metrics.emit_dynamodb_error(exc.operation, exc.code)
            return False
        log_json(
            logging.INFO, "GoneListenerRemoved", sessionId=session_id, connectionId=connection_id
        )
        return True
