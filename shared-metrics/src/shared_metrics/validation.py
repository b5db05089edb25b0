"""Checks applied to each recorded value and its dimension values.

Everything here runs only on the slow path: the emitter caches validated dimension tuples,
and the common case of an ``int`` or finite ``float`` value never calls into this module.
"""

from __future__ import annotations

import enum

from shared_metrics import limits
from shared_metrics.spec import MetricSpec


class Rejection(enum.StrEnum):
    """Why a recorded value was not accepted. The value names the counter in `stats()`."""

    NOT_A_SPEC = "not_a_spec"
    SPEC_CONFLICT = "spec_conflict"
    NOT_A_TIME_UNIT = "not_a_time_unit"
    WRONG_VALUE_TYPE = "wrong_value_type"
    NON_FINITE_VALUE = "non_finite_value"
    VALUE_OUT_OF_RANGE = "value_out_of_range"
    DIMENSIONS_NOT_A_MAPPING = "dimensions_not_a_mapping"
    MISSING_DIMENSION = "missing_dimension"
    UNEXPECTED_DIMENSION = "unexpected_dimension"
    WRONG_DIMENSION_TYPE = "wrong_dimension_type"
    EMPTY_DIMENSION_VALUE = "empty_dimension_value"
    DIMENSION_VALUE_TOO_LONG = "dimension_value_too_long"
    NON_ASCII_DIMENSION_VALUE = "non_ascii_dimension_value"
    INVALID_PROPERTY = "invalid_property"
    INTERNAL_ERROR = "internal_error"


