"""The two tables of AWS's "How alarm state is evaluated when data is missing" (CloudWatch User
Guide, "Configuring how CloudWatch alarms treat missing data",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html;
source text: awsdocs/amazon-cloudwatch-user-guide, doc_source/AlarmThatSendsEmail.md at
05fd32f6). CloudWatch retrieves the 5 most recent datapoints; ``0`` does not breach, ``X``
breaches, ``-`` is missing; ``retain`` is "Retain current state"."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local_run.cloudwatch.alarm_model import TreatMissingData
from local_run.cloudwatch.evaluator import AlarmState, decide

OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA
RETAIN = "retain"
TREATMENTS = (
    TreatMissingData.MISSING,
    TreatMissingData.IGNORE,
    TreatMissingData.BREACHING,
    TreatMissingData.NOT_BREACHING,
)

# (datapoints, MISSING, IGNORE, BREACHING, NOT BREACHING)
THREE_OF_THREE = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT, RETAIN, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - - - X", INSUFFICIENT, RETAIN, ALARM, OK),
    ("X - - - -", ALARM, RETAIN, ALARM, OK),
]
TWO_OF_THREE = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - - X", INSUFFICIENT, RETAIN, ALARM, OK),
]

CASES = [
    pytest.param(points, m, treatment, expected, id=f"{m}of3 '{points}' {treatment.value}")
    for m, table in ((3, THREE_OF_THREE), (2, TWO_OF_THREE))
    for points, *results in table
    for treatment, expected in zip(TREATMENTS, results, strict=True)
]


def window(points: str) -> list[bool | None]:
    return [{"0": False, "X": True, "-": None}[p] for p in points.split()]


@pytest.mark.parametrize("points, m, treatment, expected", CASES)
@pytest.mark.parametrize("current", list(AlarmState))
def test_aws_table(
    points: str, m: int, treatment: TreatMissingData, expected: object, current: AlarmState
) -> None:
    want = current if expected == RETAIN else expected
    assert decide(window(points), 3, m, treatment, current) is want


datapoint = st.sampled_from([True, False, None])


@given(
    st.lists(datapoint, min_size=5, max_size=5),
    st.integers(1, 3),
    st.sampled_from(TREATMENTS),
    st.sampled_from(list(AlarmState)),
)
def test_enough_real_datapoints_ignore_the_treatment(
    points: list[bool | None], m: int, treatment: TreatMissingData, current: AlarmState
) -> None:
    real = [p for p in points if p is not None]
    if len(real) >= 3:
        expected = ALARM if sum(real[-3:]) >= m else OK
        assert decide(points, 3, m, treatment, current) is expected


@given(st.lists(datapoint, min_size=5, max_size=5), st.integers(1, 3))
def test_breaching_never_less_alarming_than_not_breaching(
    points: list[bool | None], m: int
) -> None:
    if decide(points, 3, m, TreatMissingData.NOT_BREACHING, OK) is ALARM:
        assert decide(points, 3, m, TreatMissingData.BREACHING, OK) is ALARM
    # notBreaching and breaching always decide.
    for treatment in (TreatMissingData.NOT_BREACHING, TreatMissingData.BREACHING):
        assert decide(points, 3, m, treatment, INSUFFICIENT) in (OK, ALARM)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="DatapointsToAlarm"):
        decide([True] * 5, 3, 4, TreatMissingData.MISSING, OK)
    with pytest.raises(ValueError, match="shorter"):
        decide([True] * 2, 3, 3, TreatMissingData.MISSING, OK)


# -- the tables as the user guide last stated them --------------------------------------------
# awsdocs/amazon-cloudwatch-user-guide, doc_source/AlarmThatSendsEmail.md at b355497 (2023-05-18,
# the source's final content; the live page is alarms-and-missing-data.html). Row 5 of each
# table changed since 2019: "Row 5 represents a special case of alarm evaluation called
# *premature alarm state*".

THREE_OF_THREE_2023 = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT, RETAIN, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - X - -", ALARM, RETAIN, ALARM, OK),
]
TWO_OF_THREE_2023 = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - X -", ALARM, RETAIN, ALARM, OK),
]
CASES_2023 = [
    pytest.param(points, m, treatment, expected, id=f"{m}of3 '{points}' {treatment.value}")
    for m, table in ((3, THREE_OF_THREE_2023), (2, TWO_OF_THREE_2023))
    for points, *results in table
    for treatment, expected in zip(TREATMENTS, results, strict=True)
]


@pytest.mark.parametrize("points, m, treatment, expected", CASES_2023)
@pytest.mark.parametrize("current", list(AlarmState))
def test_aws_table_as_last_published(
    points: str, m: int, treatment: TreatMissingData, expected: object, current: AlarmState
) -> None:
    """Every cell of the two tables of "How alarm state is evaluated when data is missing" as the
    user guide last published them (row 5 of each: "alarms are designed to always go into ALARM
    state when the oldest available breaching datapoint during the Evaluation Periods number of
    data points is at least as old as the value of Datapoints to Alarm, and all other more
    recent data points are breaching or missing")."""
    want = current if expected == RETAIN else expected
    assert decide(window(points), 3, m, treatment, current) is want


@pytest.mark.parametrize("points", ["- - - - X", "- - - X -"])
@pytest.mark.parametrize("treatment", [TreatMissingData.MISSING, TreatMissingData.IGNORE])
def test_a_recent_lone_breach_is_not_a_premature_alarm(
    points: str, treatment: TreatMissingData
) -> None:
    """User guide: "Because the next data point may be non-breaching, the alarm does not go
    immediately into ALARM state when the data is either `- - - - X` or `- - - X -` and Datapoints
    to Alarm is 3" (user guide, "Avoiding premature transitions to alarm state")."""
    for current in (OK, INSUFFICIENT):
        assert decide(window(points), 3, 3, treatment, current) is not ALARM
