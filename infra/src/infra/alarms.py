"""`CloudWatchAlarms`: the alarm table (`alarm_table.ALARMS`) turned into CloudWatch alarms.

Planning is plain Python (`plan_alarms`) and checks the table against the spec modules
before anything is built: every spec a service marks as alarmed is watched, and every
alarm watches the aggregate series of a spec some service marks as alarmed. A renamed or
dropped metric therefore fails the synth instead of leaving an alarm watching nothing.

Every alarm compares strictly (``>``) and treats missing data as not breaching (no traffic is
not an incident; the per-function heartbeat catches metrics that stop arriving while the
function runs). One page per incident: the composite "service degraded" alarm, in ALARM while
any critical alarm is, is the only alarm that notifies the critical topic (on ALARM and OK);
the critical alarms themselves notify nobody and show their state on the dashboard. Warning
alarms notify the warning topic on ALARM and OK.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.alarm_table import (
    ALARMS,
    HANDLER_DIMENSION,
    SUM,
    AlarmDefinition,
    ApiGatewayMetric,
    ErrorRate,
    Heartbeat,
    LambdaErrorRate,
    LambdaMetric,
    Limit,
    MetricSource,
    ServiceMetric,
    Severity,
    TableSystemErrors,
    TableThrottles,
    TopicDeliveryFailures,
    Window,
)
from infra.drilldown import drilldown_text
from infra.services import AGGREGATE, SERVICES, MonitoredService
from session_management.websocket_service.specs import (
    DYNAMODB_OPERATIONS,
    HANDLER_INVOCATIONS,
    LAMBDA_ERRORS,
    OTHER,
)
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


# -- what the platform alarms are placed on -----------------------------------------------

# AWS namespaces of the platform metrics.
LAMBDA_NAMESPACE = "AWS/Lambda"
API_GATEWAY_NAMESPACE = "AWS/ApiGateway"
DYNAMODB_NAMESPACE = "AWS/DynamoDB"
SNS_NAMESPACE = "AWS/SNS"

# The scope of the WebSocket stage's alarms in their names.
STAGE_SCOPE = "WebSocketApi"

# The DynamoDB operations the services call: SystemErrors is published per operation.
TABLE_OPERATIONS = tuple(op for op in DYNAMODB_OPERATIONS if op != OTHER)


@dataclass(frozen=True)
class MonitoredFunction:
    """One Lambda function as the alarms see it: its label (the handler module, also the
    ``Handler`` dimension value), the namespace it publishes to, and its limits as deployed."""

    label: str
    namespace: str
    timeout: timedelta
    concurrency_limit: int

    def limit(self, which: Limit) -> float:
        if which is Limit.TIMEOUT_MS:
            return self.timeout.total_seconds() * 1000
        return float(self.concurrency_limit)


@dataclass(frozen=True)
class Resources:
    """Everything the platform alarms watch besides the services' namespaces."""

    functions: tuple[MonitoredFunction, ...]
    stage: bool = True  # the WebSocket stage exists (one per stack)
    tables: tuple[str, ...] = ()  # table labels, e.g. "SessionsTable"
    topics: tuple[Severity, ...] = tuple(Severity)


def topic_scope(severity: Severity) -> str:
    return f"{severity.value}AlarmsTopic"


# -- planning (plain Python) -----------------------------------------------------------------


@dataclass(frozen=True)
class PlannedAlarm:
    """One alarm to build: a definition applied to one service, function, the stage, a
    table or a topic (``scope`` names it), with its threshold resolved."""

    definition: AlarmDefinition
    name: str
    scope: str
    threshold: float
    service: MonitoredService | None = None
    function: MonitoredFunction | None = None
    prefix: str = ""  # the stack's: names the drill-down rule and query in the runbook

    @property
    def severity(self) -> Severity:
        return self.definition.severity

    @property
    def source(self) -> MetricSource:
        return self.definition.source

    def watched_series(self) -> tuple[Series, ...]:
        """The services' own series this alarm reads (namespace, name, dimension names);
        AWS-namespace metrics are not in it."""
        if self.service is not None:
            return tuple(
                (self.service.namespace, spec.name, AGGREGATE)
                for spec in self.definition.source.specs
            )
        source = self.definition.source
        if self.function is not None and isinstance(
            source, LambdaErrorRate | LambdaMetric | Heartbeat
        ):
            return tuple(
                (self.function.namespace, spec.name, dims) for spec, dims in source.function_specs
            )
        return ()

    def description(self) -> str:
        d = self.definition
        drill = drilldown_text(self.prefix, d.severity.value, d.key)
        return (
            f"{d.severity.value}: {_condition(self)}. {d.meaning} First check: {d.first_check}"
            f"{drill}"
        )


