"""The alarms of a template as frozen dataclasses: what `local_run.cloudwatch.template_alarms` reads
and `local_run.cloudwatch.evaluator` evaluates.

A `MetricAlarm` compares the values of one of its `MetricQuery` tuples (a `MetricStat`, or metric
math over the others, see `local_run.cloudwatch.metric_math`) with a threshold; a `CompositeAlarm`
holds a rule over other alarms' states (`local_run.cloudwatch.alarm_rule`). `TemplateAlarms` holds
both kinds and maps the resource references left in dimension values (tokens, see
`local_run.cloudwatch.intrinsics`) or the namespaces to what they are where the alarms are
evaluated.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from local_run.cloudwatch.alarm_rule import Rule, rule_children
from local_run.cloudwatch.intrinsics import is_token

Dimensions = tuple[tuple[str, str], ...]  # (name, value), sorted by name

SIMPLE_STATISTICS = ("Sum", "SampleCount", "Average", "Minimum", "Maximum")
PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0+)?)$")


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
        return {
            "GreaterThanThreshold": ">",
            "GreaterThanOrEqualToThreshold": ">=",
            "LessThanThreshold": "<",
            "LessThanOrEqualToThreshold": "<=",
        }[self.value]


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
            if is_token(value)
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
