"""Every alarm of a synthesized CloudFormation template, read into
`local_run.cloudwatch.alarm_model`.

Input: the template as a dict, from ``aws_cdk.assertions.Template.from_stack(stack).to_json()``
or ``json.load`` of a ``cdk.out/<stack>.template.json`` (`read_template_file`).

- ``AWS::CloudWatch::Alarm`` in either form: one metric (Namespace, MetricName, Dimensions,
  Statistic or ExtendedStatistic, Period) or ``Metrics`` (metric math: MetricDataQueries with
  Id, Expression or MetricStat, ReturnData). Both become `MetricQuery` tuples, the one-metric
  form as a single query with id ``m1``.
- ``AWS::CloudWatch::CompositeAlarm``: the AlarmRule parsed by `local_run.cloudwatch.alarm_rule`
  into a small tree whose leaves name the child alarms by logical id (``Fn::GetAtt [X, Arn]`` and
  ``Ref X`` to an alarm resource, or a plain alarm name or ARN of an alarm in the template).

Intrinsics are rendered as tokens (`local_run.cloudwatch.intrinsics`): ``{"Ref": "X"}`` ->
``{Ref:X}``, ``{"Fn::GetAtt": ["X", "Arn"]}`` -> ``{GetAtt:X.Arn}``, ``Fn::Join`` joined.
Dimension values that are Refs (e.g. a Lambda function's FunctionName) stay tokens; map them with
`TemplateAlarms.with_dimension_values`. An AlarmName is resolved where possible
(``parameters`` may give pseudo parameters such as ``AWS::StackName``); otherwise the alarm is
named by its logical id.

Any shape this module does not understand raises `TemplateAlarmError` naming the alarm.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from local_run.cloudwatch import metric_math
from local_run.cloudwatch.alarm_model import (
    PERCENTILE,
    SIMPLE_STATISTICS,
    ComparisonOperator,
    CompositeAlarm,
    Dimensions,
    MetricAlarm,
    MetricId,
    MetricQuery,
    MetricStat,
    TemplateAlarms,
    TreatMissingData,
)
from local_run.cloudwatch.alarm_rule import parse_rule
from local_run.cloudwatch.intrinsics import TemplateAlarmError, is_token, render

ALARM_TYPE = "AWS::CloudWatch::Alarm"
COMPOSITE_TYPE = "AWS::CloudWatch::CompositeAlarm"

SINGLE_METRIC_ID = "m1"


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
            rule=parse_rule(logical_id, props.get("AlarmRule"), alarm_ids, all_names),
            alarm_actions=_actions(props.get("AlarmActions")),
            ok_actions=_actions(props.get("OKActions")),
        )
        for logical_id, props in composite_resources.items()
    )
    return TemplateAlarms(metric_alarms, composites)


def _name(logical_id: str, raw: Any, parameters: Mapping[str, str]) -> str:
    if raw is None:
        return logical_id
    try:
        name = render(raw, parameters)
    except TemplateAlarmError:
        return logical_id
    return logical_id if is_token(name) else name


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
            render(props["Namespace"]),
            render(props["MetricName"]),
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
        render(metric_raw["Namespace"]),
        render(metric_raw["MetricName"]),
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
