"""The monitoring bill from a local run's own measurements, and the measured defaults infra
states (`infra.monitoring_measured`) against the committed handler workload.

A run's measurement is checked on a hand-made run: EMF events written here, in a baseline
and a fault phase, with the invocations AWS/Lambda would count; the expected series and bytes
are worked out from those events by hand.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import monitoring_measured
from infra.monitoring_cost import bill_for
from infra.monitoring_series import series
from infra.monitoring_traffic import TrafficProfile
from local_run.handler_workload import WORKLOAD_PATH
from local_run.run_cost import event_bytes, measure_workload, print_run_cost, run_measurement
from local_run.simulation.local_names import STACK_NAME, log_group_name
from local_run.simulation.phases import Phase
from local_run.simulation.platform_metrics import PlatformMetrics
from local_run.simulation.scenario import PhaseSpan, ScenarioResult
from local_run.simulation.stack_alarms import synthesized_template

AT, SM = "AudioTranscription/WebSocket", "SessionManagement/WebSocket"
T0 = 1_800_000_000.0
NAMES = {
    label: f"{STACK_NAME}-{label}" for label in ("connection", "session_status", "audio_processor")
}


def _event(
    namespace: str, t: float, metrics: dict[str, float], sets: list[list[str]], **root: Any
) -> dict[str, Any]:
    return {
        "_aws": {
            "Timestamp": int(t * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": sets,
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in metrics],
                }
            ],
        },
        **root,
        **metrics,
    }


def _run() -> ScenarioResult:
    baseline = Phase("baseline", "healthy traffic", frozenset())
    faults = Phase("dynamodb-errors", "faults", frozenset())
    platform = PlatformMetrics("api", "prod")
    chunk = {"SessionId": "s1", "ConnectionId": "c1", "Handler": "audio_processor"}
    audio = [
        _event(
            AT,
            T0 + 10,
            {"HandlerInvocations": 1, "AudioChunksReceived": 1},
            [[], ["Handler"]],
            **chunk,
        ),
        # A remote run's namespace is prefixed: the stack's series all the same.
        _event("LocalRun/20261203-1/" + AT, T0 + 20, {"HandlerInvocations": 1}, [[]], **chunk),
        _event(
            AT,
            T0 + 310,
            {"DynamoDBErrors": 1},
            [[], ["Operation", "ErrorCode"]],
            Operation="GetItem",
            ErrorCode="InternalServerError",
            **chunk,
        ),
    ]
    status = [
        _event(SM, T0 + 60, {"PeriodicStatusUpdatesSent": 1}, [[]]),  # scheduled, healthy
        _event(
            SM,
            T0 + 360,
            {"DynamoDBErrors": 1},
            [[], ["Operation", "ErrorCode"]],
            Operation="Scan",
            ErrorCode="InternalServerError",
        ),  # scheduled, in a fault
    ]
    for t in (T0 + 10, T0 + 20, T0 + 310):
        platform.invocation(t, NAMES["audio_processor"], 1.0, False)
    for t in (T0 + 60, T0 + 360):
        platform.invocation(t, NAMES["session_status"], 1.0, False)
    return ScenarioResult(
        T0,
        T0 + 600,
        [PhaseSpan(baseline, T0, T0 + 300), PhaseSpan(faults, T0 + 300, T0 + 600)],
        dict(NAMES),
        platform,
        log_events={
            log_group_name(NAMES["audio_processor"]): audio,
            log_group_name(NAMES["session_status"]): status,
        },
    )


def test_the_series_a_run_wrote_by_when_they_appeared() -> None:
    m = run_measurement(_run())
    # Every metric of a directive under each of its dimension sets (EMF specification).
    assert m.healthy["audio_processor"] == {
        series(AT, "HandlerInvocations"),
        series(AT, "HandlerInvocations", Handler="audio_processor"),
        series(AT, "AudioChunksReceived"),
        series(AT, "AudioChunksReceived", Handler="audio_processor"),
    }
    assert m.always["session_status"] == {series(SM, "PeriodicStatusUpdatesSent")}
    assert m.incident == {
        series(AT, "DynamoDBErrors"),
        series(AT, "DynamoDBErrors", ErrorCode="InternalServerError", Operation="GetItem"),
        series(SM, "DynamoDBErrors"),
        series(SM, "DynamoDBErrors", ErrorCode="InternalServerError", Operation="Scan"),
    }
    assert m.healthy["connection"] == frozenset()


def test_emf_bytes_per_invocation_over_the_baseline_phase() -> None:
    run = _run()
    first, second, _ = run.log_events[log_group_name(NAMES["audio_processor"])]
    # Compact JSON as the EMF sink writes it, and a newline.
    assert event_bytes({"a": [1, 2], "b": "x"}) == len('{"a":[1,2],"b":"x"}') + 1
    m = run_measurement(run)
    # Two invocations in the baseline phase wrote these two events.
    assert m.emf_bytes["audio_processor"] == (event_bytes(first) + event_bytes(second)) / 2
    scheduled = run.log_events[log_group_name(NAMES["session_status"])][0]
    assert m.emf_bytes["session_status"] == event_bytes(scheduled) / 1
    assert "connection" not in m.emf_bytes  # never invoked: no figure rather than 0/0


def test_without_a_baseline_phase_everything_counts_as_healthy() -> None:
    run = _run()
    run.spans = run.spans[1:]
    m = run_measurement(run)
    assert m.incident == frozenset()
    assert series(AT, "DynamoDBErrors") in m.healthy["audio_processor"]


def test_the_run_prints_the_monthly_bill_last(capsys: pytest.CaptureFixture[str]) -> None:
    run = _run()
    run.log_events[log_group_name(NAMES["connection"])] = [
        _event(SM, T0 + 30, {"HandlerInvocations": 1}, [[]], SessionId="s1", ConnectionId="c")
    ]
    run.platform.invocation(T0 + 30, NAMES["connection"], 1.0, False)
    print_run_cost(run, STACK_NAME)
    out = capsys.readouterr().out.strip().splitlines()
    template, labels = synthesized_template(STACK_NAME)
    expected = bill_for(template, labels, TrafficProfile(), run_measurement(run))
    assert (
        out[-1] == f"monitoring cost, default profile: ${expected.total:,.2f} a month (us-east-1)"
    )
    assert any(line.startswith("| EMF ingestion") for line in out)


def test_a_run_without_a_functions_figures_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    print_run_cost(_run(), STACK_NAME)  # connection never ran: no bytes per invocation
    assert (
        "monitoring cost: not computed: no EMF bytes per invocation measured for "
        "connection" in capsys.readouterr().out
    )


# -- the measured defaults ---------------------------------------------------------------------


def test_infras_measured_defaults_are_the_committed_workloads() -> None:
    emf, healthy, scheduled = measure_workload(json.loads(WORKLOAD_PATH.read_text()))
    assert healthy == monitoring_measured.HEALTHY_SERIES
    assert scheduled == monitoring_measured.SCHEDULED_SERIES
    assert emf.keys() == monitoring_measured.EMF_BYTES_PER_INVOCATION.keys()
    for label, measured in emf.items():
        # Timer values differ in their digits from one capture to the next: a few bytes.
        assert measured == pytest.approx(
            monitoring_measured.EMF_BYTES_PER_INVOCATION[label], rel=0.01
        ), f"{label}: regenerate with ./pants run local-run/src/local_run/run_cost.py"
