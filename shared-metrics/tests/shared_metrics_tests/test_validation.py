"""Bad input never escapes `record`, is counted by reason, and is explained clearly."""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared_metrics import MetricsEmitter, MetricSpec, MetricValidationError, Rejection, Unit
from shared_metrics.sinks.memory import MemorySink

SPEC = MetricSpec("ChunkSize", Unit.BYTES, [[], ["SessionId", "Reason"]])
TIMED = MetricSpec("Latency", Unit.MILLISECONDS)
COUNTED = MetricSpec("Drops", Unit.COUNT)


def new_emitter(strict: bool = False) -> tuple[MetricsEmitter, MemorySink]:
    sink = MemorySink()
    return MetricsEmitter("Test/Validation", sink, strict=strict, flush_at_exit=False), sink


def expected_reason(spec: object, value: object, dimensions: object) -> Rejection | None:
    """An independent statement of the rules, in the order the emitter applies them."""
    if not isinstance(spec, MetricSpec):
        return Rejection.NOT_A_SPEC
    if dimensions is None:
        dimensions = {}
    if not isinstance(dimensions, Mapping):
        return Rejection.DIMENSIONS_NOT_A_MAPPING
    keys = set(dimensions)
    if spec.dimension_keys - keys:
        return Rejection.MISSING_DIMENSION
    if keys - spec.dimension_keys:
        return Rejection.UNEXPECTED_DIMENSION
    for key in sorted(keys):
        v = dimensions[key]
        if not isinstance(v, str):
            return Rejection.WRONG_DIMENSION_TYPE
        if not v.strip():
            return Rejection.EMPTY_DIMENSION_VALUE
        if len(v) > 1024:
            return Rejection.DIMENSION_VALUE_TOO_LONG
        if not v.isascii():
            return Rejection.NON_ASCII_DIMENSION_VALUE
    # Any real number (Decimal too, as boto3's DynamoDB layer returns); not bool.
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction | Decimal):
        return Rejection.WRONG_VALUE_TYPE
    if isinstance(value, Decimal) and (value.is_nan() or value.is_infinite()):
        return Rejection.NON_FINITE_VALUE
    try:
        number = float(value)
    except OverflowError:
        return Rejection.VALUE_OUT_OF_RANGE
    if math.isinf(number) and isinstance(value, Decimal | int | Fraction):
        return Rejection.VALUE_OUT_OF_RANGE  # finite, but beyond any float
    if math.isnan(number) or math.isinf(number):
        return Rejection.NON_FINITE_VALUE
    if abs(number) > 2.0**360:
        return Rejection.VALUE_OUT_OF_RANGE
    return None


dimension_values = st.one_of(
    st.sampled_from(["abc", "s-1", " ", "", "x" * 1024, "x" * 1025, "café", "\u00e9t\u00e9"]),
    st.text(max_size=30),
    st.integers(),
    st.none(),
    st.floats(),
    st.lists(st.integers(), max_size=2),
)
dimension_maps = st.one_of(
    st.none(),
    st.fixed_dictionaries({"SessionId": dimension_values, "Reason": dimension_values}),
    st.dictionaries(
        st.sampled_from(["SessionId", "Reason", "Other", ""]), dimension_values, max_size=3
    ),
    st.lists(st.tuples(st.text(max_size=3), st.text(max_size=3)), max_size=2),
    st.text(max_size=5),
    st.integers(),
)
values = st.one_of(
    st.integers(),
    st.integers(min_value=2**360, max_value=2**400),
    st.floats(),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=True, allow_infinity=True, places=None),
    st.just(Decimal("1e400")),
    st.fractions(),
    st.just(2.0**361),
    st.just(-(2.0**361)),
)
specs = st.one_of(st.just(SPEC), st.just(SPEC), st.just("ChunkSize"), st.none(), st.integers())


@settings(max_examples=400, deadline=None)
@given(calls=st.lists(st.tuples(specs, values, dimension_maps), max_size=25))
def test_record_never_raises_and_counts_each_rejection_by_reason(
    calls: list[tuple[object, object, object]],
) -> None:
    emitter, sink = new_emitter()
    expected: Counter[str] = Counter()
    accepted = 0
    for spec, value, dims in calls:
        reason = expected_reason(spec, value, dims)
        ok = emitter.record(spec, value, dims)  # type: ignore[arg-type]
        assert ok is (reason is None), (spec, value, dims, reason)
        if reason is None:
            accepted += 1
        else:
            expected[reason.value] += 1
    emitter.flush()
    stats = emitter.stats()
    assert stats.rejected == dict(expected)
    assert stats.accepted == accepted
    assert stats.delivered == sink.datapoints() == stats.datapoints


