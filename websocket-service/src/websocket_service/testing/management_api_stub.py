"""A loopback HTTP stand-in for the API Gateway Management API.

moto's server accepts ``post_to_connection``/``delete_connection`` for any id and keeps the
data out of reach of its API; it never answers 410. This stub records every message per
connection (so tests can read what each client received) and answers chosen connection
ids with real AWS errors (``410 GoneException`` by default), in the REST-JSON form botocore
parses into the same exception it raises against AWS.

    with ManagementApiStub() as api:
        api.gone.add("listener-2")
        ... APIGW_MANAGEMENT_ENDPOINT=api.endpoint_url ...
        api.messages("listener-1")  # -> [{"type": "broadcastState", ...}]
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from email.message import Message
from typing import Any

from shared_metrics.testing.fault_proxy import error_response
from shared_metrics.testing.loopback_server import LoopbackServer, Reply

_CONNECTIONS = "/@connections/"


class ManagementApiStub(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.gone: set[str] = set()  # ids answered with 410 GoneException
        # id -> (status, error code) for other failures, e.g. (429, "LimitExceededException")
        self.failures: dict[str, tuple[int, str]] = {}
        self.delay_seconds = 0.0  # per request: a slow API
        # Called per request before it is answered: a simulated-time delay (local run).
        self.on_request: Callable[[], None] | None = None
        # Called with the connection id after each message delivered (a POST answered 200).
        self.on_delivered: Callable[[str], None] | None = None
        # Connections another stand-in of the same API owns (the local WebSocket endpoint's
        # real clients): called with (method, connection id, headers, body) after
        # `on_request` (one API: its faults reach every caller), its Reply answers the
        # request; None leaves the id to this stub.
        self.elsewhere: Callable[[str, str, Message, bytes], Reply | None] | None = None
        self._posted: dict[str, list[bytes]] = {}
        self.deleted: list[str] = []

    # -- what tests read -------------------------------------------------------------------

    def messages(self, connection_id: str) -> list[Any]:
        """The JSON messages delivered to a connection, oldest first."""
        with self._lock:
            return [json.loads(raw) for raw in self._posted.get(connection_id, [])]

    def clear(self) -> None:
        with self._lock:
            self._posted.clear()
            self.deleted.clear()
            self.gone.clear()
            self.failures.clear()
            self.delay_seconds = 0.0
            self.on_request = None
            self.on_delivered = None
            self.elsewhere = None

    # -- the server --------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Message, body: bytes) -> Reply:
        path = urllib.parse.urlsplit(path).path
        if _CONNECTIONS not in path:
            return (404, *error_response("json", 404, "NotFoundException", path))
        connection_id = urllib.parse.unquote(path.split(_CONNECTIONS, 1)[1])
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if self.on_request is not None:
            self.on_request()
        if self.elsewhere is not None:
            answered = self.elsewhere(method, connection_id, headers, body)
            if answered is not None:
                return answered
        with self._lock:
            failure = self.failures.get(connection_id)
            if connection_id in self.gone:
                failure = (410, "GoneException")
            elif failure is None and method == "POST":
                self._posted.setdefault(connection_id, []).append(body)
            elif failure is None and method == "DELETE":
                self.deleted.append(connection_id)
                self.gone.add(connection_id)  # a closed connection is gone from now on
        if failure is not None:
            status, code = failure
            return (status, *error_response("json", status, code, f"{code} for {connection_id}"))
        json_type = {"Content-Type": "application/json"}
        if method == "POST" and self.on_delivered is not None:
            self.on_delivered(connection_id)
        if method == "GET":
            return 200, json_type, json.dumps({"connectedAt": "2024-01-01T00:00:00Z"}).encode()
        return 200, json_type, b"{}"
