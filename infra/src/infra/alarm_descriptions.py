"""Alarm descriptions: what a notification says about the alarm that sent it.

A description reads ``<Severity>: <condition>. <meaning> First check: <runbook>``, then the
drill-down rule and query to open (`drilldown.drilldown_text`). The condition is spelled out
from the definition as placed (the namespace, function or resource, the resolved threshold
and the window in words), so a page says what breached without opening the console.
"""

from __future__ import annotations

from infra.alarm_definition import (
    AlarmDefinition,
    ApiGatewayMetric,
    CanaryMetric,
    ErrorRate,
    Heartbeat,
    LambdaErrorRate,
    LambdaMetric,
    ServiceMetric,
    StageRequestFailures,
    TableSystemErrors,
    TableThrottles,
    Window,
)
from infra.alarm_resources import MonitoredCanary, MonitoredFunction
from infra.drilldown import drilldown_text
from infra.services import MonitoredService

# CloudWatch's limit for an alarm description.
MAX_DESCRIPTION_CHARS = 1024

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


def alarm_description(
    definition: AlarmDefinition,
    *,
    prefix: str,
    scope: str,
    threshold: float,
    service: MonitoredService | None = None,
    function: MonitoredFunction | None = None,
    canary: MonitoredCanary | None = None,
    window: Window | None = None,
) -> str:
    """The description of ``definition`` placed on ``scope`` (a service, a function or a
    resource) of the stack named ``prefix``, with its threshold and window resolved."""
    d = definition
    condition = _condition(d, scope, threshold, service, function, canary, window or d.window)
    drill = drilldown_text(prefix, d.severity.value, d.key)
    return f"{d.severity.value}: {condition}. {d.meaning} First check: {d.first_check}{drill}"


def _condition(
    d: AlarmDefinition,
    scope: str,
    threshold: float,
    service: MonitoredService | None,
    function: MonitoredFunction | None,
    canary: MonitoredCanary | None,
    window: Window,
) -> str:
    source = d.source
    if isinstance(source, ServiceMetric) and service is not None:
        what = f"{d.statistic} of {service.namespace} {source.spec.name}"
    elif isinstance(source, ErrorRate) and service is not None:
        what = (
            f"{service.namespace} {source.errors.name} / {source.attempts.name} "
            f"(per-period sums, 0 without attempts)"
        )
    elif isinstance(source, LambdaErrorRate) and function is not None:
        what = (
            f"(AWS/Lambda Errors + {function.namespace} LambdaErrors[Handler="
            f"{function.label}]) / Invocations of function {function.label} (per-period "
            f"sums, 0 below {source.min_failures} failed requests)"
        )
    elif isinstance(source, LambdaMetric) and function is not None:
        what = f"{d.statistic} AWS/Lambda {source.metric_name} of function {function.label}"
        if source.relative_to is not None:
            what += f" ({d.threshold:.0%} of {source.relative_to.value})"
    elif isinstance(source, Heartbeat) and function is not None:
        what = (
            f"minutes with AWS/Lambda Invocations of function {function.label} but no "
            f"{function.namespace} HandlerInvocations[Handler={function.label}]"
        )
    elif isinstance(source, ApiGatewayMetric):
        what = f"{d.statistic} AWS/ApiGateway {source.metric_name} of the WebSocket stage"
    elif isinstance(source, StageRequestFailures):
        what = (
            "AWS/ApiGateway ExecutionError + IntegrationError + ClientError of the WebSocket "
            "stage - ErrorResponses[Handler] of every function (per-minute sums)"
        )
    elif isinstance(source, TableThrottles):
        what = f"AWS/DynamoDB Read+WriteThrottleEvents of table {scope}"
    elif isinstance(source, TableSystemErrors):
        what = f"AWS/DynamoDB SystemErrors of table {scope} (all operations)"
    elif isinstance(source, CanaryMetric):
        name = canary.name if canary is not None else scope
        what = f"{d.statistic} CloudWatchSynthetics {source.metric_name} of canary {name}"
        if source.failed_percent:
            what = f"100 - {what} (its failed runs; a period without a run breaches)"
    else:
        what = f"AWS/SNS NumberOfNotificationsFailed of topic {scope}"
    return f"{what} > {threshold:g}{d.unit_suffix} {window_text(window)}"


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