@settings(max_examples=150, deadline=None)
@given(
    key=st.one_of(st.text(max_size=5), st.none(), st.integers()),
    prop=st.one_of(st.text(), st.integers(), st.floats(), st.lists(st.integers()), st.binary()),
    amount=values,
    dims=dimension_maps,
)
def test_every_other_public_method_never_raises(
    key: object, prop: object, amount: object, dims: object
) -> None:
    emitter, _ = new_emitter()
    emitter.set_property(key, prop)  # type: ignore[arg-type]
    emitter.count(COUNTED, amount)  # type: ignore[arg-type]
    with emitter.timer(TIMED, dims):  # type: ignore[arg-type]
        pass
    with emitter.timer(SPEC, dims):  # type: ignore[arg-type]  # a Bytes spec: not a timer
        pass

    @emitter.timer(TIMED)
    def work() -> int:
        return 7

    assert work() == 7
    with emitter.invocation():
        emitter.count(COUNTED)
    emitter.flush()
    stats = emitter.stats()
    assert stats.datapoints == stats.delivered + stats.dropped_total + stats.buffered
    assert Rejection.INTERNAL_ERROR.value not in stats.rejected


def test_strict_mode_raises_with_the_logged_message(caplog: pytest.LogCaptureFixture) -> None:
    lenient, _ = new_emitter()
    with caplog.at_level(logging.WARNING, logger="shared_metrics"):
        assert not lenient.record(SPEC, 1, {"SessionId": "s1"})
    strict, _ = new_emitter(strict=True)
    with pytest.raises(MetricValidationError) as info:
        strict.record(SPEC, 1, {"SessionId": "s1"})
    assert info.value.reason is Rejection.MISSING_DIMENSION
    assert "missing dimension(s) ['Reason']" in info.value.message
    assert info.value.message in caplog.text
    assert strict.stats().rejected == {"missing_dimension": 1}


def test_each_reason_is_logged_once_and_counted_always(caplog: pytest.LogCaptureFixture) -> None:
    emitter, _ = new_emitter()
    with caplog.at_level(logging.WARNING, logger="shared_metrics"):
        for _ in range(5):
            emitter.record(COUNTED, float("nan"))
            emitter.record(COUNTED, 1, {"SessionId": "x"})
    assert caplog.text.count("non_finite_value") == 1
    assert caplog.text.count("unexpected_dimension") == 1
    assert emitter.stats().rejected == {"non_finite_value": 5, "unexpected_dimension": 5}


@pytest.mark.parametrize(
    ("value", "dims", "reason", "phrase"),
    [
        (float("nan"), {}, "non_finite_value", "not finite"),
        (float("-inf"), {}, "non_finite_value", "not finite"),
        (2.0**361, {}, "value_out_of_range", "-2^360..2^360"),
        ("12", {}, "wrong_value_type", "must be a real number (int, float, Decimal, ...), got str"),
        (True, {}, "wrong_value_type", "got bool"),
        (1, {"SessionId": "a"}, "unexpected_dimension", "unexpected dimension(s) 'SessionId'"),
    ],
)
def test_messages_say_what_is_wrong(
    value: object, dims: dict[str, str], reason: str, phrase: str
) -> None:
    emitter, _ = new_emitter(strict=True)
    with pytest.raises(MetricValidationError) as info:
        emitter.record(COUNTED, value, dims)  # type: ignore[arg-type]
    assert info.value.reason.value == reason
    assert phrase in str(info.value)
    assert "'Drops'" in str(info.value)


@pytest.mark.parametrize(
    ("session", "reason"),
    [
        ("", "empty_dimension_value"),
        ("   ", "empty_dimension_value"),
        ("x" * 1025, "dimension_value_too_long"),
        ("séance", "non_ascii_dimension_value"),
        (42, "wrong_dimension_type"),
    ],
)
def test_invalid_dimension_values(session: object, reason: str) -> None:
    emitter, _ = new_emitter()
    assert not emitter.record(SPEC, 1, {"SessionId": session, "Reason": "TooLarge"})  # type: ignore[dict-item]
    assert emitter.stats().rejected == {reason: 1}


def test_same_name_with_another_definition_is_a_conflict() -> None:
    emitter, _ = new_emitter()
    assert emitter.record(COUNTED, 1)
    impostor = MetricSpec("Drops", Unit.BYTES)
    assert not emitter.record(impostor, 1)
    assert emitter.stats().rejected == {"spec_conflict": 1}
    twin = MetricSpec("Drops", Unit.COUNT)  # same definition, declared twice: accepted
    assert emitter.record(twin, 1)


