"""Which periods an alarm reads, driven through `evaluate_alarm` / `evaluate` over a real
`MetricAlarm` and an `InMemoryMetricStore` (not only `decide`).

Expected values come from the CloudWatch User Guide ("Evaluating an alarm" and "How alarm state
is evaluated when data is missing", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html
and .../alarms-and-missing-data.html; source text: awsdocs/amazon-cloudwatch-user-guide,
doc_source/AlarmThatSendsEmail.md at b355497, 2023-05-18) or from examples worked by hand from
its sentences, never from the code under test. The page documents the evaluation range for
one case only: "CloudWatch retrieves the 5 most recent data points when evaluating the alarm"
for Evaluation Periods 3 with a 5-minute Period; tests that depend on the range's length use
exactly that case.

In the strings of datapoints, one character per period, oldest first: ``X`` breaches, ``0``
does not, ``-`` is missing (the page's notation).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from local_run.cloudwatch import evaluator
from local_run.cloudwatch.alarm_model import (
    ComparisonOperator,
    MetricAlarm,
    MetricId,
    MetricQuery,
    MetricStat,
    TreatMissingData,
)
from local_run.cloudwatch.evaluator import AlarmState, StateChange
from local_run.cloudwatch.metric_store import InMemoryMetricStore
from local_run.cloudwatch.template_alarms import read_alarms

# The page's tables are about periods: these tests read them at the ends of the periods
# (most use 5-minute ones) and evaluate there only. CloudWatch's evaluation every minute,
# which reads the same datapoints at those times and sliding windows in between, has its own
# test (test_a_five_minute_alarm_is_evaluated_every_minute_over_a_sliding_window).
evaluate_alarm = functools.partial(evaluator.evaluate_alarm, every_minute=False)
evaluate = functools.partial(evaluator.evaluate, every_minute=False)

OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA
NS, METRIC = "Test/Windows", "Things"
BASE = 1_699_999_200.0  # a multiple of 3600 (so of 300 and 60): the start of an hour
FIVE_MINUTES = 300
THRESHOLD = 10.0
VALUE = {"X": 20.0, "0": 1.0}  # breaching / not breaching "> 10"


def alarm(
    n: int,
    m: int,
    treat: TreatMissingData,
    period: int = FIVE_MINUTES,
    comparison: ComparisonOperator = ComparisonOperator.GREATER_THAN,
) -> MetricAlarm:
    stat = MetricStat(MetricId(NS, METRIC), period, "Maximum")
    return MetricAlarm(
        logical_id="W",
        name="w",
        queries=(MetricQuery("m1", stat),),
        period=period,
        threshold=THRESHOLD,
        comparison=comparison,
        evaluation_periods=n,
        datapoints_to_alarm=m,
        treat_missing_data=treat,
    )


def put(store: InMemoryMetricStore, points: str, first: int, period: int = FIVE_MINUTES) -> None:
    """One datapoint per character of ``points``, the first in period number ``first``
    (period k is ``[BASE + k * period, BASE + (k + 1) * period)``), in the middle of it."""
    for k, p in enumerate(points.split()):
        if p != "-":
            store.put(NS, METRIC, BASE + (first + k) * period + period / 2, VALUE[p])


def state_at(changes: Sequence[StateChange], t: float) -> AlarmState:
    """The alarm's state after its evaluation at ``t`` (alarms start in INSUFFICIENT_DATA)."""
    state = INSUFFICIENT
    for c in changes:
        if c.timestamp <= t:
            state = c.new
    return state


def end_of(k: int, period: int = FIVE_MINUTES) -> float:
    """The end of period number k: the evaluation time that first reads it."""
    return BASE + (k + 1) * period


def transitions(changes: Sequence[StateChange], period: int = FIVE_MINUTES) -> list[tuple]:
    """(old, new, index of the last period read) of each change."""
    return [(c.old, c.new, (c.timestamp - BASE) / period - 1) for c in changes]


