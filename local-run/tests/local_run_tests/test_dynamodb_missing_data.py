"""Alarms on AWS/DynamoDB metrics ignore missing data, whatever their TreatMissingData says.

CloudWatch API reference, PutMetricAlarm, TreatMissingData: "Alarms that evaluate metrics in
the AWS/DynamoDB namespace always ignore missing data even if you choose a different option
for TreatMissingData. When an AWS/DynamoDB metric has missing data, alarms that evaluate that
metric remain in their current state." (The user guide says the same under "Configuring how
CloudWatch alarms treat missing data", awsdocs/amazon-cloudwatch-user-guide
doc_source/AlarmThatSendsEmail.md at b355497.)

Each test runs the same alarm on AWS/DynamoDB and on another namespace, through
`read_alarms` and `evaluate` (as a local run does) or `evaluate_alarm`; the other namespace's
results follow the user guide's missing-data rules, worked by hand.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from local_run.cloudwatch import evaluator
from local_run.cloudwatch.alarm_model import (
    ComparisonOperator,
    MetricAlarm,
    MetricId,
    MetricQuery,
    MetricStat,
    TreatMissingData,
)
from local_run.cloudwatch.evaluator import AlarmState, Evaluation
from local_run.cloudwatch.metric_store import InMemoryMetricStore
from local_run.cloudwatch.template_alarms import read_alarms

# Read at the ends of the periods, as the page's tables are (see test_alarm_windows).
evaluate_alarm = functools.partial(evaluator.evaluate_alarm, every_minute=False)
evaluate = functools.partial(evaluator.evaluate, every_minute=False)

OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA
DYNAMODB, OTHER = "AWS/DynamoDB", "AWS/Lambda"
METRIC = "ThrottledRequests"  # the user guide's own example of a metric for notBreaching
TABLE = (("TableName", "sessions"),)
BASE = 1_699_999_200.0  # the start of an hour
MINUTE = 60


def template(namespace: str, treat: str, n: int = 1, period: int = MINUTE) -> dict[str, Any]:
    return {
        "Resources": {
            "Throttles": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": "throttles",
                    "Namespace": namespace,
                    "MetricName": METRIC,
                    "Dimensions": [{"Name": "TableName", "Value": "sessions"}],
                    "Statistic": "Sum",
                    "Period": period,
                    "EvaluationPeriods": n,
                    "Threshold": 0,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "TreatMissingData": treat,
                },
            }
        }
    }


def run(
    namespace: str, treat: str, values: dict[int, float], periods: int, n: int = 1,
    period: int = MINUTE,
) -> Evaluation:  # fmt: skip
    """``values``: period number -> Sum of ThrottledRequests in it; evaluated over ``periods``
    periods from BASE."""
    store = InMemoryMetricStore()
    for k, value in values.items():
        store.put(namespace, METRIC, BASE + k * period + period / 2, value, dict(TABLE))
    alarms = read_alarms(template(namespace, treat, n, period))
    return evaluate(alarms, store, BASE, BASE + periods * period)


def history(result: Evaluation) -> list[tuple[AlarmState, AlarmState]]:
    return [(c.old, c.new) for c in result.changes_of("throttles")]


def test_not_breaching_on_dynamodb_keeps_alarm_through_missing_periods() -> None:
    """A DynamoDB throttling alarm (1 of 1, TreatMissingData notBreaching) that went to ALARM
    stays in ALARM for the 29 minutes without data that follow: "alarms that evaluate that
    metric remain in their current state". The same alarm on AWS/Lambda goes back to OK once
    its breaching datapoint is out of its evaluation range ("`notBreaching` – Missing data
    points are treated as "good" and within the threshold")."""
    dynamodb = run(DYNAMODB, "notBreaching", {0: 5.0}, periods=30)
    assert history(dynamodb) == [(INSUFFICIENT, ALARM)]
    assert dynamodb.final_states["throttles"] is ALARM
    other = run(OTHER, "notBreaching", {0: 5.0}, periods=30)
    assert history(other) == [(INSUFFICIENT, ALARM), (ALARM, OK)]
    assert other.final_states["throttles"] is OK


@pytest.mark.parametrize("treat", [t.value for t in TreatMissingData])
@pytest.mark.parametrize("last", [5.0, 0.0], ids=["in ALARM", "in OK"])
def test_every_treatment_on_dynamodb_retains_the_state_when_data_stops(
    treat: str, last: float
) -> None:
    """PutMetricAlarm: "always ignore missing data even if you choose a different option for
    TreatMissingData". With breaching, notBreaching, ignore or missing, a DynamoDB alarm keeps
    the state its last datapoint gave it (ALARM or OK) through 29 minutes without data."""
    want = ALARM if last > 0 else OK
    result = run(DYNAMODB, treat, {0: last}, periods=30)
    assert history(result) == [(INSUFFICIENT, want)]


@pytest.mark.parametrize(
    "treat, want",
    [("breaching", ALARM), ("notBreaching", OK), ("ignore", OK), ("missing", INSUFFICIENT)],
)
def test_the_same_alarm_elsewhere_follows_its_treatment(treat: str, want: AlarmState) -> None:
    """The contrast on AWS/Lambda: an alarm in OK whose data stop ends, once its evaluation range
    holds no data, in ALARM for breaching, OK for notBreaching, its current state (OK) for
    ignore and INSUFFICIENT_DATA for missing (user guide, first table, row 3: `- - - - -`)."""
    assert run(OTHER, treat, {0: 0.0}, periods=30).final_states["throttles"] is want


@pytest.mark.parametrize("treat", ["breaching", "notBreaching"])
def test_no_data_at_all_leaves_a_dynamodb_alarm_in_insufficient_data(treat: str) -> None:
    """User guide, alarm states: "`INSUFFICIENT_DATA` – The alarm has just started, the metric
    is not available, or not enough data is available". With no data ever, a DynamoDB alarm
    ignores missing data, so it stays there, while the same alarm elsewhere goes to ALARM
    (breaching) or OK (notBreaching), as the first table's row 3 (`- - - - -`) says."""
    assert history(run(DYNAMODB, treat, {}, periods=10)) == []
    elsewhere = run(OTHER, treat, {}, periods=10).final_states["throttles"]
    assert elsewhere is (ALARM if treat == "breaching" else OK)


def test_real_dynamodb_datapoints_still_decide() -> None:
    """The override is about missing data only ("When an AWS/DynamoDB metric has missing
    data"): a non-breaching datapoint after ALARM takes the alarm back to OK."""
    result = run(DYNAMODB, "notBreaching", {0: 5.0, 10: 0.0}, periods=30)
    assert history(result) == [(INSUFFICIENT, ALARM), (ALARM, OK)]
    assert result.changes_of("throttles")[1].timestamp == BASE + 11 * MINUTE


def test_three_of_three_on_dynamodb_keeps_alarm_when_fewer_than_n_points_remain() -> None:
    """3 of 3 with 5-minute periods (the user guide's documented range of 5 datapoints),
    TreatMissingData notBreaching, three breaching periods then none. On AWS/Lambda: the
    first evaluation reads `- - - - X` (1 real point and 2 filled as not breaching: OK), then
    `- - X X X`, `- X X X -` and `X X X - -` (3 real points: ALARM), then `X X - - -`: 2 real
    points and 1 filled as not breaching, 2 < 3: OK. On AWS/DynamoDB the missing points are
    ignored: INSUFFICIENT_DATA is retained until the third breaching period, and ALARM after
    it."""
    five = 300
    values = {0: 5.0, 1: 5.0, 2: 5.0}
    other = run(OTHER, "notBreaching", values, periods=12, n=3, period=five)
    assert [(c.new, (c.timestamp - BASE) / five) for c in other.changes_of("throttles")] == [
        (OK, 1),
        (ALARM, 3),
        (OK, 6),
    ]
    dynamodb = run(DYNAMODB, "notBreaching", values, periods=12, n=3, period=five)
    assert history(dynamodb) == [(INSUFFICIENT, ALARM)]


def test_evaluate_alarm_applies_the_override_too() -> None:
    """The same rule when a `MetricAlarm` is evaluated on its own (`evaluate_alarm`)."""

    def alarm(namespace: str) -> MetricAlarm:
        stat = MetricStat(MetricId(namespace, METRIC, TABLE), MINUTE, "Sum")
        return MetricAlarm(
            "T", "t", (MetricQuery("m1", stat),), MINUTE, 0.0, ComparisonOperator.GREATER_THAN,
            1, 1, TreatMissingData.NOT_BREACHING,
        )  # fmt: skip

    finals = {}
    for namespace in (DYNAMODB, OTHER):
        store = InMemoryMetricStore()
        store.put(namespace, METRIC, BASE + 30, 5.0, dict(TABLE))
        changes = evaluate_alarm(alarm(namespace), store, BASE, BASE + 30 * MINUTE)
        finals[namespace] = changes[-1].new
    assert finals == {DYNAMODB: ALARM, OTHER: OK}