class MetricValidationError(ValueError):
    """A value or dimension was rejected. Raised to the caller only in strict mode."""

    def __init__(self, reason: Rejection, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _metric_name(spec: object) -> str:
    return spec.name if isinstance(spec, MetricSpec) else repr(spec)


def check_value(spec: MetricSpec, value: object) -> float:
    """Return ``value`` as a number CloudWatch accepts, or raise MetricValidationError.

    Any real number is accepted: int, float, Fraction, numpy's numbers, and Decimal (boto3's
    DynamoDB layer returns every number as one; ``numbers.Real`` does not include it). A bool
    is not a number here, and NaN, infinities and magnitudes beyond CloudWatch's range are
    rejected."""
    import math  # slow path only (cold start)
    import numbers
    from decimal import Decimal

    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise MetricValidationError(
            Rejection.WRONG_VALUE_TYPE,
            f"metric {spec.name!r}: value must be a real number (int, float, Decimal, ...), "
            f"got {type(value).__name__} {value!r:.80}",
        )
    if isinstance(value, Decimal) and not value.is_finite():
        number = math.nan  # NaN, sNaN (float() refuses it) and infinities: not finite
    else:
        try:
            number = float(value)
        except OverflowError:  # an int or Fraction too large for a float
            number = math.inf
        if math.isinf(number) and isinstance(value, Decimal | numbers.Rational):
            # Finite by construction, beyond any float: beyond CloudWatch's range too.
            raise MetricValidationError(
                Rejection.VALUE_OUT_OF_RANGE,
                f"metric {spec.name!r}: value {value!r:.80} is outside CloudWatch's range "
                "-2^360..2^360",
            )
    if math.isnan(number) or math.isinf(number):
        raise MetricValidationError(
            Rejection.NON_FINITE_VALUE,
            f"metric {spec.name!r}: value {number!r} is not finite; CloudWatch rejects NaN and "
            "+-Inf",
        )
    if abs(number) > limits.MAX_VALUE_MAGNITUDE:
        raise MetricValidationError(
            Rejection.VALUE_OUT_OF_RANGE,
            f"metric {spec.name!r}: value {number!r} is outside CloudWatch's range -2^360..2^360",
        )
    return number


def check_dimension_value(metric: str, key: str, value: object) -> str:
    """Return a valid dimension value, or raise MetricValidationError saying what is wrong."""
    if not isinstance(value, str):
        raise MetricValidationError(
            Rejection.WRONG_DIMENSION_TYPE,
            f"metric {metric!r}: dimension {key!r} must be a string, got "
            f"{type(value).__name__} {value!r:.80}",
        )
    if not value.strip():
        raise MetricValidationError(
            Rejection.EMPTY_DIMENSION_VALUE,
            f"metric {metric!r}: dimension {key!r} is empty or only whitespace",
        )
    if len(value) > limits.MAX_DIMENSION_VALUE_LENGTH:
        raise MetricValidationError(
            Rejection.DIMENSION_VALUE_TOO_LONG,
            f"metric {metric!r}: dimension {key!r} has {len(value)} characters, CloudWatch allows "
            f"{limits.MAX_DIMENSION_VALUE_LENGTH}",
        )
    if not value.isascii():
        raise MetricValidationError(
            Rejection.NON_ASCII_DIMENSION_VALUE,
            f"metric {metric!r}: dimension {key!r} value {value[:80]!r} is not ASCII",
        )
    return value


def check_dimensions(spec: object, dimensions: object) -> tuple[tuple[str, str], ...]:
    """Validate the dimension values passed for ``spec``; return them sorted by name."""
    if not isinstance(spec, MetricSpec):
        raise MetricValidationError(
            Rejection.NOT_A_SPEC,
            f"expected a MetricSpec, got {type(spec).__name__} {spec!r:.80}",
        )
    if dimensions is None:
        dimensions = {}
    if dimensions.__class__ is dict and dimensions.keys() == spec.dimension_keys:
        # The usual call: a dict of exactly the names the spec needs; only values to check.
        name = spec.name
        return tuple(
            [(key, check_dimension_value(name, key, dimensions[key])) for key in sorted(dimensions)]
        )
    from collections.abc import Mapping  # slow path only

    if not isinstance(dimensions, Mapping):
        raise MetricValidationError(
            Rejection.DIMENSIONS_NOT_A_MAPPING,
            f"metric {spec.name!r}: dimensions must be a mapping of name to value, got "
            f"{type(dimensions).__name__}",
        )
    given = set(dimensions)
    missing = spec.dimension_keys - given
    if missing:
        raise MetricValidationError(
            Rejection.MISSING_DIMENSION,
            f"metric {spec.name!r}: missing dimension(s) {sorted(missing)}; it needs "
            f"{sorted(spec.dimension_keys)}",
        )
    unexpected = given - spec.dimension_keys
    if unexpected:
        shown = sorted(repr(k)[:80] for k in unexpected)
        raise MetricValidationError(
            Rejection.UNEXPECTED_DIMENSION,
            f"metric {spec.name!r}: unexpected dimension(s) {', '.join(shown)}; it takes "
            f"{sorted(spec.dimension_keys)}",
        )
    # Sorted, so the reason reported for several bad values does not depend on set order.
    return tuple(
        (key, check_dimension_value(spec.name, key, dimensions[key])) for key in sorted(given)
    )


def describe_rejection(spec: object, exc: Exception) -> MetricValidationError:
    """Wrap an unexpected exception from the recording path as an INTERNAL_ERROR rejection."""
    return MetricValidationError(
        Rejection.INTERNAL_ERROR,
        f"metric {_metric_name(spec)}: recording failed unexpectedly: {type(exc).__name__}: {exc}",
    )


def explain_failure(
    spec: object,
    value: object,
    dimensions: object,
    exc: Exception,
    *,
    dimensions_valid: bool = False,
) -> MetricValidationError:
    """The rejection that describes an exception raised on a fast path (which skips these
    checks for the common case): the first check that fails, else an internal error."""
    try:
        if not dimensions_valid:
            check_dimensions(spec, dimensions)  # raises NOT_A_SPEC for anything but a spec
        if isinstance(spec, MetricSpec) and value is not None:
            check_value(spec, value)
    except MetricValidationError as rejection:
        return rejection
    except Exception:  # noqa: S110 - the checks failing oddly is an internal error too
        pass
    return describe_rejection(spec, exc)


def timer_rejection(spec: object) -> MetricValidationError:
    """Why a timer cannot record for ``spec``: it is not a spec, or not of a time unit."""
    if not isinstance(spec, MetricSpec):
        return MetricValidationError(
            Rejection.NOT_A_SPEC,
            f"a timer needs a MetricSpec, got {type(spec).__name__} {spec!r:.80}",
        )
    return MetricValidationError(
        Rejection.NOT_A_TIME_UNIT,
        f"metric {spec.name!r}: a timer needs a Seconds, Milliseconds or Microseconds "
        f"unit, the spec has {spec.unit.value!r}",
    )
