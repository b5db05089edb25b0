"""The smallest Embedded Metric Format document that carries one invocation's datapoints and
properties: the byte floor the report holds the EMF writers to.

What it contains, per the CloudWatch user guide's "Specification: Embedded metric format",
and why nothing smaller is valid EMF for the same datapoints:

- One JSON object, no whitespace ("The LogEvent message MUST be a valid JSON object with no
  additional data at the beginning or end of the LogEvent message string"), and one per
  invocation: a second event repeats the whole `_aws` member and every dimension it refers to,
  so one event is the smallest whenever one can carry everything (`NeedsMoreThanOneEvent`
  otherwise: a root key needed twice with different values, or more than 100 values of a
  metric, "Numeric array metric targets MUST NOT have more than 100 members").
- `_aws` with `Timestamp` and `CloudWatchMetrics`, both required ("The value MUST be an object
  and MUST contain the following members: CloudWatchMetrics ... Timestamp"; the page's schema
  lists both under "required"). The timestamp is the one given, written as the integer the
  schema asks for ("type": "integer"), so its length is fixed by the date.
- Directives of `Namespace`, `Dimensions` and `Metrics`, all three required ("MetricDirectives
  MUST contain the following members: Namespace ... Dimensions ... Metrics"). A directive
  applies every dimension set it lists to every metric it lists, and a (metric, dimension set)
  pair listed twice would be extracted twice, so the directives of a namespace must cover the
  pairs the datapoints need exactly once. Grouping metrics by their list of dimension sets is
  one such cover, not always the smallest (a long dimension set shared by two lists can be
  written once if a short metric definition is written twice): `_directives` searches every
  exact cover and keeps the shortest.
- A metric definition is `{"Name":...}` plus `Unit` unless it is None (the default: "If a value
  is not provided, then a default value of NONE is assumed") and `StorageResolution` unless it
  is 60 (the page lists it among the optional members; the PutMetricData reference's
  MetricDatum says of it: "This field is optional, if you do not specify it the default of 60
  is used", and the EMF sink relies on the same default).
- Root members: each dimension key once with its string value ("A dimension target MUST have
  a string value"), each property once, each metric's values as a number when there is one
  and an array otherwise ("A metric target MUST be a numeric value or an array of numeric
  values"; EMF has no counts, so a value recorded n times is written n times).
- Numbers in their shortest JSON spelling of the same double (`minimal_number`: 1.0 is `1`,
  1000000 is `1e6`), strings with only the escapes JSON requires and UTF-8 for the rest.

The length counted is the document's UTF-8 bytes plus the newline that ends the log line (the
EMF writers' output is counted with theirs too).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from itertools import product
from typing import Any

# One invocation of handler_workload.json: {"properties": {...}, "series": [{"namespace",
# "name", "unit", "resolution", "dimension_sets", "dimensions", "values": [[value, count]]}]}
Invocation = dict[str, Any]

MAX_VALUES_PER_METRIC = 100  # "Numeric array metric targets MUST NOT have more than 100 members"
MAX_METRICS_PER_DIRECTIVE = 100  # "This array MUST NOT contain more than 100 MetricDefinition"
# The exact cover search tries every combination of each metric's partitions of its sets.
MAX_COVERS_SEARCHED = 100_000
_EXACT_INTEGERS = 2**53  # beyond it an int is the double it rounds to, as CloudWatch keeps it


class NeedsMoreThanOneEvent(ValueError):
    """The invocation's datapoints cannot all be carried by one EMF event."""


