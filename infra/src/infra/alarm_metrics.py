"""The CloudWatch metrics and metric math each planned alarm reads (`metric_for`); the
dashboard draws the same ones, so a graph shows exactly what its alarm evaluates.
The canary's are read by its name (a literal ``CanaryName``, which the stack sets).

Service metrics are the aggregate series of a spec in a service's namespace. Rates are metric
math that is 0, not an error, when nothing happened; the platform metrics come from the CDK
constructs of the functions, the stage, the tables and the topics (`AlarmTargets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns

from infra.alarm_definition import (
    HANDLER_DIMENSION,
    SUM,
    ApiGatewayMetric,
    CanaryMetric,
    ErrorRate,
    Heartbeat,
    LambdaErrorRate,
    LambdaMetric,
    ServiceMetric,
    Severity,
    StageRequestFailures,
    TableSystemErrors,
    TableThrottles,
)
from infra.alarm_plan import AlarmPlanError, PlannedAlarm
from infra.alarm_resources import (
    DYNAMODB_NAMESPACE,
    SYNTHETICS_NAMESPACE,
    TABLE_OPERATIONS,
    MonitoredFunction,
)
from infra.services import MonitoredService
from shared_metrics import MetricSpec
from websocket_service.specs import (
    ERROR_RESPONSES,
    HANDLER_INVOCATIONS,
    LAMBDA_ERRORS,
)


# Metric math: percentages that are 0, not an error, when nothing happened. The ids get a
# suffix where several rates share one graph (ids must be unique per graph).
def rate_expression(errors: str, total: str) -> str:
    return f"IF({total} > 0, 100 * FILL({errors}, 0) / {total}, 0)"


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


def _handler_metric(function: MonitoredFunction, spec: MetricSpec, period: Duration) -> cw.Metric:
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
    canary_name: str | None = None  # the canary's metrics are by its name (CanaryName)


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
        metric = service_metric(planned.service, source.spec, statistic, period)
        if statistic != SUM:
            return metric
        # A count is published only in the periods where something happened: filled with 0,
        # a quiet period is a real 0, so a burst that has left the window stops breaching at
        # once instead of the newest real datapoint (the burst) deciding for the whole
        # evaluation range (which, evaluated every minute, flaps OK and back into ALARM).
        count = f"count{id_suffix}"
        return cw.MathExpression(
            expression=f"FILL({count}, 0)",
            using_metrics={count: metric},
            period=period,
            label=f"{source.spec.name} (0 when none)",
        )
    if isinstance(source, LambdaErrorRate | LambdaMetric | Heartbeat):
        if planned.function is None:
            raise AlarmPlanError(f"{planned.name} needs a function")
        return _function_metric(planned.function, targets, source, statistic, period, id_suffix)
    if isinstance(source, ApiGatewayMetric | StageRequestFailures):
        if targets.stage is None:
            raise AlarmPlanError(f"{planned.name} needs the WebSocket stage")
        if isinstance(source, StageRequestFailures):
            return _stage_request_failures(planned, targets.stage, period, id_suffix)
        return targets.stage.metric(source.metric_name, statistic=statistic, period=period)
    if isinstance(source, TableThrottles | TableSystemErrors):
        table = (targets.tables or {}).get(planned.scope)
        if table is None:
            raise AlarmPlanError(f"{planned.name}: no table {planned.scope}")
        return _table_metric(table, source, period, id_suffix, planned.scope)
    if isinstance(source, CanaryMetric):
        if targets.canary_name is None:
            raise AlarmPlanError(f"{planned.name} needs the canary")
        return canary_metric(targets.canary_name, source, statistic, period, id_suffix)
    topic = (targets.topics or {}).get(source.topic)
    if topic is None:
        raise AlarmPlanError(f"{planned.name}: no topic for {source.topic.value}")
    failed = f"failed{id_suffix}"
    # Filled with 0, as the services' counts: see above.
    return cw.MathExpression(
        expression=f"FILL({failed}, 0)",
        using_metrics={
            failed: topic.metric_number_of_notifications_failed(statistic=SUM, period=period)
        },
        period=period,
        label=f"{planned.scope} failed deliveries (0 when none)",
    )


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


def _stage_request_failures(
    planned: PlannedAlarm, stage: apigw.WebSocketStage, period: Duration, id_suffix: str
) -> cw.MathExpression:
    if not planned.stage_functions:
        raise AlarmPlanError(f"{planned.name} needs the functions behind the stage")
    using: dict[str, cw.IMetric] = {
        f"{key}{id_suffix}": stage.metric(name, statistic=SUM, period=period)
        for key, name in STAGE_ERROR_METRICS.items()
    }
    answers = {
        f"answers{i}{id_suffix}": _handler_metric(function, ERROR_RESPONSES, period)
        for i, function in enumerate(planned.stage_functions)
    }
    using.update(answers)
    api_ids = [f"{key}{id_suffix}" for key in STAGE_ERROR_METRICS]
    return cw.MathExpression(
        expression=stage_request_failures_expression(api_ids, list(answers)),
        using_metrics=using,
        period=period,
        label="requests failed in API Gateway or Lambda",
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


def canary_metric(
    canary_name: str, source: CanaryMetric, statistic: str, period: Duration, id_suffix: str = ""
) -> cw.IMetric:
    """A CloudWatchSynthetics metric of the canary; ``100 - SuccessPercent`` (failed runs,
    %) for ``failed_percent``, without FILL: a period without a run stays missing, so the
    alarm's missing-data treatment decides it (see `alarm_table`)."""
    metric = cw.Metric(
        namespace=SYNTHETICS_NAMESPACE,
        metric_name=source.metric_name,
        dimensions_map={"CanaryName": canary_name},
        statistic=statistic,
        period=period,
    )
    if not source.failed_percent:
        return metric
    success = f"success{id_suffix}"
    return cw.MathExpression(
        expression=f"100 - {success}",
        using_metrics={success: metric},
        period=period,
        label=f"{canary_name} failed runs %",
    )
