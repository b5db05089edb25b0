"""Hypothesis-generated events: whatever a client sends, the handlers answer with a clean
4xx/2xx (never an exception, never a 5xx) and every metric stays within its closed sets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as event_stat
from hypothesis import strategies as st

from session_management.handlers import connection, session_status
from session_management.metrics import SessionMetrics
from session_management.metrics_spec import ACTION_TYPES
from session_management.services import SessionServices
from session_management.session_model import JoinOutcome
from session_management.testing.local_aws import LocalAws
from shared_metrics.sinks.memory import MemorySink
from websocket_service.handler_guard import LambdaHandler
from websocket_service.rate_limit import RateLimitPolicy
from websocket_service.testing.metric_snapshot import counted

# No rate limiting here: the fuzzer should reach the validation behind it.
GENEROUS = RateLimitPolicy(per_window={"control": 10**9, "audio": 10**9, "status": 10**9})
CONNECTIONS = ["speaker-1", "listener-1", "stranger", "Ab1CdEfGhIJKLMA="]
ACTIONS = [a for a in ACTION_TYPES if a != "Other"] + ["getSessionStatus", "sendAudio", "nope"]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
plausible_messages = st.fixed_dictionaries(
    {"action": st.sampled_from(ACTIONS)},
    optional={
        "volume": st.one_of(st.integers(min_value=-5, max_value=105), json_values),
        "sessionId": st.sampled_from(["s1", "s2"]),
    },
)
message_bodies = st.one_of(
    plausible_messages.map(json.dumps),
    st.fixed_dictionaries(
        {"action": st.one_of(st.sampled_from(ACTIONS), json_values)},
        optional={
            "volume": json_values,
            "sessionId": st.one_of(st.sampled_from(["s1", "s2", "bad id"]), json_values),
        },
    ).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=50),
)
queries = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "sessionId": st.one_of(st.sampled_from(["s1", "s2"]), st.text(max_size=70)),
            "role": st.one_of(st.sampled_from(["speaker", "listener"]), st.text()),
        },
    ),
)


def websocket_events(route_keys: st.SearchStrategy[str], connection_ids: st.SearchStrategy[str]):
    return st.fixed_dictionaries(
        {
            "requestContext": st.fixed_dictionaries(
                {
                    "routeKey": route_keys,
                    "connectionId": connection_ids,
                    "domainName": st.just("abc.execute-api.us-east-1.amazonaws.com"),
                    "stage": st.just("test"),
                }
            ),
        },
        optional={"body": message_bodies, "queryStringParameters": queries},
    )


def websocket_messages(route_keys: st.SearchStrategy[str], connection_ids: st.SearchStrategy[str]):
    return st.fixed_dictionaries(
        {
            "requestContext": st.fixed_dictionaries(
                {
                    "routeKey": route_keys,
                    "connectionId": connection_ids,
                    "domainName": st.just("abc.execute-api.us-east-1.amazonaws.com"),
                    "stage": st.just("test"),
                }
            ),
            "body": message_bodies,
        }
    )


# Mostly events API Gateway could send (so the fuzzer gets past parsing), some that it never
# would.
events = st.one_of(
    websocket_events(
        st.sampled_from(["$connect", "$disconnect", "$default", *ACTIONS]),
        st.sampled_from(CONNECTIONS),
    ),
    websocket_messages(st.sampled_from(ACTIONS), st.sampled_from(CONNECTIONS[:2])),
    websocket_events(st.text(max_size=10), st.text(max_size=10)),
)
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def fuzz_services(aws: LocalAws, services: SessionServices) -> SessionServices:
    services.rate_limiter.policy = GENEROUS
    return services


def live_session(services: SessionServices) -> None:
    """s1 with speaker-1 and listener-1, recreated when an example ended or left it."""
    store = services.store
    session = store.get_session("s1")
    if session is not None and not session.ended and store.count_listeners("s1") == 1:
        return
    client, tables = store.client, store.tables
    client.delete_item(TableName=tables.sessions, Key={"sessionId": {"S": "s1"}})
    for connection_id in CONNECTIONS:
        client.delete_item(TableName=tables.connections, Key={"connectionId": {"S": connection_id}})
    assert store.create_session("s1", "speaker-1")
    assert store.join_session("s1", "listener-1") is JoinOutcome.JOINED


def check_response(response: Any) -> None:
    assert isinstance(response, dict)
    assert isinstance(response["statusCode"], int)
    assert 200 <= response["statusCode"] < 500, response
    if "body" in response:
        json.loads(response["body"])


@FUZZ
@given(event=events)
def test_connection_handler_answers_any_event(
    fuzz_services: SessionServices, sink: MemorySink, event: dict[str, Any]
) -> None:
    handler: LambdaHandler = connection.build_handler(fuzz_services)
    live_session(fuzz_services)
    sink.clear()
    response = handler(event, None)
    event_stat(f"status {response.get('statusCode')}")
    check_response(response)
    for (name, dimensions), _ in counted(sink).items():
        for key, value in dimensions:
            if key == "ActionType":
                assert value in ACTION_TYPES
        assert name != "LambdaErrors"


@FUZZ
@given(event=st.one_of(events, st.just({"source": "aws.events", "detail-type": "Scheduled Event"})))
def test_status_handler_answers_any_event(
    fuzz_services: SessionServices, sink: MemorySink, event: dict[str, Any]
) -> None:
    handler = session_status.build_handler(fuzz_services)
    live_session(fuzz_services)
    sink.clear()
    response = handler(event, None)
    event_stat(f"status {response.get('statusCode')}")
    check_response(response)
    assert ("LambdaErrors", ()) not in counted(sink)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=st.one_of(json_values, st.binary(max_size=20)))
def test_not_even_an_api_gateway_event(metrics: SessionMetrics, event: object) -> None:
    # Refused before any AWS call, so no store or rate limiter is needed.
    services = SessionServices(store=None, rate_limiter=None, metrics=metrics)  # type: ignore[arg-type]
    for build in (connection.build_handler, session_status.build_handler):
        response = build(services)(event, None)
        assert response["statusCode"] == 400
        assert json.loads(response["body"])["error"] == "InvalidEvent"
