"""The events API Gateway sends a WebSocket API's Lambda proxy integration, and the messages
it sends a client itself.

The requestContext carries the variables of the API Gateway developer guide, "API Gateway
WebSocket API mapping template reference": ``connectionId`` ("A unique ID for the connection
that can be used to make a callback to the client"), ``connectedAt`` ("The Epoch-formatted
connection time"), ``domainName``, ``eventType`` ("The event type: `CONNECT`, `MESSAGE`, or
`DISCONNECT`"), ``messageId`` ("Available only when the `$context.eventType` is
`MESSAGE`"), ``routeKey`` ("The selected route key"), ``requestId``, ``extendedRequestId``
("Same as"), ``apiId``, ``identity.sourceIp`` ("The source IP address of the immediate TCP
connection making the request to API Gateway endpoint"), ``requestTime`` (CLF) and
``requestTimeEpoch`` ("in milliseconds"), ``stage``. A $connect event also has ``headers``,
``multiValueHeaders``, ``queryStringParameters`` and ``multiValueQueryStringParameters``, in
the shape of the WebSocket REQUEST authorizer's input the guide shows ("Creating a Lambda
REQUEST authorizer function"), with ``messageDirection: "IN"``.

Not documented: ``disconnectStatusCode`` and ``disconnectReason`` of a $disconnect event's
requestContext (reported from real events: the close code, and the close frame's reason),
and the text of API Gateway's own error messages to a client (here the shape of the
documented validation failure, ``{"message": ..., "connectionId": ..., "messageId": ...}``).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from websocket_service.events import CONNECT, DISCONNECT


@dataclass(frozen=True)
class Stage:
    """Where the endpoint stands in for a deployed API: its id and stage name."""

    api_id: str
    name: str


@dataclass(frozen=True)
class ClientConnection:
    """What API Gateway knows of one client connection."""

    connection_id: str
    connected_at_ms: int
    source_ip: str
    user_agent: str | None
    domain_name: str  # the Host the client connected to


def new_id() -> str:
    """An id in API Gateway's form ("Mg_ugfpqPHcCIVA=" in the guide): 16 base64 characters."""
    return base64.b64encode(secrets.token_bytes(11)).decode()


def epoch_ms(now: float | None = None) -> int:
    return int((time.time() if now is None else now) * 1000)


def clf_time(ms: int) -> str:
    """``$context.requestTime``: "dd/MMM/yyyy:HH:mm:ss +-hhmm"."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(ms / 1000))


def _request_context(
    stage: Stage, client: ClientConnection, route_key: str, event_type: str, now_ms: int
) -> dict[str, Any]:
    request_id = new_id()
    identity: dict[str, Any] = {"sourceIp": client.source_ip}
    if client.user_agent is not None:
        identity["userAgent"] = client.user_agent
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": clf_time(now_ms),
        "messageDirection": "IN",
        "stage": stage.name,
        "connectedAt": client.connected_at_ms,
        "requestTimeEpoch": now_ms,
        "identity": identity,
        "requestId": request_id,
        "domainName": client.domain_name,
        "connectionId": client.connection_id,
        "apiId": stage.api_id,
    }


def connect_event(
    stage: Stage,
    client: ClientConnection,
    headers: Sequence[tuple[str, str]],
    query: Sequence[tuple[str, str]],
    now_ms: int | None = None,
) -> dict[str, Any]:
    """The $connect event: the upgrade request's headers and query string (a repeated name
    keeps its last value in the single-value maps, every value in the multi-value ones)."""
    now = epoch_ms() if now_ms is None else now_ms
    event: dict[str, Any] = {
        "headers": {name: value for name, value in headers},
        "multiValueHeaders": _multi(headers),
        "requestContext": _request_context(stage, client, CONNECT, "CONNECT", now),
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = {name: value for name, value in query}
        event["multiValueQueryStringParameters"] = _multi(query)
    return event


def message_event(
    stage: Stage, client: ClientConnection, route_key: str, body: str, now_ms: int | None = None
) -> dict[str, Any]:
    """A client's text message on the route selected for it."""
    now = epoch_ms() if now_ms is None else now_ms
    context = _request_context(stage, client, route_key, "MESSAGE", now)
    context["messageId"] = new_id()
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(
    stage: Stage, client: ClientConnection, code: int, reason: str, now_ms: int | None = None
) -> dict[str, Any]:
    """$disconnect, after the connection closed with ``code`` and ``reason``."""
    now = epoch_ms() if now_ms is None else now_ms
    context = _request_context(stage, client, DISCONNECT, "DISCONNECT", now)
    context["disconnectStatusCode"] = code
    context["disconnectReason"] = reason
    return {"requestContext": context, "isBase64Encoded": False}


def gateway_message(message: str, connection_id: str, message_id: str) -> str:
    """What API Gateway itself sends a client when it does not pass a message on."""
    return json.dumps(
        {"message": message, "connectionId": connection_id, "messageId": message_id},
        separators=(",", ":"),
    )


def _multi(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return multi
