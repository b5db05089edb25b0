"""Contributor Insights rules (``CloudWatchLogRule`` JSON) evaluated over JSON log events:
what `GetInsightRuleReport` would list as the top contributors.

The subset of the rule syntax implemented is what the CloudWatch user guide's "Contributor
Insights rule syntax" defines for JSON logs:

- ``LogGroupNames``: names, or prefixes ending in ``*``; an event counts for the rule when
  its log group matches one of them.
- ``Contribution.Keys`` (1 to 4 JSON paths): each distinct combination of their values is a
  contributor; an event lacking any key does not contribute.
- ``Contribution.Filters`` (up to 4, ANDed): ``Match`` a path with ``In``, ``NotIn``,
  ``StartsWith`` (lists of up to 10 strings, ORed), ``GreaterThan``, ``LessThan``,
  ``EqualTo``, ``NotEqualTo`` (a number) or ``IsPresent`` (true/false, leaf values only).
  String operators compare string values, numeric ones numbers; a field that is missing, or
  of the other type, matches no operator but ``IsPresent: false`` (missing) and ``NotIn``
  (a value of another type).
- ``AggregateOn``: ``Count`` (events) or ``Sum`` of ``ValueOf`` (a numeric path).
- JSON paths: ``$.a.b``, ``$.a[0]``, ``$.a[1].b`` (dot notation from the root ``$``).

``LogFormat: CLF`` and anything else outside this subset raise `RuleError`. All matching is
case sensitive, as the documentation says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from local_run.cloudwatch.intrinsics import render

MAX_KEYS = 4
MAX_FILTERS = 4
MAX_FILTER_STRINGS = 10
STRING_OPERATORS = ("In", "NotIn", "StartsWith")
NUMBER_OPERATORS = ("GreaterThan", "LessThan", "EqualTo", "NotEqualTo")
OPERATORS = (*STRING_OPERATORS, *NUMBER_OPERATORS, "IsPresent")

MISSING = object()
_STEP = re.compile(r"\.([A-Za-z0-9_@:\-]+)|\[(\d+)\]")


class RuleError(ValueError):
    """A rule outside the supported syntax, with what is wrong."""


def parse_path(path: str) -> tuple[str | int, ...]:
    """``$.a.b[0]`` -> ``("a", "b", 0)``."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise RuleError(f"not a JSON property path (must start with $): {path!r}")
    steps: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            raise RuleError(f"cannot parse JSON property path {path!r} at {path[pos:]!r}")
        steps.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not steps:
        raise RuleError(f"a path must name a field: {path!r}")
    return tuple(steps)


def resolve(event: Any, steps: Sequence[str | int]) -> Any:
    """The value at ``steps`` in ``event``, or `MISSING`."""
    value = event
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return MISSING
            value = value[step]
        else:
            if not isinstance(value, Mapping) or step not in value:
                return MISSING
            value = value[step]
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class Filter:
    path: tuple[str | int, ...]
    operator: str
    operand: Any

    def matches(self, event: Any) -> bool:
        value = resolve(event, self.path)
        if self.operator == "IsPresent":
            present = value is not MISSING and not isinstance(value, Mapping | list)
            return present is bool(self.operand)
        if value is MISSING:
            return False
        if self.operator in STRING_OPERATORS:
            text = value if isinstance(value, str) else None
            if self.operator == "In":
                return text is not None and text in self.operand
            if self.operator == "NotIn":
                return text is None or text not in self.operand
            return text is not None and any(text.startswith(p) for p in self.operand)
        number = _number(value)
        if number is None:
            return False
        return {
            "GreaterThan": number > self.operand,
            "LessThan": number < self.operand,
            "EqualTo": number == self.operand,
            "NotEqualTo": number != self.operand,
        }[self.operator]


def _filter(raw: Any) -> Filter:
    if not isinstance(raw, Mapping) or "Match" not in raw:
        raise RuleError(f"a filter needs Match: {raw!r}")
    ops = [k for k in raw if k != "Match"]
    if len(ops) != 1 or ops[0] not in OPERATORS:
        raise RuleError(f"a filter needs exactly one operator of {', '.join(OPERATORS)}: {raw!r}")
    op, operand = ops[0], raw[ops[0]]
    if op in STRING_OPERATORS:
        if (
            not isinstance(operand, list)
            or not 1 <= len(operand) <= MAX_FILTER_STRINGS
            or not all(isinstance(v, str) for v in operand)
        ):
            raise RuleError(f"{op} takes a list of 1 to {MAX_FILTER_STRINGS} strings: {raw!r}")
        operand = tuple(operand)
    elif op in NUMBER_OPERATORS:
        if _number(operand) is None:
            raise RuleError(f"{op} takes a number: {raw!r}")
        operand = float(operand)
    elif not isinstance(operand, bool):
        raise RuleError(f"IsPresent takes true or false: {raw!r}")
    return Filter(parse_path(raw["Match"]), op, operand)


