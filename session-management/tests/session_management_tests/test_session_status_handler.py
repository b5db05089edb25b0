"""getSessionStatus and the scheduled status update, end to end."""

from __future__ import annotations

import pytest

from session_management.handlers import connection, session_status
from session_management.services import SessionServices
from session_management.testing.local_aws import SMALL_RATE_LIMITS, TABLES, LocalAws
from shared_metrics.sinks.memory import MemorySink
from shared_metrics.testing.emf_reader import read_datapoints
from websocket_service.handler_guard import LambdaHandler
from websocket_service.testing.events import (
    connect_event,
    message_event,
    response_body,
    scheduled_event,
    websocket_event,
)
from websocket_service.testing.fake_clock import FakeClock
from websocket_service.testing.metric_snapshot import counted, sample_counts


@pytest.fixture
def status(services: SessionServices) -> LambdaHandler:
    return session_status.build_handler(services)


@pytest.fixture
def connect(services: SessionServices) -> LambdaHandler:
    return connection.build_handler(services)


@pytest.fixture
def two_sessions(connect: LambdaHandler, sink: MemorySink) -> None:
    """s1: speaker-1 with listeners l1, l2; s2: speaker-2 with listener l3."""
    for event in [
        connect_event("speaker-1", "s1", "speaker"),
        connect_event("l1", "s1", "listener"),
        connect_event("l2", "s1", "listener"),
        connect_event("speaker-2", "s2", "speaker"),
        connect_event("l3", "s2", "listener"),
    ]:
        assert connect(event, None)["statusCode"] == 200
    sink.clear()


@pytest.mark.parametrize("asker", ["speaker-1", "l2"])
def test_members_get_the_status(
    status: LambdaHandler,
    two_sessions: None,
    clock: FakeClock,
    sink: MemorySink,
    asker: str,
) -> None:
    clock.advance(125)
    response = status(message_event(asker, "getSessionStatus"), None)
    assert response["statusCode"] == 200
    assert response_body(response) == {
        "type": "sessionStatus",
        "sessionId": "s1",
        "state": "ACTIVE",
        "muted": False,
        "volume": 100,
        "listenerCount": 2,
        "durationSeconds": 125,
    }
    assert counted(sink) == {("StatusQueriesReceived", ()): 1}
    assert sample_counts(sink) == {("StatusQueryLatency", ()): 1}
    assert {"ConnectionId": asker, "SessionId": "s1"} in sink.properties


def test_status_follows_control_messages(
    status: LambdaHandler, connect: LambdaHandler, two_sessions: None
) -> None:
    connect(message_event("speaker-1", "pauseBroadcast"), None)
    connect(message_event("speaker-1", "setVolume", volume=10), None)
    body = response_body(status(message_event("l1", "getSessionStatus", sessionId="s1"), None))
    assert (body["state"], body["volume"]) == ("PAUSED", 10)


@pytest.mark.parametrize(
    ("asker", "body", "status_code", "code"),
    [
        ("stranger", {"action": "getSessionStatus"}, 403, "NotInSession"),
        ("l1", {"action": "getSessionStatus", "sessionId": "s2"}, 403, "NotInSession"),
        ("l1", {"action": "getSessionStatus", "sessionId": ["s1"]}, 400, "InvalidField"),
        ("l1", "{{{", 400, "InvalidJson"),
        ("l1", "42", 400, "InvalidPayload"),
    ],
)
def test_bad_status_queries(
    status: LambdaHandler,
    two_sessions: None,
    sink: MemorySink,
    asker: str,
    body: object,
    status_code: int,
    code: str,
) -> None:
    response = status(websocket_event("getSessionStatus", asker, body), None)
    assert response["statusCode"] == status_code
    assert response_body(response)["error"] == code
    assert counted(sink) == {("StatusQueriesReceived", ()): 1}