def minimal_number(value: int | float) -> str:
    """The shortest JSON number that parses to the same double as ``value``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"a metric value is an int or a float, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"JSON has no number for {value!r}")
    if isinstance(value, int) and abs(value) > _EXACT_INTEGERS:
        value = float(value)
    # repr gives the shortest digit string that reads back as the same double.
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)  # finite, checked above
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    minus = "-" if sign else ""
    if not digits:
        return minus + "0"
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits, n = stripped, len(stripped)
    candidates = []
    # Plain decimal.
    if exponent >= 0:
        candidates.append(digits + "0" * exponent)
    elif n + exponent > 0:
        candidates.append(f"{digits[: n + exponent]}.{digits[n + exponent :]}")
    else:
        candidates.append("0." + "0" * -(n + exponent) + digits)
    # Integer mantissa with an exponent, and one digit before the point with an exponent.
    if exponent:
        candidates.append(f"{digits}e{exponent}")
    if n > 1:
        candidates.append(f"{digits[0]}.{digits[1:]}e{exponent + n - 1}")
    return minus + min(candidates, key=len)  # min keeps the first (plain) of equal lengths


def minimal_json(value: object) -> str:
    """``value`` as the shortest JSON text: no whitespace, shortest numbers, UTF-8 strings."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return minimal_number(value)
    if isinstance(value, str):
        # ensure_ascii=False leaves all but '"', '\\' and control characters as they are;
        # a lone surrogate cannot be UTF-8, so it keeps its \\u escape.
        return "".join(
            json.dumps(c)[1:-1] if "\ud800" <= c <= "\udfff" else c
            for c in json.dumps(value, ensure_ascii=False)
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(minimal_json(v) for v in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a JSON object's keys are strings")
        return (
            "{" + ",".join(f"{minimal_json(k)}:{minimal_json(v)}" for k, v in value.items()) + "}"
        )
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _definition(series: dict[str, Any]) -> str:
    members = [f'"Name":{minimal_json(series["name"])}']
    if series["unit"] != "None":
        members.append(f'"Unit":{minimal_json(series["unit"])}')
    if series["resolution"] != 60:
        members.append(f'"StorageResolution":{minimal_number(series["resolution"])}')
    return "{" + ",".join(members) + "}"


def _partitions(items: list[str]) -> list[list[frozenset[str]]]:
    """Every way to cut ``items`` into non-empty parts."""
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    out = []
    for partition in _partitions(rest):
        out.append([frozenset([first]), *partition])
        for i, part in enumerate(partition):
            out.append([*partition[:i], part | {first}, *partition[i + 1 :]])
    return out


def _directives(namespace: str, metrics: list[tuple[str, frozenset[str]]]) -> list[str]:
    """The shortest exact cover of one namespace's (metric, dimension set) pairs by
    directives; ``metrics`` holds each metric's definition text and its dimension sets' texts.

    A cover gives each metric a partition of its dimension sets (the directives it is listed
    in); the directives are the union of those parts. Every combination of partitions is
    tried: each metric costs its definition once per part, each distinct part one directive.
    """
    if len(metrics) > MAX_METRICS_PER_DIRECTIVE:
        raise NeedsMoreThanOneEvent(
            f"{namespace!r}: {len(metrics)} metrics; the minimum here handles at most "
            f"{MAX_METRICS_PER_DIRECTIVE} per namespace"
        )
    options = [_partitions(sorted(sets)) for _, sets in metrics]
    if math.prod(len(o) for o in options) > MAX_COVERS_SEARCHED:
        raise ValueError(
            f"{namespace!r}: more than {MAX_COVERS_SEARCHED:,} covers to search for the "
            "smallest; too many dimension sets per metric for the exact minimum"
        )
    fixed = len('{"Namespace":') + len(minimal_json(namespace)) + len(',"Dimensions":[')
    fixed += len('],"Metrics":[') + len("]}") + len(",")  # "," joins it to the next directive
    best: tuple[int, tuple[list[frozenset[str]], ...]] | None = None
    for choice in product(*options):
        parts = {part for partition in choice for part in partition}
        cost = sum(fixed + sum(len(s) + 1 for s in part) for part in parts)
        cost += sum(
            (len(definition) + 1) * len(partition)  # each with its comma
            for (definition, _), partition in zip(metrics, choice, strict=True)
        )
        if best is None or cost < best[0]:
            best = (cost, choice)
    assert best is not None  # a metric has at least one dimension set: one partition or more
    _, choice = best
    members: dict[frozenset[str], list[str]] = {}
    for part in sorted({p for partition in choice for p in partition}, key=sorted):
        members[part] = []
    for (definition, _), partition in zip(metrics, choice, strict=True):
        for part in partition:
            members[part].append(definition)
    return [
        f'{{"Namespace":{minimal_json(namespace)},"Dimensions":[{",".join(sorted(part))}],'
        f'"Metrics":[{",".join(definitions)}]}}'
        for part, definitions in members.items()
    ]


def minimal_document(invocation: Invocation, timestamp_ms: int) -> str:
    """The smallest EMF event (without its newline) carrying ``invocation``'s datapoints and
    properties; raises `NeedsMoreThanOneEvent` when one event cannot carry them."""
    root: dict[str, str] = {}  # root key -> its JSON text

    def put(key: str, text: str, what: str) -> None:
        if key == "_aws" or root.setdefault(key, text) != text:
            raise NeedsMoreThanOneEvent(f"root key {key!r} is needed twice ({what})")

    for key, value in invocation["properties"].items():
        put(key, minimal_json(value), "property")
    by_namespace: dict[str, list[tuple[str, frozenset[str]]]] = {}
    metric_keys: set[str] = set()
    for series in invocation["series"]:
        name = series["name"]
        if name in metric_keys:
            raise NeedsMoreThanOneEvent(f"metric {name!r} appears twice in one invocation")
        metric_keys.add(name)
        for key, value in series["dimensions"].items():
            put(key, minimal_json(value), f"dimension of {name!r}")
        values = [v for v, count in series["values"] for _ in range(count)]
        if len(values) > MAX_VALUES_PER_METRIC:
            raise NeedsMoreThanOneEvent(f"metric {name!r} has {len(values)} values > 100")
        put(name, minimal_json(values[0] if len(values) == 1 else values), "metric")
        sets = frozenset(minimal_json(list(s)) for s in series["dimension_sets"])
        by_namespace.setdefault(series["namespace"], []).append((_definition(series), sets))
    directives = [d for ns, metrics in by_namespace.items() for d in _directives(ns, metrics)]
    members = [
        f'"_aws":{{"Timestamp":{int(timestamp_ms)},"CloudWatchMetrics":[{",".join(directives)}]}}',
        *(f"{minimal_json(key)}:{text}" for key, text in root.items()),
    ]
    return "{" + ",".join(members) + "}"


def minimal_bytes(invocation: Invocation, timestamp_ms: int) -> int:
    """UTF-8 bytes of `minimal_document` and the newline that ends its log line."""
    return len(minimal_document(invocation, timestamp_ms).encode("utf-8")) + 1
