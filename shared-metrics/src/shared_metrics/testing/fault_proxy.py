"""An HTTP proxy on 127.0.0.1 that answers a share of requests with AWS errors.

It sits between a client and the emulator and, per request, either forwards it or answers
itself, BEFORE forwarding, with a throttling error (400 ``Throttling``) or a 500. Because a
faulted request never reaches the emulator, "delivered exactly once" is checkable. The
error body is written in the wire protocol of the request (CBOR, JSON or query XML), as
CloudWatch would, so botocore raises the same exception it would raise against AWS.
"""

from __future__ import annotations

import gzip
import http.client
import json
import random
import threading
import urllib.parse
from email.message import Message

from shared_metrics.testing.loopback_server import LoopbackServer, Reply


def _cbor_text(text: str) -> bytes:
    raw = text.encode()
    n = len(raw)
    if n < 24:
        return bytes([0x60 | n]) + raw
    if n < 256:
        return bytes([0x78, n]) + raw
    return bytes([0x79]) + n.to_bytes(2, "big") + raw


def cbor_string_map(items: dict[str, str]) -> bytes:
    """CBOR (RFC 8949) encoding of a small map of text to text: all an error body needs."""
    if len(items) >= 24:
        raise ValueError("small maps only")
    out = bytes([0xA0 | len(items)])
    for key, value in items.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out


def error_response(
    content_type: str, status: int, code: str, message: str
) -> tuple[dict[str, str], bytes]:
    """Headers and body of an AWS error in the protocol implied by the request content type."""
    fault = "Sender" if status < 500 else "Receiver"
    headers = {"x-amzn-query-error": f"{code};{fault}", "x-amzn-RequestId": "fault-proxy"}
    if "cbor" in content_type:
        headers["Content-Type"] = "application/cbor"
        headers["smithy-protocol"] = "rpc-v2-cbor"
        body = cbor_string_map({"__type": f"com.amazonaws.cloudwatch#{code}", "message": message})
    elif "json" in content_type:
        headers["Content-Type"] = "application/x-amz-json-1.0"
        body = json.dumps(
            {"__type": f"com.amazonaws.cloudwatch#{code}", "message": message}
        ).encode()
    else:
        headers["Content-Type"] = "text/xml"
        body = (
            f"<ErrorResponse><Error><Type>{fault}</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
        ).encode()
    return headers, body


# What the proxy answers instead of forwarding, per service: the status, error code and
# message that service sends for that fault.
_FAULTS = {
    "cloudwatch": {
        "throttled": (400, "Throttling", "Rate exceeded"),
        "server_error": (500, "InternalServiceError", "injected server error"),
        "rejected": (
            400, "InvalidParameterValue", "The value for parameter MetricData is invalid."
        ),
    },
    "dynamodb": {
        "throttled": (
            400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."
        ),
        "server_error": (500, "InternalServerError", "Internal server error (injected)"),
        "rejected": (400, "ValidationException", "injected validation error"),
    },
}


def fault_reply(outcome: str, content_type: str, service: str = "cloudwatch") -> Reply:
    """The reply ``service`` sends for a fault (``throttled``, ``server_error``, ``rejected``),
    in the wire protocol of ``content_type``."""
    status, code, message = _FAULTS[service][outcome]
    return (status, *error_response(content_type, status, code, message))


class FaultRoll:
    """Which calls get a fault: each call rolls once, throttled with probability ``throttle``,
    a server error with ``server_error``, else it goes through. Seeded, so a run's faults are
    the same sequence every time; one lock, so concurrent callers take turns at the roll."""

    def __init__(
        self, *, throttle: float = 0.0, server_error: float = 0.0, seed: int | None = None
    ) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.set(throttle=throttle, server_error=server_error)

    def set(self, *, throttle: float, server_error: float) -> None:
        """New rates; zeros turn faults off."""
        if not (0 <= server_error and 0 <= throttle and server_error + throttle <= 1):
            raise ValueError(
                f"fault rates must be >= 0 and add up to at most 1, got "
                f"server_error={server_error}, throttle={throttle}"
            )
        self.throttle = throttle
        self.server_error = server_error

    @property
    def on(self) -> bool:
        return self.throttle + self.server_error > 0

    def roll(self) -> str | None:
        """``"throttled"``, ``"server_error"``, or None: the call goes through."""
        with self._lock:
            roll = self._rng.random()
        if roll < self.throttle:
            return "throttled"
        if roll < self.throttle + self.server_error:
            return "server_error"
        return None


def _service(headers: Message) -> str:
    # DynamoDB's JSON protocol names the operation as DynamoDB_<version>.<Operation>.
    target = headers.get("X-Amz-Target") or ""
    return "dynamodb" if target.startswith("DynamoDB_") else "cloudwatch"


class FaultProxy(LoopbackServer):
    """``with FaultProxy(upstream, throttle=0.3, server_error=0.1, seed=1) as proxy:``."""

    def __init__(
        self,
        upstream_url: str,
        *,
        throttle: float = 0.0,
        server_error: float = 0.0,
        seed: int | None = None,
        reject_marker: bytes | None = None,
    ) -> None:
        """``fail_operations`` (set after construction) maps a DynamoDB operation name (from
        the X-Amz-Target header, e.g. ``TransactWriteItems``) to the outcome every such request
        gets (``throttled``, ``server_error``, ``rejected``): a fault aimed at one call."""
        super().__init__()
        parsed = urllib.parse.urlsplit(upstream_url)
        self._upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.faults = FaultRoll(throttle=throttle, server_error=server_error, seed=seed)
        self._lock = threading.Lock()
        # Requests whose (decompressed) body contains this are answered with a 400
        # InvalidParameterValue: a request CloudWatch rejects for good, not a transient fault.
        self.reject_marker = reject_marker
        self.counts = {"forwarded": 0, "throttled": 0, "server_error": 0, "rejected": 0}
        self.fail_operations: dict[str, str] = {}

    def _decide(self, body: bytes, content_encoding: str, target: str = "") -> str:
        operation = target.rsplit(".", 1)[-1]
        aimed = self.fail_operations.get(operation) if operation else None
        if aimed is not None:
            with self._lock:
                self.counts[aimed] += 1
            return aimed
        if self.reject_marker is not None:
            raw = gzip.decompress(body) if "gzip" in content_encoding else body
            if self.reject_marker in raw:
                with self._lock:
                    self.counts["rejected"] += 1
                return "rejected"
        outcome = self.faults.roll() or "forwarded"
        with self._lock:
            self.counts[outcome] += 1
        return outcome

    def handle(self, method: str, path: str, headers: Message, body: bytes) -> Reply:
        outcome = self._decide(
            body, headers.get("Content-Encoding") or "", headers.get("X-Amz-Target") or ""
        )
        if outcome != "forwarded":
            return fault_reply(outcome, headers.get("Content-Type", ""), _service(headers))
        conn = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            forward = {k: v for k, v in headers.items() if k.lower() != "host"}
            conn.request(method, path, body=body, headers=forward)
            upstream = conn.getresponse()
            payload = upstream.read()
            skip = ("transfer-encoding", "connection", "content-length")
            kept = {k: v for k, v in upstream.getheaders() if k.lower() not in skip}
            return upstream.status, kept, payload
        finally:
            conn.close()