# -- the page's examples, through a real alarm -------------------------------------------------


def test_second_row_goes_to_alarm_once_its_non_breaching_point_leaves_the_range() -> None:
    """User guide, "How alarm state is evaluated when data is missing", remark on row 2 of the
    first table (3 of 3, missing data treated as breaching, `0 - - - -` -> OK): "The next time
    this alarm is evaluated, if the data is still missing it will go to `ALARM`, as that
    non-breaching data point will no longer be in the evaluation range".

    One non-breaching point in period 0, nothing after: every evaluation up to the end of
    period 4 holds it (`- - - - 0` ... `0 - - - -`: 1 real point + 2 filled as breaching, 2 < 3:
    OK); the evaluation at the end of period 5 reads `- - - - -`: ALARM."""
    store = InMemoryMetricStore()
    put(store, "0", first=0)
    changes = evaluate_alarm(alarm(3, 3, TreatMissingData.BREACHING), store, BASE, end_of(9))
    assert transitions(changes) == [(INSUFFICIENT, OK, 0), (OK, ALARM, 5)]


def test_second_row_through_a_template_alarm_and_evaluate() -> None:
    """The same remark on row 2, read from an AWS::CloudWatch::Alarm resource (Period 300,
    EvaluationPeriods 3, DatapointsToAlarm 3, TreatMissingData breaching) and run through
    `evaluate`, as a local run does."""
    template = {
        "Resources": {
            "W": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": "w",
                    "Namespace": NS,
                    "MetricName": METRIC,
                    "Statistic": "Maximum",
                    "Period": FIVE_MINUTES,
                    "EvaluationPeriods": 3,
                    "DatapointsToAlarm": 3,
                    "Threshold": THRESHOLD,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "TreatMissingData": "breaching",
                },
            }
        }
    }
    store = InMemoryMetricStore()
    put(store, "0", first=0)
    result = evaluate(read_alarms(template), store, BASE, end_of(9))
    assert transitions(result.changes_of("w")) == [(INSUFFICIENT, OK, 0), (OK, ALARM, 5)]


def test_the_figure_three_of_three() -> None:
    """User guide, "Evaluating an alarm", the figure (threshold 3 units, Evaluation Periods and
    Datapoints to Alarm 3): "when all existing data points in the most recent three
    consecutive periods are above the threshold, the alarm goes to `ALARM` state. In the
    figure, this happens in the third through fifth time periods. At period six, the value dips
    below the threshold ... and the alarm state changes back to `OK`. During the ninth time
    period, the threshold is breached again, but for only one period. Consequently, the alarm
    state remains `OK`." Values per period (1 to 10) drawn to match the figure."""
    store = InMemoryMetricStore()
    for k, value in enumerate([1, 2, 4, 5, 4, 2, 1, 2, 4, 1]):
        store.put(NS, METRIC, BASE + k * 60 + 30, value)
    a = MetricAlarm(
        "F", "f", (MetricQuery("m1", MetricStat(MetricId(NS, METRIC), 60, "Maximum")),), 60,
        3.0, ComparisonOperator.GREATER_THAN, 3, 3, TreatMissingData.MISSING,
    )  # fmt: skip
    changes = evaluate_alarm(a, store, BASE, BASE + 10 * 60)
    # Periods numbered from 1 as in the figure: period k ends at BASE + 60 k.
    assert [(c.new, (c.timestamp - BASE) / 60) for c in changes] == [(OK, 1), (ALARM, 5), (OK, 6)]


def dense(n: int, m: int, points: str) -> list[tuple]:
    """``points`` from period 0 on, after 20 non-breaching periods (every evaluation range is
    full); the alarm's transitions over periods 0.. ."""
    store = InMemoryMetricStore()
    put(store, "0 " * 20 + points, first=-20)
    count = len(points.split())
    a = alarm(n, m, TreatMissingData.MISSING)
    return transitions(evaluate_alarm(a, store, BASE, end_of(count - 1)))


