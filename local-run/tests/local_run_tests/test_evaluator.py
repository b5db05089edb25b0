from __future__ import annotations

import pytest

from local_run.cloudwatch.alarm_model import (
    ComparisonOperator,
    CompositeAlarm,
    MetricAlarm,
    MetricId,
    MetricQuery,
    MetricStat,
    TemplateAlarms,
    TreatMissingData,
)
from local_run.cloudwatch.alarm_rule import AnyOf, StateIs
from local_run.cloudwatch.evaluator import AlarmState, datapoint, evaluate, evaluate_alarm
from local_run.cloudwatch.metric_statistics import aligned
from local_run.cloudwatch.metric_store import EvaluationError, InMemoryMetricStore

NS = "Test/Service"
T0 = 1_700_000_040.0  # not on a minute boundary
OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA


def alarm(
    stat: str = "Sum",
    threshold: float = 10,
    comparison: ComparisonOperator = ComparisonOperator.GREATER_THAN,
    n: int = 1,
    m: int = 1,
    period: int = 60,
    treat: TreatMissingData = TreatMissingData.NOT_BREACHING,
    name: str = "a",
    dimensions: tuple[tuple[str, str], ...] = (),
) -> MetricAlarm:
    metric = MetricId(NS, "Things", dimensions)
    return MetricAlarm(
        logical_id=name,
        name=name,
        queries=(MetricQuery("m1", MetricStat(metric, period, stat)),),
        period=period,
        threshold=threshold,
        comparison=comparison,
        evaluation_periods=n,
        datapoints_to_alarm=m,
        treat_missing_data=treat,
    )


def rate_alarm() -> MetricAlarm:
    def stat(name: str) -> MetricStat:
        return MetricStat(MetricId(NS, name), 60, "Sum")

    return MetricAlarm(
        logical_id="rate",
        name="rate",
        queries=(
            MetricQuery("expr_1", None, "IF(attempts > 0, 100 * FILL(errors, 0) / attempts, 0)"),
            MetricQuery("errors", stat("Errors"), return_data=False),
            MetricQuery("attempts", stat("Attempts"), return_data=False),
        ),
        period=60,
        threshold=5,
        comparison=ComparisonOperator.GREATER_THAN,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        treat_missing_data=TreatMissingData.NOT_BREACHING,
    )


def minute(k: int) -> float:
    """A timestamp inside the k-th minute after T0's minute."""
    return aligned(T0, 60) + 60 * k + 30


@pytest.mark.parametrize(
    "comparison, value, expected",
    [
        (ComparisonOperator.GREATER_THAN, 10, OK),
        (ComparisonOperator.GREATER_THAN, 10.001, ALARM),
        (ComparisonOperator.GREATER_THAN_OR_EQUAL, 10, ALARM),
        (ComparisonOperator.GREATER_THAN_OR_EQUAL, 9.999, OK),
        (ComparisonOperator.LESS_THAN, 10, OK),
        (ComparisonOperator.LESS_THAN, 9.999, ALARM),
        (ComparisonOperator.LESS_THAN_OR_EQUAL, 10, ALARM),
        (ComparisonOperator.LESS_THAN_OR_EQUAL, 10.001, OK),
    ],
)
def test_threshold_boundary(
    comparison: ComparisonOperator, value: float, expected: AlarmState
) -> None:
    store = InMemoryMetricStore()
    store.put(NS, "Things", minute(0), value)
    changes = evaluate_alarm(alarm(comparison=comparison), store, T0, T0 + 60)
    assert [(c.old, c.new) for c in changes] == [(INSUFFICIENT, expected)]


def test_starts_insufficient_and_steps_every_period() -> None:
    store = InMemoryMetricStore()
    for k in range(3, 6):
        store.put(NS, "Things", minute(k), {5.0: 3})  # Sum 15 > 10
    a = alarm(n=3, m=3, treat=TreatMissingData.MISSING)
    changes = evaluate_alarm(a, store, T0, T0 + 20 * 60)
    # Missing until minute 3; 3 breaching periods complete at the end of minute 5; then
    # the datapoints age out of the 5-period range.
    states = [(c.new, (c.timestamp - aligned(T0, 60)) / 60) for c in changes]
    assert states[0] == (ALARM, 6)
    assert all(c.old is not c.new for c in changes)
    assert changes[-1].new is INSUFFICIENT
    assert "3 breaching > 10" in changes[0].reason


