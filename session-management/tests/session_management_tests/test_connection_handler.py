"""The connection handler end to end: DynamoDB on moto's server, the Management API on a
loopback stub, and the exact metrics each step emits."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from session_management.handlers import connection
from session_management.services import SessionServices
from session_management.session_model import SessionState
from session_management.testing.local_aws import SMALL_RATE_LIMITS, TABLES, LocalAws
from shared_metrics.sinks.memory import MemorySink
from websocket_service.dynamodb import StoreError
from websocket_service.handler_guard import LambdaHandler
from websocket_service.testing.events import (
    connect_event,
    disconnect_event,
    message_event,
    response_body,
    websocket_event,
)
from websocket_service.testing.fake_clock import FakeClock
from websocket_service.testing.metric_snapshot import counted, sample_counts

LISTENERS = ["listener-1", "listener-2", "listener-3"]


@pytest.fixture
def handler(services: SessionServices) -> LambdaHandler:
    return connection.build_handler(services)


@pytest.fixture
def session(handler: LambdaHandler, aws: LocalAws, sink: MemorySink) -> str:
    """A session with its speaker and three listeners; the sink starts empty."""
    assert handler(connect_event("speaker-1", "s1", "speaker"), None)["statusCode"] == 200
    for listener in LISTENERS:
        assert handler(connect_event(listener, "s1", "listener"), None)["statusCode"] == 200
    sink.clear()
    return "s1"


def control(
    handler: LambdaHandler, connection_id: str, action: str, **fields: object
) -> dict[str, Any]:
    return handler(message_event(connection_id, action, **fields), None)


# -- connecting -------------------------------------------------------------------------------


def test_speaker_creates_and_listeners_join(
    handler: LambdaHandler, aws: LocalAws, sink: MemorySink
) -> None:
    response = handler(connect_event("speaker-1", "s1", "speaker"), None)
    assert response["statusCode"] == 200
    assert response_body(response) == {"type": "connected", "sessionId": "s1", "role": "speaker"}
    for listener in LISTENERS:
        assert handler(connect_event(listener, "s1", "listener"), None)["statusCode"] == 200
    assert sorted(aws.store().listener_connection_ids("s1")) == LISTENERS
    # Connecting is not a metric of its own: each invocation only counts the heartbeat, its
    # EMF event carrying who connected as log properties.
    assert counted(sink) == {}
    assert counted(sink, heartbeat=True) == {
        ("HandlerInvocations", ()): 4,
        ("HandlerInvocations", (("Handler", "connection"),)): 4,
    }
    assert sink.properties == [
        {"ConnectionId": c, "SessionId": "s1"} for c in ["speaker-1", *LISTENERS]
    ]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"sessionId": "s1", "role": "speaker"}, 409, "SessionExists"),
        ({"sessionId": "nope", "role": "listener"}, 404, "SessionNotFound"),
        ({"sessionId": "s1", "role": "admin"}, 400, "InvalidField"),
        ({"sessionId": "s1"}, 400, "InvalidField"),
        ({"role": "listener"}, 400, "MissingField"),
        ({"sessionId": "bad id!", "role": "listener"}, 400, "InvalidField"),
        (None, 400, "MissingField"),
    ],
)
def test_bad_connects_are_refused(
    handler: LambdaHandler,
    session: str,
    query: dict[str, str] | None,
    status: int,
    code: str,
) -> None:
    response = handler(websocket_event("$connect", "someone", query=query), None)
    assert response["statusCode"] == status
    assert response_body(response)["error"] == code


def test_joining_an_ended_session_is_refused(handler: LambdaHandler, session: str) -> None:
    assert control(handler, "speaker-1", "endSession")["statusCode"] == 200
    response = handler(connect_event("late", session, "listener"), None)
    assert (response["statusCode"], response_body(response)["error"]) == (409, "SessionEnded")


# -- control messages reach every listener ---------------------------------------------------


@pytest.mark.parametrize(
    ("action", "fields", "expected"),
    [
        ("pauseBroadcast", {}, {"state": "PAUSED", "muted": False, "volume": 100}),
        ("muteBroadcast", {}, {"state": "ACTIVE", "muted": True, "volume": 100}),
        ("setVolume", {"volume": 35}, {"state": "ACTIVE", "muted": False, "volume": 35}),
    ],
)
def test_control_message_reaches_every_listener(
    handler: LambdaHandler,
    session: str,
    aws: LocalAws,
    sink: MemorySink,
    action: str,
    fields: dict[str, object],
    expected: dict[str, object],
) -> None:
    response = control(handler, "speaker-1", action, **fields)
    assert response["statusCode"] == 200
    body = response_body(response)
    assert body["listenersNotified"] == 3 and body["action"] == action
    for listener in LISTENERS:
        assert aws.api.messages(listener) == [
            {"type": "broadcastState", "action": action, "sessionId": "s1", **expected}
        ]
    assert aws.api.messages("speaker-1") == []
    assert counted(sink) == {
        ("ControlMessagesReceived", ()): 1,
        ("ControlMessagesReceived", (("ActionType", action),)): 1,
        ("ListenersNotified", ()): 3,
    }
    assert sample_counts(sink) == {
        ("ControlMessageLatency", ()): 1,
        ("ListenerNotificationLatency", ()): 3,
    }
    assert {"SessionId": "s1", "ConnectionId": "speaker-1"} in sink.properties


def test_a_whole_broadcast(
    handler: LambdaHandler, session: str, aws: LocalAws, sink: MemorySink, clock: FakeClock
) -> None:
    steps = [
        ("pauseBroadcast", {}, "PAUSED"),
        ("resumeBroadcast", {}, "ACTIVE"),
        ("muteBroadcast", {}, "ACTIVE"),
        ("unmuteBroadcast", {}, "ACTIVE"),
        ("setVolume", {"volume": 0}, "ACTIVE"),
    ]
    for action, fields, state in steps:
        body = response_body(control(handler, "speaker-1", action, **fields))
        assert (body["action"], body["state"]) == (action, state)
    clock.advance(SMALL_RATE_LIMITS.window_seconds)  # a new rate-limit window
    assert control(handler, "speaker-1", "endSession")["statusCode"] == 200
    for listener in LISTENERS:
        received = aws.api.messages(listener)
        assert [m.get("action") for m in received[:-1]] == [a for a, _, _ in steps]
        assert received[-1] == {
            "type": "sessionEnded",
            "sessionId": "s1",
            "reason": "endedBySpeaker",
        }
    stored = aws.store().get_session(session)
    assert stored is not None and stored.state is SessionState.ENDED and stored.volume == 0
    totals = counted(sink)
    assert totals[("ControlMessagesReceived", ())] == 6
    assert totals[("ListenersNotified", ())] == 18
    assert ("ListenerNotificationFailures", ()) not in totals
    # Control after the end is refused.
    response = control(handler, "speaker-1", "resumeBroadcast")
    assert (response["statusCode"], response_body(response)["error"]) == (409, "SessionEnded")


def test_gone_listener_is_removed_and_counted(
    handler: LambdaHandler, session: str, aws: LocalAws, sink: MemorySink
) -> None:
    aws.api.gone.add("listener-2")
    body = response_body(control(handler, "speaker-1", "pauseBroadcast"))
    assert (body["listeners"], body["listenersNotified"]) == (3, 2)
    assert sorted(aws.store().listener_connection_ids(session)) == ["listener-1", "listener-3"]
    assert counted(sink) == {
        ("ControlMessagesReceived", ()): 1,
        ("ControlMessagesReceived", (("ActionType", "pauseBroadcast"),)): 1,
        ("ListenersNotified", ()): 2,
        ("ListenerNotificationFailures", ()): 1,
        ("ListenerNotificationFailures", (("ErrorType", "Gone"),)): 1,
    }
    # The next broadcast does not try the gone listener again.
    sink.clear()
    control(handler, "speaker-1", "resumeBroadcast")
    assert counted(sink)[("ListenersNotified", ())] == 2
    assert ("ListenerNotificationFailures", ()) not in counted(sink)


def test_throttled_listener_is_counted_and_kept(
    handler: LambdaHandler, session: str, aws: LocalAws, sink: MemorySink
) -> None:
    aws.api.failures["listener-3"] = (429, "LimitExceededException")
    body = response_body(control(handler, "speaker-1", "muteBroadcast"))
    assert body["listenersNotified"] == 2
    assert counted(sink)[("ListenerNotificationFailures", (("ErrorType", "LimitExceeded"),))] == 1
    assert "listener-3" in aws.store().listener_connection_ids(session)


# -- refused control messages ------------------------------------------------------------------


def rejected(reason: str, action: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        ("ControlMessagesReceived", ()): 1,
        ("ControlMessagesReceived", (("ActionType", action),)): 1,
        ("ControlMessagesRejected", ()): 1,
        ("ControlMessagesRejected", (("Reason", reason),)): 1,
    }


@pytest.mark.parametrize(
    ("connection_id", "event_body", "status", "code", "reason", "action_type"),
    [
        (
            "listener-1",
            {"action": "pauseBroadcast"},
            403,
            "NotSpeaker",
            "NotSpeaker",
            "pauseBroadcast",
        ),
        ("stranger", {"action": "endSession"}, 403, "NotSpeaker", "NotSpeaker", "endSession"),
        (
            "speaker-1",
            {"action": "pauseBroadcast", "sessionId": "other"},
            403,
            "NotSpeaker",
            "NotSpeaker",
            "pauseBroadcast",
        ),
        ("speaker-1", {"action": "selfDestruct"}, 400, "UnknownAction", "UnknownAction", "Other"),
        ("speaker-1", {"action": 42}, 400, "UnknownAction", "UnknownAction", "Other"),
        ("speaker-1", "{not json", 400, "InvalidJson", "InvalidPayload", "Other"),
        ("speaker-1", "[1,2]", 400, "InvalidPayload", "InvalidPayload", "Other"),
        ("speaker-1", {"action": "setVolume"}, 400, "MissingField", "InvalidPayload", "setVolume"),
        (
            "speaker-1",
            {"action": "setVolume", "volume": 101},
            400,
            "InvalidField",
            "InvalidPayload",
            "setVolume",
        ),
        (
            "speaker-1",
            {"action": "setVolume", "volume": "loud"},
            400,
            "InvalidField",
            "InvalidPayload",
            "setVolume",
        ),
        (
            "speaker-1",
            {"action": "pauseBroadcast", "sessionId": 7},
            400,
            "InvalidField",
            "InvalidPayload",
            "pauseBroadcast",
        ),
    ],
)
def test_bad_control_messages_are_refused_and_counted(
    handler: LambdaHandler,
    session: str,
    aws: LocalAws,
    sink: MemorySink,
    connection_id: str,
    event_body: object,
    status: int,
    code: str,
    reason: str,
    action_type: str,
) -> None:
    # $default: what API Gateway routes to when the action matches no route.
    response = handler(websocket_event("$default", connection_id, event_body), None)
    assert response["statusCode"] == status
    assert response_body(response)["error"] == code
    assert response_body(response)["message"]
    assert counted(sink) == rejected(reason, action_type)
    assert sample_counts(sink) == {}  # nothing was applied, nothing was timed
    assert all(aws.api.messages(listener) == [] for listener in LISTENERS)
    stored = aws.store().get_session(session)
    assert stored is not None and stored.state is SessionState.ACTIVE and stored.volume == 100


def test_speaker_disconnect_ends_the_session(
    handler: LambdaHandler, session: str, aws: LocalAws, sink: MemorySink
) -> None:
    assert handler(disconnect_event("listener-1"), None) == {"statusCode": 200}
    assert handler(disconnect_event("speaker-1"), None) == {"statusCode": 200}
    stored = aws.store().get_session(session)
    assert stored is not None and stored.ended
    ended = {"type": "sessionEnded", "sessionId": "s1", "reason": "speakerDisconnected"}
    assert aws.api.messages("listener-1") == []
    assert aws.api.messages("listener-2") == [ended]
    assert counted(sink) == {("ListenersNotified", ()): 2}
    # A second $disconnect (or one for an unknown connection) is harmless.
    assert handler(disconnect_event("speaker-1"), None) == {"statusCode": 200}


# -- rate limiting ------------------------------------------------------------------------------


def test_control_flood_is_limited_then_closed(
    handler: LambdaHandler, session: str, aws: LocalAws, sink: MemorySink
) -> None:
    limit, max_violations = SMALL_RATE_LIMITS.limit("control"), SMALL_RATE_LIMITS.max_violations
    statuses = [
        control(handler, "speaker-1", "setVolume", volume=i)["statusCode"]
        for i in range(limit + max_violations)
    ]
    assert statuses == [200] * limit + [429] * max_violations
    response = control(handler, "speaker-1", "setVolume", volume=1)
    assert response_body(response) == {
        "error": "RateLimited",
        "message": "too many control messages; slow down",
    }
    assert aws.api.deleted == ["speaker-1"]  # closed once, at the max_violations-th violation
    totals = counted(sink)
    assert totals[("RateLimitViolations", ())] == max_violations + 1
    assert totals[("RateLimitViolations", (("MessageType", "control"),))] == max_violations + 1
    assert totals[("ConnectionsClosedForRateLimit", ())] == 1
    assert totals[("ControlMessagesReceived", ())] == limit + max_violations + 1


def test_malformed_floods_count_against_the_limit(
    handler: LambdaHandler, session: str, sink: MemorySink
) -> None:
    statuses = [
        handler(websocket_event("$default", "speaker-1", "garbage"), None)["statusCode"]
        for _ in range(SMALL_RATE_LIMITS.limit("control") + 1)
    ]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {400}


# -- failures -----------------------------------------------------------------------------------


def test_dynamodb_failure_is_a_503_and_counted(
    handler: LambdaHandler, session: str, aws: LocalAws, sink: MemorySink
) -> None:
    aws.dynamodb.delete_table(TableName=TABLES.sessions)
    response = control(handler, "speaker-1", "pauseBroadcast")
    assert response["statusCode"] == 503
    assert response_body(response)["error"] == "StorageUnavailable"
    assert (
        counted(sink)[
            (
                "DynamoDBErrors",
                (("Operation", "GetItem"), ("ErrorCode", "ResourceNotFoundException")),
            )
        ]
        == 1
    )
    assert counted(sink)[("DynamoDBErrors", ())] == 1


def test_rate_limiter_outage_fails_open(
    handler: LambdaHandler, session: str, aws: LocalAws, sink: MemorySink
) -> None:
    aws.dynamodb.delete_table(TableName=TABLES.rate_limits)
    assert control(handler, "speaker-1", "pauseBroadcast")["statusCode"] == 200
    assert (
        counted(sink)[
            (
                "DynamoDBErrors",
                (("Operation", "UpdateItem"), ("ErrorCode", "ResourceNotFoundException")),
            )
        ]
        == 1
    )


def test_unhandled_exception_is_a_clean_500_logged_and_counted(
    handler: LambdaHandler,
    services: SessionServices,
    session: str,
    sink: MemorySink,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("speakerConnectionId")

    monkeypatch.setattr(services.store, "get_session", broken)
    with caplog.at_level(logging.ERROR, logger="session_management"):
        response = control(handler, "speaker-1", "pauseBroadcast")
    assert response["statusCode"] == 500
    assert response_body(response) == {
        "error": "InternalError",
        "message": "internal error; the failure has been logged",
    }
    assert (
        counted(sink)[("LambdaErrors", (("Handler", "connection"), ("ErrorType", "KeyError")))] == 1
    )
    # Metrics recorded before the failure were flushed too.
    assert counted(sink)[("ControlMessagesReceived", ())] == 1
    records = [json.loads(r.getMessage()) for r in caplog.records]
    unhandled = [r for r in records if r["event"] == "UnhandledException"]
    assert len(unhandled) == 1
    logged = unhandled[0]
    assert logged["errorType"] == "KeyError" and logged["handler"] == "connection"
    assert logged["connectionId"] == "speaker-1" and "Traceback" in logged["traceback"]


def test_unknown_exception_types_map_to_other(
    handler: LambdaHandler,
    services: SessionServices,
    session: str,
    sink: MemorySink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class ClientMintedError(Exception):
        pass

    def broken(*args: object, **kwargs: object) -> None:
        raise ClientMintedError

    monkeypatch.setattr(services.store, "get_connection", broken)
    assert control(handler, "speaker-1", "pauseBroadcast")["statusCode"] == 500
    assert counted(sink)[("LambdaErrors", (("Handler", "connection"), ("ErrorType", "Other")))] == 1


def test_every_invocation_counts_the_heartbeat_whatever_its_outcome(
    handler: LambdaHandler,
    services: SessionServices,
    session: str,
    aws: LocalAws,
    sink: MemorySink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The heartbeat alarm compares HandlerInvocations[Handler] with AWS/Lambda Invocations:
    # one per invocation, answered 200, 4xx, 500 or 503 alike.
    statuses = [control(handler, "speaker-1", "setVolume", volume=40)["statusCode"]]
    statuses.append(control(handler, "speaker-1", "setVolume", volume="loud")["statusCode"])

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("speakerConnectionId")

    with monkeypatch.context() as patched:
        patched.setattr(services.store, "get_session", broken)
        statuses.append(control(handler, "speaker-1", "pauseBroadcast")["statusCode"])
    aws.dynamodb.delete_table(TableName=TABLES.sessions)
    statuses.append(control(handler, "speaker-1", "pauseBroadcast")["statusCode"])
    assert statuses == [200, 400, 500, 503]
    totals = counted(sink, heartbeat=True)
    assert totals[("HandlerInvocations", (("Handler", "connection"),))] == 4
    assert totals[("HandlerInvocations", ())] == 4
    # The error-rate alarm reads the handled failures by Handler alone.
    assert totals[("LambdaErrors", (("Handler", "connection"),))] == 1
    # Every 4XX/5XX answer to API Gateway, which counts them as IntegrationError (or
    # ClientError): the stage's alarm subtracts them.
    assert totals[("ErrorResponses", (("Handler", "connection"),))] == 3
    assert totals[("ErrorResponses", ())] == 3
    assert ("HandlerInvocations", ()) not in counted(sink)
    assert ("ErrorResponses", ()) not in counted(sink)


def test_store_errors_from_deep_inside_are_counted_once(
    handler: LambdaHandler,
    services: SessionServices,
    session: str,
    sink: MemorySink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def throttled(*args: object, **kwargs: object) -> None:
        raise StoreError("Query", "ProvisionedThroughputExceededException", "slow down")

    monkeypatch.setattr(services.store, "listener_connection_ids", throttled)
    assert control(handler, "speaker-1", "pauseBroadcast")["statusCode"] == 503
    totals = counted(sink)
    assert totals[("DynamoDBErrors", ())] == 1
    assert ("LambdaErrors", ()) not in totals