def test_m_of_n_breaches_need_not_be_consecutive() -> None:
    """User guide, "Evaluating an alarm": "The breaching data points don't have to be
    consecutive, but they must all be within the last number of data points equal to
    **Evaluation Period**". 3 of 5: `X 0 X 0 X` alarms at its fifth period; one more `0`
    leaves 2 breaching in the last 5: OK."""
    assert dense(5, 3, "X 0 X 0 X 0 0 X") == [(INSUFFICIENT, OK, 0), (OK, ALARM, 4), (ALARM, OK, 5)]


def test_m_of_n_breaches_must_fall_within_the_last_n_periods() -> None:
    """Same sentence: 3 breaches within 6 periods (`X X 0 0 0 X`) are never 3 within the last
    5: the alarm stays OK."""
    assert dense(5, 3, "X X 0 0 0 X 0") == [(INSUFFICIENT, OK, 0)]


def test_no_missing_data_evaluates_exactly_the_newest_n_datapoints() -> None:
    """User guide: "If no data points in the evaluation range are missing, CloudWatch evaluates
    the alarm based on the most recent data points collected. The number of data points
    evaluated is equal to the **Evaluation Periods** for the alarm. The extra data points from
    farther back in the evaluation range are not needed and are ignored." 3 of 3 after
    `X X 0`: one `X` more gives `X 0 X` (not 3), two more `0 X X` (not 3), three more ALARM."""
    assert dense(3, 3, "X X 0 X X X") == [(INSUFFICIENT, OK, 0), (OK, ALARM, 5)]


def test_the_range_reaches_farther_back_for_real_datapoints() -> None:
    """User guide: "If some data points in the evaluation range are missing, but the total
    number of existing data points that were successfully retrieved from the evaluation range
    is equal to or more than the alarm's **Evaluation Periods**, CloudWatch evaluates the alarm
    state based on the most recent real data points that were successfully retrieved,
    including the necessary extra data points from farther back in the evaluation range."
    3 of 3 with a 5-period range, missing data as not breaching: `X X - X -` still holds 3 real
    breaching points (ALARM); `X - X -` followed by nothing is 2 real + 1 filled: OK."""
    store = InMemoryMetricStore()
    put(store, "X X - X", first=0)
    changes = evaluate_alarm(alarm(3, 3, TreatMissingData.NOT_BREACHING), store, BASE, end_of(9))
    assert state_at(changes, end_of(3)) is ALARM  # `- X X - X`
    assert state_at(changes, end_of(4)) is ALARM  # `X X - X -`
    assert state_at(changes, end_of(5)) is OK  # `X - X - -`: 2 real, 1 filled not breaching


def test_datapoints_from_before_the_evaluation_start_are_read() -> None:
    """User guide: "If data points are missing soon after you create an alarm, and the metric
    was being reported to CloudWatch before you created the alarm, CloudWatch retrieves the
    most recent data points from before the alarm was created when evaluating the alarm."
    3 breaching points in the 3 periods before BASE, none after: the first evaluation (end of
    period 0, range `- X X X -`) has 3 real breaching points: ALARM, whatever missing data
    is treated as."""
    for treat in TreatMissingData:
        store = InMemoryMetricStore()
        put(store, "X X X", first=-3)
        changes = evaluate_alarm(alarm(3, 3, treat), store, BASE, end_of(0))
        assert transitions(changes) == [(INSUFFICIENT, ALARM, 0)], treat


# -- premature alarm state, through a real alarm ------------------------------------------------


