from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local_run.metric_math import MetricMathError, evaluate, parse, references

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
        else:
            assert value is None


def test_overflow_is_missing_not_inf() -> None:
    # Found by hypothesis in CI: 100 * 1 / 2.2e-308 overflowed to inf.
    assert rate(1.0, 2.2250738585072014e-308) is None
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
