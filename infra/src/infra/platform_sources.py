"""The sources of the platform around the functions: the WebSocket stage (`ApiGatewayMetric`,
`StageRequestFailures`), each table (`TableThrottles`, `TableSystemErrors`), an alarm topic
(`TopicDeliveryFailures`) and the reachability canary (`CanaryMetric`).

Counts are filled with 0 (a period without any is a real 0), except the canary's: a period
without a run stays missing, so the alarm's missing-data treatment decides it (see
`alarm_table`).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cw

from infra.alarm_definition import (
    AlarmDefinition,
    AlarmPlanError,
    DashboardRow,
    MetricSource,
    PlannedAlarm,
)
from infra.alarm_scopes import (
    DYNAMODB_NAMESPACE,
    SYNTHETICS_NAMESPACE,
    TABLE_OPERATIONS,
    AlarmTargets,
    Resources,
    Scope,
)
from infra.alarm_vocabulary import (
    CANARY_SCOPE,
    STAGE_SCOPE,
    SUM,
    MissingData,
    Severity,
    Window,
    topic_scope,
)
from infra.function_sources import handler_metric
from infra.service_sources import filled_sum
from infra.services import MonitoredService
from websocket_service.specs import ERROR_RESPONSES


class StageSource(MetricSource):
    """A source of the WebSocket stage (ApiId, Stage)."""

    def scopes(self, resources: Resources, services: Sequence[MonitoredService]) -> list[Scope]:
        return [Scope(STAGE_SCOPE)] if resources.stage else []

    def metric(
        self, planned: PlannedAlarm, targets: AlarmTargets, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        if targets.stage is None:
            raise AlarmPlanError(f"{planned.name} needs the WebSocket stage")
        return self.stage_metric(planned, targets.stage, period, id_suffix)

    @abc.abstractmethod
    def stage_metric(
        self, planned: PlannedAlarm, stage: apigw.WebSocketStage, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        """What an alarm on the stage evaluates."""


@dataclass(frozen=True)
class ApiGatewayMetric(StageSource):
    """An AWS/ApiGateway metric of the WebSocket stage (ApiId, Stage)."""

    metric_name: str

    def condition(self, planned: PlannedAlarm) -> str:
        statistic = planned.definition.statistic
        return f"{statistic} AWS/ApiGateway {self.metric_name} of the WebSocket stage"

    def stage_metric(
        self, planned: PlannedAlarm, stage: apigw.WebSocketStage, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        statistic = planned.definition.statistic
        return stage.metric(self.metric_name, statistic=statistic, period=period)


# The AWS/ApiGateway metrics where a request's failure can be counted (see
# `StageRequestFailures`), by expression id.
STAGE_ERROR_METRICS = {
    "execution": "ExecutionError",
    "integration": "IntegrationError",
    "client": "ClientError",
}


def stage_request_failures_expression(api_ids: list[str], answer_ids: list[str]) -> str:
    """API Gateway's error counts less the handlers' own error answers (FILL: a minute
    without any is 0, and the difference is defined in every minute)."""
    api = " + ".join(f"FILL({i}, 0)" for i in api_ids)
    answers = " + ".join(f"FILL({i}, 0)" for i in answer_ids)
    return f"{api} - ({answers})"


@dataclass(frozen=True)
class StageRequestFailures(StageSource):
    """Requests of the WebSocket stage that failed in API Gateway or Lambda, not by a
    handler's own answer: AWS/ApiGateway ExecutionError + IntegrationError + ClientError less
    every function's ``ErrorResponses`` (Handler), each function's 4XX/5XX answers.

    AWS documents IntegrationError as "the number of requests that return a 4XX/5XX response
    from the integration" (a handler's 4xx has been reported in ClientError instead) and says
    nothing of where a throttled invocation, a missing invoke permission, an unhandled
    exception or a timeout is counted. Under every such reading the handlers' own answers are
    in exactly one of the three, so the difference is the same: the requests API Gateway or
    Lambda failed (and API Gateway's own 4XX refusals, none of which this service provokes)."""

    def condition(self, planned: PlannedAlarm) -> str:
        return (
            "AWS/ApiGateway ExecutionError + IntegrationError + ClientError of the WebSocket "
            "stage - ErrorResponses[Handler] of every function (per-minute sums)"
        )

    def stage_metric(
        self, planned: PlannedAlarm, stage: apigw.WebSocketStage, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        functions = planned.resources.functions
        if not functions:
            raise AlarmPlanError(f"{planned.name} needs the functions behind the stage")
        using: dict[str, cw.IMetric] = {
            f"{key}{id_suffix}": stage.metric(name, statistic=SUM, period=period)
            for key, name in STAGE_ERROR_METRICS.items()
        }
        answers = {
            f"answers{i}{id_suffix}": handler_metric(function, ERROR_RESPONSES, period)
            for i, function in enumerate(functions)
        }
        using.update(answers)
        api_ids = [f"{key}{id_suffix}" for key in STAGE_ERROR_METRICS]
        return cw.MathExpression(
            expression=stage_request_failures_expression(api_ids, list(answers)),
            using_metrics=using,
            period=period,
            label="requests failed in API Gateway or Lambda",
        )


class TableSource(MetricSource):
    """A source of each table (TableName): a sum of its AWS/DynamoDB counts."""

    what: ClassVar[str]  # the counts, in the graph line's words

    @property
    @abc.abstractmethod
    def counts(self) -> tuple[tuple[str, str, dict[str, str]], ...]:
        """The counts summed: (metric math id, metric name, dimensions besides TableName)."""

    def scopes(self, resources: Resources, services: Sequence[MonitoredService]) -> list[Scope]:
        return [Scope(table) for table in resources.tables]

    def metric(
        self, planned: PlannedAlarm, targets: AlarmTargets, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        table = (targets.tables or {}).get(planned.scope)
        if table is None:
            raise AlarmPlanError(f"{planned.name}: no table {planned.scope}")
        using: dict[str, cw.IMetric] = {
            f"{key}{id_suffix}": cw.Metric(
                namespace=DYNAMODB_NAMESPACE,
                metric_name=name,
                dimensions_map={"TableName": table.table_name, **dims},
                statistic=SUM,
                period=period,
            )
            for key, name, dims in self.counts
        }
        return filled_sum(using, period, f"{planned.scope} {self.what}")


@dataclass(frozen=True)
class TableThrottles(TableSource):
    """AWS/DynamoDB ReadThrottleEvents + WriteThrottleEvents of one table (TableName)."""

    what = "throttle events"

    @property
    def counts(self) -> tuple[tuple[str, str, dict[str, str]], ...]:
        return (("reads", "ReadThrottleEvents", {}), ("writes", "WriteThrottleEvents", {}))

    def condition(self, planned: PlannedAlarm) -> str:
        return f"AWS/DynamoDB Read+WriteThrottleEvents of table {planned.scope}"


@dataclass(frozen=True)
class TableSystemErrors(TableSource):
    """AWS/DynamoDB SystemErrors of one table, summed over the operations the services call
    (DynamoDB publishes it per TableName and Operation)."""

    what = "system errors"

    @property
    def counts(self) -> tuple[tuple[str, str, dict[str, str]], ...]:
        return tuple((op.lower(), "SystemErrors", {"Operation": op}) for op in TABLE_OPERATIONS)

    def condition(self, planned: PlannedAlarm) -> str:
        return f"AWS/DynamoDB SystemErrors of table {planned.scope} (all operations)"


@dataclass(frozen=True)
class TopicDeliveryFailures(MetricSource):
    """AWS/SNS NumberOfNotificationsFailed of the alarm topic of ``topic`` (TopicName)."""

    topic: Severity

    def scopes(self, resources: Resources, services: Sequence[MonitoredService]) -> list[Scope]:
        return [Scope(topic_scope(self.topic))] if self.topic in resources.topics else []

    def condition(self, planned: PlannedAlarm) -> str:
        return f"AWS/SNS NumberOfNotificationsFailed of topic {planned.scope}"

    def metric(
        self, planned: PlannedAlarm, targets: AlarmTargets, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        topic = (targets.topics or {}).get(self.topic)
        if topic is None:
            raise AlarmPlanError(f"{planned.name}: no topic for {self.topic.value}")
        failed = topic.metric_number_of_notifications_failed(statistic=SUM, period=period)
        return filled_sum(
            {f"failed{id_suffix}": failed},
            period,
            f"{planned.scope} failed deliveries (0 when none)",
        )


@dataclass(frozen=True)
class CanaryMetric(MetricSource):
    """A CloudWatchSynthetics metric of the reachability canary (CanaryName), in periods of
    the canary's schedule (the alarm plan sets the period: one run per period). With
    ``failed_percent`` it is ``100 - SuccessPercent``: the runs that failed, in percent."""

    metric_name: str
    failed_percent: bool = False
    dashboard_row: ClassVar[DashboardRow] = DashboardRow.REACHABILITY

    @property
    def unit_suffix(self) -> str:
        if self.metric_name == "Duration":
            return " ms"
        return " %" if self.failed_percent else ""

    def scopes(self, resources: Resources, services: Sequence[MonitoredService]) -> list[Scope]:
        return [Scope(CANARY_SCOPE)] if resources.canary is not None else []

    def window(self, definition: AlarmDefinition, resources: Resources) -> Window | None:
        if resources.canary is None:
            return None
        return dataclasses.replace(definition.window, period=resources.canary.schedule)

    def condition(self, planned: PlannedAlarm) -> str:
        canary = planned.resources.canary
        name = canary.name if canary is not None else planned.scope
        what = (
            f"{planned.definition.statistic} CloudWatchSynthetics {self.metric_name} of canary "
            f"{name}"
        )
        if self.failed_percent:
            what = f"100 - {what} (its failed runs; a period without a run breaches)"
        return what

    def metric(
        self, planned: PlannedAlarm, targets: AlarmTargets, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        if targets.canary_name is None:
            raise AlarmPlanError(f"{planned.name} needs the canary")
        metric = cw.Metric(
            namespace=SYNTHETICS_NAMESPACE,
            metric_name=self.metric_name,
            dimensions_map={"CanaryName": targets.canary_name},
            statistic=planned.definition.statistic,
            period=period,
        )
        if not self.failed_percent:
            return metric
        success = f"success{id_suffix}"
        return cw.MathExpression(
            expression=f"100 - {success}",
            using_metrics={success: metric},
            period=period,
            label=f"{targets.canary_name} failed runs %",
        )

    def documented_condition(self, definition: AlarmDefinition) -> str:
        d = definition
        metric = f"{d.statistic} {self.metric_name}"
        if self.failed_percent:
            metric = f"100 - {metric}"
        return f"{metric} > {d.threshold:g}{self.unit_suffix}"

    def documented_window(self, definition: AlarmDefinition) -> str:
        w = definition.window
        missing = (
            "; a period without a run breaches"
            if definition.missing_data is MissingData.BREACHING
            else ""
        )
        return (
            f"in {w.datapoints_to_alarm} of the last {w.evaluation_periods} runs (a period per "
            f"run: {w.period_seconds // 60} minutes at the default schedule){missing}"
        )

    def graph_title(self, planned: PlannedAlarm) -> str:
        if self.failed_percent:
            what = "canary runs failed (%)"
        else:
            what = f"canary run {planned.definition.statistic.lower()} duration (ms)"
        return f"{planned.severity.value} {planned.definition.key}: {what}"
