"""API Gateway WebSocket events in, Lambda proxy responses out.

`parse_event` turns the raw event into a `WebSocketRequest` or raises `RequestError`, and
the field readers below do the same for message bodies, so every bad input becomes a clear
4xx response (``{"error": <code>, "message": <text>}``) instead of an exception.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# API Gateway connection ids are short base64-ish strings ("Ab1CdEfGhIJKLMA=").
CONNECTION_ID_PATTERN = re.compile(r"[A-Za-z0-9_=+/-]{1,128}")
# API Gateway refuses WebSocket messages over 128 KB; anything longer is not from it.
MAX_BODY_CHARS = 128 * 1024

# API Gateway's own route keys: a connection opens, closes, or sends what no route matches.
CONNECT = "$connect"
DISCONNECT = "$disconnect"
DEFAULT = "$default"


class RequestError(Exception):
    """A client error: becomes a 4xx response with a code and a readable message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> dict[str, Any]:
        return error_response(self.status, self.code, self.message)


@dataclass(frozen=True)
class WebSocketRequest:
    route_key: str
    connection_id: str
    domain_name: str | None = None
    stage: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None

    def json_body(self) -> dict[str, Any]:
        """The message body as a JSON object, or a 400 saying what is wrong with it."""
        if self.body is None or not self.body.strip():
            raise RequestError(400, "InvalidJson", "the message body is empty; send a JSON object")
        if len(self.body) > MAX_BODY_CHARS:
            raise RequestError(
                413, "PayloadTooLarge", f"the message body exceeds {MAX_BODY_CHARS} characters"
            )
        try:
            value = json.loads(self.body)
        except RecursionError:
            raise RequestError(
                400, "InvalidJson", "the message body is nested too deeply"
            ) from None
        except ValueError as exc:
            raise RequestError(
                400, "InvalidJson", f"the message body is not valid JSON: {exc}"
            ) from None
        if not isinstance(value, dict):
            raise RequestError(
                400,
                "InvalidPayload",
                f"the message body must be a JSON object, got {_json_type(value)}",
            )
        return value


def parse_event(event: object) -> WebSocketRequest:
    """Read an API Gateway WebSocket event; raises `RequestError` (400) if it is not one."""
    if not isinstance(event, Mapping):
        raise RequestError(400, "InvalidEvent", "the event is not a JSON object")
    context = event.get("requestContext")
    if not isinstance(context, Mapping):
        raise RequestError(400, "InvalidEvent", "the event has no requestContext")
    route_key = context.get("routeKey")
    connection_id = context.get("connectionId")
    if not isinstance(route_key, str) or not route_key:
        raise RequestError(400, "InvalidEvent", "requestContext.routeKey is missing")
    if not isinstance(connection_id, str) or not CONNECTION_ID_PATTERN.fullmatch(connection_id):
        raise RequestError(400, "InvalidEvent", "requestContext.connectionId is missing or invalid")
    return WebSocketRequest(
        route_key=route_key,
        connection_id=connection_id,
        domain_name=_optional_str(context.get("domainName")),
        stage=_optional_str(context.get("stage")),
        query=_string_map(event.get("queryStringParameters")),
        body=_body(event),
    )


def _body(event: Mapping[str, Any]) -> str | None:
    body = event.get("body")
    if body is None:
        return None
    if not isinstance(body, str):
        raise RequestError(400, "InvalidEvent", "the event body is not a string")
    if event.get("isBase64Encoded") is True:  # binary frames arrive base64-encoded
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise RequestError(
                400, "InvalidJson", "the binary message is not UTF-8 JSON text"
            ) from None
    return body


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _string_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# -- responses --------------------------------------------------------------------------------


def respond(status: int, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A Lambda proxy response; with a route response, API Gateway sends the body back."""
    response: dict[str, Any] = {"statusCode": status}
    if body is not None:
        response["headers"] = {"Content-Type": "application/json"}
        response["body"] = json.dumps(body, separators=(",", ":"), default=str)
    return response


def error_response(status: int, code: str, message: str) -> dict[str, Any]:
    return respond(status, {"error": code, "message": message})


# -- body fields -------------------------------------------------------------------------------


def require_string(body: Mapping[str, Any], name: str, *, max_length: int = 256) -> str:
    value = body.get(name)
    if value is None:
        raise RequestError(400, "MissingField", f"field {name!r} is required")
    if not isinstance(value, str):
        raise RequestError(
            400, "InvalidField", f"field {name!r} must be a string, got {_json_type(value)}"
        )
    if not value or len(value) > max_length:
        raise RequestError(
            400, "InvalidField", f"field {name!r} must be 1..{max_length} characters"
        )
    return value


def require_int(body: Mapping[str, Any], name: str, *, minimum: int, maximum: int) -> int:
    value = body.get(name)
    if value is None:
        raise RequestError(400, "MissingField", f"field {name!r} is required")
    # JSON has one number type: 50.0 is accepted as 50, 50.5 and true are not.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(
            400, "InvalidField", f"field {name!r} must be an integer, got {_json_type(value)}"
        )
    if not minimum <= value <= maximum:
        raise RequestError(
            400, "InvalidField", f"field {name!r} must be within {minimum}..{maximum}, got {value}"
        )
    return value
