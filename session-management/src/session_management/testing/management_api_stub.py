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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from shared_metrics.testing.fault_proxy import error_response

_CONNECTIONS = "/@connections/"


class ManagementApiStub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.gone: set[str] = set()  # ids answered with 410 GoneException
        # id -> (status, error code) for other failures, e.g. (429, "LimitExceededException")
        self.failures: dict[str, tuple[int, str]] = {}
        self.delay_seconds = 0.0  # per request: a slow API
        self._posted: dict[str, list[bytes]] = {}
        self.deleted: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                stub._handle(self)

            def do_DELETE(self) -> None:  # noqa: N802
                stub._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                stub._handle(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        host, port = self._server.server_address[:2]
        self.endpoint_url = f"http://{host!s}:{port}"

    # -- what tests read -------------------------------------------------------------------

    def messages(self, connection_id: str) -> list[Any]:
        """The JSON messages delivered to a connection, oldest first."""
        with self._lock:
            return [json.loads(raw) for raw in self._posted.get(connection_id, [])]

    def all_messages(self) -> dict[str, list[Any]]:
        with self._lock:
            ids = list(self._posted)
        return {c: self.messages(c) for c in ids}

    def clear(self) -> None:
        with self._lock:
            self._posted.clear()
            self.deleted.clear()
            self.gone.clear()
            self.failures.clear()
            self.delay_seconds = 0.0

    # -- the server --------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = urllib.parse.urlsplit(handler.path).path
        if _CONNECTIONS not in path:
            self._reply(handler, 404, *error_response("json", 404, "NotFoundException", path))
            return
        connection_id = urllib.parse.unquote(path.split(_CONNECTIONS, 1)[1])
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        with self._lock:
            failure = self.failures.get(connection_id)
            if connection_id in self.gone:
                failure = (410, "GoneException")
            elif failure is None and handler.command == "POST":
                self._posted.setdefault(connection_id, []).append(body)
            elif failure is None and handler.command == "DELETE":
                self.deleted.append(connection_id)
                self.gone.add(connection_id)  # a closed connection is gone from now on
        if failure is not None:
            status, code = failure
            headers, payload = error_response("json", status, code, f"{code} for {connection_id}")
            self._reply(handler, status, headers, payload)
            return
        if handler.command == "GET":
            payload = json.dumps({"connectedAt": "2024-01-01T00:00:00Z"}).encode()
            self._reply(handler, 200, {"Content-Type": "application/json"}, payload)
        else:
            self._reply(handler, 200, {"Content-Type": "application/json"}, b"{}")

    @staticmethod
    def _reply(
        handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes
    ) -> None:
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def start(self) -> ManagementApiStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ManagementApiStub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
