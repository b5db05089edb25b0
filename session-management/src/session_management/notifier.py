"""Messages to WebSocket clients through the API Gateway Management API.

`ManagementApi` wraps ``post_to_connection``/``delete_connection`` of one API stage and
turns failures into `NotificationError` with a closed-set error type. `ListenerNotifier`
fans one message out to every listener of a session, measuring each delivery; a listener
that is gone (410) is removed from the session and counted.

The endpoint is ``APIGW_MANAGEMENT_ENDPOINT`` if set (an emulator, a custom domain),
otherwise ``https://{domainName}/{stage}`` of the event being handled.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from session_management.metrics import SessionMetrics
from session_management.store import SessionStore, StoreError
from session_management.structured_logging import log_json

# Not `typing.TYPE_CHECKING`: importing typing costs Lambda cold start milliseconds.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENDPOINT_ENV = "APIGW_MANAGEMENT_ENDPOINT"

# Error codes of the Management API -> ErrorType dimension values.
_ERROR_TYPES = {
    "GoneException": "Gone",
    "ForbiddenException": "Forbidden",
    "LimitExceededException": "LimitExceeded",
    "PayloadTooLargeException": "PayloadTooLarge",
}
_STATUS_ERROR_TYPES = {410: "Gone", 403: "Forbidden", 429: "LimitExceeded", 413: "PayloadTooLarge"}

# Posting is I/O bound; a few threads cut a fan-out's wall time without flooding the API.
MAX_PARALLEL_NOTIFICATIONS = 8

# A notification is real-time or useless: fail fast instead of holding the invocation.
_CONNECT_TIMEOUT_SECONDS = 1
_READ_TIMEOUT_SECONDS = 2


class NotificationError(Exception):
    """A message did not reach a connection. ``error_type`` is from NOTIFICATION_ERROR_TYPES."""

    def __init__(self, connection_id: str, error_type: str, message: str) -> None:
        super().__init__(f"notifying {connection_id} failed ({error_type}): {message}")
        self.connection_id = connection_id
        self.error_type = error_type

    @property
    def gone(self) -> bool:
        return self.error_type == "Gone"


def management_endpoint(
    domain_name: str | None, stage: str | None, environ: Mapping[str, str] | None = None
) -> str | None:
    """Where the Management API of the API that sent an event listens (None: unknown)."""
    env = os.environ if environ is None else environ
    configured = env.get(ENDPOINT_ENV, "").strip()
    if configured:
        return configured
    if domain_name and stage:
        return f"https://{domain_name}/{stage}"
    return None


class ManagementApi:
    """``post_to_connection``/``delete_connection`` on one WebSocket API stage."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @classmethod
    def for_endpoint(cls, endpoint_url: str) -> ManagementApi:
        import boto3
        from botocore.config import Config

        return cls(
            boto3.session.Session().client(
                "apigatewaymanagementapi",
                endpoint_url=endpoint_url,
                config=Config(
                    connect_timeout=_CONNECT_TIMEOUT_SECONDS,
                    read_timeout=_READ_TIMEOUT_SECONDS,
                    # Throttling is retried; 410 Gone is not (botocore never retries 4xx).
                    retries={"mode": "standard", "max_attempts": 2},
                ),
            )
        )

    def post(self, connection_id: str, message: Mapping[str, Any]) -> None:
        """Send ``message`` as JSON; raises `NotificationError`."""
        data = json.dumps(message, separators=(",", ":"), default=str).encode()
        self._call(connection_id, self.client.post_to_connection, Data=data)

    def close(self, connection_id: str) -> bool:
        """Close a client's connection; False if it was already gone."""
        try:
            self._call(connection_id, self.client.delete_connection)
        except NotificationError as exc:
            if exc.gone:
                return False
            raise
        return True

    @staticmethod
    def _call(connection_id: str, call: Callable[..., Any], **kwargs: Any) -> None:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectTimeoutError,
            ReadTimeoutError,
        )

        try:
            call(ConnectionId=connection_id, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            error_type = _ERROR_TYPES.get(code) or _STATUS_ERROR_TYPES.get(status, "Other")
            raise NotificationError(connection_id, error_type, str(exc)) from exc
        except (ConnectTimeoutError, ReadTimeoutError) as exc:
            raise NotificationError(connection_id, "Timeout", str(exc)) from exc
        except BotoCoreError as exc:
            raise NotificationError(connection_id, "ConnectionError", str(exc)) from exc


class ManagementApiFactory:
    """One `ManagementApi` per endpoint, kept for the life of the Lambda environment."""

    def __init__(self, create: Callable[[str], ManagementApi] = ManagementApi.for_endpoint):
        self._create = create
        self._apis: dict[str, ManagementApi] = {}
        self._lock = threading.Lock()

    def __call__(self, endpoint_url: str) -> ManagementApi:
        with self._lock:
            api = self._apis.get(endpoint_url)
            if api is None:
                api = self._apis[endpoint_url] = self._create(endpoint_url)
            return api


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