def test_status_of_a_vanished_session_is_404(
    status: LambdaHandler, two_sessions: None, aws: LocalAws
) -> None:
    aws.dynamodb.delete_item(TableName=TABLES.sessions, Key={"sessionId": {"S": "s1"}})
    response = status(message_event("l1", "getSessionStatus"), None)
    assert (response["statusCode"], response_body(response)["error"]) == (404, "SessionNotFound")


def test_status_queries_are_rate_limited(
    status: LambdaHandler, two_sessions: None, sink: MemorySink
) -> None:
    limit = SMALL_RATE_LIMITS.limit("status")
    codes = [
        status(message_event("l1", "getSessionStatus"), None)["statusCode"]
        for _ in range(limit + 1)
    ]
    assert codes == [200] * limit + [429]
    assert counted(sink)[("RateLimitViolations", (("MessageType", "status"),))] == 1


# -- the scheduled update ----------------------------------------------------------------------


def test_periodic_update_reaches_every_live_speaker(
    status: LambdaHandler,
    connect: LambdaHandler,
    two_sessions: None,
    aws: LocalAws,
    sink: MemorySink,
) -> None:
    connect(connect_event("speaker-3", "s3", "speaker"), None)
    connect(message_event("speaker-3", "endSession"), None)
    sink.clear()
    response = status(scheduled_event(), None)
    assert response_body(response) == {
        "type": "periodicStatusUpdate",
        "sent": 2,
        "failed": 0,
        "ended": 0,
    }
    (update,) = aws.api.messages("speaker-1")
    assert (update["type"], update["listenerCount"]) == ("sessionStatus", 2)
    assert aws.api.messages("speaker-2")[0]["listenerCount"] == 1
    assert aws.api.messages("speaker-3") == []  # its session ended
    assert aws.api.messages("l1") == []
    assert counted(sink) == {("PeriodicStatusUpdatesSent", ()): 2}


def test_gone_speaker_ends_its_session(
    status: LambdaHandler, two_sessions: None, aws: LocalAws, sink: MemorySink
) -> None:
    aws.api.gone.add("speaker-2")
    body = response_body(status(scheduled_event(), None))
    assert (body["sent"], body["failed"], body["ended"]) == (1, 1, 1)
    stored = aws.store().get_session("s2")
    assert stored is not None and stored.ended
    assert aws.store().get_connection("speaker-2") is None
    assert aws.api.messages("l3") == [
        {"type": "sessionEnded", "sessionId": "s2", "reason": "speakerGone"}
    ]
    assert counted(sink) == {
        ("PeriodicStatusUpdatesSent", ()): 1,
        ("ListenersNotified", ()): 1,
    }


def test_periodic_update_needs_the_endpoint(
    status: LambdaHandler, two_sessions: None, sink: MemorySink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APIGW_MANAGEMENT_ENDPOINT")
    response = status(scheduled_event(), None)
    assert response["statusCode"] == 500
    assert counted(sink)[("LambdaErrors", (("Handler", "session_status"), ("ErrorType", "Other")))]


# -- the Lambda entry point, configured by the environment, writing EMF ------------------------


def test_entry_point_writes_valid_emf(
    local_aws: LocalAws,
    two_sessions: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("METRICS_SINK", "emf")
    session_status.handler.reset()  # build from this environment
    capsys.readouterr()
    try:
        assert session_status.handler(scheduled_event(), None)["statusCode"] == 200
        assert (
            session_status.handler(message_event("l1", "getSessionStatus"), None)["statusCode"]
            == 200
        )
    finally:
        session_status.handler.reset()
    lines = [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    datapoints = read_datapoints(lines)  # also checks every line against the EMF spec
    ns = "SessionManagement/WebSocket"
    assert datapoints[(ns, "PeriodicStatusUpdatesSent", ())] == {1: 2}
    assert datapoints[(ns, "StatusQueriesReceived", ())] == {1: 1}
    assert sum(datapoints[(ns, "StatusQueryLatency", ())].values()) == 1
    assert all(name != "SessionId" for _, _, dims in datapoints for name, _ in dims)
