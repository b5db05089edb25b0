"""The ``@connections`` API of a local WebSocket endpoint, over plain HTTP on 127.0.0.1.

API Gateway developer guide, "Use `@connections` commands in your backend service": "To send
a callback message to the client, use: POST https://{api-id}.execute-api.us-east-1.amazonaws.com/{stage}/@connections/{connection_id}",
"To get the latest connection status of the client, use: GET ...", "To disconnect the
client, use: DELETE ...". Here the same paths are served at ``http://127.0.0.1:PORT/{stage}``
(`ConnectionsApi.endpoint_url`, what the handlers read from ``APIGW_MANAGEMENT_ENDPOINT``), so
boto3's ``apigatewaymanagementapi`` client works against it unchanged (its SigV4 signature is
accepted without a check: there are no credentials to check it against).

The answers are the Management API's (botocore's service model, AWS API Documentation of
ApiGatewayManagementApi): PostToConnection 200, GetConnection 200 with ``connectedAt``,
``identity`` (``sourceIp``, ``userAgent``) and ``lastActiveAt`` ("The time in ISO 8601 format
for when the connection was last active"), DeleteConnection 204; ``410 GoneException`` "The
connection with the provided id no longer exists", ``413 PayloadTooLargeException`` "The data
has exceeded the maximum size allowed" (the Data blob's max is 131072 bytes), ``429
LimitExceededException`` "... or the WebSocket client side buffer is full", ``403
ForbiddenException`` for anything else. Errors go out in the REST-JSON form botocore parses
into the exceptions it raises against AWS.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Protocol

from shared_metrics.testing.loopback_server import LoopbackServer, Reply

MAX_DATA_BYTES = 131072  # PostToConnection's Data: the 128 KB message payload quota


class ConnectionGone(Exception):
    """410 GoneException: no such connection (never made, or closed)."""


class ClientBufferFull(Exception):
    """429 LimitExceededException: the message could not be handed to the client in time."""


@dataclass(frozen=True)
class ConnectionInfo:
    connected_at: float  # epoch seconds
    last_active_at: float
    source_ip: str
    user_agent: str | None


class Connections(Protocol):
    """The open connections the API acts on (the endpoint); each raises `ConnectionGone`."""

    def post(self, connection_id: str, data: bytes) -> None: ...

    def info(self, connection_id: str) -> ConnectionInfo: ...

    def delete(self, connection_id: str) -> None: ...


def iso8601(epoch: float) -> str:
    """ "2022-01-25T18:50:04.673Z", as GetConnection answers in the guide's tutorial."""
    stamp = datetime.fromtimestamp(epoch, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _error(status: int, code: str, message: str) -> Reply:
    body = json.dumps({"message": message}).encode()
    return status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, body


class ConnectionsApi(LoopbackServer):
    """``POST|GET|DELETE /{stage}/@connections/{connectionId}`` on ``host:port`` (0: a free
    port), in server threads of their own."""

    def __init__(
        self, connections: Connections, stage: str, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(host, port)
        self.connections = connections
        self.stage = stage
        self.endpoint_url = f"{self.endpoint_url}/{stage}"

    def handle(self, method: str, raw_path: str, headers: Message, body: bytes) -> Reply:
        # Split before unquoting: a connection id may hold an encoded "/".
        segments = [
            urllib.parse.unquote(s) for s in urllib.parse.urlsplit(raw_path).path.split("/")
        ]
        if (
            len(segments) != 4
            or segments[:3] != ["", self.stage, "@connections"]
            or not segments[3]
        ):
            return _error(403, "ForbiddenException", f"no such resource: {raw_path}")
        connection_id = segments[3]
        try:
            if method == "POST":
                if len(body) > MAX_DATA_BYTES:
                    return _error(
                        413,
                        "PayloadTooLargeException",
                        f"the data ({len(body)} bytes) exceeds {MAX_DATA_BYTES} bytes",
                    )
                self.connections.post(connection_id, body)
                return 200, {"Content-Type": "application/json"}, b""
            if method == "GET":
                info = self.connections.info(connection_id)
                answer = {
                    "connectedAt": iso8601(info.connected_at),
                    "identity": {"sourceIp": info.source_ip, "userAgent": info.user_agent},
                    "lastActiveAt": iso8601(info.last_active_at),
                }
                return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
            if method == "DELETE":
                self.connections.delete(connection_id)
                return 204, {}, b""
        except ConnectionGone:
            return _error(410, "GoneException", f"connection {connection_id} is gone")
        except ClientBufferFull as exc:
            return _error(429, "LimitExceededException", str(exc))
        return _error(403, "ForbiddenException", f"{method} is not a @connections method")
