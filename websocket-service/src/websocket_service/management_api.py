"""Messages to WebSocket clients through the API Gateway Management API.

`ManagementApi` wraps ``post_to_connection``/``delete_connection`` of one API stage and
turns failures into `NotificationError` with a closed-set error type (the ErrorType values
of the services' notification metrics).

The endpoint is ``APIGW_MANAGEMENT_ENDPOINT`` if set (an emulator, a custom domain),
otherwise ``https://{domainName}/{stage}`` of the event being handled.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping

from websocket_service.specs import OTHER

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

# Why a message did not reach a connection: the closed set of `NotificationError.error_type`
# (the ErrorType dimension of a service's notification-failure metric).
NOTIFICATION_ERROR_TYPES = (
    "Gone",  # 410: the client disconnected; the connection is removed
    "Forbidden",
    "LimitExceeded",
    "PayloadTooLarge",
    "Timeout",
    "ConnectionError",
    OTHER,
)

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
    def for_endpoint(
        cls,
        endpoint_url: str,
        *,
        connect_timeout: float = _CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = _READ_TIMEOUT_SECONDS,
    ) -> ManagementApi:
        """A client with the handlers' fail-fast timeouts and their retries; a caller whose
        waits are simulated (the local run) passes longer real-time timeouts."""
        import boto3
        from botocore.config import Config

        return cls(
            boto3.session.Session().client(
                "apigatewaymanagementapi",
                endpoint_url=endpoint_url,
                config=Config(
                    connect_timeout=connect_timeout,
                    read_timeout=read_timeout,
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
