"""DynamoDB faults for the scenario's ``dynamodb-errors`` phase, two ways.

`ProxyFaults` (the in-process emulator): calls go through a `FaultProxy` on 127.0.0.1 that
answers a share of them with a 500 or a throttling error before they reach the emulator.
Only while faults are on: the proxy opens a connection per request, slower than the
emulator's keep-alive.

`ClientFaults` (``--endpoint-url`` and ``--aws``): a proxy cannot sit in front of real
AWS, since TLS ends at AWS and SigV4 signs the Host header. So the fault is injected in
the client: a botocore ``before-send`` handler answers the same share of calls with the
HTTP response DynamoDB sends for that error (`fault_reply`, as the proxy does); botocore
parses it and raises the same `ClientError` it raises for a real one, and the call never
leaves this machine.

Both: ``set(server_error=0.15, throttle=0.15)`` turns faults on; zeros turn them off.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from shared_metrics.testing.fault_proxy import FaultProxy, FaultRoll, fault_reply


class DynamoDBFaults(Protocol):
    @property
    def client(self) -> Any:
        """The DynamoDB client the handlers use."""
        ...

    def set(self, *, server_error: float, throttle: float) -> None: ...

    @property
    def injected(self) -> int:
        """Calls answered with an injected error so far."""
        ...


class ProxyFaults:
    """Faults from a `FaultProxy` in front of a plain-HTTP endpoint (the emulator)."""

    def __init__(self, proxy: FaultProxy, direct: Any, proxied: Any) -> None:
        self.proxy = proxy
        self._direct = direct
        self._proxied = proxied

    @property
    def client(self) -> Any:
        return _Switch(self)

    def set(self, *, server_error: float, throttle: float) -> None:
        self.proxy.faults.set(throttle=throttle, server_error=server_error)

    @property
    def injected(self) -> int:
        return self.proxy.counts["server_error"] + self.proxy.counts["throttled"]


class _Switch:
    """Forwards to the proxied client while faults are on, else to the direct one."""

    def __init__(self, faults: ProxyFaults) -> None:
        self._faults = faults

    def __getattr__(self, name: str) -> Any:
        faults = self._faults
        return getattr(faults._proxied if faults.proxy.faults.on else faults._direct, name)


class _Body:
    """The ``raw`` of a botocore `AWSResponse`: something with ``stream()``."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


class ClientFaults:
    """Faults injected into ``client`` (a boto3 DynamoDB client) by a before-send handler."""

    def __init__(self, client: Any, seed: int | None = None) -> None:
        self._client = client
        self._faults = FaultRoll(seed=seed)
        self._lock = threading.Lock()
        self._injected = 0
        client.meta.events.register("before-send.dynamodb", self._before_send)

    @property
    def client(self) -> Any:
        return self._client

    def set(self, *, server_error: float, throttle: float) -> None:
        self._faults.set(throttle=throttle, server_error=server_error)

    @property
    def injected(self) -> int:
        return self._injected

    def _before_send(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        outcome = self._faults.roll()
        if outcome is None:
            return None  # botocore sends the request
        with self._lock:
            self._injected += 1
        status, headers, body = fault_reply(outcome, "application/x-amz-json-1.0", "dynamodb")
        return AWSResponse(request.url, status, dict(headers), _Body(body))
