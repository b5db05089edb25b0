"""`WebSocketServices`: what every WebSocket service's handlers work with.

Built once per Lambda environment. Each service extends it with its own parts (its store,
metrics and domain collaborators); tests build it on emulators and memory sinks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from websocket_service.events import WebSocketRequest
from websocket_service.management_api import (
    ManagementApi,
    ManagementApiFactory,
    management_endpoint,
)
from websocket_service.rate_limit import RateLimiter


class EndpointUnknown(RuntimeError):
    """Neither APIGW_MANAGEMENT_ENDPOINT nor the event says where the Management API is."""


@dataclass(kw_only=True)
class WebSocketServices:
    rate_limiter: RateLimiter
    management_apis: Callable[[str], ManagementApi] = field(default_factory=ManagementApiFactory)
    clock: Callable[[], float] = time.time

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
