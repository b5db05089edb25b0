"""An HTTP server on 127.0.0.1 in a daemon thread: the base of the local AWS stand-ins.

A subclass answers each request in `handle`; this class owns the socket (a free port) and the
thread, so each stand-in is only its own behaviour.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from shared_metrics.testing.lifecycle import StartStop

Reply = tuple[int, Mapping[str, str], bytes]  # status, headers, body


class LoopbackServer(StartStop):
    """Subclasses implement `handle`; ``headers`` look up names case-insensitively."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # A reply goes out in two sends (headers, body): with Nagle's algorithm the body
            # waits ~40 ms for the client's delayed ACK, a stall no real endpoint has.
            disable_nagle_algorithm = True

            def _dispatch(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = owner.handle(self.command, self.path, self.headers, body)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch  # noqa: N815 - http.server API

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        bound_host, bound_port = self._server.server_address[:2]
        self.endpoint_url = f"http://{bound_host!s}:{bound_port}"

    def handle(self, method: str, path: str, headers: Message, body: bytes) -> Reply:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