def test_default_dimensions_are_added_to_every_set() -> None:
    sink = MemorySink()
    emitter = MetricsEmitter("Test/Defaults", sink, {"Stage": "prod"}, flush_at_exit=False)
    emitter.record(SPEC, 5, {"SessionId": "s1", "Reason": "TooLarge"})
    emitter.flush()
    assert sink.samples("ChunkSize", {"Stage": "prod"}) == [5]
    assert sink.samples(
        "ChunkSize", {"Stage": "prod", "SessionId": "s1", "Reason": "TooLarge"}
    ) == [5]
    assert sink.samples("ChunkSize") == []


# -- every real number, as the issue asks: Decimal, Fraction, numpy scalars -------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.5"), 12.5),  # what boto3's DynamoDB layer returns for a number
        (Decimal("3"), 3.0),
        (Fraction(5, 2), 2.5),
        (numpy.float64(1.25), 1.25),
        (numpy.float32(0.5), 0.5),
        (numpy.int64(7), 7.0),
        (numpy.uint8(200), 200.0),
        # An int a double cannot hold is recorded as the double CloudWatch stores (2^53 + 1
        # has no double of its own); the fast path used to keep the int.
        (2**53 + 1, 2.0**53),
        (-(2**53) - 3, -(2.0**53) - 4),
    ],
    ids=lambda v: type(v).__name__,
)
def test_any_finite_real_number_is_recorded_exactly(value: object, expected: float) -> None:
    emitter, sink = new_emitter(strict=True)
    assert emitter.record(COUNTED, value) is True  # type: ignore[arg-type]
    emitter.flush()
    assert sink.samples(COUNTED.name) == [expected]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (Decimal("NaN"), "non_finite_value"),
        (Decimal("sNaN"), "non_finite_value"),
        (Decimal("-Infinity"), "non_finite_value"),
        (Decimal("1e400"), "value_out_of_range"),  # beyond a float, and CloudWatch's 2^360
        (Decimal("1e200"), "value_out_of_range"),  # a float, beyond 2^360
        (numpy.float64("nan"), "non_finite_value"),
        (numpy.float32("inf"), "non_finite_value"),
        (numpy.bool_(True), "wrong_value_type"),
        (True, "wrong_value_type"),
        (complex(1, 0), "wrong_value_type"),
    ],
    ids=repr,
)
def test_what_is_not_a_finite_real_number_is_rejected(value: object, reason: str) -> None:
    emitter, sink = new_emitter()
    assert emitter.record(COUNTED, value) is False  # type: ignore[arg-type]
    assert emitter.stats().rejected == {reason: 1}


def _valid_property(key: object, value: object) -> bool:
    """The documented rule: a non-empty string key other than '_aws', a JSON value without
    NaN or infinities."""
    if not isinstance(key, str) or not key or key == "_aws":
        return False
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 15 * 60 * 1000


@settings(max_examples=150, deadline=None)
@given(
    key=st.one_of(st.text(max_size=5), st.none(), st.integers(), st.just("_aws")),
    prop=st.one_of(st.text(), st.integers(), st.floats(), st.lists(st.integers()), st.binary()),
    amount=values,
    dims=dimension_maps,
)
def test_every_public_method_records_valid_input_exactly(
    key: object, prop: object, amount: object, dims: object
) -> None:
    emitter, sink = new_emitter()
    counted_ok = expected_reason(COUNTED, amount, None) is None
    timed_ok = expected_reason(TIMED, 0.0, dims) is None

    @emitter.lambda_handler
    def handler(event: object, context: object) -> str:
        assert emitter.set_property(key, prop) is _valid_property(key, prop)  # type: ignore[arg-type]
        assert emitter.count(COUNTED, amount) is counted_ok  # type: ignore[arg-type]
        with emitter.timer(TIMED, dims):  # type: ignore[arg-type]
            pass
        return "done"

    assert handler({}, _Context()) == "done"
    # Read back from the sink: exactly the valid values, nothing else.
    assert sink.samples(COUNTED.name) == ([float(amount)] if counted_ok else [])  # type: ignore[arg-type]
    assert len(sink.samples(TIMED.name)) == (1 if timed_ok else 0)
    if _valid_property(key, prop) and (counted_ok or timed_ok):
        assert all(p.get(key) == prop for p in sink.properties)  # type: ignore[call-overload]
    emitter.count(COUNTED, 2)
    emitter.close()  # flushes what is left
    assert sink.samples(COUNTED.name).count(2.0) >= 1
    stats = emitter.stats()
    assert stats.buffered == 0
    assert stats.datapoints == stats.delivered + stats.dropped_total
    assert Rejection.INTERNAL_ERROR.value not in stats.rejected
