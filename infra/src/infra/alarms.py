"""`CloudWatchAlarms`: the alarm table (`alarm_table.ALARMS`) turned into CloudWatch alarms.

Planning is plain Python (`plan_alarms`) and checks the table against the spec modules
before anything is built: every spec a service marks as alarmed is watched, and every
alarm watches the aggregate series of a spec some service marks as alarmed. A renamed or
dropped metric therefore fails the synth instead of leaving an alarm watching nothing.

Every alarm compares strictly (``>``), treats missing data as not breaching (no traffic is
not an incident) and notifies its severity's SNS topic on ALARM and on OK. A composite
"service degraded" alarm is in ALARM while any critical alarm is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.alarm_table import (
    ALARMS,
    SUM,
    AlarmDefinition,
    ErrorRate,
    LambdaErrorRate,
    MetricSource,
    ServiceMetric,
    Severity,
    Window,
)
from infra.services import AGGREGATE, SERVICES, MonitoredService
from shared_metrics import MetricSpec

COMPARISON = cw.ComparisonOperator.GREATER_THAN_THRESHOLD
MISSING_DATA = cw.TreatMissingData.NOT_BREACHING

# CloudWatch's limit for an alarm description.
MAX_DESCRIPTION_CHARS = 1024


# Metric math: percentages that are 0, not an error, when nothing happened. The ids get a
# suffix where several rates share one graph (ids must be unique per graph).
def rate_expression(errors: str, total: str) -> str:
    return f"IF({total} > 0, 100 * FILL({errors}, 0) / {total}, 0)"


SERVICE_DEGRADED_KEY = "ServiceDegraded"

# (namespace, metric name, dimension names): one CloudWatch series.
Series = tuple[str, str, tuple[str, ...]]


class AlarmPlanError(ValueError):
    """The alarm table and the spec modules disagree."""


# -- naming: the one place alarm names are made -------------------------------------------


def alarm_name(prefix: str, severity: Severity, scope: str, key: str) -> str:
    """``<prefix>-<Severity>-<service or function>-<what>``, e.g.
    ``ws-prod-Critical-AudioTranscription-AudioLatencyP95``: sorts by severity in the
    console, and says where to look before the alarm is opened."""
    return f"{prefix}-{severity.value}-{scope}-{key}"


def composite_alarm_name(prefix: str) -> str:
    return alarm_name(prefix, Severity.CRITICAL, "Service", SERVICE_DEGRADED_KEY)


# -- planning (plain Python) -----------------------------------------------------------------


@dataclass(frozen=True)
class PlannedAlarm:
    """One alarm to build: a definition applied to one service or one function."""

    definition: AlarmDefinition
    name: str
    service: MonitoredService | None = None
    function: str | None = None

    @property
    def scope(self) -> str:
        if self.service is not None:
            return self.service.label
        return self.function or ""

    @property
    def severity(self) -> Severity:
        return self.definition.severity

    def watched_series(self) -> tuple[Series, ...]:
        """The service series this alarm reads (none for AWS/Lambda alarms)."""
        if self.service is None:
            return ()
        return tuple(
            (self.service.namespace, spec.name, AGGREGATE) for spec in self.definition.source.specs
        )

    def description(self) -> str:
        d = self.definition
        return f"{d.severity.value}: {_condition(self)}. {d.meaning} First check: {d.first_check}"


def plan_alarms(
    prefix: str,
    functions: Sequence[str],
    services: Sequence[MonitoredService] = SERVICES,
    definitions: Sequence[AlarmDefinition] = ALARMS,
) -> tuple[PlannedAlarm, ...]:
    """Apply each definition to its services (or functions); raise `AlarmPlanError` when the
    table and the spec modules disagree."""
    planned: list[PlannedAlarm] = []
    for definition in definitions:
        source = definition.source
        if isinstance(source, LambdaErrorRate):
            targets = [
                PlannedAlarm(
                    definition,
                    alarm_name(prefix, definition.severity, f, definition.key),
                    function=f,
                )
                for f in functions
            ]
        else:
            targets = [
                PlannedAlarm(
                    definition,
                    alarm_name(prefix, definition.severity, s.label, definition.key),
                    service=s,
                )
                for s in services
                if all(s.alarms_on(spec) for spec in source.specs)
            ]
        if not targets:
            raise AlarmPlanError(
                f"alarm {definition.severity.value} {definition.key} watches nothing: "
                f"{_what_is_missing(source)}"
            )
        planned.extend(targets)
    _check_coverage(planned, services)
    names = [p.name for p in planned]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise AlarmPlanError(f"alarm names must be unique: {', '.join(duplicates)}")
    for p in planned:
        if len(p.description()) > MAX_DESCRIPTION_CHARS:
            raise AlarmPlanError(
                f"{p.name}: description is {len(p.description())} characters, "
                f"CloudWatch allows {MAX_DESCRIPTION_CHARS}"
            )
    return tuple(planned)


def _what_is_missing(source: MetricSource) -> str:
    if isinstance(source, LambdaErrorRate):
        return "no Lambda functions were given"
    names = " and ".join(spec.name for spec in source.specs)
    return f"no service's ALARMED tuple holds {names}"


def _check_coverage(planned: Sequence[PlannedAlarm], services: Sequence[MonitoredService]) -> None:
    for service in services:
        watched = {
            id(spec) for p in planned if p.service is service for spec in p.definition.source.specs
        }
        for spec in service.alarmed:
            if not service.publishes(spec):
                raise AlarmPlanError(
                    f"{service.namespace} marks {spec.name} as alarmed but does not publish "
                    f"its aggregate series (dimension set []), which is what alarms watch"
                )
            if id(spec) not in watched:
                raise AlarmPlanError(
                    f"{service.namespace} marks {spec.name} as alarmed, but no alarm "
                    f"definition watches it; add one to infra.alarm_table.ALARMS"
                )


def _condition(p: PlannedAlarm) -> str:
    d = p.definition
    source = d.source
    if isinstance(source, ServiceMetric) and p.service is not None:
        what = f"{d.statistic} of {p.service.namespace} {source.spec.name}"
    elif isinstance(source, ErrorRate) and p.service is not None:
        what = (
            f"{p.service.namespace} {source.errors.name} / {source.attempts.name} "
            f"(per-period sums, 0 without attempts)"
        )
    else:
        what = f"AWS/Lambda Errors / Invocations of function {p.function} (per-period sums)"
    return f"{what} > {d.threshold:g}{d.unit_suffix} {_window_text(d.window)}"


def _window_text(window: Window) -> str:
    minutes = window.period_seconds // 60
    if window.evaluation_periods == 1:
        return "within 1 minute" if minutes == 1 else f"within {minutes} minutes"
    if minutes == 1 and window.datapoints_to_alarm == window.evaluation_periods:
        return f"in every minute for {window.evaluation_periods} minutes"
    return (
        f"in {window.datapoints_to_alarm} of {window.evaluation_periods} "
        f"{minutes}-minute periods"
    )


# -- metrics (shared with the dashboard) -------------------------------------------------------


def service_metric(
    service: MonitoredService,
    spec: MetricSpec,
    statistic: str,
    period: Duration,
    label: str | None = None,
) -> cw.Metric:
    """The aggregate series of ``spec`` in ``service``'s namespace."""
    if not service.publishes(spec):
        raise AlarmPlanError(f"{service.namespace} does not publish {spec.name}")
    return cw.Metric(
        namespace=service.namespace,
        metric_name=spec.name,
        statistic=statistic,
        period=period,
        # No label by default: an alarm on one metric then synthesizes to the plain form
        # (Namespace, MetricName, Period, [Extended]Statistic).
        label=label,
    )


