"""The model of what Lambda, API Gateway, DynamoDB and SNS publish, held to AWS's documents.

Each test quotes the sentence it follows; expected values are worked out by hand from it.
The functions run on the in-process emulator (moto's server on 127.0.0.1); where a test needs
a handler to fail in one particular way, it replaces that function's handler with one that
does, and everything between API Gateway and the handler stays the real local run's.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.functions import FUNCTIONS
from local_run.cloudwatch.alarm_model import MetricId
from local_run.cloudwatch.evaluator import AlarmState
from local_run.cloudwatch.metric_store import InMemoryMetricStore, dimension_key
from local_run.simulation.backend import Backend, admin_store, local_backend
from local_run.simulation.faults import ClientFaults
from local_run.simulation.lambda_context import LocalLambdaContext
from local_run.simulation.local_functions import LocalFunctions
from local_run.simulation.notifications import (
    EMAIL,
    EMAIL_GIVE_UP_SECONDS,
    HTTPS,
    Notification,
    sns_metrics,
)
from local_run.simulation.platform_metrics import (
    ANSWERED,
    CLIENT_ERROR,
    DOCUMENTED,
    EXECUTION_ERROR,
    FUNCTION_ERROR,
    INTEGRATION_ERROR,
    NOT_INVOKED,
    READINGS,
    ApiGatewayReading,
    ApiRequest,
    DynamoDBObserver,
    FunctionOutput,
    PlatformMetrics,
)
from local_run.simulation.sim_clock import SimClock, SimDeadlineWatch
from shared_metrics import MetricsEmitter, MetricSpec, Unit
from shared_metrics.sinks.memory import MemorySink
from shared_metrics.testing.aws_emulator import EMULATOR_ENV
from websocket_service.testing.events import connect_event, message_event

T0 = 1_800_000_000.0  # a 5-minute boundary
SPEC_BY_LABEL = {f.label: f for f in FUNCTIONS}
CONNECTION = "connection"
API = {"ApiId": "api", "Stage": "prod"}


def values(
    store: InMemoryMetricStore, namespace: str, name: str, dims: dict[str, str]
) -> list[tuple[float, float]]:
    """Every (timestamp, value) of exactly this series."""
    metric = MetricId(namespace, name, dimension_key(dims))
    return [
        (t, value)
        for t, dist in store.observations(metric, -math.inf, math.inf)
        for value, count in dist.items()
        for _ in range(int(count))
    ]


def total(store: InMemoryMetricStore, namespace: str, name: str, dims: dict[str, str]) -> float:
    """The Sum of a metric over every period."""
    return sum(v for _, v in values(store, namespace, name, dims))


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with mock.patch.dict(os.environ, {**EMULATOR_ENV, "AWS_DEFAULT_REGION": "us-east-1"}):
        with local_backend() as endpoint:
            yield endpoint


@contextlib.contextmanager
def functions_on(url: str) -> Iterator[tuple[LocalFunctions, PlatformMetrics, SimClock]]:
    backend = Backend(url)
    admin_store(backend).create_tables()
    clock = SimClock(T0)
    platform = PlatformMetrics("api", "prod")
    with mock.patch.dict(os.environ, {"AWS_REGION": backend.region}):
        yield LocalFunctions(clock, backend, None, "ws-model", platform, seed=1), platform, clock
    admin_store(backend).delete_tables()


def lambda_total(platform: PlatformMetrics, functions: LocalFunctions, name: str) -> float:
    fn = functions.function_names[CONNECTION]
    return total(platform.store, "AWS/Lambda", name, {"FunctionName": fn})


def replace_handler(
    functions: LocalFunctions, body: Callable[[dict[str, Any], Any], dict[str, Any]]
) -> None:
    functions.handlers[CONNECTION] = body


# -- Lambda ("Working with Lambda function metrics") -----------------------------------------


def test_errors_count_function_errors_and_not_a_handlers_500(url: str) -> None:
    # "Errors – The number of invocations that result in a function error. Function errors
    # include exceptions that your code throws and exceptions that the Lambda runtime throws.
    # The runtime returns errors for issues such as timeouts"; a 500 the handler returns is a
    # successful invocation for Lambda.
    with functions_on(url) as (functions, platform, clock):
        replace_handler(functions, lambda event, context: {"statusCode": 500})
        assert functions.invoke(CONNECTION, message_event("c1", "setVolume")) == 500

        def raises(event: dict[str, Any], context: Any) -> dict[str, Any]:
            raise RuntimeError("escaped the guard")

        replace_handler(functions, raises)
        assert functions.invoke(CONNECTION, message_event("c1", "setVolume")) == 502

        def hangs(event: dict[str, Any], context: Any) -> dict[str, Any]:
            clock.stall(60)
            return {"statusCode": 200}

        replace_handler(functions, hangs)
        assert functions.invoke(CONNECTION, message_event("c1", "setVolume")) == 504
        assert lambda_total(platform, functions, "Invocations") == 3
        assert lambda_total(platform, functions, "Errors") == 2
        # A timed-out invocation lasted its timeout (29 s for connection).
        durations = [
            v
            for _, v in values(
                platform.store,
                "AWS/Lambda",
                "Duration",
                {"FunctionName": functions.function_names[CONNECTION]},
            )
        ]
        assert max(durations) == SPEC_BY_LABEL[CONNECTION].timeout.total_seconds() * 1000


def test_throttled_requests_count_only_in_throttles(url: str) -> None:
    # "Throttled requests and other invocation errors don't count as Invocations or Errors."
    # ConcurrentExecutions: "If this number reaches ... the reserved concurrency limit ...
    # Lambda throttles additional invocation requests."
    with functions_on(url) as (functions, platform, _):
        replace_handler(functions, lambda event, context: {"statusCode": 200})
        limit = SPEC_BY_LABEL[CONNECTION].reserved_concurrency
        events = [connect_event(f"c{i}", "s1", "listener") for i in range(limit + 3)]
        assert functions.burst(CONNECTION, events) == limit
        assert lambda_total(platform, functions, "Throttles") == 3
        assert lambda_total(platform, functions, "Invocations") == limit
        assert lambda_total(platform, functions, "Errors") == 0
        fn = functions.function_names[CONNECTION]
        concurrency = values(
            platform.store, "AWS/Lambda", "ConcurrentExecutions", {"FunctionName": fn}
        )
        assert max(v for _, v in concurrency) == limit
        # The throttled requests reached API Gateway and no function.
        outcomes = [r.outcome for r in platform.requests]
        assert outcomes.count(NOT_INVOKED) == 3 and outcomes.count(ANSWERED) == limit


def test_the_handler_gets_a_lambda_context_with_its_remaining_time(url: str) -> None:
    # The Python context object: function_name, memory_limit_in_mb, aws_request_id,
    # get_remaining_time_in_millis() "the number of milliseconds left before the execution
    # times out".
    seen: list[tuple[str, int, str, int, int]] = []
    with functions_on(url) as (functions, _, clock):

        def body(event: dict[str, Any], context: LocalLambdaContext) -> dict[str, Any]:
            before = context.get_remaining_time_in_millis()
            clock.stall(4)
            seen.append(
                (
                    context.function_name,
                    context.memory_limit_in_mb,
                    context.aws_request_id,
                    before,
                    context.get_remaining_time_in_millis(),
                )
            )
            return {"statusCode": 200}

        replace_handler(functions, body)
        functions.invoke(CONNECTION, message_event("c1", "setVolume"))
        functions.invoke(CONNECTION, message_event("c1", "setVolume"))
    spec = SPEC_BY_LABEL[CONNECTION]
    (name, memory, first_id, before, after), (_, _, second_id, _, _) = seen
    assert name == functions.function_names[CONNECTION]
    assert memory == spec.memory_mb
    assert before == spec.timeout.total_seconds() * 1000
    assert after == before - 4000
    assert first_id != second_id and len(first_id) == 36


# -- the deadline flush through a timed-out invocation ------------------------------------------

BEFORE = MetricSpec("BeforeTheHang", Unit.COUNT, [[]], "recorded before the call hangs")
AFTER = MetricSpec("AfterTheHang", Unit.COUNT, [[]], "recorded after it")


def function_with_a_3_second_timeout() -> (
    tuple[SimClock, MemorySink, FunctionOutput, MetricsEmitter]
):
    """A function's emitter as the local run builds it: its output held until the invocation
    ends, its deadline watch on the simulated timer."""
    clock = SimClock(T0)
    memory = MemorySink()
    output = FunctionOutput(memory, clock.timer)
    emitter = MetricsEmitter(
        "Test/Deadline",
        output,
        clock=clock,
        timer_clock=clock.timer,
        flush_at_exit=False,
        deadline_watch=SimDeadlineWatch(clock),
    )
    return clock, memory, output, emitter


def test_a_timed_out_invocation_keeps_what_its_deadline_flush_wrote() -> None:
    # Lambda stops a function at its timeout; the emitter flushes shortly before the deadline
    # it reads from the context: what was flushed then is out, what came after is lost.
    clock, memory, output, emitter = function_with_a_3_second_timeout()
    started = clock.timer()
    context = LocalLambdaContext("fn", 128, "id", "/aws/lambda/fn", "us-east-1", 3, clock, started)
    with emitter.invocation(context):
        emitter.record(BEFORE, 1)
        clock.stall(10)  # hangs past the 3 s timeout
        emitter.record(AFTER, 1)
    output.killed(started + 3.0)
    assert {d.name for d in memory.published} == {BEFORE.name}
    assert emitter.stats().deadline_flushes == 1
    assert output.lost_datapoints == 1


def test_an_invocation_that_ends_in_time_flushes_once_at_its_end() -> None:
    clock, memory, output, emitter = function_with_a_3_second_timeout()
    context = LocalLambdaContext(
        "fn", 128, "id", "/aws/lambda/fn", "us-east-1", 3.0, clock, clock.timer()
    )
    with emitter.invocation(context):
        emitter.record(BEFORE, 1)
        clock.stall(1)
        emitter.record(AFTER, 1)
    output.completed()
    clock.stall(60)  # the disarmed deadline never fires later
    assert {d.name for d in memory.published} == {BEFORE.name, AFTER.name}
    assert emitter.stats().deadline_flushes == 0


def test_the_sim_clock_runs_a_deadline_at_its_time_inside_the_call_that_crosses_it() -> None:
    clock = SimClock(T0)
    fired: list[float] = []
    clock.arm(2.5, lambda: fired.append(clock.timer()))
    clock.stall(1)
    assert fired == []
    clock.spend(5)  # crosses it: fired at 2.5, then the rest of the time passes
    assert fired == [2.5] and clock.timer() == 6 and clock.now == T0 + 5
    token = clock.arm(1, lambda: fired.append(-1))
    clock.disarm(token)
    clock.stall(5)
    assert fired == [2.5]


# -- API Gateway ("Monitoring WebSocket API execution with CloudWatch metrics") ----------------


@pytest.mark.parametrize(
    ("request_", "documented"),
    [
        # "IntegrationError: The number of requests that return a 4XX/5XX response from the
        # integration."
        (ApiRequest(T0, False, ANSWERED, 400), INTEGRATION_ERROR),
        (ApiRequest(T0, False, ANSWERED, 429), INTEGRATION_ERROR),
        (ApiRequest(T0, False, ANSWERED, 500), INTEGRATION_ERROR),
        (ApiRequest(T0, False, ANSWERED, 503), INTEGRATION_ERROR),
        (ApiRequest(T0, False, ANSWERED, 200), None),
        (ApiRequest(T0, True, ANSWERED, 202), None),
    ],
)
def test_a_handlers_own_answer_counts_as_the_documentation_says(
    request_: ApiRequest, documented: str | None
) -> None:
    assert request_.error_metric(DOCUMENTED) == documented
    reported = ApiGatewayReading(CLIENT_ERROR, INTEGRATION_ERROR, EXECUTION_ERROR)
    status = request_.status or 0
    # A handler's 400 "has been reported to count in ClientError"; 5xx stay IntegrationError.
    assert request_.error_metric(reported) == (CLIENT_ERROR if 400 <= status < 500 else documented)


def test_every_reading_counts_every_failed_request_exactly_once() -> None:
    assert len(set(READINGS)) == 8 and DOCUMENTED in READINGS
    failures = [
        ApiRequest(T0, False, ANSWERED, 400),
        ApiRequest(T0, False, ANSWERED, 500),
        ApiRequest(T0, False, FUNCTION_ERROR),
        ApiRequest(T0, False, NOT_INVOKED),
    ]
    for reading in READINGS:
        metrics = [r.error_metric(reading) for r in failures]
        assert all(m in (INTEGRATION_ERROR, CLIENT_ERROR, EXECUTION_ERROR) for m in metrics)


def test_the_stage_metrics_from_recorded_requests() -> None:
    # ConnectCount: "The number of messages sent to the $connect route integration";
    # MessageCount: "The number of messages sent to the WebSocket API, either from or to the
    # client"; IntegrationLatency per request that reached the integration.
    platform = PlatformMetrics("api", "prod")
    platform.api_request(ApiRequest(T0, True, ANSWERED, 200, 3.0))
    platform.api_request(ApiRequest(T0 + 1, False, ANSWERED, 429, 2.0))
    platform.api_request(ApiRequest(T0 + 2, False, NOT_INVOKED))
    platform.api_request(ApiRequest(T0 + 3, False, FUNCTION_ERROR, None, 29_000.0))
    platform.message_to_client(T0 + 4)
    platform.message_to_client(T0 + 5)
    documented = platform.api_store(DOCUMENTED)
    ns = "AWS/ApiGateway"
    assert total(documented, ns, "ConnectCount", API) == 1
    assert total(documented, ns, "MessageCount", API) == 3 + 2
    assert total(documented, ns, "IntegrationError", API) == 2  # the 429, the function error
    assert total(documented, ns, "ExecutionError", API) == 1
    assert total(documented, ns, "ClientError", API) == 0
    assert sorted(v for _, v in values(documented, ns, "IntegrationLatency", API)) == [
        2.0,
        3.0,
        29_000.0,
    ]
    other = platform.api_store(ApiGatewayReading(CLIENT_ERROR, EXECUTION_ERROR, INTEGRATION_ERROR))
    assert total(other, ns, "ClientError", API) == 1
    assert total(other, ns, "ExecutionError", API) == 1  # the function error
    assert total(other, ns, "IntegrationError", API) == 1  # the request never invoked


# -- DynamoDB ----------------------------------------------------------------------------------


def test_throttled_calls_count_per_table_and_by_reads_and_writes(url: str) -> None:
    # ReadThrottleEvents / WriteThrottleEvents per TableName: a throttled GetItem is a read
    # of its table, a throttled transaction a write of every table it names.
    import boto3

    backend = Backend(url)
    store = admin_store(backend)
    store.create_tables()
    try:
        platform = PlatformMetrics("api", "prod")
        clock = SimClock(T0)
        client = DynamoDBObserver(platform, clock).watch(
            boto3.session.Session().client("dynamodb", endpoint_url=url, region_name="us-east-1")
        )
        faults = ClientFaults(client, seed=3)
        faults.set(server_error=0.0, throttle=1.0)
        tables = store.tables
        key = {"sessionId": {"S": "s1"}}
        with pytest.raises(Exception, match="Throttl"):
            faults.client.get_item(TableName=tables.sessions, Key=key)
        with pytest.raises(Exception, match="Throttl"):
            faults.client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": tables.sessions, "Item": key}},
                    {
                        "Delete": {
                            "TableName": tables.connections,
                            "Key": {"connectionId": {"S": "c1"}},
                        }
                    },
                ]
            )
        faults.set(server_error=1.0, throttle=0.0)
        with pytest.raises(Exception, match="InternalServerError"):
            faults.client.get_item(TableName=tables.connections, Key={"connectionId": {"S": "c"}})
        ns = "AWS/DynamoDB"
        assert total(platform.store, ns, "ReadThrottleEvents", {"TableName": tables.sessions}) == 1
        assert total(platform.store, ns, "WriteThrottleEvents", {"TableName": tables.sessions}) == 1
        assert (
            total(platform.store, ns, "WriteThrottleEvents", {"TableName": tables.connections}) == 1
        )
        assert (
            total(platform.store, ns, "ReadThrottleEvents", {"TableName": tables.connections}) == 0
        )
        assert (
            total(
                platform.store,
                ns,
                "SystemErrors",
                {"TableName": tables.connections, "Operation": "GetItem"},
            )
            == 1
        )
    finally:
        store.delete_tables()


# -- SNS ("Monitoring Amazon SNS topics using CloudWatch") -----------------------------------


def test_failed_notifications_count_per_protocol() -> None:
    # "For HTTP or HTTPS endpoints, the metric includes every failed delivery attempt,
    # including retries that follow the initial attempt" (default policy: 3 retries, 20 s
    # apart); "For Amazon SQS, email, SMS, or mobile push endpoints, the metric increments by
    # 1 when Amazon SNS stops attempting message deliveries".
    failed = Notification(T0, "alarm", AlarmState.ALARM, "topic", delivered=False)
    delivered = Notification(T0 + 300, "alarm", AlarmState.OK, "topic", delivered=True)
    store = sns_metrics((failed, delivered), (HTTPS, EMAIL))
    dims = {"TopicName": "topic"}
    failures = sorted(t for t, _ in values(store, "AWS/SNS", "NumberOfNotificationsFailed", dims))
    assert failures == [T0, T0 + 20, T0 + 40, T0 + 60, T0 + EMAIL_GIVE_UP_SECONDS]
    assert total(store, "AWS/SNS", "NumberOfNotificationsDelivered", dims) == 2  # both protocols
    assert total(store, "AWS/SNS", "NumberOfMessagesPublished", dims) == 2
    email_only = sns_metrics((failed,), (EMAIL,))
    assert [t for t, _ in values(email_only, "AWS/SNS", "NumberOfNotificationsFailed", dims)] == [
        T0 + EMAIL_GIVE_UP_SECONDS
    ]


# -- EMF extraction: a window of the scenario's time per publish ------------------------------


class CountingSink(MemorySink):
    """A MemorySink that also counts its publishes (what PutMetricData calls would be)."""

    def __init__(self) -> None:
        super().__init__()
        self.publishes = 0

    def publish(self, namespace: str, batches: Any, properties: Any) -> Any:
        self.publishes += 1
        return super().publish(namespace, batches, properties)


def invocation_at(
    clock: SimClock, output: FunctionOutput, emitter: MetricsEmitter, at: float
) -> None:
    clock.now = at
    context = LocalLambdaContext(
        "fn", 128, f"id-{at}", "/aws/lambda/fn", "us-east-1", 3.0, clock, clock.timer()
    )
    with emitter.invocation(context):
        emitter.record(BEFORE, 1)
    output.completed()


def windowed_function() -> tuple[SimClock, CountingSink, FunctionOutput, MetricsEmitter]:
    clock = SimClock(T0)
    sink = CountingSink()
    output = FunctionOutput(sink, clock.timer, extraction_seconds=60.0, clock=clock)
    emitter = MetricsEmitter(
        "Test/Extraction", output, clock=clock, timer_clock=clock.timer, flush_at_exit=False
    )
    return clock, sink, output, emitter


def test_invocations_of_one_window_reach_cloudwatch_in_one_publish_at_the_next() -> None:
    clock, sink, output, emitter = windowed_function()
    for at in (T0 + 1, T0 + 20, T0 + 59):  # one simulated minute
        invocation_at(clock, output, emitter, at)
    assert sink.publishes == 0  # held: CloudWatch has not extracted them yet
    invocation_at(clock, output, emitter, T0 + 61)  # the next minute: the first one goes
    assert sink.publishes == 1
    assert len(sink.published) == 3
    output.drain()  # the end of the run: the rest goes too
    assert sink.publishes == 2
    assert len(sink.published) == 4


def test_each_extracted_datapoint_keeps_its_events_timestamp() -> None:
    # The EMF Timestamp is "the time stamp used for metrics extracted from the event": each
    # datapoint is stored at its event's minute (standard resolution), not at the minute its
    # window reached CloudWatch.
    clock, sink, output, emitter = windowed_function()
    for at in (T0 + 1, T0 + 61, T0 + 125):
        invocation_at(clock, output, emitter, at)
    output.drain()
    assert [d.timestamp for d in sink.published] == [T0, T0 + 60, T0 + 120]


@given(offsets=st.lists(st.floats(min_value=0, max_value=3600), min_size=1, max_size=40))
def test_extraction_loses_no_datapoint(offsets: list[float]) -> None:
    clock, sink, output, emitter = windowed_function()
    for at in sorted(T0 + o for o in offsets):
        invocation_at(clock, output, emitter, at)
    output.drain()
    assert sum(sum(d.values.values()) for d in sink.published) == len(offsets)
    # one publish per window that had invocations, no more
    assert sink.publishes == len({int((T0 + o) // 60) for o in offsets})


def test_an_extraction_window_needs_its_clock() -> None:
    with pytest.raises(ValueError, match="clock"):
        FunctionOutput(MemorySink(), lambda: 0.0, extraction_seconds=60.0)