@dataclass(frozen=True)
class Rule:
    name: str
    log_groups: tuple[str, ...]
    keys: tuple[tuple[str | int, ...], ...]
    filters: tuple[Filter, ...]
    aggregate: str  # Count or Sum
    value_of: tuple[str | int, ...] | None

    @classmethod
    def from_json(cls, name: str, body: Mapping[str, Any] | str) -> Rule:
        rule = json.loads(body) if isinstance(body, str) else body
        if rule.get("Schema") != {"Name": "CloudWatchLogRule", "Version": 1}:
            raise RuleError(f"{name}: Schema must be CloudWatchLogRule version 1")
        if rule.get("LogFormat") != "JSON":
            raise RuleError(
                f"{name}: only LogFormat JSON is supported, got {rule.get('LogFormat')!r}"
            )
        groups = rule.get("LogGroupNames")
        if not isinstance(groups, list) or not groups:
            raise RuleError(f"{name}: LogGroupNames must be a non-empty list")
        contribution = rule.get("Contribution") or {}
        keys = contribution.get("Keys") or []
        if not 1 <= len(keys) <= MAX_KEYS:
            raise RuleError(f"{name}: Keys must have 1 to {MAX_KEYS} members")
        filters = contribution.get("Filters") or []
        if len(filters) > MAX_FILTERS:
            raise RuleError(f"{name}: at most {MAX_FILTERS} filters")
        aggregate = rule.get("AggregateOn")
        value_of = contribution.get("ValueOf")
        if aggregate == "Sum" and value_of is None:
            raise RuleError(f"{name}: AggregateOn Sum needs ValueOf")
        if aggregate == "Count" and value_of is not None:
            raise RuleError(f"{name}: ValueOf goes only with AggregateOn Sum")
        if aggregate not in ("Count", "Sum"):
            raise RuleError(f"{name}: AggregateOn must be Count or Sum, got {aggregate!r}")
        try:
            return cls(
                name,
                tuple(groups),
                tuple(parse_path(k) for k in keys),
                tuple(_filter(f) for f in filters),
                aggregate,
                parse_path(value_of) if value_of is not None else None,
            )
        except RuleError as exc:
            raise RuleError(f"{name}: {exc}") from None

    def reads(self, log_group: str) -> bool:
        return any(
            log_group.startswith(g[:-1]) if g.endswith("*") else log_group == g
            for g in self.log_groups
        )

    def contribution(self, event: Any) -> tuple[tuple[str, ...], float] | None:
        """The contributor an event adds to, and how much; None when it does not count."""
        if not all(f.matches(event) for f in self.filters):
            return None
        values = [resolve(event, k) for k in self.keys]
        if any(v is MISSING or isinstance(v, Mapping | list) for v in values):
            return None
        if self.value_of is None:
            amount = 1.0
        else:
            number = _number(resolve(event, self.value_of))
            if number is None:
                return None
            amount = number
        return tuple(v if isinstance(v, str) else json.dumps(v) for v in values), amount


@dataclass(frozen=True)
class Contributor:
    keys: tuple[str, ...]
    value: float


def top_contributors(
    rule: Rule, events: Iterable[tuple[str, Any]], limit: int = 10
) -> list[Contributor]:
    """The rule's contributors over ``events`` ((log group, parsed JSON event) pairs),
    largest first (ties by keys), at most ``limit``."""
    totals: dict[tuple[str, ...], float] = {}
    for log_group, event in events:
        if not rule.reads(log_group):
            continue
        found = rule.contribution(event)
        if found is not None:
            keys, amount = found
            totals[keys] = totals.get(keys, 0.0) + amount
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Contributor(k, v) for k, v in ranked[:limit]]


INSIGHT_RULE_TYPE = "AWS::CloudWatch::InsightRule"


def insight_rules(
    template: Mapping[str, Any], references: Mapping[str, str] | None = None
) -> list[Rule]:
    """Every ``AWS::CloudWatch::InsightRule`` of a synthesized template, its RuleBody's
    resource references (``{Ref:X}``, e.g. log group names) replaced through
    ``references``."""
    rules = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != INSIGHT_RULE_TYPE:
            continue
        props = resource.get("Properties", {})
        body = render(props.get("RuleBody"))
        for token, value in (references or {}).items():
            body = body.replace(token, value)
        rules.append(Rule.from_json(str(props.get("RuleName", logical_id)), body))
    return rules
