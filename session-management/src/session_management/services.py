"""What a handler works with, built once per Lambda environment.

`from_env()` is the production wiring (boto3 clients configured by the environment); tests
construct the services with an emulator-backed store and metrics on a memory sink.
`WebSocketServices` is what every WebSocket service needs; `SessionServices` adds the
session-management metrics and listener notifications (audio transcription extends the
base the same way).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from session_management.metrics import SessionMetrics
from session_management.notifier import (
    ListenerNotifier,
    ManagementApi,
    ManagementApiFactory,
    management_endpoint,
)
from session_management.rate_limit import RateLimiter, RateLimitPolicy
from session_management.store import SessionStore, TableNames, dynamodb_client
from session_management.websocket import WebSocketRequest


class EndpointUnknown(RuntimeError):
    """Neither APIGW_MANAGEMENT_ENDPOINT nor the event says where the Management API is."""


@dataclass(kw_only=True)
class WebSocketServices:
    store: SessionStore
    rate_limiter: RateLimiter
    management_apis: Callable[[str], ManagementApi] = field(default_factory=ManagementApiFactory)
    clock: Callable[[], float] = time.time

    @staticmethod
    def aws_from_env() -> tuple[SessionStore, RateLimiter]:
        """The store and the rate limiter on one DynamoDB client configured by the env."""
        client = dynamodb_client()
        tables = TableNames.from_env()
        return (
            SessionStore(client, tables),
            RateLimiter(client, tables.rate_limits, RateLimitPolicy.from_env()),
        )

    def management_api(self, request: WebSocketRequest | None = None) -> ManagementApi:
        endpoint = management_endpoint(
            request.domain_name if request else None, request.stage if request else None
        )
        if endpoint is None:
            raise EndpointUnknown(
                "set APIGW_MANAGEMENT_ENDPOINT (the event has no domainName/stage)"
            )
        return self.management_apis(endpoint)

    def connection_closer(self, request: WebSocketRequest) -> Callable[[str], bool]:
        """For rate limiting: closes a client's connection through the Management API."""
        return lambda connection_id: self.management_api(request).close(connection_id)


@dataclass(kw_only=True)
class SessionServices(WebSocketServices):
    metrics: SessionMetrics

    @classmethod
    def from_env(cls) -> SessionServices:
        store, rate_limiter = cls.aws_from_env()
        return cls(store=store, rate_limiter=rate_limiter, metrics=SessionMetrics())

    def notifier(self, request: WebSocketRequest | None = None) -> ListenerNotifier:
        return ListenerNotifier(self.store, self.management_api(request), self.metrics)
