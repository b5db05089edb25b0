"""What the alarms watch is what the real handlers emit, and what they call is what IAM allows.

The three real handlers run against DynamoDB on moto's server and the Management API stub
(both on 127.0.0.1, as in the services' own tests), with their metrics on a memory sink,
through one scenario that makes every alarmed metric move: a broadcast with a listener that
is gone, status queries and the scheduled update, a Transcribe outage that overflows the
audio buffer, control and audio floods that get connections closed, and DynamoDB failing.

Then, read from the synthesized template:
- every alarm's exact (namespace, metric, dimension set) was published by the handlers;
- every DynamoDB and Management API call a handler made is granted to its function.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from audio_transcription import metrics_spec as audio_spec
from audio_transcription.audio_buffer import SessionAudioBuffers
from audio_transcription.handlers import audio_processor
from audio_transcription.metrics import AudioMetrics
from audio_transcription.processing import AudioProcessor
from audio_transcription.services import AudioServices
from audio_transcription.testing.pcm import send_audio_body, tone
from audio_transcription.transcriber import InProcessTranscriber
from infra.alarm_scopes import SYNTHETICS_NAMESPACE
from infra.functions import FUNCTIONS, ConnectionMethod, FunctionSpec, Table
from infra_tests.cfn import of_type, watched_metrics
from infra_tests.conftest import STACK_NAME
from infra_tests.required_alarms import expanded
from session_management import metrics_spec as session_spec
from session_management.handlers import connection, session_status
from session_management.metrics import SessionMetrics
from session_management.services import SessionServices
from session_management.testing.local_aws import TABLES, LocalAws
from shared_metrics import MetricsEmitter
from shared_metrics.sinks.memory import MemorySink
from websocket_service.management_api import ManagementApi, ManagementApiFactory
from websocket_service.rate_limit import RateLimitPolicy
from websocket_service.testing.events import (
    connect_event,
    message_event,
    scheduled_event,
    websocket_event,
)
from websocket_service.testing.fake_clock import FakeClock

# Small limits: floods are refused after a few messages, and closed after two refusals.
POLICY = RateLimitPolicy(
    window_seconds=60,
    per_window={"control": 4, "audio": 8, "status": 4},
    max_violations=2,
    violation_window_seconds=300,
)
CHUNK = tone(1600)  # 100 ms of PCM16 at 16 kHz
BIG_CHUNK = tone(16384)  # 32 KiB: the buffer below holds two

# DynamoDB operations -> IAM actions (a transaction needs the action of each item).
_TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_MANAGEMENT_METHODS = {
    "PostToConnection": ConnectionMethod.POST,
    "DeleteConnection": ConnectionMethod.DELETE,
}
_LOCAL_TABLES = {
    TABLES.sessions: Table.SESSIONS,
    TABLES.connections: Table.CONNECTIONS,
    TABLES.rate_limits: Table.RATE_LIMITS,
}


@dataclass
class Recorded:
    """What one run of the scenario produced."""

    sink: MemorySink
    # function label -> {(IAM action, table, index or None)}
    dynamodb: dict[str, set[tuple[str, Table, str | None]]] = field(default_factory=dict)
    # function label -> {Management API method}
    management: dict[str, set[ConnectionMethod]] = field(default_factory=dict)
    current: str | None = None  # the function being invoked

    def on_dynamodb_call(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        if self.current is None:
            return
        calls = self.dynamodb.setdefault(self.current, set())
        if model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                calls.add((_TRANSACTION_ITEM_ACTIONS[kind], _LOCAL_TABLES[body["TableName"]], None))
        else:
            calls.add((model.name, _LOCAL_TABLES[params["TableName"]], params.get("IndexName")))

    def on_management_call(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        if self.current is not None:
            method = _MANAGEMENT_METHODS[model.name]
            self.management.setdefault(self.current, set()).add(method)

    def management_api(self, endpoint_url: str) -> ManagementApi:
        api = ManagementApi.for_endpoint(endpoint_url)
        api.client.meta.events.register(
            "provide-client-params.apigatewaymanagementapi", self.on_management_call
        )
        return api


@pytest.fixture(scope="module")
def recorded() -> Iterator[Recorded]:
    with LocalAws() as aws:
        yield _run_scenario(aws)


def _run_scenario(aws: LocalAws) -> Recorded:
    sink = MemorySink()
    record = Recorded(sink)
    aws.dynamodb.meta.events.register("provide-client-params.dynamodb", record.on_dynamodb_call)
    clock = FakeClock()
    session_emitter = MetricsEmitter(session_spec.NAMESPACE, sink, flush_at_exit=False)
    audio_emitter = MetricsEmitter(audio_spec.NAMESPACE, sink, flush_at_exit=False)
    session_services = SessionServices(
        store=aws.store(clock),
        rate_limiter=aws.rate_limiter(POLICY, clock),
        metrics=SessionMetrics(session_emitter),
        management_apis=ManagementApiFactory(record.management_api),
        clock=clock,
    )
    transcriber = InProcessTranscriber()
    audio_metrics = AudioMetrics(audio_emitter)
    audio_services = AudioServices(
        store=aws.store(clock),
        rate_limiter=aws.rate_limiter(POLICY, clock),
        metrics=audio_metrics,
        processor=AudioProcessor(
            transcriber, audio_metrics, SessionAudioBuffers(2 * len(BIG_CHUNK), max_sessions=4)
        ),
        management_apis=ManagementApiFactory(record.management_api),
        clock=clock,
    )
    handlers = {
        connection.HANDLER_NAME: connection.build_handler(session_services),
        session_status.HANDLER_NAME: session_status.build_handler(session_services),
        audio_processor.HANDLER_NAME: audio_processor.build_handler(audio_services),
    }

    def invoke(label: str, event: dict[str, Any]) -> int:
        record.current = label
        try:
            status: int = handlers[label](event, None)["statusCode"]
        finally:
            record.current = None
        return status

    def control(connection_id: str, action: str, **fields: object) -> int:
        return invoke(connection.HANDLER_NAME, message_event(connection_id, action, **fields))

    def status(connection_id: str) -> int:
        return invoke(session_status.HANDLER_NAME, message_event(connection_id, "getSessionStatus"))

    def audio(connection_id: str, session_id: str, chunk: bytes) -> int:
        body = send_audio_body(session_id, chunk)
        return invoke(
            audio_processor.HANDLER_NAME, websocket_event("sendAudio", connection_id, body)
        )

    # A broadcast: speaker, two listeners; one listener left without a $disconnect.
    assert invoke(connection.HANDLER_NAME, connect_event("speaker-1", "s1", "speaker")) == 200
    for listener in ("listener-1", "listener-2"):
        assert invoke(connection.HANDLER_NAME, connect_event(listener, "s1", "listener")) == 200
    aws.api.gone.add("listener-2")
    assert control("speaker-1", "pauseBroadcast") == 200
    assert control("speaker-1", "resumeBroadcast") == 200
    assert status("listener-1") == 200
    # The speaker floods control messages: refused, then its connection is closed.
    statuses = [control("speaker-1", "setVolume", volume=50) for _ in range(6)]
    assert statuses.count(429) >= POLICY.max_violations and "speaker-1" in aws.api.deleted
    # The scheduled update finds the speaker gone (no $disconnect came) and ends the session.
    assert invoke(session_status.HANDLER_NAME, scheduled_event()) == 200
    # A listener floods status queries: refused, then closed.
    statuses = [status("listener-1") for _ in range(6)]
    assert statuses.count(429) >= POLICY.max_violations and "listener-1" in aws.api.deleted

    # Audio: a chunk goes through; Transcribe then fails while streaming, then cannot start
    # at all and the buffer overflows; then the speaker floods and is closed.
    assert invoke(connection.HANDLER_NAME, connect_event("speaker-2", "s2", "speaker")) == 200
    assert audio("speaker-2", "s2", CHUNK) == 200
    transcriber.fail_next_send("InternalFailure")
    assert audio("speaker-2", "s2", CHUNK) == 202
    transcriber.fail_next_start("ServiceUnavailable", times=4)
    assert [audio("speaker-2", "s2", BIG_CHUNK) for _ in range(3)] == [202, 202, 202]
    statuses = [audio("speaker-2", "s2", CHUNK) for _ in range(POLICY.limit("audio"))]
    assert statuses.count(429) >= POLICY.max_violations and "speaker-2" in aws.api.deleted

    # A session item this release cannot read: every handler raises, the guard answers 500.
    assert invoke(connection.HANDLER_NAME, connect_event("speaker-3", "s3", "speaker")) == 200
    assert invoke(connection.HANDLER_NAME, connect_event("listener-3", "s3", "listener")) == 200
    aws.dynamodb.update_item(
        TableName=TABLES.sessions,
        Key={"sessionId": {"S": "s3"}},
        UpdateExpression="SET #state = :unknown",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues={":unknown": {"S": "ARCHIVED"}},
    )
    assert control("speaker-3", "muteBroadcast") == 500
    assert status("listener-3") == 500
    assert audio("speaker-3", "s3", CHUNK) == 500

    # DynamoDB fails under both services.
    aws.dynamodb.delete_table(TableName=TABLES.sessions)
    assert control("speaker-3", "muteBroadcast") == 503
    assert audio("speaker-3", "s3", CHUNK) == 503

    for emitter in (session_emitter, audio_emitter):
        assert emitter.stats().rejected == {}  # every value fit its spec
    return record


# -- what the alarms watch was emitted ---------------------------------------------------------


def _alarms(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {p["AlarmName"]: p for p in of_type(resources, "AWS::CloudWatch::Alarm").values()}


def test_the_scenario_reaches_every_alarm(
    recorded: Recorded, resources: Mapping[str, Mapping[str, Any]]
) -> None:
    emitted = {
        (d.namespace, d.name, tuple(name for name, _ in d.dimensions))
        for d in recorded.sink.published
    }
    watched = {
        name: {
            (m.namespace, m.name, m.dimension_names)
            for m in watched_metrics(alarm)
            # AWS's own metrics, and Synthetics' (the canary's runs, not the handlers')
            if not m.namespace.startswith("AWS/") and m.namespace != SYNTHETICS_NAMESPACE
        }
        for name, alarm in _alarms(resources).items()
    }
    custom = {name: series for name, series in watched.items() if series}
    # Only the alarms on AWS's and the canary's metrics alone read no series of the services.
    aws_only = {
        f"{STACK_NAME}-{issue.severity}-{scope}-{issue.key}"
        for issue, scope in expanded()
        if issue.kind != "service"
        and issue.key not in ("LambdaErrorRate", "Heartbeat", "PlatformErrors")
    }
    assert set(watched) - set(custom) == aws_only
    for name, series in custom.items():
        missing = series - emitted
        assert not missing, f"{name} watches {missing}, which the handlers never emitted"


def test_what_a_session_id_never_becomes(recorded: Recorded) -> None:
    """Published series carry only closed-set dimensions: no SessionId, no ConnectionId."""
    for d in recorded.sink.published:
        assert all("Id" not in name for name, _ in d.dimensions), d


# -- what the handlers call is what IAM allows -------------------------------------------------


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda f: f.label)
def test_every_call_a_handler_makes_is_granted(recorded: Recorded, spec: FunctionSpec) -> None:
    """`test_stack` proves the template grants exactly what `FunctionSpec` lists."""
    calls = recorded.dynamodb.get(spec.label, set())
    assert calls, f"the scenario never ran {spec.label}"
    for action, table, index in calls:
        if index is not None:
            assert (action, table) == ("Query", Table.CONNECTIONS) and spec.queries_session_index
        else:
            assert action in spec.dynamodb.get(table, ()), f"{spec.label}: {action} on {table}"
    assert recorded.management.get(spec.label, set()) <= set(spec.connection_methods)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda f: f.label)
def test_no_grant_goes_unused(recorded: Recorded, spec: FunctionSpec) -> None:
    """The other direction: each granted DynamoDB action and Management API method was used
    by the scenario (least privilege, not a guess)."""
    calls = recorded.dynamodb.get(spec.label, set())
    used = {(table, action) for action, table, index in calls if index is None}
    granted = {(table, action) for table, actions in spec.dynamodb.items() for action in actions}
    assert granted - used == set()
    assert spec.queries_session_index == any(index for _, _, index in calls)
    assert set(spec.connection_methods) == recorded.management.get(spec.label, set())