def error_rate(
    service: MonitoredService, source: ErrorRate, period: Duration, id_suffix: str = ""
) -> cw.MathExpression:
    errors, attempts = f"errors{id_suffix}", f"attempts{id_suffix}"
    return cw.MathExpression(
        expression=rate_expression(errors, attempts),
        using_metrics={
            errors: service_metric(service, source.errors, SUM, period, source.errors.name),
            attempts: service_metric(service, source.attempts, SUM, period, source.attempts.name),
        },
        period=period,
        label=f"{service.label} error rate %",
    )


def lambda_error_rate(
    label: str, function: lambda_.IFunction, period: Duration, id_suffix: str = ""
) -> cw.MathExpression:
    errors, invocations = f"errors{id_suffix}", f"invocations{id_suffix}"
    return cw.MathExpression(
        expression=rate_expression(errors, invocations),
        using_metrics={
            errors: function.metric_errors(period=period, statistic=SUM),
            invocations: function.metric_invocations(period=period, statistic=SUM),
        },
        period=period,
        label=f"{label} error rate %",
    )


def metric_for(
    source: MetricSource,
    statistic: str,
    period: Duration,
    *,
    service: MonitoredService | None = None,
    function: tuple[str, lambda_.IFunction] | None = None,
    id_suffix: str = "",
) -> cw.IMetric:
    """The CloudWatch metric (or metric math) a source stands for in one service/function."""
    if isinstance(source, LambdaErrorRate):
        if function is None:
            raise AlarmPlanError("a Lambda error rate needs a function")
        return lambda_error_rate(function[0], function[1], period, id_suffix)
    if service is None:
        raise AlarmPlanError("a service metric needs a service")
    if isinstance(source, ErrorRate):
        return error_rate(service, source, period, id_suffix)
    return service_metric(service, source.spec, statistic, period)


