"""Every alarm of a synthesized CloudFormation template, as frozen dataclasses.

Input: the template as a dict, from ``aws_cdk.assertions.Template.from_stack(stack).to_json()``
or ``json.load`` of a ``cdk.out/<stack>.template.json`` (`read_template_file`).

- ``AWS::CloudWatch::Alarm`` in either form: one metric (Namespace, MetricName, Dimensions,
  Statistic or ExtendedStatistic, Period) or ``Metrics`` (metric math: MetricDataQueries with
  Id, Expression or MetricStat, ReturnData). Both become `MetricQuery` tuples, the one-metric
  form as a single query with id ``m1``.
- ``AWS::CloudWatch::CompositeAlarm``: the AlarmRule parsed into a small tree whose leaves
  name the child alarms by logical id (``Fn::GetAtt [X, Arn]`` and ``Ref X`` to an alarm
  resource, or a plain alarm name or ARN of an alarm in the template).

Intrinsics are rendered as tokens: ``{"Ref": "X"}`` -> ``{Ref:X}``, ``{"Fn::GetAtt": ["X",
"Arn"]}`` -> ``{GetAtt:X.Arn}``, ``Fn::Join`` joined. Dimension values that are Refs (e.g. a
Lambda function's FunctionName) stay tokens; map them with `TemplateAlarms.with_dimension_values`.
An AlarmName is resolved where possible (``parameters`` may give pseudo parameters such as
``AWS::StackName``); otherwise the alarm is named by its logical id.

Any shape this module does not understand raises `TemplateAlarmError` naming the alarm.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from local_run import metric_math

ALARM_TYPE = "AWS::CloudWatch::Alarm"
COMPOSITE_TYPE = "AWS::CloudWatch::CompositeAlarm"

Dimensions = tuple[tuple[str, str], ...]  # (name, value), sorted by name

SIMPLE_STATISTICS = ("Sum", "SampleCount", "Average", "Minimum", "Maximum")
PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0+)?)$")

SINGLE_METRIC_ID = "m1"


class TemplateAlarmError(ValueError):
    """An alarm shape this module does not support, or a broken reference."""


class ComparisonOperator(enum.Enum):
    GREATER_THAN = "GreaterThanThreshold"
    GREATER_THAN_OR_EQUAL = "GreaterThanOrEqualToThreshold"
    LESS_THAN = "LessThanThreshold"
    LESS_THAN_OR_EQUAL = "LessThanOrEqualToThreshold"

    def breaches(self, value: float, threshold: float) -> bool:
        if self is ComparisonOperator.GREATER_THAN:
            return value > threshold
        if self is ComparisonOperator.GREATER_THAN_OR_EQUAL:
            return value >= threshold
        if self is ComparisonOperator.LESS_THAN:
            return value < threshold
        return value <= threshold

    @property
    def symbol(self) -> str:
        return {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=",
                "LessThanThreshold": "<", "LessThanOrEqualToThreshold": "<="}[self.value]


class TreatMissingData(enum.Enum):
    MISSING = "missing"
    NOT_BREACHING = "notBreaching"
    BREACHING = "breaching"
    IGNORE = "ignore"


@dataclass(frozen=True)
class MetricId:
    """One CloudWatch series: namespace, name and the EXACT dimension set."""

    namespace: str
    name: str
    dimensions: Dimensions = ()


@dataclass(frozen=True)
class MetricStat:
    metric: MetricId
    period: int
    stat: str  # Sum, SampleCount, Average, Minimum, Maximum or pNN[.NN]


@dataclass(frozen=True)
class MetricQuery:
    """One MetricDataQuery: a metric statistic or an expression over other queries."""

    id: str
    metric_stat: MetricStat | None = None
    expression: str | None = None
    return_data: bool = True
    label: str | None = None


@dataclass(frozen=True)
class MetricAlarm:
    logical_id: str
    name: str
    queries: tuple[MetricQuery, ...]
    period: int
    threshold: float
    comparison: ComparisonOperator
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: TreatMissingData
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()

    @property
    def returned(self) -> MetricQuery:
        """The query whose values the alarm compares (exactly one returns data)."""
        return next(q for q in self.queries if q.return_data)

    @property
    def metrics(self) -> tuple[MetricId, ...]:
        return tuple(q.metric_stat.metric for q in self.queries if q.metric_stat is not None)


# -- composite alarm rules ----------------------------------------------------------------


@dataclass(frozen=True)
class StateIs:
    """``ALARM(x)``, ``OK(x)`` or ``INSUFFICIENT_DATA(x)``; ``alarm`` is a logical id."""

    state: str
    alarm: str


@dataclass(frozen=True)
class Not:
    operand: Rule


@dataclass(frozen=True)
class AllOf:
    operands: tuple[Rule, ...]


@dataclass(frozen=True)
class AnyOf:
    operands: tuple[Rule, ...]


@dataclass(frozen=True)
class Constant:
    value: bool


Rule = StateIs | Not | AllOf | AnyOf | Constant


def rule_children(rule: Rule) -> frozenset[str]:
    if isinstance(rule, StateIs):
        return frozenset({rule.alarm})
    if isinstance(rule, Not):
        return rule_children(rule.operand)
    if isinstance(rule, AllOf | AnyOf):
        return frozenset().union(*(rule_children(r) for r in rule.operands))
    return frozenset()


@dataclass(frozen=True)
class CompositeAlarm:
    logical_id: str
    name: str
    rule: Rule
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()

    @property
    def children(self) -> frozenset[str]:
        return rule_children(self.rule)


@dataclass(frozen=True)
class TemplateAlarms:
    metric_alarms: tuple[MetricAlarm, ...]
    composite_alarms: tuple[CompositeAlarm, ...]

    def all_alarms(self) -> tuple[MetricAlarm | CompositeAlarm, ...]:
        return (*self.metric_alarms, *self.composite_alarms)

    def by_name(self, name: str) -> MetricAlarm | CompositeAlarm:
        for alarm in self.all_alarms():
            if alarm.name == name:
                return alarm
        raise KeyError(f"no alarm named {name!r}")

    def metric_stats(self) -> frozenset[MetricStat]:
        """Every metric statistic the metric alarms read."""
        return frozenset(
            q.metric_stat for a in self.metric_alarms for q in a.queries if q.metric_stat
        )

    def unresolved_dimension_values(self) -> frozenset[str]:
        """Dimension values that are still tokens (``{Ref:X}``)."""
        return frozenset(
            value
            for alarm in self.metric_alarms
            for metric in alarm.metrics
            for _, value in metric.dimensions
            if _is_token(value)
        )

    def with_dimension_values(self, mapping: Mapping[str, str]) -> TemplateAlarms:
        """The same alarms with dimension values replaced through ``mapping`` (e.g.
        ``{"{Ref:connectionB9EBFA2C}": "ws-test-connection..."}``)."""
        return self._with_metrics(
            lambda m: replace(
                m, dimensions=tuple(sorted((n, mapping.get(v, v)) for n, v in m.dimensions))
            )
        )

    def with_namespaces(self, mapping: Mapping[str, str]) -> TemplateAlarms:
        """The same alarms watching other namespaces (e.g. a local run's own,
        ``{"AudioTranscription/WebSocket": "LocalRun/<id>/AudioTranscription/WebSocket"}``)."""
        return self._with_metrics(
            lambda m: replace(m, namespace=mapping.get(m.namespace, m.namespace))
        )

    def _with_metrics(self, change: Callable[[MetricId], MetricId]) -> TemplateAlarms:
        def query(q: MetricQuery) -> MetricQuery:
            if q.metric_stat is None:
                return q
            stat = replace(q.metric_stat, metric=change(q.metric_stat.metric))
            return replace(q, metric_stat=stat)

        return replace(
            self,
            metric_alarms=tuple(
                replace(a, queries=tuple(query(q) for q in a.queries)) for a in self.metric_alarms
            ),
        )


# -- reading ----------------------------------------------------------------------------------


def read_template_file(
    path: str | Path, parameters: Mapping[str, str] | None = None
) -> TemplateAlarms:
    """The alarms of a ``cdk.out/*.template.json`` file."""
    with open(path, encoding="utf-8") as f:
        return read_alarms(json.load(f), parameters)


def read_alarms(
    template: Mapping[str, Any], parameters: Mapping[str, str] | None = None
) -> TemplateAlarms:
    """Every alarm of ``template``; ``parameters`` resolves Refs to parameters and pseudo
    parameters (e.g. ``{"AWS::StackName": "ws-prod"}``) in alarm names."""
    resources: Mapping[str, Mapping[str, Any]] = template.get("Resources", {})
    params = dict(parameters or {})
    metric_alarms = tuple(
        _metric_alarm(logical_id, resource.get("Properties", {}), params)
        for logical_id, resource in resources.items()
        if resource.get("Type") == ALARM_TYPE
    )
    names = {a.name: a.logical_id for a in metric_alarms}
    alarm_ids = {
        logical_id
        for logical_id, resource in resources.items()
        if resource.get("Type") in (ALARM_TYPE, COMPOSITE_TYPE)
    }
    composite_resources = {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in resources.items()
        if resource.get("Type") == COMPOSITE_TYPE
    }
    composite_names = {
        _name(logical_id, props.get("AlarmName"), params): logical_id
        for logical_id, props in composite_resources.items()
    }
    all_names = {**names, **composite_names}
    composites = tuple(
        CompositeAlarm(
            logical_id=logical_id,
            name=_name(logical_id, props.get("AlarmName"), params),
            rule=_parse_rule(logical_id, props.get("AlarmRule"), alarm_ids, all_names),
            alarm_actions=_actions(props.get("AlarmActions")),
            ok_actions=_actions(props.get("OKActions")),
        )
        for logical_id, props in composite_resources.items()
    )
    return TemplateAlarms(metric_alarms, composites)


def render(value: Any, parameters: Mapping[str, str] | None = None) -> str:
    """A string property with intrinsics as tokens (Refs to ``parameters`` resolved)."""
    params = parameters or {}
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise TemplateAlarmError(f"expected a string, got {value!r}")
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, Mapping) and len(value) == 1:
        if "Ref" in value:
            ref = value["Ref"]
            return params.get(ref, "{Ref:" + ref + "}")
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            if isinstance(target, str):
                target = target.split(".", 1)
            return "{GetAtt:" + ".".join(target) + "}"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return str(separator).join(render(part, params) for part in parts)
    raise TemplateAlarmError(f"cannot render {value!r}")


_TOKEN_RE = re.compile(r"\{(?:Ref|GetAtt):[^{}]+\}")


def _is_token(text: str) -> bool:
    return bool(_TOKEN_RE.search(text))


def _name(logical_id: str, raw: Any, parameters: Mapping[str, str]) -> str:
    if raw is None:
        return logical_id
    try:
        name = render(raw, parameters)
    except TemplateAlarmError:
        return logical_id
    return logical_id if _is_token(name) else name


def _actions(raw: Any) -> tuple[str, ...]:
    return tuple(render(a) for a in raw or ())


def _metric_alarm(
    logical_id: str, props: Mapping[str, Any], parameters: Mapping[str, str]
) -> MetricAlarm:
    name = _name(logical_id, props.get("AlarmName"), parameters)
    where = f"alarm {name} ({logical_id})"

    def fail(message: str) -> TemplateAlarmError:
        return TemplateAlarmError(f"{where}: {message}")

    for unsupported in ("ThresholdMetricId", "EvaluateLowSampleCountPercentile", "Unit"):
        if unsupported in props:
            raise fail(f"{unsupported} is not supported")
    try:
        comparison = ComparisonOperator(props.get("ComparisonOperator"))
    except ValueError:
        raise fail(f"unsupported ComparisonOperator {props.get('ComparisonOperator')!r}") from None
    try:
        treat = TreatMissingData(props.get("TreatMissingData", "missing"))
    except ValueError:
        raise fail(f"unsupported TreatMissingData {props.get('TreatMissingData')!r}") from None
    if "Threshold" not in props:
        raise fail("no Threshold")
    evaluation_periods = _positive_int(props.get("EvaluationPeriods"), "EvaluationPeriods", fail)
    datapoints = _positive_int(
        props.get("DatapointsToAlarm", evaluation_periods), "DatapointsToAlarm", fail
    )
    if datapoints > evaluation_periods:
        raise fail("DatapointsToAlarm exceeds EvaluationPeriods")

    if "Metrics" in props:
        if "MetricName" in props or "Namespace" in props:
            raise fail("has both Metrics and MetricName/Namespace")
        queries = tuple(_query(q, fail) for q in props["Metrics"])
        _check_queries(queries, fail)
        periods = {q.metric_stat.period for q in queries if q.metric_stat is not None}
        if props.get("Period") is not None:
            periods.add(_positive_int(props["Period"], "Period", fail))
        if len(periods) != 1:
            raise fail(f"metrics must share one period, got {sorted(periods)}")
        period = periods.pop()
    else:
        statistic = props.get("Statistic")
        extended = props.get("ExtendedStatistic")
        if (statistic is None) == (extended is None):
            raise fail("needs exactly one of Statistic and ExtendedStatistic")
        stat = statistic if statistic is not None else extended
        _check_stat(stat, fail)
        if "MetricName" not in props or "Namespace" not in props:
            raise fail("needs MetricName and Namespace (or Metrics)")
        period = _positive_int(props.get("Period"), "Period", fail)
        metric = MetricId(
            render(props["Namespace"]), render(props["MetricName"]),
            _dimensions(props.get("Dimensions"), fail),
        )
        queries = (MetricQuery(SINGLE_METRIC_ID, MetricStat(metric, period, str(stat))),)

    return MetricAlarm(
        logical_id=logical_id,
        name=name,
        queries=queries,
        period=period,
        threshold=float(props["Threshold"]),
        comparison=comparison,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints,
        treat_missing_data=treat,
        alarm_actions=_actions(props.get("AlarmActions")),
        ok_actions=_actions(props.get("OKActions")),
    )


def _positive_int(raw: Any, what: str, fail: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise fail(f"{what} must be a positive integer, got {raw!r}")
    try:
        value = int(raw)
    except ValueError:
        raise fail(f"{what} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise fail(f"{what} must be a positive integer, got {raw!r}")
    return value


def _check_stat(stat: Any, fail: Any) -> None:
    if not isinstance(stat, str) or not (stat in SIMPLE_STATISTICS or PERCENTILE.match(stat)):
        raise fail(
            f"unsupported statistic {stat!r} (supported: {', '.join(SIMPLE_STATISTICS)}, pNN)"
        )


def _dimensions(raw: Any, fail: Any) -> Dimensions:
    dims = tuple(sorted((render(d["Name"]), render(d["Value"])) for d in raw or ()))
    if len({n for n, _ in dims}) != len(dims):
        raise fail(f"repeated dimension name in {dims}")
    return dims


def _query(raw: Mapping[str, Any], fail: Any) -> MetricQuery:
    query_id = raw.get("Id")
    if not isinstance(query_id, str):
        raise fail(f"metric query without an Id: {raw!r}")
    has_stat, has_expr = "MetricStat" in raw, "Expression" in raw
    if has_stat == has_expr:
        raise fail(f"query {query_id} needs exactly one of MetricStat and Expression")
    if "AccountId" in raw:
        raise fail(f"query {query_id}: cross-account AccountId is not supported")
    return_data = bool(raw.get("ReturnData", True))
    label = raw.get("Label")
    if has_expr:
        expression = raw["Expression"]
        try:
            metric_math.parse(expression)
        except metric_math.MetricMathError as exc:
            raise fail(f"query {query_id}: {exc}") from None
        return MetricQuery(query_id, None, expression, return_data, label)
    stat_raw = raw["MetricStat"]
    if "Unit" in stat_raw:
        raise fail(f"query {query_id}: Unit is not supported")
    metric_raw = stat_raw.get("Metric", {})
    if "MetricName" not in metric_raw or "Namespace" not in metric_raw:
        raise fail(f"query {query_id}: MetricStat.Metric needs MetricName and Namespace")
    stat = stat_raw.get("Stat")
    _check_stat(stat, fail)
    metric = MetricId(
        render(metric_raw["Namespace"]), render(metric_raw["MetricName"]),
        _dimensions(metric_raw.get("Dimensions"), fail),
    )
    period = _positive_int(stat_raw.get("Period"), f"query {query_id} Period", fail)
    return MetricQuery(query_id, MetricStat(metric, period, stat), None, return_data, label)


def _check_queries(queries: tuple[MetricQuery, ...], fail: Any) -> None:
    ids = [q.id for q in queries]
    if len(set(ids)) != len(ids):
        raise fail(f"repeated query ids in {ids}")
    returned = [q.id for q in queries if q.return_data]
    if len(returned) != 1:
        raise fail(f"exactly one query must have ReturnData true, got {returned}")
    known = set(ids)
    graph: dict[str, frozenset[str]] = {}
    for q in queries:
        if q.expression is not None:
            refs = metric_math.references(metric_math.parse(q.expression))
            missing = refs - known
            if missing:
                raise fail(f"query {q.id} references unknown ids {sorted(missing)}")
            graph[q.id] = refs

    def visit(node: str, path: tuple[str, ...]) -> None:
        if node in path:
            raise fail(f"cyclic metric math: {' -> '.join((*path, node))}")
        for ref in graph.get(node, ()):
            visit(ref, (*path, node))

    for query_id in graph:
        visit(query_id, ())


# -- composite alarm rules --------------------------------------------------------------------

_RULE_TOKEN = re.compile(
    r'\s*(?:(?P<func>ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?P<arg>"[^"]*"|[^()"\s]+)\s*\)'
    r"|(?P<word>AND|OR|NOT|TRUE|FALSE)\b|(?P<paren>[()]))"
)
_ARN_ALARM = re.compile(r"^arn:[^:]+:cloudwatch:[^:]*:[^:]*:alarm:(?P<name>.+)$")
_TOKEN_REF = re.compile(r"^\{(?:GetAtt:(?P<getatt>[^.{}]+)\.Arn|Ref:(?P<ref>[^{}]+))\}$")


def _parse_rule(
    logical_id: str, raw: Any, alarm_ids: set[str], names: Mapping[str, str]
) -> Rule:
    where = f"composite alarm {logical_id}"
    if raw is None:
        raise TemplateAlarmError(f"{where}: no AlarmRule")
    try:
        text = render(raw)
    except TemplateAlarmError as exc:
        raise TemplateAlarmError(f"{where}: {exc}") from None

    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _RULE_TOKEN.match(text, pos)
        if m is None:
            raise TemplateAlarmError(f"{where}: cannot parse AlarmRule at {text[pos:pos + 40]!r}")
        if m.group("func"):
            tokens.append((m.group("func"), _rule_target(where, m.group("arg"), alarm_ids, names)))
        elif m.group("word"):
            tokens.append((m.group("word"), ""))
        else:
            tokens.append((m.group("paren"), ""))
        pos = m.end()

    index = 0

    def peek() -> str | None:
        return tokens[index][0] if index < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal index
        if index >= len(tokens):
            raise TemplateAlarmError(f"{where}: AlarmRule ends early: {text!r}")
        index += 1
        return tokens[index - 1]

    def expression() -> Rule:
        operands = [unary()]
        ops: set[str] = set()
        while peek() in ("AND", "OR"):
            ops.add(take()[0])
            operands.append(unary())
        if len(ops) > 1:
            # AWS documents no precedence between AND and OR; refuse to guess.
            raise TemplateAlarmError(
                f"{where}: AlarmRule mixes AND and OR without parentheses: {text!r}"
            )
        if not ops:
            return operands[0]
        return AllOf(tuple(operands)) if ops == {"AND"} else AnyOf(tuple(operands))

    def unary() -> Rule:
        kind, target = take()
        if kind == "NOT":
            return Not(unary())
        if kind == "(":
            inner = expression()
            if take()[0] != ")":
                raise TemplateAlarmError(f"{where}: unbalanced parentheses in {text!r}")
            return inner
        if kind in ("TRUE", "FALSE"):
            return Constant(kind == "TRUE")
        if kind in ("ALARM", "OK", "INSUFFICIENT_DATA"):
            return StateIs(kind, target)
        raise TemplateAlarmError(f"{where}: unexpected {kind!r} in {text!r}")

    rule = expression()
    if index != len(tokens):
        raise TemplateAlarmError(f"{where}: unexpected {tokens[index][0]!r} in {text!r}")
    return rule


def _rule_target(where: str, arg: str, alarm_ids: set[str], names: Mapping[str, str]) -> str:
    value = arg.strip('"')
    token = _TOKEN_REF.match(value)
    if token:
        target = token.group("getatt") or token.group("ref")
        if target in alarm_ids:
            return target
        raise TemplateAlarmError(f"{where}: AlarmRule refers to {value}, not an alarm resource")
    arn = _ARN_ALARM.match(value)
    name = arn.group("name") if arn else value
    if name in names:
        return names[name]
    raise TemplateAlarmError(f"{where}: AlarmRule refers to unknown alarm {value!r}")
