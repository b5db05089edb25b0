"""`CloudWatchAlarms`: the alarm plan (`alarm_plan.plan_alarms` over `alarm_table.ALARMS`)
built as CloudWatch alarms on the stack's functions, stage, tables, topics and canary.

Every alarm compares strictly (``>``) and treats missing data as not breaching (no traffic is
not an incident; the per-function heartbeat catches metrics that stop arriving while the
function runs), except the canary's success alarm, for which silence is the incident. One
page per incident: the composite "service degraded" alarm, in ALARM while any critical alarm
is, is the only alarm that notifies the critical topic (on ALARM and OK); the critical alarms
themselves notify nobody and show their state on the dashboard. Warning alarms notify the
warning topic on ALARM and OK.
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

from infra.alarm_definition import AlarmDefinition, AlarmPlanError, PlannedAlarm
from infra.alarm_plan import plan_alarms
from infra.alarm_scopes import AlarmTargets, MonitoredCanary, MonitoredFunction, Resources
from infra.alarm_table import ALARMS
from infra.alarm_vocabulary import SERVICE_DEGRADED_KEY, MissingData, Severity, composite_alarm_name
from infra.services import SERVICES, MonitoredService

COMPARISON = cw.ComparisonOperator.GREATER_THAN_THRESHOLD
MISSING_DATA = {
    MissingData.NOT_BREACHING: cw.TreatMissingData.NOT_BREACHING,
    MissingData.BREACHING: cw.TreatMissingData.BREACHING,
}

SERVICE_DEGRADED_DESCRIPTION = (
    "Critical: at least one critical alarm is in ALARM (the service unreachable from "
    "outside, audio latency, Transcribe stream errors, a function's failed requests or "
    "throttles, API Gateway unable to call a function, warnings undeliverable): users are "
    "affected now. This is "
    "the only alarm that pages: one notification when the incident starts, one "
    "when every critical alarm is OK again. First check: which critical alarm "
    "fired (the alarm status widget at the top of the dashboard), then that "
    "alarm's own runbook."
)

# Lambda's default concurrency quota per account and Region; a function without reserved
# concurrency is limited by what the account has left.
DEFAULT_ACCOUNT_CONCURRENCY = 1000


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
        canary: MonitoredCanary | None = None,
        services: Sequence[MonitoredService] = SERVICES,
        definitions: Sequence[AlarmDefinition] = ALARMS,
    ) -> None:
        super().__init__(scope, construct_id)
        missing_topics = [s.value for s in Severity if s not in topics]
        if missing_topics:
            raise AlarmPlanError(f"no SNS topic for severity {', '.join(missing_topics)}")
        self.targets = AlarmTargets(
            functions, stage, dict(tables or {}), topics, canary.name if canary else None
        )
        resources = Resources(
            functions=monitored_functions(functions, function_namespaces, account_concurrency),
            stage=stage is not None,
            tables=tuple(tables or {}),
            topics=tuple(topics),
            canary=canary,
        )
        self.plan = plan_alarms(name_prefix, resources, services, definitions)
        self.alarms: list[BuiltAlarm] = []
        for planned in self.plan:
            d, window = planned.definition, planned.window
            period = Duration.seconds(window.period_seconds)
            metric = d.source.metric(planned, self.targets, period, "")
            alarm = cw.Alarm(
                self,
                f"{d.severity.value}-{planned.scope}-{d.key}",
                alarm_name=planned.name,
                alarm_description=planned.description(),
                metric=metric,
                threshold=planned.threshold,
                comparison_operator=COMPARISON,
                evaluation_periods=window.evaluation_periods,
                datapoints_to_alarm=window.datapoints_to_alarm,
                treat_missing_data=MISSING_DATA[d.missing_data],
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
            alarm_description=SERVICE_DEGRADED_DESCRIPTION,
        )
        _notify(self.service_degraded, topics[Severity.CRITICAL])

    def all_alarms(self) -> list[cw.IAlarm]:
        """Every alarm, the composite first (for the dashboard's status widget)."""
        return [self.service_degraded, *(b.alarm for b in self.alarms)]


def _notify(alarm: cw.AlarmBase, topic: sns.ITopic) -> None:
    action = cw_actions.SnsAction(topic)
    alarm.add_alarm_action(action)
    alarm.add_ok_action(action)
