"""The synthesized platform alarms driven with data that must fire them and data that must
not, through the evaluator (CloudWatch's semantics). Expected outcomes come from the rules
the alarm table states: failed requests (unhandled AWS/Lambda Errors + handled LambdaErrors) over
Invocations > 1 % for 5 minutes, with at least 3 failed requests in a minute; a heartbeat
that fires only when the function is invoked and its own metrics are missing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.functions import FUNCTIONS
from local_run.cloudwatch.alarm_model import MetricAlarm, TemplateAlarms
from local_run.cloudwatch.evaluator import AlarmState, evaluate_alarm
from local_run.cloudwatch.metric_source import RoutedStore
from local_run.cloudwatch.metric_store import InMemoryMetricStore, MetricStore
from local_run.simulation.local_names import LOCAL_API_ID, LOCAL_STAGE
from local_run.simulation.platform_metrics import (
    ANSWERED,
    FUNCTION_ERROR,
    NOT_INVOKED,
    READINGS,
    ApiGatewayReading,
    ApiRequest,
    PlatformMetrics,
)
from local_run.simulation.stack_alarms import synthesized_alarms
from session_management import metrics_spec as session_spec

STACK = "ws-platform"
FUNCTION = "connection"
FUNCTION_NAME = f"{STACK}-fn-{FUNCTION}"
T0 = 1_700_000_400.0  # a 5-minute boundary
MINUTES = 8


@pytest.fixture(scope="module")
def alarms() -> TemplateAlarms:
    return synthesized_alarms(STACK, {f.label: f"{STACK}-fn-{f.label}" for f in FUNCTIONS})


def _alarm(alarms: TemplateAlarms, key: str) -> MetricAlarm:
    alarm = alarms.by_name(f"{STACK}-{key}")
    assert isinstance(alarm, MetricAlarm)
    return alarm


def _traffic(
    invocations: int, unhandled: int, handled: int, own: bool = True, minutes: int = MINUTES
) -> InMemoryMetricStore:
    """``minutes`` minutes of one function's traffic, the same each minute."""
    store = InMemoryMetricStore()
    lambda_dims = {"FunctionName": FUNCTION_NAME}
    for minute in range(minutes):
        t = T0 + minute * 60 + 10
        if invocations:
            store.put("AWS/Lambda", "Invocations", t, {1.0: invocations}, lambda_dims)
            store.put("AWS/Lambda", "Errors", t, {1.0: unhandled, 0.0: invocations - unhandled},
                      lambda_dims)
            if own:
                store.put(session_spec.NAMESPACE, "HandlerInvocations", t,
                          {1.0: invocations - unhandled}, {"Handler": FUNCTION})
        if handled:
            store.put(session_spec.NAMESPACE, "LambdaErrors", t, float(handled),
                      {"Handler": FUNCTION})
    return store


def _fires(alarm: MetricAlarm, store: MetricStore) -> bool:
    changes = evaluate_alarm(alarm, store, T0, T0 + MINUTES * 60)
    return any(c.new is AlarmState.ALARM for c in changes)


@pytest.mark.parametrize(
    ("invocations", "unhandled", "handled", "fires"),
    [
        (1000, 0, 20, True),  # 2 % handled 500s: the guard's failures count
        (100, 3, 0, True),  # 3 % crashes/timeouts (AWS/Lambda Errors)
        (100, 2, 2, True),  # both kinds add up: 4 failures, 4 %
        (1000, 5, 0, False),  # 0.5 %
        (1000, 0, 10, False),  # exactly 1 %: not above it
        (10, 0, 2, False),  # 20 %, but 2 failures a minute: the low-traffic guard
        (3, 0, 3, True),  # everything fails, at the guard's minimum
        (0, 0, 0, False),  # no traffic
    ],
)
def test_lambda_error_rate(
    alarms: TemplateAlarms, invocations: int, unhandled: int, handled: int, fires: bool
) -> None:
    alarm = _alarm(alarms, f"Critical-{FUNCTION}-LambdaErrorRate")
    assert _fires(alarm, _traffic(invocations, unhandled, handled)) is fires


@settings(max_examples=40, deadline=None)
@given(
    invocations=st.integers(1, 5000),
    unhandled=st.integers(0, 60),
    handled=st.integers(0, 60),
)
def test_lambda_error_rate_is_the_issues_rule(
    alarms: TemplateAlarms, invocations: int, unhandled: int, handled: int
) -> None:
    unhandled = min(unhandled, invocations)
    failed = unhandled + handled
    expected = failed >= 3 and 100 * failed / invocations > 1
    alarm = _alarm(alarms, f"Critical-{FUNCTION}-LambdaErrorRate")
    assert _fires(alarm, _traffic(invocations, unhandled, handled)) is expected


