"""Per-connection rate limits shared by every Lambda instance: fixed-window counters in
DynamoDB.

Each message increments ``<type>#<connection>#<window>`` with one atomic ``UpdateItem ADD``
(no read-modify-write race between instances); the item's TTL removes it after its window.
A message over the limit is a violation; violations are counted the same way in a longer
window, and a connection that keeps violating is closed.

| env var                         | meaning                                      | default |
|---------------------------------|----------------------------------------------|---------|
| RATE_LIMIT_WINDOW_SECONDS       | length of a counting window                  | 10      |
| RATE_LIMIT_CONTROL_PER_WINDOW   | control messages per connection and window   | 20      |
| RATE_LIMIT_AUDIO_PER_WINDOW     | audio chunks per connection and window       | 200     |
| RATE_LIMIT_STATUS_PER_WINDOW    | status queries per connection and window     | 20      |
| RATE_LIMIT_MAX_VIOLATIONS       | violations after which the connection closes | 10      |
| RATE_LIMIT_VIOLATION_WINDOW_SECONDS | window the violations are counted in     | 300     |
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from websocket_service.dynamodb import TTL_ATTRIBUTE, StoreError, call_dynamodb
from websocket_service.env_config import positive_int
from websocket_service.message_types import AUDIO, CONTROL, STATUS
from websocket_service.service_metrics import ServiceMetrics
from websocket_service.structured_logging import log_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Counter items live one window past their own, so clock skew between instances cannot
# resurrect a window the TTL already removed.
_TTL_GRACE_WINDOWS = 1


@dataclass(frozen=True)
class RateLimitPolicy:
    window_seconds: int = 10
    per_window: Mapping[str, int] = field(
        default_factory=lambda: {CONTROL: 20, AUDIO: 200, STATUS: 20}
    )
    max_violations: int = 10
    violation_window_seconds: int = 300

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RateLimitPolicy:
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            window_seconds=positive_int(env, "RATE_LIMIT_WINDOW_SECONDS", default.window_seconds),
            per_window={
                kind: positive_int(env, f"RATE_LIMIT_{kind.upper()}_PER_WINDOW", limit)
                for kind, limit in default.per_window.items()
            },
            max_violations=positive_int(env, "RATE_LIMIT_MAX_VIOLATIONS", default.max_violations),
            violation_window_seconds=positive_int(
                env, "RATE_LIMIT_VIOLATION_WINDOW_SECONDS", default.violation_window_seconds
            ),
        )

    def limit(self, message_type: str) -> int:
        return self.per_window.get(message_type, min(self.per_window.values()))


@dataclass(frozen=True)
class RateLimitDecision:
    allowed: bool
    count: int = 0  # messages of this type in the current window, this one included
    violations: int = 0  # violations in the current violation window
    close_connection: bool = False


class RateLimiter:
    def __init__(
        self,
        client: Any,
        table: str,
        policy: RateLimitPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.table = table
        self.policy = policy or RateLimitPolicy()
        self._clock = clock

    def check(self, connection_id: str, message_type: str) -> RateLimitDecision:
        """Count one message; raises `StoreError` when DynamoDB fails."""
        policy = self.policy
        count = self._increment(f"{message_type}#{connection_id}", policy.window_seconds)
        if count <= policy.limit(message_type):
            return RateLimitDecision(allowed=True, count=count)
        violations = self._increment(f"violations#{connection_id}", policy.violation_window_seconds)
        return RateLimitDecision(
            allowed=False,
            count=count,
            violations=violations,
            close_connection=violations >= policy.max_violations,
        )

    def _increment(self, prefix: str, window_seconds: int) -> int:
        window = int(self._clock()) // window_seconds
        expires = (window + 1 + _TTL_GRACE_WINDOWS) * window_seconds
        response = call_dynamodb(
            "UpdateItem",
            self.client.update_item,
            TableName=self.table,
            Key={"key": {"S": f"{prefix}#{window}"}},
            UpdateExpression="ADD #counter :one SET #ttl = if_not_exists(#ttl, :expires)",
            ExpressionAttributeNames={"#counter": "counter", "#ttl": TTL_ATTRIBUTE},
            ExpressionAttributeValues={":one": {"N": "1"}, ":expires": {"N": str(expires)}},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["counter"]["N"])


def enforce_rate_limit(
    limiter: RateLimiter,
    metrics: ServiceMetrics,
    close_connection: Callable[[str], bool],
    connection_id: str,
    message_type: str,
) -> bool:
    """Apply the limit to one message: True to go on, False to refuse it (429).

    Counts RateLimitViolations, and closes a connection that reached the violation limit
    (``close_connection`` returns True if it closed it), counted once it is closed. Fails
    open when DynamoDB fails: a limiter outage must not stop every broadcast; the failure
    is counted as a DynamoDB error.
    """
    try:
        decision = limiter.check(connection_id, message_type)
    except StoreError as exc:
        metrics.emit_dynamodb_error(exc.operation, exc.code)
        log_json(
            logging.WARNING,
            "RateLimiterUnavailable",
            operation=exc.operation,
            code=exc.code,
            connectionId=connection_id,
        )
        return True
    if decision.allowed:
        return True
    metrics.emit_rate_limit_violation(message_type)
    if decision.close_connection:
        try:
            closed = close_connection(connection_id)
        except Exception as exc:  # closing is best effort; the next violation retries
            log_json(
                logging.WARNING, "RateLimitCloseFailed", connectionId=connection_id, error=repr(exc)
            )
            closed = False
        if closed:
            metrics.emit_connection_closed_for_rate_limit()
            log_json(
                logging.WARNING,
                "ConnectionClosedForRateLimit",
                connectionId=connection_id,
                messageType=message_type,
                violations=decision.violations,
            )
    return False
