"""Declarative metric specs: the single source of truth for a metric's name, unit and series.

A spec is validated when it is declared (usually at import time of a service's spec module),
so a typo in a name or an oversized dimension set fails the build's tests, not a 3 a.m.
PutMetricData call, and the hot path only has to check values.
"""

from __future__ import annotations

import enum

from shared_metrics import limits

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


class MetricSpecError(ValueError):
    """A metric spec, namespace or default dimension violates a CloudWatch rule."""


class Unit(enum.StrEnum):
    """Every unit CloudWatch accepts (the `StandardUnit` type of the API)."""

    SECONDS = "Seconds"
    MICROSECONDS = "Microseconds"
    MILLISECONDS = "Milliseconds"
    BYTES = "Bytes"
    KILOBYTES = "Kilobytes"
    MEGABYTES = "Megabytes"
    GIGABYTES = "Gigabytes"
    TERABYTES = "Terabytes"
    BITS = "Bits"
    KILOBITS = "Kilobits"
    MEGABITS = "Megabits"
    GIGABITS = "Gigabits"
    TERABITS = "Terabits"
    PERCENT = "Percent"
    COUNT = "Count"
    BYTES_PER_SECOND = "Bytes/Second"
    KILOBYTES_PER_SECOND = "Kilobytes/Second"
    MEGABYTES_PER_SECOND = "Megabytes/Second"
    GIGABYTES_PER_SECOND = "Gigabytes/Second"
    TERABYTES_PER_SECOND = "Terabytes/Second"
    BITS_PER_SECOND = "Bits/Second"
    KILOBITS_PER_SECOND = "Kilobits/Second"
    MEGABITS_PER_SECOND = "Megabits/Second"
    GIGABITS_PER_SECOND = "Gigabits/Second"
    TERABITS_PER_SECOND = "Terabits/Second"
    COUNT_PER_SECOND = "Count/Second"
    NONE = "None"


# Factor from elapsed seconds to the unit a timer records in.
TIME_UNIT_FACTORS = {Unit.SECONDS: 1.0, Unit.MILLISECONDS: 1e3, Unit.MICROSECONDS: 1e6}

# Root key of the EMF metadata object; no metric or dimension may shadow it.
_EMF_RESERVED_KEY = "_aws"


def _check_name(kind: str, name: object, max_length: int) -> str:
    if not isinstance(name, str):
        raise MetricSpecError(f"{kind} must be a string, got {type(name).__name__}: {name!r}")
    if not 1 <= len(name) <= max_length:
        raise MetricSpecError(
            f"{kind} {name!r} must be 1..{max_length} characters, has {len(name)}"
        )
    if not name.isascii() or not name.isprintable():
        raise MetricSpecError(f"{kind} {name!r} must be printable ASCII")
    if not name.strip():
        raise MetricSpecError(f"{kind} {name!r} must not be only whitespace")
    return name


def check_namespace(namespace: object) -> str:
    """Validate a CloudWatch namespace and return it."""
    namespace = _check_name("namespace", namespace, limits.MAX_NAMESPACE_LENGTH)
    if namespace.startswith(limits.RESERVED_NAMESPACE_PREFIX):
        raise MetricSpecError(f"namespace {namespace!r} must not start with 'AWS/' (reserved)")
    if namespace.startswith(":"):
        raise MetricSpecError(f"namespace {namespace!r} must not start with ':'")
    return namespace


def check_dimension_name(name: object) -> str:
    """Validate a dimension name (a key of a dimension set) and return it."""
    name = _check_name("dimension name", name, limits.MAX_DIMENSION_NAME_LENGTH)
    if name.startswith(":"):
        raise MetricSpecError(f"dimension name {name!r} must not start with ':'")
    if name == _EMF_RESERVED_KEY:
        raise MetricSpecError(f"dimension name {name!r} is reserved by the Embedded Metric Format")
    return name