def test_m_of_n_without_consecutive_breaches() -> None:
    store = InMemoryMetricStore()
    for k, value in enumerate([20, 1, 20, 1, 20]):
        store.put(NS, "Things", minute(k), value)
    changes = evaluate_alarm(alarm(n=5, m=3), store, T0, T0 + 5 * 60)
    assert changes[-1].new is ALARM
    assert changes[-1].timestamp == aligned(T0, 60) + 5 * 60


def test_dimension_sets_match_exactly() -> None:
    store = InMemoryMetricStore()
    store.put(NS, "Things", minute(0), 100, dimensions={"Service": "x"})
    changes = evaluate_alarm(alarm(), store, T0, T0 + 60)
    assert [c.new for c in changes] == [OK]  # the aggregate series has no data
    with_dims = alarm(dimensions=(("Service", "x"),))
    assert [c.new for c in evaluate_alarm(with_dims, store, T0, T0 + 60)] == [ALARM]


def test_at_period_ends_only_a_burst_split_across_two_periods_does_not_alarm() -> None:
    # Evaluated at the ends of epoch-aligned periods only (per-period statistics as
    # GetMetricData returns them): 11 in one aligned 5-minute period alarms, 6 + 6 split
    # across two periods does not (CloudWatch itself evaluates every minute: see
    # test_alarm_windows).
    store = InMemoryMetricStore()
    base = aligned(T0, 300)
    store.put(NS, "Things", base + 310, 11)
    store.put(NS, "Things", base + 900 - 1, 6)
    store.put(NS, "Things", base + 900 + 1, 6)
    changes = evaluate_alarm(alarm(period=300), store, base, base + 1500, every_minute=False)
    assert [(c.timestamp - base, c.new) for c in changes] == [(300, OK), (600, ALARM), (900, OK)]


def test_zero_traffic_rate_is_zero_not_nan() -> None:
    store = InMemoryMetricStore()
    for k in range(10):
        store.put(NS, "Attempts", minute(k), 0)
    changes = evaluate_alarm(rate_alarm(), store, T0, T0 + 10 * 60)
    assert [c.new for c in changes] == [OK]
    assert datapoint(rate_alarm(), store, aligned(T0, 60) + 120) == 0
    assert datapoint(rate_alarm(), store, aligned(T0, 60) + 3600) is None  # no attempts


def test_error_rate_trips_after_five_minutes() -> None:
    store = InMemoryMetricStore()
    for k in range(10):
        store.put(NS, "Attempts", minute(k), 100)
        if k >= 3:
            store.put(NS, "Errors", minute(k), 6)  # 6 % > 5 %
    changes = evaluate_alarm(rate_alarm(), store, T0, T0 + 10 * 60)
    assert [(c.new, (c.timestamp - aligned(T0, 60)) / 60) for c in changes] == [(OK, 1), (ALARM, 8)]


def test_composite_follows_children() -> None:
    a, b = alarm(name="a"), alarm(name="b", stat="Maximum")
    composite = CompositeAlarm("c", "c", AnyOf((StateIs("ALARM", "a"), StateIs("ALARM", "b"))))
    store = InMemoryMetricStore()
    store.put(NS, "Things", minute(2), 50)
    result = evaluate(TemplateAlarms((a, b), (composite,)), store, T0, T0 + 8 * 60)
    assert [c.new for c in result.changes_of("c")] == [OK, ALARM, OK]
    assert result.fired() == {"a", "b", "c"}
    assert result.final_states == {"a": OK, "b": OK, "c": OK}


def test_bad_window() -> None:
    with pytest.raises(EvaluationError, match="empty window"):
        evaluate_alarm(alarm(), InMemoryMetricStore(), T0, T0)
    with pytest.raises(EvaluationError, match="bad value"):
        InMemoryMetricStore().put(NS, "Things", T0, float("nan"))
