"""The skeleton every WebSocket Lambda handler is built on (`websocket_handler`), as its
module documents it: the event parsed and its connection id on the invocation's metric lines,
the request answered by the route (a schedule by ``on_schedule``), every outcome a response
with the metric its table names, HandlerInvocations counted on every invocation and
ErrorResponses on every 4XX/5XX answer to API Gateway, and a flush before every return."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_metrics import MetricsEmitter
from shared_metrics.sinks.memory import MemorySink
from websocket_service.dynamodb import StoreError
from websocket_service.events import RequestError, WebSocketRequest
from websocket_service.handler_guard import websocket_handler
from websocket_service.service_metrics import CONNECTION_ID_PROPERTY, ServiceMetrics
from websocket_service.specs import OTHER
from websocket_service.testing.events import message_event, response_body, scheduled_event
from websocket_service.testing.metric_snapshot import counted

NAME = "probe"


class ProbeMetrics(ServiceMetrics):
    NAMESPACE = "Probe/WebSocket"
    HANDLERS = (NAME, OTHER)


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def metrics(sink: MemorySink) -> Iterator[ProbeMetrics]:
    emitter = MetricsEmitter(ProbeMetrics.NAMESPACE, sink, flush_at_exit=False)
    yield ProbeMetrics(emitter)
    assert emitter.stats().rejected == {}


def ok(request: WebSocketRequest) -> dict[str, Any]:
    return {"statusCode": 200, "body": json.dumps({"route": request.route_key})}


def raising(exc: Exception) -> Callable[[WebSocketRequest], dict[str, Any]]:
    def route(request: WebSocketRequest) -> dict[str, Any]:
        raise exc

    return route


Series = tuple[str, tuple[tuple[str, str], ...]]


def once(name: str, *dimension_sets: tuple[tuple[str, str], ...]) -> dict[Series, float]:
    """One count of ``name`` on each of its dimension sets (specs.py declares them)."""
    return {(name, dimensions): 1 for dimensions in dimension_sets}


HANDLER = (("Handler", NAME),)
INVOKED = once("HandlerInvocations", (), HANDLER)
ERROR_ANSWER = once("ErrorResponses", (), HANDLER)


def test_a_request_is_answered_by_the_route_with_its_connection_on_the_metric_lines(
    metrics: ProbeMetrics, sink: MemorySink
) -> None:
    handler = websocket_handler(NAME, metrics, ok)
    response = handler(message_event("conn-A1=", "control"), None)
    assert response["statusCode"] == 200
    assert response_body(response) == {"route": "control"}
    assert counted(sink, heartbeat=True) == INVOKED  # no error answer, nothing else
    assert sink.properties == [{CONNECTION_ID_PROPERTY: "conn-A1="}]


def test_a_schedule_goes_to_on_schedule_and_is_no_api_gateway_answer(
    metrics: ProbeMetrics, sink: MemorySink
) -> None:
    routed: list[WebSocketRequest] = []

    def route(request: WebSocketRequest) -> dict[str, Any]:
        routed.append(request)
        return ok(request)

    handler = websocket_handler(
        NAME, metrics, route, on_schedule=lambda: {"statusCode": 503, "body": "{}"}
    )
    response = handler(scheduled_event(), None)
    assert response["statusCode"] == 503
    assert routed == []
    # An error status to EventBridge is not an answer API Gateway counts.
    assert counted(sink, heartbeat=True) == INVOKED


def test_without_on_schedule_a_schedule_is_not_a_websocket_event(
    metrics: ProbeMetrics, sink: MemorySink
) -> None:
    response = websocket_handler(NAME, metrics, ok)(scheduled_event(), None)
    assert response["statusCode"] == 400
    assert response_body(response)["error"] == "InvalidEvent"
    assert counted(sink, heartbeat=True) == INVOKED


@pytest.mark.parametrize(
    ("raised", "status", "code", "metric"),
    [
        (RequestError(409, "SessionEnded", "the session has ended"), 409, "SessionEnded", {}),
        (
            StoreError("PutItem", "ProvisionedThroughputExceededException", "slow down"),
            503,
            "StorageUnavailable",
            once(
                "DynamoDBErrors",
                (),
                (("Operation", "PutItem"), ("ErrorCode", "ProvisionedThroughputExceededException")),
            ),
        ),
        (
            KeyError("volume"),
            500,
            "InternalError",
            once("LambdaErrors", (), HANDLER, (*HANDLER, ("ErrorType", "KeyError"))),
        ),
        (
            ZeroDivisionError("internal detail"),
            500,
            "InternalError",
            once("LambdaErrors", (), HANDLER, (*HANDLER, ("ErrorType", OTHER))),
        ),
    ],
    ids=["request-error", "store-error", "unexpected", "unexpected-unlisted-type"],
)
def test_what_the_route_raises_becomes_its_answer_and_its_metric(
    metrics: ProbeMetrics,
    sink: MemorySink,
    raised: Exception,
    status: int,
    code: str,
    metric: dict[Series, float],
) -> None:
    response = websocket_handler(NAME, metrics, raising(raised))(
        message_event("conn-B2", "control"), None
    )
    assert response["statusCode"] == status
    body = response_body(response)
    assert body["error"] == code
    assert "internal detail" not in json.dumps(body)  # internals never reach the client
    assert counted(sink, heartbeat=True) == {**INVOKED, **ERROR_ANSWER, **metric}


events = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
request_contexts = st.fixed_dictionaries(
    {},
    optional={
        "routeKey": st.text(max_size=12) | st.integers(),
        "connectionId": st.from_regex(r"[A-Za-z0-9=_-]{1,8}", fullmatch=True) | st.text(),
        "domainName": events,
    },
)
api_gateway_like = st.fixed_dictionaries(
    {"requestContext": request_contexts}, optional={"body": events, "isBase64Encoded": events}
)


@given(event=events | api_gateway_like)
def test_any_event_gets_an_answer_a_heartbeat_and_a_flush(event: object) -> None:
    sink = MemorySink()
    metrics = ProbeMetrics(MetricsEmitter(ProbeMetrics.NAMESPACE, sink, flush_at_exit=False))
    response = websocket_handler(NAME, metrics, ok)(event, None)
    status = response["statusCode"]
    assert status in (200, 400)
    through_api_gateway = isinstance(event, dict) and isinstance(event.get("requestContext"), dict)
    answered = ERROR_ANSWER if status == 400 and through_api_gateway else {}
    # Flushed: the sink already holds the invocation's counts.
    assert counted(sink, heartbeat=True) == {**INVOKED, **answered}
