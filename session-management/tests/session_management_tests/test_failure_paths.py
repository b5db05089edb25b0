"""The connection and status handlers when their dependencies fail, through the real handlers
against moto's server and the Management API stub on 127.0.0.1: DynamoDB faults are answered
by a `FaultProxy` in DynamoDB's own error format for the one operation a test aims at. Where
a failure could leave a change half applied, the test reads back what is stored."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from session_management.handlers import connection, session_status
from session_management.metrics import SessionMetrics
from session_management.services import SessionServices
from session_management.session_model import SessionState
from session_management.store import SessionStore
from session_management.testing.local_aws import SMALL_RATE_LIMITS, TABLES, LocalAws
from shared_metrics.sinks.memory import MemorySink
from shared_metrics.testing.aws_emulator import unused_loopback_url
from shared_metrics.testing.fault_proxy import FaultProxy, fault_reply
from websocket_service.handler_guard import LambdaHandler, LazyHandler
from websocket_service.management_api import ManagementApi, ManagementApiFactory
from websocket_service.rate_limit import RateLimiter
from websocket_service.testing.events import (
    connect_event,
    disconnect_event,
    message_event,
    scheduled_event,
    websocket_event,
)
from websocket_service.testing.fake_clock import FakeClock
from websocket_service.testing.metric_snapshot import counted

LISTENERS = ["listener-1", "listener-2", "listener-3"]


@pytest.fixture
def proxy(aws: LocalAws) -> Iterator[FaultProxy]:
    with FaultProxy(aws.emulator.endpoint_url) as fault_proxy:
        yield fault_proxy


def _faulty_client(proxy: FaultProxy) -> Any:
    # No retries: the fault stands for what still fails after botocore's retries.
    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=proxy.endpoint_url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


@pytest.fixture
def faulty(
    proxy: FaultProxy, aws: LocalAws, metrics: SessionMetrics, clock: FakeClock
) -> SessionServices:
    """Services whose DynamoDB calls go through the proxy."""
    client = _faulty_client(proxy)
    return SessionServices(
        store=SessionStore(client, TABLES, clock),
        rate_limiter=RateLimiter(client, TABLES.rate_limits, SMALL_RATE_LIMITS, clock),
        metrics=metrics,
        clock=clock,
    )


@pytest.fixture
def handler(faulty: SessionServices) -> LambdaHandler:
    return connection.build_handler(faulty)


@pytest.fixture
def session(handler: LambdaHandler, sink: MemorySink) -> str:
    """A session with its speaker and three listeners; the sink starts empty."""
    assert handler(connect_event("speaker-1", "s1", "speaker"), None)["statusCode"] == 200
    for listener in LISTENERS:
        assert handler(connect_event(listener, "s1", "listener"), None)["statusCode"] == 200
    sink.clear()
    return "s1"


def _body(response: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response["body"])
    return body


def _dynamodb_errors(sink: MemorySink) -> dict[tuple[str, str], float]:
    return {
        (dict(dims)["Operation"], dict(dims)["ErrorCode"]): n
        for (name, dims), n in counted(sink).items()
        if name == "DynamoDBErrors" and dims
    }


# -- DynamoDB -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "code"),
    [("throttled", "ThrottlingException"), ("server_error", "InternalServerError")],
)
@pytest.mark.parametrize("role", ["speaker", "listener"])
def test_connect_when_its_transaction_fails(
    handler: LambdaHandler,
    proxy: FaultProxy,
    aws: LocalAws,
    sink: MemorySink,
    outcome: str,
    code: str,
    role: str,
) -> None:
    if role == "listener":
        assert aws.store().create_session("s1", "speaker-1")
    proxy.fail_operations["TransactWriteItems"] = outcome
    response = handler(connect_event("c-1", "s1", role), None)
    assert response["statusCode"] == 503
    assert _body(response)["error"] == "StorageUnavailable"
    assert _dynamodb_errors(sink) == {("TransactWriteItems", code): 1}
    # A transaction is all or nothing: no connection and no session were stored.
    store = aws.store()
    assert store.get_connection("c-1") is None
    if role == "speaker":
        assert store.get_session("s1") is None
    else:
        assert store.listener_connection_ids("s1") == []


def test_disconnect_when_the_store_fails(
    handler: LambdaHandler, session: str, proxy: FaultProxy, aws: LocalAws, sink: MemorySink
) -> None:
    proxy.fail_operations["DeleteItem"] = "server_error"
    response = handler(disconnect_event("listener-1"), None)
    assert response["statusCode"] == 503
    assert _dynamodb_errors(sink) == {("DeleteItem", "InternalServerError"): 1}
    # The connection is still stored: the next broadcast gets 410 for it and removes it.
    assert aws.store().get_connection("listener-1") is not None


def test_a_gone_listener_that_cannot_be_removed_is_counted_and_kept(
    handler: LambdaHandler, session: str, proxy: FaultProxy, aws: LocalAws, sink: MemorySink
) -> None:
    aws.api.gone.add("listener-2")
    proxy.fail_operations["DeleteItem"] = "throttled"
    response = handler(message_event("speaker-1", "pauseBroadcast"), None)
    assert response["statusCode"] == 200
    assert _body(response)["listenersNotified"] == 2
    totals = counted(sink)
    assert totals[("ListenerNotificationFailures", (("ErrorType", "Gone"),))] == 1
    assert _dynamodb_errors(sink) == {("DeleteItem", "ThrottlingException"): 1}
    assert aws.store().get_connection("listener-2") is not None
    assert aws.store().get_session("s1").state is SessionState.PAUSED  # type: ignore[union-attr]


def test_the_session_ended_between_read_and_update(
    handler: LambdaHandler, session: str, aws: LocalAws, sink: MemorySink, proxy: FaultProxy
) -> None:
    # The speaker's GetItem sees a live session; the session ends before its UpdateItem
    # (which is conditional on the session not having ended).
    original_handle = proxy.handle

    def end_first(method: str, path: str, headers: Any, body: bytes) -> Any:
        if (headers.get("X-Amz-Target") or "").endswith("UpdateItem") and b"volume" in body:
            aws.store().end_session("s1")
        return original_handle(method, path, headers, body)

    proxy.handle = end_first  # type: ignore[method-assign]
    response = handler(message_event("speaker-1", "setVolume", volume=30), None)
    assert response["statusCode"] == 409
    assert _body(response)["error"] == "SessionEnded"
    stored = aws.store().get_session("s1")
    assert stored is not None and stored.ended and stored.volume != 30
    assert counted(sink)[("ControlMessagesRejected", (("Reason", "SessionEnded"),))] == 1
    assert not any(m.get("type") == "broadcastState" for m in aws.api.messages("listener-1"))


def test_end_session_and_disconnect_at_once_end_it_once(
    faulty: SessionServices, session: str, aws: LocalAws
) -> None:
    handler = connection.build_handler(faulty)
    responses: list[int] = []
    events = [message_event("speaker-1", "endSession"), disconnect_event("speaker-1")]
    threads = [
        threading.Thread(target=lambda e=e: responses.append(handler(e, None)["statusCode"]))
        for e in events
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(not t.is_alive() for t in threads)
    # endSession is applied (200) or finds the speaker already gone/ended (403/409); the
    # disconnect always succeeds. Either way the session has ended, and each listener was
    # told so exactly once.
    assert sorted(responses)[0] == 200 and set(responses) <= {200, 403, 409}
    stored = aws.store().get_session("s1")
    assert stored is not None and stored.ended
    for listener in LISTENERS:
        ended = [m for m in aws.api.messages(listener) if m.get("type") == "sessionEnded"]
        assert len(ended) == 1, listener


# -- the Management API ----------------------------------------------------------------------


def test_forbidden_and_throttled_listeners_during_a_broadcast(
    handler: LambdaHandler, session: str, aws: LocalAws, sink: MemorySink
) -> None:
    aws.api.failures["listener-1"] = (403, "ForbiddenException")
    aws.api.failures["listener-3"] = (429, "LimitExceededException")
    response = handler(message_event("speaker-1", "muteBroadcast"), None)
    assert response["statusCode"] == 200
    assert _body(response)["listenersNotified"] == 1
    totals = counted(sink)
    assert totals[("ListenerNotificationFailures", (("ErrorType", "Forbidden"),))] == 1
    assert totals[("ListenerNotificationFailures", (("ErrorType", "LimitExceeded"),))] == 1
    # Not gone: both are kept, and the change is stored.
    store = aws.store()
    assert store.get_connection("listener-1") is not None
    assert store.get_connection("listener-3") is not None
    assert store.get_session("s1").muted  # type: ignore[union-attr]


def test_a_management_api_that_times_out_or_is_unreachable(
    faulty: SessionServices, session: str, aws: LocalAws, sink: MemorySink
) -> None:
    aws.api.delay_seconds = 3.0  # past the notifier's 2 s read timeout
    try:
        response = connection.build_handler(faulty)(
            message_event("speaker-1", "pauseBroadcast"), None
        )
    finally:
        aws.api.delay_seconds = 0.0
    assert response["statusCode"] == 200
    assert counted(sink)[("ListenerNotificationFailures", (("ErrorType", "Timeout"),))] == 3

    sink.clear()
    down = unused_loopback_url()
    unreachable = SessionServices(
        store=faulty.store,
        rate_limiter=faulty.rate_limiter,
        metrics=faulty.metrics,
        management_apis=ManagementApiFactory(lambda _url: ManagementApi.for_endpoint(down)),
        clock=faulty.clock,
    )
    response = connection.build_handler(unreachable)(
        message_event("speaker-1", "resumeBroadcast"), None
    )
    assert response["statusCode"] == 200
    failures = counted(sink)[("ListenerNotificationFailures", (("ErrorType", "ConnectionError"),))]
    assert failures == 3
    assert aws.store().get_session("s1").state is SessionState.ACTIVE  # type: ignore[union-attr]


def test_an_unknown_endpoint_changes_nothing(
    handler: LambdaHandler,
    session: str,
    aws: LocalAws,
    sink: MemorySink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No APIGW_MANAGEMENT_ENDPOINT and an event without domainName/stage: nobody can be told,
    # so the change must not be applied either (a 500 after a stored change would leave the
    # listeners out of date).
    monkeypatch.delenv("APIGW_MANAGEMENT_ENDPOINT")
    event = message_event("speaker-1", "pauseBroadcast")
    del event["requestContext"]["domainName"]
    response = handler(event, None)
    assert response["statusCode"] == 500
    assert aws.store().get_session("s1").state is SessionState.ACTIVE  # type: ignore[union-attr]
    assert counted(sink)[("LambdaErrors", (("Handler", "connection"),))] == 1


# -- the periodic status update --------------------------------------------------------------


def test_a_store_error_for_one_session_leaves_the_others_updated(
    aws: LocalAws, metrics: SessionMetrics, clock: FakeClock, sink: MemorySink, proxy: FaultProxy
) -> None:
    store = aws.store(clock)
    for i in range(3):
        assert store.create_session(f"s{i}", f"speaker-{i}")
    services = SessionServices(
        store=SessionStore(_faulty_client(proxy), TABLES, clock),
        rate_limiter=aws.rate_limiter(SMALL_RATE_LIMITS, clock),
        metrics=metrics,
        clock=clock,
    )
    original_handle = proxy.handle

    def fail_for_s1(method: str, path: str, headers: Any, body: bytes) -> Any:
        # The listener count of s1 (a Query on the bySession index) fails.
        if (headers.get("X-Amz-Target") or "").endswith("Query") and b'"s1"' in body:
            return fault_reply("server_error", headers.get("Content-Type", ""), "dynamodb")
        return original_handle(method, path, headers, body)

    proxy.handle = fail_for_s1  # type: ignore[method-assign]
    response = session_status.build_handler(services)(scheduled_event(), None)
    assert response["statusCode"] == 200
    updated = {f"speaker-{i}": aws.api.messages(f"speaker-{i}") for i in range(3)}
    assert updated["speaker-1"] == []
    assert len(updated["speaker-0"]) == 1 and len(updated["speaker-2"]) == 1
    assert _dynamodb_errors(sink) == {("Query", "InternalServerError"): 1}


def test_scan_and_query_follow_every_page(
    aws: LocalAws, metrics: SessionMetrics, clock: FakeClock
) -> None:
    # Real pagination on the emulator: every Scan and Query asks for pages of 2.
    client = boto3.session.Session().client("dynamodb", endpoint_url=aws.emulator.endpoint_url)

    def small_pages(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = 2

    client.meta.events.register("provide-client-params.dynamodb.Scan", small_pages)
    client.meta.events.register("provide-client-params.dynamodb.Query", small_pages)
    store = SessionStore(client, TABLES, clock)
    for i in range(5):
        assert store.create_session(f"s{i}", f"speaker-{i}")
    for i in range(7):
        store.join_session("s0", f"l-{i}")
    assert sorted(s.session_id for s in store.live_sessions()) == [f"s{i}" for i in range(5)]
    assert sorted(store.listener_connection_ids("s0")) == sorted(f"l-{i}" for i in range(7))
    assert store.count_listeners("s0") == 7


# -- request bodies and building the handler -------------------------------------------------


def test_base64_bodies_are_decoded(handler: LambdaHandler, session: str, aws: LocalAws) -> None:
    event = message_event("speaker-1", "setVolume", volume=42)
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert handler(event, None)["statusCode"] == 200
    assert aws.store().get_session("s1").volume == 42  # type: ignore[union-attr]


@pytest.mark.parametrize("label", ["connection", "session_status"])
def test_bodies_over_128_kib_are_refused(
    faulty: SessionServices, session: str, aws: LocalAws, label: str
) -> None:
    build = {"connection": connection, "session_status": session_status}[label].build_handler
    body = json.dumps({"action": "setVolume", "volume": 10, "pad": "x" * (128 * 1024)})
    route = "setVolume" if label == "connection" else "getSessionStatus"
    response = build(faulty)(websocket_event(route, "speaker-1", body), None)
    assert response["statusCode"] == 413
    assert aws.store().get_session("s1").volume != 10  # type: ignore[union-attr]


def test_a_handler_whose_services_fail_to_build_answers_500_and_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts: list[int] = []

    def build() -> LambdaHandler:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("no region configured")
        return lambda event, context: {"statusCode": 200, "body": "{}"}

    lazy = LazyHandler("connection", build)
    first = lazy(message_event("speaker-1", "pauseBroadcast"), None)
    assert first["statusCode"] == 500
    assert _body(first)["error"] == "InternalError"
    assert "no region configured" in caplog.text and '"stage": "init"' in caplog.text
    assert lazy(message_event("speaker-1", "pauseBroadcast"), None)["statusCode"] == 200
    assert len(attempts) == 2


def test_a_base64_status_query_is_decoded(faulty: SessionServices, session: str) -> None:
    event = message_event("listener-1", "getSessionStatus")
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    response = session_status.build_handler(faulty)(event, None)
    assert response["statusCode"] == 200
    assert _body(response)["sessionId"] == "s1" and _body(response)["listenerCount"] == 3
