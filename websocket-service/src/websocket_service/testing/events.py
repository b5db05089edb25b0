"""API Gateway event builders, shaped like what API Gateway sends, for tests and local runs."""

from __future__ import annotations

import json
from typing import Any

DOMAIN_NAME = "abc123.execute-api.us-east-1.amazonaws.com"
STAGE = "test"


def websocket_event(
    route_key: str,
    connection_id: str,
    body: object = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A WebSocket event; a ``body`` that is not a string is sent as its JSON."""
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
    event: dict[str, Any] = {
        "requestContext": {
            "routeKey": route_key,
            "eventType": event_type,
            "connectionId": connection_id,
            "domainName": DOMAIN_NAME,
            "stage": STAGE,
            "requestId": f"req-{connection_id}",
            "apiId": "abc123",
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if query is not None:
        event["queryStringParameters"] = query
    return event


def connect_event(connection_id: str, session_id: str, role: str) -> dict[str, Any]:
    return websocket_event("$connect", connection_id, query={"sessionId": session_id, "role": role})


def disconnect_event(connection_id: str) -> dict[str, Any]:
    return websocket_event("$disconnect", connection_id)


def message_event(connection_id: str, action: str, **fields: object) -> dict[str, Any]:
    """A message on the route API Gateway selects by ``action`` (route selection expression
    ``$request.body.action``)."""
    return websocket_event(action, connection_id, {"action": action, **fields})


def scheduled_event() -> dict[str, Any]:
    """An EventBridge scheduled rule invocation."""
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/session-status"],
        "detail": {},
    }


def response_body(response: dict[str, Any]) -> Any:
    """The JSON body of a handler's response (None if it has none)."""
    body = response.get("body")
    return None if body is None else json.loads(body)