def test_a_lone_breach_alarms_once_it_is_datapoints_to_alarm_periods_old() -> None:
    """User guide, "Avoiding premature transitions to alarm state" (Evaluation Periods 3,
    range 5, missing data treated as missing): "the alarm does not go immediately into ALARM
    state when the data is either `- - - - X` or `- - - X -` and **Datapoints to Alarm** is 3
    ... However, if the last few data points are `- - X - -`, the alarm goes into ALARM state
    even if missing data points are treated as missing"; 2019's first table, row 6:
    `X - - - -` -> ALARM; row 3: `- - - - -` -> INSUFFICIENT_DATA.

    One breaching point in period 0, nothing after; the range at the end of period k ends
    with period k."""
    store = InMemoryMetricStore()
    put(store, "X", first=0)
    changes = evaluate_alarm(alarm(3, 3, TreatMissingData.MISSING), store, BASE, end_of(9))
    assert state_at(changes, end_of(0)) is INSUFFICIENT  # - - - - X
    assert state_at(changes, end_of(1)) is INSUFFICIENT  # - - - X -
    assert state_at(changes, end_of(2)) is ALARM  # - - X - -
    assert state_at(changes, end_of(4)) is ALARM  # X - - - -
    assert state_at(changes, end_of(5)) is INSUFFICIENT  # - - - - -


def test_a_lone_breach_of_a_two_of_three_alarm() -> None:
    """User guide, second table (2 of 3, missing data treated as missing): row 5 as last
    published, `- - - X -` -> ALARM; 2019's row 5, `- - - - X` -> INSUFFICIENT_DATA."""
    store = InMemoryMetricStore()
    put(store, "X", first=0)
    changes = evaluate_alarm(alarm(3, 2, TreatMissingData.MISSING), store, BASE, end_of(9))
    assert state_at(changes, end_of(0)) is INSUFFICIENT  # - - - - X
    assert state_at(changes, end_of(1)) is ALARM  # - - - X -
    assert state_at(changes, end_of(5)) is INSUFFICIENT  # - - - - -


def test_ignore_retains_the_state_once_the_range_is_empty() -> None:
    """User guide, row 3 (`- - - - -`): "If missing data points are ignored, the alarm retains
    the current state it had before the missing data points. And if missing data points are
    just considered as missing, then the alarm ... goes into INSUFFICIENT_DATA." Three
    breaching periods (ALARM), then nothing: 5 periods later the range is empty."""
    results = {}
    for treat in (TreatMissingData.IGNORE, TreatMissingData.MISSING):
        store = InMemoryMetricStore()
        put(store, "X X X", first=0)
        changes = evaluate_alarm(alarm(3, 3, treat), store, BASE, end_of(12))
        assert state_at(changes, end_of(2)) is ALARM
        results[treat] = state_at(changes, end_of(12))
    assert results == {TreatMissingData.IGNORE: ALARM, TreatMissingData.MISSING: INSUFFICIENT}


# -- when evaluations happen ---------------------------------------------------------------------


def test_a_one_minute_alarm_reads_a_period_only_once_it_is_complete() -> None:
    """User guide: "**Period** is the length of time to use to evaluate the metric or
    expression to create each individual data point for an alarm"; "For any period of one
    minute or longer, an alarm is evaluated every minute". A breach in the last second of
    minute 3 is seen by the evaluation at the end of minute 3, not before."""
    store = InMemoryMetricStore()
    store.put(NS, METRIC, BASE + 3 * 60 + 59, 20.0)
    a = alarm(1, 1, TreatMissingData.NOT_BREACHING, period=60)
    assert [c.new for c in evaluate_alarm(a, store, BASE, BASE + 4 * 60 - 1)] == [OK]
    changes = evaluate_alarm(a, store, BASE, BASE + 4 * 60)
    assert [(c.new, c.timestamp) for c in changes] == [(OK, BASE + 60), (ALARM, BASE + 4 * 60)]


def test_a_datapoint_on_a_period_boundary_belongs_to_the_period_it_starts() -> None:
    """GetMetricStatistics/GetMetricData: StartTime "The value specified is inclusive",
    EndTime "The value specified is exclusive; results include data points up to the specified
    time stamp". A value stamped exactly at the end of minute 0 is minute 1's: the evaluation
    at the end of minute 0 does not see it, the one at the end of minute 1 does."""
    store = InMemoryMetricStore()
    store.put(NS, METRIC, BASE + 60, 20.0)
    a = alarm(1, 1, TreatMissingData.NOT_BREACHING, period=60)
    changes = evaluate_alarm(a, store, BASE, BASE + 2 * 60)
    assert [(c.new, c.timestamp - BASE) for c in changes] == [(OK, 60), (ALARM, 120)]


