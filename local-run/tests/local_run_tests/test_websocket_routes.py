"""The local WebSocket endpoint's rules without a network: route selection as the API Gateway
developer guide states it ("Working with routes for WebSocket APIs"), the routes read from
infra's synthesized template, the events' shape as the handlers parse them, the idle and
duration limits, the stage's token bucket."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.functions import FUNCTIONS, ROUTE_SELECTION_EXPRESSION
from local_run.simulation.local_names import STACK_NAME
from local_run.simulation.stack_alarms import synthesized_template
from local_run.simulation.websocket_events import (
    ClientConnection,
    Stage,
    connect_event,
    disconnect_event,
    message_event,
    new_id,
)
from local_run.simulation.websocket_limits import DURATION, IDLE, TokenBucket, expiry
from local_run.simulation.websocket_routes import (
    Route,
    RouteTable,
    RouteTableError,
    evaluate_selection,
)
from websocket_service.events import (
    CONNECT,
    CONNECTION_ID_PATTERN,
    DEFAULT,
    DISCONNECT,
    parse_event,
)

KEYS = ("sendMessage", "join", "leave")
TABLE = RouteTable(
    "$request.body.action",
    {
        key: Route(key, "fn", key not in (CONNECT, DISCONNECT))
        for key in (CONNECT, DISCONNECT, DEFAULT, *KEYS)
    },
)
NO_DEFAULT = TABLE.without(DEFAULT)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


# -- route selection --------------------------------------------------------------------------


@given(key=st.sampled_from(KEYS), rest=st.dictionaries(st.text(), json_values, max_size=3))
def test_a_json_message_goes_to_the_route_its_action_names(key: str, rest: dict) -> None:
    # "The service uses the route whose `routeKey` exactly matches the evaluated value."
    assert TABLE.select(json.dumps({**rest, "action": key})) == key


@given(action=json_values, rest=st.dictionaries(st.text(), json_values, max_size=3))
def test_an_action_no_route_has_goes_to_default_or_is_an_error_without_one(
    action: object, rest: dict
) -> None:
    # "If none match and a route with the `$default` route key exists, that route is
    # selected. If no routes match ... and there is no `$default` route, the service returns
    # an error."
    if isinstance(action, str) and action in KEYS:
        return
    message = json.dumps({**rest, "action": action})
    assert TABLE.select(message) == DEFAULT
    assert NO_DEFAULT.select(message) is None


@given(text=st.text().filter(_not_json))
def test_a_message_that_is_not_json_goes_to_default(text: str) -> None:
    # "(Non-JSON messages are directed to a `$default` route that you configure.)"
    assert TABLE.select(text) == DEFAULT
    assert NO_DEFAULT.select(text) is None


@given(value=json_values.filter(lambda v: not isinstance(v, dict)))
def test_json_that_is_not_an_object_has_no_action_and_goes_to_default(value: object) -> None:
    assert TABLE.select(json.dumps(value)) == DEFAULT


@pytest.mark.parametrize("event_route", [CONNECT, DISCONNECT])
def test_a_message_never_selects_a_connection_event_route(event_route: str) -> None:
    # $connect and $disconnect are called when a connection opens and closes, not for messages.
    assert TABLE.select(json.dumps({"action": event_route})) == DEFAULT


def test_the_guides_expression_table() -> None:
    # The guide's examples against {"service": "chat", "action": "join", ...}.
    message = json.dumps({"service": "chat", "action": "join", "data": {"room": "room1234"}})
    assert evaluate_selection("$request.body.action", message) == "join"
    assert evaluate_selection("${request.body.action}", message) == "join"
    assert evaluate_selection("$request.body.data.room", message) == "room1234"
    # "If the JSONPath is not found, the variable is resolved as \"\"."
    assert evaluate_selection("$request.body.invalidPath", message) == ""
    assert evaluate_selection("$request.body.action", "not json") is None


@pytest.mark.parametrize("expression", ["action", "$request.header.x", "${request.body.a}-b"])
def test_an_expression_the_endpoint_cannot_evaluate_is_refused_with_a_clear_error(
    expression: str,
) -> None:
    with pytest.raises(RouteTableError, match="RouteSelectionExpression"):
        RouteTable(expression, {})


# -- the routes of infra's stack ---------------------------------------------------------------


def test_the_template_routes_every_functions_routes_to_it_and_answers_on_message_routes() -> None:
    template, labels = synthesized_template(STACK_NAME)
    table = RouteTable.from_template(template, labels)
    assert table.selection_expression == ROUTE_SELECTION_EXPRESSION
    expected = {
        # infra's design: $connect/$disconnect answers never reach the client; message routes
        # return the handler's answer (a route response).
        route: Route(route, spec.label, route not in (CONNECT, DISCONNECT))
        for spec in FUNCTIONS
        for route in spec.routes
    }
    assert dict(table.routes) == expected


def test_a_template_without_a_websocket_api_is_refused() -> None:
    with pytest.raises(RouteTableError, match="one WebSocket API"):
        RouteTable.from_template({"Resources": {}}, {})


# -- events -----------------------------------------------------------------------------------

STAGE = Stage("api123", "prod")
names = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=12)


def _client() -> ClientConnection:
    return ClientConnection(new_id(), 1_700_000_000_000, "127.0.0.1", "test-agent", "h:1")


@given(query=st.lists(st.tuples(names, st.text(max_size=20)), max_size=6))
def test_the_connect_event_carries_the_query_as_the_handlers_read_it(
    query: list[tuple[str, str]],
) -> None:
    client = _client()
    event = connect_event(STAGE, client, [("Host", "h:1"), ("X-A", "1"), ("X-A", "2")], query)
    request = parse_event(event)
    assert request.route_key == CONNECT and request.connection_id == client.connection_id
    # A repeated name keeps its last value in the single-value map, every value in the other.
    assert dict(request.query) == dict(query)
    for name in {n for n, _ in query}:
        assert event["multiValueQueryStringParameters"][name] == [v for n, v in query if n == name]
    assert event["headers"]["X-A"] == "2" and event["multiValueHeaders"]["X-A"] == ["1", "2"]
    context = event["requestContext"]
    assert context["eventType"] == "CONNECT" and "messageId" not in context
    assert ("queryStringParameters" in event) == bool(query)


@given(body=st.text())
def test_a_message_event_carries_the_body_as_sent_and_a_message_id(body: str) -> None:
    client = _client()
    event = message_event(STAGE, client, "join", body)
    request = parse_event(event)
    assert request.body == body and request.route_key == "join"
    context = event["requestContext"]
    assert context["eventType"] == "MESSAGE" and context["messageId"]
    assert context["connectedAt"] == client.connected_at_ms
    assert event["isBase64Encoded"] is False


def test_a_disconnect_event_says_how_the_connection_closed() -> None:
    event = disconnect_event(STAGE, _client(), 1001, "idle timeout")
    assert parse_event(event).route_key == DISCONNECT
    context = event["requestContext"]
    assert (context["eventType"], context["disconnectStatusCode"]) == ("DISCONNECT", 1001)
    assert context["disconnectReason"] == "idle timeout"


def test_connection_ids_have_api_gateways_form_and_the_handlers_accept_them() -> None:
    ids = {new_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 16 and CONNECTION_ID_PATTERN.fullmatch(i) for i in ids)


# -- limits -----------------------------------------------------------------------------------

times = st.floats(min_value=0, max_value=1e6)
spans = st.floats(min_value=0.001, max_value=1e5)


@given(connected=times, since=st.floats(min_value=0, max_value=1e5), idle=spans, limit=spans)
def test_a_connection_ends_at_the_earlier_of_its_idle_timeout_and_its_duration_limit(
    connected: float, since: float, idle: float, limit: float
) -> None:
    last_active = connected + since
    due, why = expiry(connected, last_active, idle, limit)
    assert due == min(last_active + idle, connected + limit)
    assert why == (DURATION if connected + limit <= last_active + idle else IDLE)


def test_activity_moves_the_idle_timeout_not_the_duration_limit() -> None:
    assert expiry(0.0, 0.0, 600.0, 7200.0) == (600.0, IDLE)
    assert expiry(0.0, 6900.0, 600.0, 7200.0) == (7200.0, DURATION)


def test_the_token_bucket_lets_a_burst_through_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] = 0.5  # one token back at 2 per second
    assert [bucket.take(), bucket.take()] == [True, False]
    now[0] = 100.0  # never more than the burst
    assert sum(bucket.take() for _ in range(10)) == 3