def test_lambda_error_rate_needs_five_minutes(alarms: TemplateAlarms) -> None:
    alarm = _alarm(alarms, f"Critical-{FUNCTION}-LambdaErrorRate")
    assert _fires(alarm, _traffic(100, 0, 50, minutes=4)) is False
    assert _fires(alarm, _traffic(100, 0, 50, minutes=5)) is True


@pytest.mark.parametrize(
    ("invocations", "own", "fires"),
    [
        (50, False, True),  # invoked, none of its own metrics arrive
        (50, True, False),  # invoked, metrics arrive
        (0, False, False),  # no traffic: nothing to miss
    ],
)
def test_heartbeat(alarms: TemplateAlarms, invocations: int, own: bool, fires: bool) -> None:
    alarm = _alarm(alarms, f"Warning-{FUNCTION}-Heartbeat")
    assert _fires(alarm, _traffic(invocations, 0, 0, own=own)) is fires


def test_duration_near_timeout_reads_the_functions_timeout(alarms: TemplateAlarms) -> None:
    alarm = _alarm(alarms, f"Warning-{FUNCTION}-DurationNearTimeout")
    timeout_ms = next(f for f in FUNCTIONS if f.label == FUNCTION).timeout.total_seconds() * 1000
    for slow_share, fires in ((0.2, True), (0.05, False)):
        store = InMemoryMetricStore()
        for minute in range(MINUTES):
            slow = int(100 * slow_share)
            store.put("AWS/Lambda", "Duration", T0 + minute * 60,
                      {timeout_ms: slow, 40.0: 100 - slow}, {"FunctionName": FUNCTION_NAME})
        assert _fires(alarm, store) is fires, slow_share


def test_table_throttles_return_to_ok_once_throttling_stops(alarms: TemplateAlarms) -> None:
    # AWS/DynamoDB alarms ignore missing data: the expression's filled zeros are what brings
    # the alarm back to OK.
    alarm = _alarm(alarms, "Warning-SessionsTable-Throttles")
    store = InMemoryMetricStore()
    for minute in range(4):
        store.put("AWS/DynamoDB", "WriteThrottleEvents", T0 + minute * 60, 2.0,
                  {"TableName": "local-sessions"})
    changes = evaluate_alarm(alarm, store, T0, T0 + 12 * 60)
    assert [c.new for c in changes] == [AlarmState.OK, AlarmState.ALARM, AlarmState.OK]


# -- the stage: requests failed in API Gateway or Lambda ----------------------------------------

AUDIO_NAMESPACE = "AudioTranscription/WebSocket"


def _stage_traffic(reading: ApiGatewayReading, per_minute: list[ApiRequest]) -> MetricStore:
    """``MINUTES`` minutes of the same requests, as API Gateway publishes them under
    ``reading``, with each handler's own ErrorResponses for what it answered 4XX/5XX."""
    platform = PlatformMetrics(LOCAL_API_ID, LOCAL_STAGE)
    answers = InMemoryMetricStore()
    for minute in range(MINUTES):
        t = T0 + minute * 60 + 10
        for r in per_minute:
            platform.api_request(ApiRequest(t, r.connect, r.outcome, r.status, r.latency_ms))
            if r.outcome == ANSWERED and r.status is not None and r.status >= 400:
                answers.put(AUDIO_NAMESPACE, "ErrorResponses", t, 1.0,
                            {"Handler": "audio_processor"})
    return RoutedStore(answers, {"AWS/ApiGateway": platform.api_store(reading)})


STAGE_CASES = [
    # A missing invoke permission: 12 sendAudio a minute never reach the function.
    ([ApiRequest(T0, False, NOT_INVOKED)] * 12, True),
    # Timeouts: the invocations fail after the handler started.
    ([ApiRequest(T0, False, FUNCTION_ERROR)] * 3, True),
    # Abusive clients refused with 429 and garbled chunks with 400 and 413, a guarded 500:
    # the handlers' own answers, however API Gateway counts them.
    ([ApiRequest(T0, False, ANSWERED, 429)] * 200 + [ApiRequest(T0, False, ANSWERED, 400)] * 5
     + [ApiRequest(T0, False, ANSWERED, 413), ApiRequest(T0, False, ANSWERED, 500)], False),
    # Healthy traffic.
    ([ApiRequest(T0, False, ANSWERED, 200)] * 50 + [ApiRequest(T0, True, ANSWERED, 200)], False),
    # Both at once: the handlers' refusals do not hide the failing invocations.
    ([ApiRequest(T0, False, ANSWERED, 429)] * 100 + [ApiRequest(T0, False, NOT_INVOKED)] * 2,
     True),
]


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
@pytest.mark.parametrize(("requests", "fires"), STAGE_CASES)
def test_platform_errors_under_every_reading_of_the_api_gateway_metrics(
    alarms: TemplateAlarms, reading: ApiGatewayReading, requests: list[ApiRequest], fires: bool
) -> None:
    alarm = _alarm(alarms, "Critical-WebSocketApi-PlatformErrors")
    assert _fires(alarm, _stage_traffic(reading, requests)) is fires