def _normalize_dimension_sets(
    metric: str, dimension_sets: Iterable[Sequence[str]]
) -> tuple[tuple[str, ...], ...]:
    if isinstance(dimension_sets, (str, bytes)):
        raise MetricSpecError(
            f"metric {metric!r}: dimension_sets must be a list of lists of names, e.g. [[], "
            f"['SessionId']], got the string {dimension_sets!r}"
        )
    sets: list[tuple[str, ...]] = []
    for raw in dimension_sets:
        if isinstance(raw, (str, bytes)):
            raise MetricSpecError(
                f"metric {metric!r}: each dimension set must be a list of names, got the string "
                f"{raw!r} (write [{raw!r}])"
            )
        keys = tuple(check_dimension_name(key) for key in raw)
        if len(set(keys)) != len(keys):
            raise MetricSpecError(f"metric {metric!r}: dimension set {list(keys)} repeats a name")
        if len(keys) > limits.MAX_DIMENSIONS_PER_METRIC:
            raise MetricSpecError(
                f"metric {metric!r}: dimension set has {len(keys)} names, CloudWatch allows "
                f"{limits.MAX_DIMENSIONS_PER_METRIC}"
            )
        if any(frozenset(keys) == frozenset(s) for s in sets):
            raise MetricSpecError(
                f"metric {metric!r}: dimension set {list(keys)} is declared twice"
            )
        sets.append(keys)
    if not sets:
        raise MetricSpecError(
            f"metric {metric!r}: needs at least one dimension set; use [[]] for no dimensions"
        )
    return tuple(sets)


class MetricSpec:
    """One metric: what it is called, what it measures, and which series it is published to.

    ``dimension_sets`` lists the series a recorded value goes to: ``[[], ["SessionId"]]``
    publishes every value to the aggregate series (no dimensions, what alarms watch) and to a
    per-session series. The dimension values a caller passes are the union of all the sets.

    Specs are immutable and compare by identity: declare each one once, as a module-level
    constant. (A plain class, not a dataclass: importing dataclasses costs cold start.)
    """

    __slots__ = (
        "name",
        "unit",
        "dimension_sets",
        "description",
        "storage_resolution",
        "dimension_keys",
    )

    name: str
    unit: Unit
    dimension_sets: tuple[tuple[str, ...], ...]
    description: str
    storage_resolution: int
    dimension_keys: frozenset[str]

    def __init__(
        self,
        name: str,
        unit: Unit | str = Unit.COUNT,
        dimension_sets: Iterable[Sequence[str]] = ((),),
        description: str = "",
        storage_resolution: int = 60,
    ) -> None:
        _check_name("metric name", name, limits.MAX_METRIC_NAME_LENGTH)
        if name == _EMF_RESERVED_KEY:
            raise MetricSpecError("metric name '_aws' is reserved by the Embedded Metric Format")
        try:
            checked_unit = Unit(unit)
        except ValueError:
            raise MetricSpecError(
                f"metric {name!r}: unknown unit {unit!r}; use one of "
                f"{', '.join(u.value for u in Unit)}"
            ) from None
        sets = _normalize_dimension_sets(name, dimension_sets)
        keys = frozenset(k for s in sets for k in s)
        if name in keys:
            raise MetricSpecError(
                f"metric {name!r} has a dimension of the same name; in EMF both are root keys"
            )
        if (
            isinstance(storage_resolution, bool)
            or storage_resolution not in limits.STORAGE_RESOLUTIONS
        ):
            raise MetricSpecError(
                f"metric {name!r}: storage_resolution must be 1 or 60, got {storage_resolution!r}"
            )
        if not isinstance(description, str):
            raise MetricSpecError(f"metric {name!r}: description must be a string")
        setattr_ = object.__setattr__
        setattr_(self, "name", name)
        setattr_(self, "unit", checked_unit)
        setattr_(self, "dimension_sets", sets)
        setattr_(self, "description", description)
        setattr_(self, "storage_resolution", storage_resolution)
        setattr_(self, "dimension_keys", keys)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"MetricSpec is immutable (tried to set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"MetricSpec is immutable (tried to delete {name!r})")

    def __repr__(self) -> str:
        return (
            f"MetricSpec({self.name!r}, {self.unit.value!r}, "
            f"{[list(s) for s in self.dimension_sets]!r})"
        )


def check_default_dimensions(default_dimensions: dict[str, str] | None) -> dict[str, str]:
    """Validate dimensions that an emitter adds to every series, and return a copy."""
    result: dict[str, str] = {}
    for key, value in (default_dimensions or {}).items():
        check_dimension_name(key)
        if not isinstance(value, str):
            raise MetricSpecError(
                f"default dimension {key!r} must have a string value, got {value!r}"
            )
        _check_name(f"default dimension {key!r} value", value, limits.MAX_DIMENSION_VALUE_LENGTH)
        result[key] = value
    if len(result) > limits.MAX_DIMENSIONS_PER_METRIC:
        raise MetricSpecError(
            f"{len(result)} default dimensions; CloudWatch allows "
            f"{limits.MAX_DIMENSIONS_PER_METRIC}"
        )
    return result
