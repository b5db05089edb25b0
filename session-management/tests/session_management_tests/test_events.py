"""Reading API Gateway WebSocket events: every bad input is a RequestError with a clear
message, never another exception."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from session_management.session_ids import check_session_id
from websocket_service.events import (
    RequestError,
    parse_event,
    require_int,
    require_string,
    respond,
)
from websocket_service.testing.events import websocket_event


def test_parse_event_reads_the_request_context() -> None:
    event = websocket_event("$connect", "abc=", query={"sessionId": "s1", "role": "speaker"})
    request = parse_event(event)
    assert request.route_key == "$connect"
    assert request.connection_id == "abc="
    assert request.domain_name == "abc123.execute-api.us-east-1.amazonaws.com"
    assert request.stage == "test"
    assert request.query == {"sessionId": "s1", "role": "speaker"}
    assert request.body is None


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "text",
        {},
        {"requestContext": "x"},
        {"requestContext": {"routeKey": "$connect"}},
        {"requestContext": {"connectionId": "c1"}},
        {"requestContext": {"routeKey": "", "connectionId": "c1"}},
        {"requestContext": {"routeKey": "x", "connectionId": "has space"}},
        {"requestContext": {"routeKey": "x", "connectionId": "c1"}, "body": 12},
    ],
)
def test_parse_event_rejects_what_api_gateway_never_sends(event: object) -> None:
    with pytest.raises(RequestError) as raised:
        parse_event(event)
    assert raised.value.status == 400 and raised.value.code == "InvalidEvent"


def test_base64_bodies_are_decoded() -> None:
    event = websocket_event("x", "c1")
    event["body"] = base64.b64encode(b'{"action": "x"}').decode()
    event["isBase64Encoded"] = True
    assert parse_event(event).json_body() == {"action": "x"}
    event["body"] = "%%%"
    with pytest.raises(RequestError):
        parse_event(event)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (None, "InvalidJson"),
        ("", "InvalidJson"),
        ("{", "InvalidJson"),
        ("[1, 2]", "InvalidPayload"),
        ('"text"', "InvalidPayload"),
        ("null", "InvalidPayload"),
        ("[" * 20_000 + "]" * 20_000, "InvalidJson"),
        ("[" * 100_000 + "]" * 100_000, "PayloadTooLarge"),
    ],
)
def test_json_body_errors(body: str | None, code: str) -> None:
    request = parse_event(websocket_event("x", "c1", body))
    with pytest.raises(RequestError) as raised:
        request.json_body()
    assert raised.value.code == code
    assert 400 <= raised.value.status < 500


def test_field_readers() -> None:
    body = {"s": "v", "n": 50, "f": 50.0, "half": 50.5, "b": True, "big": 101}
    assert require_string(body, "s") == "v"
    assert require_int(body, "n", minimum=0, maximum=100) == 50
    assert require_int(body, "f", minimum=0, maximum=100) == 50
    for name, code in [
        ("missing", "MissingField"),
        ("half", "InvalidField"),
        ("b", "InvalidField"),
    ]:
        with pytest.raises(RequestError) as raised:
            require_int(body, name, minimum=0, maximum=100)
        assert raised.value.code == code
    with pytest.raises(RequestError, match="within 0..100"):
        require_int(body, "big", minimum=0, maximum=100)
    with pytest.raises(RequestError, match="must be a string"):
        require_string(body, "n")


@pytest.mark.parametrize("value", ["", "a" * 65, "has space", "ü", "../x", 5, None])
def test_session_ids_are_tame(value: object) -> None:
    with pytest.raises(RequestError):
        check_session_id(value)


def test_respond_writes_json() -> None:
    response = respond(201, {"a": 1})
    assert response["statusCode"] == 201
    assert json.loads(response["body"]) == {"a": 1}
    assert respond(200) == {"statusCode": 200}


@given(st.text(max_size=300))
def test_any_body_is_an_object_or_a_request_error(body: str) -> None:
    request = parse_event(websocket_event("x", "c1", body))
    try:
        value = request.json_body()
    except RequestError as exc:
        assert 400 <= exc.status < 500 and exc.message
    else:
        assert isinstance(value, dict)
