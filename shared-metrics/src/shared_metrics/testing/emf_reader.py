"""Read Embedded Metric Format output back, checking every rule of the specification.

Tests use it on what the EMF sink writes: each line must be a valid EMF document, and the
datapoints it carries are returned per (metric, dimension set) so tests can compare them
with what was recorded.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from shared_metrics import limits
from shared_metrics.spec import Unit

_UNITS = {u.value for u in Unit}

SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]  # namespace, metric, dimensions


class EmfSpecViolation(AssertionError):
    pass


def _reject_constant(name: str) -> float:
    raise EmfSpecViolation(f"EMF line contains {name}, which is not JSON")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise EmfSpecViolation(message)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_event(line: str) -> dict[str, Any]:
    """Parse one line and check it against the EMF specification; return the document."""
    _check(len(line.encode()) <= limits.EMF_MAX_EVENT_BYTES, f"event is {len(line)} bytes > 256 KB")
    doc = json.loads(line, parse_constant=_reject_constant)
    _check(isinstance(doc, dict), "an EMF document is a JSON object")
    meta = doc.get("_aws")
    _check(isinstance(meta, dict), "root member _aws (object) is required")
    ts = meta.get("Timestamp")
    _check(
        isinstance(ts, int) and not isinstance(ts, bool) and ts >= 0,
        f"Timestamp must be epoch ms, got {ts!r}",
    )
    directives = meta.get("CloudWatchMetrics")
    _check(
        isinstance(directives, list) and len(directives) > 0,
        "CloudWatchMetrics must be a non-empty array",
    )
    for directive in directives:
        _check(isinstance(directive, dict), "a metric directive is an object")
        ns = directive.get("Namespace")
        _check(isinstance(ns, str) and 1 <= len(ns) <= 255, f"Namespace invalid: {ns!r}")
        _check(ns.isascii(), f"Namespace {ns!r} must be ASCII")
        _check(
            not ns.startswith(limits.RESERVED_NAMESPACE_PREFIX),
            f"Namespace {ns!r} must not start with {limits.RESERVED_NAMESPACE_PREFIX}",
        )
        _check(not ns.startswith(":"), f"Namespace {ns!r} must not start with ':'")
        sets = directive.get("Dimensions")
        _check(isinstance(sets, list), "Dimensions must be an array of dimension sets")
        for dimension_set in sets:
            _check(isinstance(dimension_set, list), "a dimension set is an array")
            _check(
                len(dimension_set) <= limits.EMF_MAX_DIMENSIONS_PER_SET,
                f"dimension set has {len(dimension_set)} keys > 30",
            )
            for key in dimension_set:
                _check(isinstance(key, str), f"dimension key {key!r} must be a string")
                _check(
                    isinstance(doc.get(key), str),
                    f"dimension {key!r} must reference a root member whose value is a string",
                )
        metrics = directive.get("Metrics")
        _check(isinstance(metrics, list), "Metrics must be an array")
        _check(
            len(metrics) <= limits.EMF_MAX_METRICS_PER_DIRECTIVE,
            f"{len(metrics)} metrics in one directive > 100",
        )
        for definition in metrics:
            name = definition.get("Name")
            _check(
                isinstance(name, str) and 1 <= len(name) <= 255, f"metric Name invalid: {name!r}"
            )
            unit = definition.get("Unit", "None")
            _check(unit in _UNITS, f"metric {name!r}: unknown Unit {unit!r}")
            resolution = definition.get("StorageResolution", 60)
            _check(resolution in (1, 60), f"metric {name!r}: StorageResolution {resolution!r}")
            value = doc.get(name)
            if isinstance(value, list):
                _check(
                    len(value) <= limits.EMF_MAX_VALUES_PER_METRIC,
                    f"metric {name!r} has {len(value)} values > 100",
                )
                _check(all(_is_number(v) for v in value), f"metric {name!r}: non-number in array")
            else:
                _check(_is_number(value), f"metric {name!r} must reference a number or array")
    return doc


def read_datapoints(lines: Iterable[str]) -> dict[SeriesKey, Counter[float]]:
    """Validate every line; return value -> count per (namespace, metric, dimension set)."""
    out: dict[SeriesKey, Counter[float]] = {}
    for line in lines:
        if not line.strip():
            continue
        doc = parse_event(line)
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for definition in directive["Metrics"]:
                name = definition["Name"]
                raw = doc[name]
                values = raw if isinstance(raw, list) else [raw]
                for dimension_set in directive["Dimensions"]:
                    key = (
                        directive["Namespace"],
                        name,
                        tuple((k, doc[k]) for k in dimension_set),
                    )
                    out.setdefault(key, Counter()).update(values)
    return out