@given(
    offset=st.floats(0, 59.999),
    minutes=st.integers(1, 12),
    tail=st.floats(0, 59.999),
)
def test_a_one_minute_alarm_is_evaluated_at_every_minute_end_of_the_window(
    offset: float, minutes: int, tail: float
) -> None:
    """User guide: "For any period of one minute or longer, an alarm is evaluated every minute".
    A window from any second of a minute to any later second: the evaluations are the ends of
    minutes inside it, and each reads the minute that just ended. The data alternate between
    breaching and not every minute (1 of 1), so every evaluation is a state change."""
    store = InMemoryMetricStore()
    for k in range(-5, minutes + 3):
        store.put(NS, METRIC, BASE + k * 60 + 30, 20.0 if k % 2 else 1.0)
    start, end = BASE + offset, BASE + minutes * 60 + tail
    changes = evaluate_alarm(alarm(1, 1, TreatMissingData.MISSING, period=60), store, start, end)
    ends = [BASE + k * 60 for k in range(1, minutes + 1)]  # the minute ends in (start, end]
    assert [c.timestamp for c in changes] == ends
    assert [c.new for c in changes] == [ALARM if (k - 1) % 2 else OK for k in range(1, minutes + 1)]


def test_a_five_minute_alarm_is_evaluated_every_minute_over_a_sliding_window() -> None:
    """User guide, "Evaluating an alarm": "For any period of one minute or longer, an alarm is
    evaluated every minute and the evaluation is based on the window of time defined by the
    **Period** and **Evaluation Periods**. For example, if the **Period** is 5 minutes (300
    seconds) and **Evaluation Periods** is 1, then at the end of minute 5 the alarm evaluates
    based on data from minutes 1 to 5. Then at the end of minute 6, the alarm is evaluated based
    on the data from minutes 2 to 6."

    Sum > 10 over 5 minutes, 1 each minute and 20 in minute 3: minutes 1-5 sum to 24 (ALARM at
    the end of minute 5); minutes 4-8 sum to 5, so the evaluation at the end of minute 8 is
    OK."""
    store = InMemoryMetricStore()
    for k in range(12):
        store.put(NS, METRIC, BASE + k * 60 + 30, 20.0 if k == 2 else 1.0)
    stat = MetricStat(MetricId(NS, METRIC), FIVE_MINUTES, "Sum")
    a = MetricAlarm(
        "S", "s", (MetricQuery("m1", stat),), FIVE_MINUTES, THRESHOLD,
        ComparisonOperator.GREATER_THAN, 1, 1, TreatMissingData.NOT_BREACHING,
    )  # fmt: skip
    changes = evaluator.evaluate_alarm(a, store, BASE, BASE + 12 * 60)
    assert state_at(changes, BASE + 5 * 60) is ALARM
    assert state_at(changes, BASE + 8 * 60) is OK


# -- properties ----------------------------------------------------------------------------------

COMPARE = {
    ComparisonOperator.GREATER_THAN: lambda v, t: v > t,
    ComparisonOperator.GREATER_THAN_OR_EQUAL: lambda v, t: v >= t,
    ComparisonOperator.LESS_THAN: lambda v, t: v < t,
    ComparisonOperator.LESS_THAN_OR_EQUAL: lambda v, t: v <= t,
}


def expected_transitions(states: Sequence[AlarmState], first_time: float, period: int) -> list:
    out, current = [], INSUFFICIENT
    for k, s in enumerate(states):
        if s is not current:
            out.append((current, s, first_time + k * period))
            current = s
    return out