# -- the construct -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltAlarm:
    planned: PlannedAlarm
    alarm: cw.Alarm
    metric: cw.IMetric


class CloudWatchAlarms(Construct):
    """Every alarm of the table, wired to the SNS topic of its severity, and the composite
    "service degraded" alarm over the critical ones.

    ``functions`` maps each Lambda function's label (its handler module, e.g. ``connection``)
    to the function; ``topics`` maps each severity to its topic.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        topics: Mapping[Severity, sns.ITopic],
        functions: Mapping[str, lambda_.IFunction],
        services: Sequence[MonitoredService] = SERVICES,
        definitions: Sequence[AlarmDefinition] = ALARMS,
    ) -> None:
        super().__init__(scope, construct_id)
        missing_topics = [s.value for s in Severity if s not in topics]
        if missing_topics:
            raise AlarmPlanError(f"no SNS topic for severity {', '.join(missing_topics)}")
        self.plan = plan_alarms(name_prefix, list(functions), services, definitions)
        self.alarms: list[BuiltAlarm] = []
        for planned in self.plan:
            d = planned.definition
            metric = metric_for(
                d.source,
                d.statistic,
                Duration.seconds(d.window.period_seconds),
                service=planned.service,
                function=(
                    (planned.function, functions[planned.function])
                    if planned.function is not None
                    else None
                ),
            )
            alarm = cw.Alarm(
                self,
                f"{d.severity.value}-{planned.scope}-{d.key}",
                alarm_name=planned.name,
                alarm_description=planned.description(),
                metric=metric,
                threshold=d.threshold,
                comparison_operator=COMPARISON,
                evaluation_periods=d.window.evaluation_periods,
                datapoints_to_alarm=d.window.datapoints_to_alarm,
                treat_missing_data=MISSING_DATA,
            )
            _notify(alarm, topics[d.severity])
            self.alarms.append(BuiltAlarm(planned, alarm, metric))

        critical = [b.alarm for b in self.alarms if b.planned.severity is Severity.CRITICAL]
        self.service_degraded = cw.CompositeAlarm(
            self,
            SERVICE_DEGRADED_KEY,
            composite_alarm_name=composite_alarm_name(name_prefix),
            alarm_rule=cw.AlarmRule.any_of(*critical),
            alarm_description=(
                "Critical: at least one critical alarm is in ALARM (audio latency, Transcribe "
                "stream errors or a function's error rate): users are affected now. First "
                "check: which critical alarm fired (the alarm status widget at the top of the "
                "dashboard), then that alarm's own runbook."
            ),
        )
        _notify(self.service_degraded, topics[Severity.CRITICAL])

    def all_alarms(self) -> list[cw.IAlarm]:
        """Every alarm, the composite first (for the dashboard's status widget)."""
        return [self.service_degraded, *(b.alarm for b in self.alarms)]


def _notify(alarm: cw.AlarmBase, topic: sns.ITopic) -> None:
    action = cw_actions.SnsAction(topic)
    alarm.add_alarm_action(action)
    alarm.add_ok_action(action)