def plan_alarms(
    prefix: str,
    resources: Resources,
    services: Sequence[MonitoredService] = SERVICES,
    definitions: Sequence[AlarmDefinition] = ALARMS,
) -> tuple[PlannedAlarm, ...]:
    """Apply each definition to its services or resources; raise `AlarmPlanError` when the
    table and the spec modules disagree."""
    planned: list[PlannedAlarm] = []
    for definition in definitions:
        targets = _targets(prefix, definition, resources, services)
        if not targets:
            raise AlarmPlanError(
                f"alarm {definition.severity.value} {definition.key} watches nothing: "
                f"{_what_is_missing(definition.source)}"
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


def _targets(
    prefix: str,
    d: AlarmDefinition,
    resources: Resources,
    services: Sequence[MonitoredService],
) -> list[PlannedAlarm]:
    def at(
        scope: str,
        service: MonitoredService | None = None,
        function: MonitoredFunction | None = None,
    ) -> PlannedAlarm:
        threshold = d.threshold
        if isinstance(d.source, LambdaMetric) and d.source.relative_to is not None:
            if function is None:
                raise AlarmPlanError(f"{d.key}: a threshold relative to a function needs one")
            threshold = d.threshold * function.limit(d.source.relative_to)
        name = alarm_name(prefix, d.severity, scope, d.key)
        return PlannedAlarm(d, name, scope, threshold, service, function, prefix)

    source = d.source
    if isinstance(source, LambdaErrorRate | LambdaMetric | Heartbeat):
        return [at(f.label, function=f) for f in resources.functions]
    if isinstance(source, ApiGatewayMetric):
        return [at(STAGE_SCOPE)] if resources.stage else []
    if isinstance(source, TableThrottles | TableSystemErrors):
        return [at(table) for table in resources.tables]
    if isinstance(source, TopicDeliveryFailures):
        return [at(topic_scope(source.topic))] if source.topic in resources.topics else []
    return [
        at(s.label, service=s)
        for s in services
        if all(s.alarms_on(spec) for spec in source.specs)
    ]


def _what_is_missing(source: MetricSource) -> str:
    if isinstance(source, ServiceMetric | ErrorRate):
        names = " and ".join(spec.name for spec in source.specs)
        return f"no service's ALARMED tuple holds {names}"
    return f"no resource of its kind was given ({type(source).__name__})"


def _check_coverage(planned: Sequence[PlannedAlarm], services: Sequence[MonitoredService]) -> None:
    for service in services:
        watched = {id(spec) for p in planned if p.service is service for spec in p.source.specs}
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
    elif isinstance(source, LambdaErrorRate) and p.function is not None:
        what = (
            f"(AWS/Lambda Errors + {p.function.namespace} LambdaErrors[Handler="
            f"{p.function.label}]) / Invocations of function {p.function.label} (per-period "
            f"sums, 0 below {source.min_failures} failed requests)"
        )
    elif isinstance(source, LambdaMetric) and p.function is not None:
        what = f"{d.statistic} AWS/Lambda {source.metric_name} of function {p.function.label}"
        if source.relative_to is not None:
            what += f" ({d.threshold:.0%} of {source.relative_to.value})"
    elif isinstance(source, Heartbeat) and p.function is not None:
        what = (
            f"minutes with AWS/Lambda Invocations of function {p.function.label} but no "
            f"{p.function.namespace} HandlerInvocations[Handler={p.function.label}]"
        )
    elif isinstance(source, ApiGatewayMetric):
        what = f"{d.statistic} AWS/ApiGateway {source.metric_name} of the WebSocket stage"
    elif isinstance(source, TableThrottles):
        what = f"AWS/DynamoDB Read+WriteThrottleEvents of table {p.scope}"
    elif isinstance(source, TableSystemErrors):
        what = f"AWS/DynamoDB SystemErrors of table {p.scope} (all operations)"
    else:
        what = f"AWS/SNS NumberOfNotificationsFailed of topic {p.scope}"
    return f"{what} > {p.threshold:g}{d.unit_suffix} {window_text(d.window)}"


def window_text(window: Window) -> str:
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

# Lambda's default concurrency quota per account and Region; a function without reserved
# concurrency is limited by what the account has left.
DEFAULT_ACCOUNT_CONCURRENCY = 1000


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


def lambda_error_rate_expression(
    errors: str, handled: str, invocations: str, min_failures: int
) -> str:
    """Failed requests (unhandled + handled) in percent of invocations; 0 in a period with
    fewer than ``min_failures`` failed requests, and without invocations."""
    failed = f"FILL({errors}, 0) + FILL({handled}, 0)"
    return (
        f"IF({invocations} > 0, IF({failed} >= {min_failures}, "
        f"100 * ({failed}) / {invocations}, 0), 0)"
    )


def heartbeat_expression(invocations: str, seen: str) -> str:
    """1 where the function was invoked but none of its own invocation counts arrived."""
    return f"IF(FILL({invocations}, 0) > 0, IF(FILL({seen}, 0) == 0, 1, 0), 0)"


def _handler_metric(
    function: MonitoredFunction, spec: MetricSpec, period: Duration
) -> cw.Metric:
    return cw.Metric(
        namespace=function.namespace,
        metric_name=spec.name,
        dimensions_map={HANDLER_DIMENSION[0]: function.label},
        statistic=SUM,
        period=period,
        label=f"{spec.name} {function.label}",
    )


@dataclass(frozen=True)
class AlarmTargets:
    """The CDK resources the platform alarms watch, by scope label."""

    functions: Mapping[str, lambda_.IFunction]
    stage: apigw.WebSocketStage | None = None
    tables: Mapping[str, dynamodb.ITable] | None = None
    topics: Mapping[Severity, sns.ITopic] | None = None


def metric_for(
    planned: PlannedAlarm, targets: AlarmTargets, period: Duration, id_suffix: str = ""
) -> cw.IMetric:
    """The CloudWatch metric (or metric math) one planned alarm reads."""
    d = planned.definition
    source, statistic = d.source, d.statistic
    if isinstance(source, ServiceMetric | ErrorRate):
        if planned.service is None:
            raise AlarmPlanError("a service metric needs a service")
        if isinstance(source, ErrorRate):
            return error_rate(planned.service, source, period, id_suffix)
        return service_metric(planned.service, source.spec, statistic, period)
    if isinstance(source, LambdaErrorRate | LambdaMetric | Heartbeat):
        if planned.function is None:
            raise AlarmPlanError(f"{planned.name} needs a function")
        return _function_metric(planned.function, targets, source, statistic, period, id_suffix)
    if isinstance(source, ApiGatewayMetric):
        if targets.stage is None:
            raise AlarmPlanError(f"{planned.name} needs the WebSocket stage")
        return targets.stage.metric(source.metric_name, statistic=statistic, period=period)
    if isinstance(source, TableThrottles | TableSystemErrors):
        table = (targets.tables or {}).get(planned.scope)
        if table is None:
            raise AlarmPlanError(f"{planned.name}: no table {planned.scope}")
        return _table_metric(table, source, period, id_suffix, planned.scope)
    topic = (targets.topics or {}).get(source.topic)
    if topic is None:
        raise AlarmPlanError(f"{planned.name}: no topic for {source.topic.value}")
    return topic.metric_number_of_notifications_failed(statistic=SUM, period=period)


def _function_metric(
    function: MonitoredFunction,
    targets: AlarmTargets,
    source: LambdaErrorRate | LambdaMetric | Heartbeat,
    statistic: str,
    period: Duration,
    id_suffix: str,
) -> cw.IMetric:
    fn = targets.functions[function.label]
    if isinstance(source, LambdaMetric):
        return fn.metric(source.metric_name, statistic=statistic, period=period)
    invocations = fn.metric_invocations(statistic=SUM, period=period)
    if isinstance(source, LambdaErrorRate):
        ids = (f"errors{id_suffix}", f"handled{id_suffix}", f"invocations{id_suffix}")
        return cw.MathExpression(
            expression=lambda_error_rate_expression(*ids, source.min_failures),
            using_metrics={
                ids[0]: fn.metric_errors(statistic=SUM, period=period),
                ids[1]: _handler_metric(function, LAMBDA_ERRORS, period),
                ids[2]: invocations,
            },
            period=period,
            label=f"{function.label} failed requests %",
        )
    inv, seen = f"invocations{id_suffix}", f"seen{id_suffix}"
    return cw.MathExpression(
        expression=heartbeat_expression(inv, seen),
        using_metrics={
            inv: invocations,
            seen: _handler_metric(function, HANDLER_INVOCATIONS, period),
        },
        period=period,
        label=f"{function.label} invoked without metrics",
    )


def _table_metric(
    table: dynamodb.ITable,
    source: TableThrottles | TableSystemErrors,
    period: Duration,
    id_suffix: str,
    label: str,
) -> cw.MathExpression:
    def metric(name: str, **dims: str) -> cw.Metric:
        return cw.Metric(
            namespace=DYNAMODB_NAMESPACE,
            metric_name=name,
            dimensions_map={"TableName": table.table_name, **dims},
            statistic=SUM,
            period=period,
        )

    if isinstance(source, TableThrottles):
        using = {
            f"reads{id_suffix}": metric("ReadThrottleEvents"),
            f"writes{id_suffix}": metric("WriteThrottleEvents"),
        }
        what = "throttle events"
    else:
        using = {
            f"{op.lower()}{id_suffix}": metric("SystemErrors", Operation=op)
            for op in TABLE_OPERATIONS
        }
        what = "system errors"
    return cw.MathExpression(
        expression=" + ".join(f"FILL({i}, 0)" for i in using),
        using_metrics=using,
        period=period,
        label=f"{label} {what}",
    )


# -- the construct -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltAlarm:
    planned: PlannedAlarm
    alarm: cw.Alarm
    metric: cw.IMetric


def monitored_functions(
    functions: Mapping[str, lambda_.Function],
    namespaces: Mapping[str, str],
    account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
) -> tuple[MonitoredFunction, ...]:
    """The functions with the limits they are deployed with, read from the CDK functions
    (the timeout, and the reserved concurrency or else the account's quota)."""
    monitored = []
    for label, fn in functions.items():
        if fn.timeout is None:
            raise AlarmPlanError(f"function {label} has no timeout set")
        cfn = fn.node.default_child
        reserved = getattr(cfn, "reserved_concurrent_executions", None)
        monitored.append(
            MonitoredFunction(
                label=label,
                namespace=namespaces[label],
                timeout=timedelta(milliseconds=fn.timeout.to_milliseconds()),
                concurrency_limit=int(reserved) if reserved else account_concurrency,
            )
        )
    return tuple(monitored)


class CloudWatchAlarms(Construct):
    """Every alarm of the table on its services and resources, and the composite "service
    degraded" alarm over the critical ones: the only one that notifies the critical topic.

    ``functions`` maps each Lambda function's label (its handler module, e.g. ``connection``)
    to the function and ``function_namespaces`` to the namespace it publishes to; ``tables``
    maps table labels to tables; ``topics`` maps each severity to its topic.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        topics: Mapping[Severity, sns.ITopic],
        functions: Mapping[str, lambda_.Function],
        function_namespaces: Mapping[str, str],
        stage: apigw.WebSocketStage | None = None,
        tables: Mapping[str, dynamodb.ITable] | None = None,
        account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
        services: Sequence[MonitoredService] = SERVICES,
        definitions: Sequence[AlarmDefinition] = ALARMS,
    ) -> None:
        super().__init__(scope, construct_id)
        missing_topics = [s.value for s in Severity if s not in topics]
        if missing_topics:
            raise AlarmPlanError(f"no SNS topic for severity {', '.join(missing_topics)}")
        self.targets = AlarmTargets(functions, stage, dict(tables or {}), topics)
        resources = Resources(
            functions=monitored_functions(functions, function_namespaces, account_concurrency),
            stage=stage is not None,
            tables=tuple(tables or {}),
            topics=tuple(topics),
        )
        self.plan = plan_alarms(name_prefix, resources, services, definitions)
        self.alarms: list[BuiltAlarm] = []
        for planned in self.plan:
            d = planned.definition
            metric = metric_for(planned, self.targets, Duration.seconds(d.window.period_seconds))
            alarm = cw.Alarm(
                self,
                f"{d.severity.value}-{planned.scope}-{d.key}",
                alarm_name=planned.name,
                alarm_description=planned.description(),
                metric=metric,
                threshold=planned.threshold,
                comparison_operator=COMPARISON,
                evaluation_periods=d.window.evaluation_periods,
                datapoints_to_alarm=d.window.datapoints_to_alarm,
                treat_missing_data=MISSING_DATA,
            )
            if d.severity is not Severity.CRITICAL:
                # Critical alarms page through the composite only (one page per incident).
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
                "stream errors, a function's failed requests or throttles, API Gateway unable "
                "to call a function, warnings undeliverable): users are affected now. This is "
                "the only alarm that pages: one notification when the incident starts, one "
                "when every critical alarm is OK again. First check: which critical alarm "
                "fired (the alarm status widget at the top of the dashboard), then that "
                "alarm's own runbook."
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
