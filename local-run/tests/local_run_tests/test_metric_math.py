from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local_run.cloudwatch.metric_math import MetricMathError, evaluate, parse, references

RATE = "IF(attempts > 0, 100 * FILL(errors, 0) / attempts, 0)"


def rate(errors: float | None, attempts: float | None) -> float | None:
    return evaluate(parse(RATE), {"errors": errors, "attempts": attempts})


def test_rate_expression() -> None:
    assert references(parse(RATE)) == {"errors", "attempts"}
    assert rate(1, 20) == 5
    assert rate(None, 20) == 0  # FILL: no errors published in the period
    assert rate(0, 0) == 0  # zero traffic: the IF guard gives 0, not NaN
    assert rate(3, 0) == 0
    assert rate(None, None) is None  # no attempts series at all: a missing datapoint
    assert rate(2, None) is None


@given(st.one_of(st.none(), st.floats(0, 1e6)), st.one_of(st.none(), st.floats(0, 1e6)))
def test_rate_is_never_nan_or_inf(errors: float | None, attempts: float | None) -> None:
    value = rate(errors, attempts)
    assert value is None or math.isfinite(value)
    if attempts is not None and attempts > 0:
        expected = 100 * (errors or 0) / attempts
        if math.isfinite(expected):
            assert value == pytest.approx(expected)
        else:  # dropped inside IF's true branch, which gives 0 for a point that is not there
            assert value == 0


def test_overflow_is_missing_not_inf() -> None:
    # Found by hypothesis in CI: 100 * 1 / 2.2e-308 overflowed to inf.
    assert evaluate(parse("100 * a / b"), {"a": 1.0, "b": 2.2250738585072014e-308}) is None
    assert evaluate(parse("a * a - a * a"), {"a": 1e200}) is None  # inf - inf would be NaN


def test_arithmetic_and_precedence() -> None:
    assert evaluate(parse("1 + 2 * 3 - -4 / 2"), {}) == 9
    assert evaluate(parse("(1 + 2) * 3"), {}) == 9
    assert evaluate(parse("a >= 2"), {"a": 2}) == 1
    assert evaluate(parse("a < 2"), {"a": 2}) == 0
    assert evaluate(parse("a / b"), {"a": 1, "b": 0}) is None  # never inf
    assert evaluate(parse("IF(a, 1)"), {"a": 0}) is None
    assert evaluate(parse("if(a, 1, 2)"), {"a": 5}) == 1
    assert evaluate(parse("1.5e2"), {}) == 150


@pytest.mark.parametrize(
    "expression",
    [
        "SEARCH('{AWS/Lambda} Errors', 'Sum', 60)",
        "SUM(METRICS())",
        "a +",
        "(a",
        "a b",
        "__import__('os')",
        "a ; b",
        "IF(a)",
    ],
)
def test_unsupported_expressions(expression: str) -> None:
    with pytest.raises(MetricMathError):
        parse(expression)


def test_unknown_id() -> None:
    with pytest.raises(MetricMathError, match="unknown id"):
        evaluate(parse("a + b"), {"a": 1})


# The CloudWatch user guide's "Using metric math" page
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html) gives
# its semantics as tables of time series, with "-" where a series has no datapoint. Each test
# below evaluates the page's expression timestamp by timestamp and expects the page's output.
Series = list[float | None]


def over(expression: str, **series: Series) -> Series:
    node = parse(expression)
    length = len(next(iter(series.values())))
    return [evaluate(node, {k: v[i] for k, v in series.items()}) for i in range(length)]


def test_arithmetic_treats_a_missing_value_as_zero() -> None:
    # "Missing values in a time series are treated as 0."
    assert over("m1 + m2", m1=[1, None, 3, None], m2=[10, 20, None, None]) == [11, 20, 3, None]
    assert over("m1 - m2", m1=[None], m2=[4]) == [-4]
    assert over("m1 * m2", m1=[None], m2=[4]) == [0]


def test_division_by_zero_drops_the_datapoint() -> None:
    # "If the value of a data point causes a function to attempt to divide by zero, the data
    # point is dropped." A missing divisor is 0, so that point is dropped too.
    assert over("m1 / m2", m1=[6, 6, None], m2=[3, 0, 2]) == [2, None, 0]
    assert over("m1 / m2", m1=[6], m2=[None]) == [None]


def test_a_time_series_with_a_scalar_has_points_where_the_series_has() -> None:
    assert over("5 * m1", m1=[1, None]) == [5, None]
    assert over("m1 - 1", m1=[None, 3]) == [None, 2]


def test_comparison_and_logical_operators_follow_the_pages_example() -> None:
    # "metric1 has values of [30, 20, 0, 0] and metric2 has values of [20, -, 20, -]".
    metric1: Series = [30, 20, 0, 0]
    metric2: Series = [20, None, 20, None]
    assert over("(m1 < m2)", m1=metric1, m2=metric2) == [0, 0, 1, 0]
    assert over("(m1 >= 30)", m1=metric1, m2=metric2) == [1, 0, 0, 0]
    assert over("(m1 > 15 AND m2 > 15)", m1=metric1, m2=metric2) == [1, 0, 0, 0]
    assert over("(m1 > 15 && m2 > 15)", m1=metric1, m2=metric2) == [1, 0, 0, 0]
    assert over("(m1 > 25 OR m2 > 15)", m1=metric1, m2=metric2) == [1, 0, 1, 0]
    assert over("m1 > 25 || m2 > 15", m1=metric1, m2=metric2) == [1, 0, 1, 0]


# The page's IF tables: metric1 [1, 1, 0, 0, -], metric2 [30, -, 0, 0, 30],
# metric3 [0, 0, 20, -, 20].
IF_METRIC1: Series = [1, 1, 0, 0, None]
IF_METRIC2: Series = [30, None, 0, 0, 30]
IF_METRIC3: Series = [0, 0, 20, None, 20]


def test_if_over_three_time_series() -> None:
    assert over("IF(m1, m2, m3)", m1=IF_METRIC1, m2=IF_METRIC2, m3=IF_METRIC3) == [
        30, 0, 20, None, None
    ]


def test_if_with_a_scalar_true_value() -> None:
    assert over("IF(m1, 5, m3)", m1=IF_METRIC1, m3=IF_METRIC3) == [5, 5, 20, None, None]


def test_if_with_a_scalar_false_value() -> None:
    assert over("IF(m1, m2, 5)", m1=IF_METRIC1, m2=IF_METRIC2) == [30, 0, 5, 5, None]


def test_if_without_a_false_value_drops_false_points() -> None:
    # "is dropped, if the corresponding data point of metric1 is FALSE and ... metric3 is
    # omitted from the expression".
    assert over("IF(m1, m2)", m1=IF_METRIC1, m2=IF_METRIC2) == [30, 0, None, None, None]


def test_fill_fills_every_missing_point_even_of_an_empty_series() -> None:
    assert over("FILL(m1, 0)", m1=[None, 2, None]) == [0, 2, 0]
    assert over("FILL(m1, 7) + m2", m1=[None, None], m2=[None, 1]) == [7, 8]


@given(
    st.lists(st.one_of(st.none(), st.integers(-1000, 1000)), min_size=1, max_size=8),
    st.lists(st.one_of(st.none(), st.integers(-1000, 1000)), min_size=1, max_size=8),
)
def test_sum_of_two_series_is_the_sum_with_missing_as_zero(a: Series, b: Series) -> None:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    expected = [
        None if x is None and y is None else (x or 0) + (y or 0) for x, y in zip(a, b, strict=True)
    ]
    assert over("m1 + m2", m1=a, m2=b) == expected
