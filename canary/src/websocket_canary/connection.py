"""One WebSocket connection as the canary uses it (the ``websockets`` library's sync client):
every wait bounded, every way it can go wrong turned into a sentence for `CanaryFailure`.

What the sentence says is what the on-call person needs first: the upgrade refused with an
HTTP status (a deleted stage or route, $connect failing, throttling), no answer in time, the
name not resolving (a custom domain gone), TLS failing (a certificate), the connection
refused or closed by the server.
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from websocket_canary.protocol import AnswerMismatch, is_pushed, parse
from websocket_canary.steps import CanaryFailure

# Recognisable in API Gateway's $connect event (and any proxy's log) besides the session id.
USER_AGENT = "websocket-canary (CloudWatch Synthetics)"


class CanaryConnection:
    """A connected client; `open` connects within a step's timeout."""

    def __init__(self, ws: ClientConnection, role: str) -> None:
        self.ws = ws
        self.role = role
        self.pushed = 0  # scheduled pushes skipped while waiting for answers

    @classmethod
    def open(cls, url: str, role: str, *, step: str, timeout: float) -> CanaryConnection:
        try:
            ws = connect(
                url,
                open_timeout=timeout,
                close_timeout=timeout,
                ping_interval=None,  # a run is shorter than any idle timeout
                compression=None,  # API Gateway negotiates none
                user_agent_header=USER_AGENT,
                proxy=None,  # the path clients take, not this machine's proxy settings
                # The canary closes it itself (`close`), whatever happens: connect's own
                # historical form, not a context manager.
                legacy=True,
            )
        except Exception as exc:
            raise CanaryFailure(step, f"{role}: {_connect_error(exc, timeout)}") from exc
        return cls(ws, role)

    def send(self, text: str, *, step: str) -> None:
        try:
            self.ws.send(text)
        except ConnectionClosed as exc:
            raise CanaryFailure(step, f"{self.role}: {_closed(exc)} before sending") from exc

    def answer(self, *, step: str, timeout: float) -> dict[str, Any]:
        """The next message that is not a scheduled push, within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                text = self.ws.recv(timeout=remaining)
            except TimeoutError:
                skipped = f" ({self.pushed} status pushes skipped)" if self.pushed else ""
                raise CanaryFailure(
                    step, f"{self.role}: no answer within {timeout:g} s{skipped}"
                ) from None
            except ConnectionClosed as exc:
                raise CanaryFailure(step, f"{self.role}: {_closed(exc)}") from exc
            try:
                message = parse(text)
            except AnswerMismatch as exc:
                raise CanaryFailure(step, f"{self.role}: {exc}") from None
            if is_pushed(message):
                self.pushed += 1
                continue
            return message

    def close(self) -> str | None:
        """Close; what went wrong if the server did not answer the close handshake."""
        try:
            self.ws.close()
        except Exception as exc:  # the socket may already be gone: say so, never raise
            return f"{self.role}: closing failed: {type(exc).__name__}: {exc}"
        if self.ws.protocol.close_rcvd is None:
            return f"{self.role}: the server did not answer the close handshake"
        return None


def _connect_error(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, InvalidStatus):
        response = exc.response
        body = response.body.decode("utf-8", "replace").strip()[:200] if response.body else ""
        return (
            f"the upgrade was refused with HTTP {response.status_code} "
            f"{response.reason_phrase}" + (f": {body!r}" if body else "")
        )
    if isinstance(exc, TimeoutError):
        return f"no upgrade within {timeout:g} s"
    if isinstance(exc, InvalidHandshake):
        return f"the WebSocket handshake failed: {exc}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed (certificate or domain): {exc}"
    if isinstance(exc, socket.gaierror):
        return f"the host name does not resolve: {exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused (nothing listens there)"
    if isinstance(exc, OSError):
        return f"network error: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _closed(exc: ConnectionClosed) -> str:
    frame = exc.rcvd
    if frame is None:
        return "the connection was lost (no close frame)"
    reason = f" {frame.reason!r}" if frame.reason else ""
    return f"the server closed the connection ({frame.code}{reason})"