HISTORY = 10  # periods of data before BASE: more than any evaluation range here


@given(
    n=st.integers(1, 5),
    data=st.data(),
    comparison=st.sampled_from(list(ComparisonOperator)),
    treat=st.sampled_from(list(TreatMissingData)),
    period=st.sampled_from([60, 300, 3600]),
)
def test_without_missing_data_the_newest_n_periods_decide(
    n: int,
    data: st.DataObject,
    comparison: ComparisonOperator,
    treat: TreatMissingData,
    period: int,
) -> None:
    """User guide: with no missing data "The number of data points evaluated is equal to the
    **Evaluation Periods** for the alarm"; "**Datapoints to Alarm** is the number of data
    points within the Evaluation Periods that must be breaching to cause the alarm to go to
    the `ALARM` state"; "If fewer than the value of **Datapoints to Alarm** are breaching, the
    alarm state is set to OK. Otherwise, the state is set to ALARM" (2019 text). With a
    datapoint in every period, the state after period k is ALARM exactly when at least M of
    periods k-N+1..k breach, whatever TreatMissingData says; evaluations happen at the period
    ends."""
    m = data.draw(st.integers(1, n), label="m")
    values = data.draw(st.lists(st.integers(0, 20), min_size=HISTORY + 1, max_size=HISTORY + 12))
    store = InMemoryMetricStore()
    for k, v in enumerate(values):
        store.put(NS, METRIC, BASE + (k - HISTORY) * period + period / 3, float(v))
    a = alarm(n, m, treat, period=period, comparison=comparison)
    breaches = [COMPARE[comparison](float(v), THRESHOLD) for v in values]
    states = [
        ALARM if sum(breaches[k - n + 1 : k + 1]) >= m else OK for k in range(HISTORY, len(values))
    ]
    changes = evaluate_alarm(a, store, BASE, BASE + (len(values) - HISTORY) * period)
    assert [(c.old, c.new, c.timestamp) for c in changes] == expected_transitions(
        states, BASE + period, period
    )


def filled_reference(window: Sequence[bool | None], m: int, treat: TreatMissingData) -> AlarmState:
    """Evaluation Periods 3, written from the page's bullets: at least 3 real points -> the most
    recent 3 real ones; fewer -> "CloudWatch fills in the missing data points with the result
    you specified ... However, all real data points in the evaluation range are included in
    the evaluation. CloudWatch uses missing data points only as few times as possible"; then
    fewer than M breaching -> OK, else ALARM."""
    real = [b for b in window if b is not None]
    evaluated = (
        real[-3:]
        if len(real) >= 3
        else real + [treat is TreatMissingData.BREACHING] * (3 - len(real))
    )
    return ALARM if sum(evaluated) >= m else OK


@given(
    m=st.integers(1, 3),
    treat=st.sampled_from([TreatMissingData.BREACHING, TreatMissingData.NOT_BREACHING]),
    points=st.lists(st.sampled_from("X0-"), min_size=5, max_size=18),
)
def test_breaching_and_not_breaching_fill_the_five_period_range(
    m: int, treat: TreatMissingData, points: list[str]
) -> None:
    """The page's documented case (Evaluation Periods 3, 5-minute Period: "CloudWatch retrieves
    the 5 most recent data points when evaluating the alarm ... 5 is the evaluation range for
    the alarm"), with missing data treated as breaching or not breaching, against
    `filled_reference` over the 5 periods that end at each evaluation."""
    store = InMemoryMetricStore()
    put(store, " ".join(points), first=-4)  # the first 4 periods come before BASE
    window = [None if p == "-" else p == "X" for p in points]
    states = [filled_reference(window[k - 4 : k + 1], m, treat) for k in range(4, len(points))]
    changes = evaluate_alarm(alarm(3, m, treat), store, BASE, end_of(len(points) - 5))
    assert [(c.old, c.new, c.timestamp) for c in changes] == expected_transitions(
        states, end_of(0), FIVE_MINUTES
    )
