"""API Gateway's limits on a WebSocket connection, and the stage's throttling.

API Gateway developer guide, "Amazon API Gateway quotas and important notes", quotas for
running a WebSocket API: "WebSocket frame size | 32 KB", "Message payload size | 128 KB",
"Connection duration for WebSocket API | 2 hours", "Idle Connection Timeout | 10 minutes";
"If a larger message (or larger frame size) is received, the connection is closed with code
1009." "Invoking your backend integration": "If a binary frame is received, the connection
is closed with code 1003."

What counts as activity for the idle timeout AWS does not say; here a data message in either
direction (from the client, or posted to it through @connections), not a ping or pong.

"Protecting your WebSocket API": "API Gateway throttles requests to your API using the token
bucket algorithm, where a token counts for a request", and over the rate and burst "Clients
may receive `429 Too Many Requests` error responses". The stage's limits are infra's
(`infra.stack.THROTTLE_RATE_LIMIT`, ``THROTTLE_BURST_LIMIT``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

MAX_FRAME_BYTES = 32 * 1024
MAX_MESSAGE_BYTES = 128 * 1024
IDLE_TIMEOUT_SECONDS = 10 * 60.0
MAX_DURATION_SECONDS = 2 * 3600.0

MESSAGE_TOO_BIG = 1009
UNSUPPORTED_DATA = 1003  # a binary frame
GOING_AWAY = 1001  # the endpoint closes an idle or too old connection, or stops
NORMAL_CLOSURE = 1000  # a DeleteConnection
ABNORMAL_CLOSURE = 1006  # no close frame

IDLE = "idle timeout"
DURATION = "connection duration limit"


def expiry(
    connected_at: float, last_active: float, idle_timeout: float, max_duration: float
) -> tuple[float, str]:
    """When a connection is closed if nothing happens on it, and why: the earlier of its
    idle timeout (from its last activity) and its duration limit (from its start)."""
    idle_end = last_active + idle_timeout
    duration_end = connected_at + max_duration
    return (duration_end, DURATION) if duration_end <= idle_end else (idle_end, IDLE)


def close_cause(protocol: Any) -> tuple[int, str]:
    """How a connection closed, from the close frames of its ``websockets`` protocol: the code
    and reason of whoever closed first; 1006 without a close frame."""
    received, sent = protocol.close_rcvd, protocol.close_sent
    if received is not None and (sent is None or protocol.close_rcvd_then_sent):
        return int(received.code), str(received.reason)
    if sent is not None:
        return int(sent.code), str(sent.reason)
    return ABNORMAL_CLOSURE, ""


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; each request takes one."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate < 0 or burst < 1:
            raise ValueError(f"throttling needs rate >= 0 and burst >= 1, got {rate}, {burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """One request: True if a token was left (the request goes on), False: 429."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False
