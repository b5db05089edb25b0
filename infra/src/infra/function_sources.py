"""The sources of one Lambda function, placed on every function: its failed requests in
percent (`LambdaErrorRate`), an AWS/Lambda metric (`LambdaMetric`, its threshold perhaps a
fraction of the function's limits) and its metrics heartbeat (`Heartbeat`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda as lambda_

from infra.alarm_definition import (
    AlarmDefinition,
    AlarmPlanError,
    MetricSource,
    PlannedAlarm,
    Series,
)
from infra.alarm_scopes import HANDLER_DIMENSION, AlarmTargets, MonitoredFunction, Resources, Scope
from infra.alarm_vocabulary import SUM, Limit
from infra.services import MonitoredService
from shared_metrics import MetricSpec
from websocket_service.specs import HANDLER_INVOCATIONS, LAMBDA_ERRORS


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


def handler_metric(function: MonitoredFunction, spec: MetricSpec, period: Duration) -> cw.Metric:
    """A service metric of one function, by its ``Handler`` dimension."""
    return cw.Metric(
        namespace=function.namespace,
        metric_name=spec.name,
        dimensions_map={HANDLER_DIMENSION[0]: function.label},
        statistic=SUM,
        period=period,
        label=f"{spec.name} {function.label}",
    )


class FunctionSource(MetricSource):
    """A source placed on every function; ``handler_specs`` are the service metrics it reads
    by the function's ``Handler`` dimension."""

    handler_specs: ClassVar[tuple[MetricSpec, ...]] = ()

    def scopes(self, resources: Resources, services: Sequence[MonitoredService]) -> list[Scope]:
        return [Scope(f.label, function=f) for f in resources.functions]

    def watched_series(self, planned: PlannedAlarm) -> tuple[Series, ...]:
        function = _function(planned)
        return tuple((function.namespace, s.name, HANDLER_DIMENSION) for s in self.handler_specs)


def _function(planned: PlannedAlarm) -> MonitoredFunction:
    if planned.function is None:
        raise AlarmPlanError(f"{planned.name} needs a function")
    return planned.function


def _deployed(planned: PlannedAlarm, targets: AlarmTargets) -> lambda_.IFunction:
    return targets.functions[_function(planned).label]


@dataclass(frozen=True)
class LambdaErrorRate(FunctionSource):
    """Failed requests of one function in percent of its invocations: unhandled failures
    (AWS/Lambda ``Errors``: crashes, timeouts, out of memory) plus the exceptions the handler
    guard answers with a 500 (``LambdaErrors`` by Handler, in the function's namespace),
    over AWS/Lambda ``Invocations``. A period with fewer than ``min_failures`` failed
    requests counts as 0 %: one failure at very low traffic is not an incident."""

    min_failures: int
    handler_specs = (LAMBDA_ERRORS,)

    @property
    def unit_suffix(self) -> str:
        return " %"

    def condition(self, planned: PlannedAlarm) -> str:
        f = _function(planned)
        return (
            f"(AWS/Lambda Errors + {f.namespace} LambdaErrors[Handler={f.label}]) / "
            f"Invocations of function {f.label} (per-period sums, 0 below "
            f"{self.min_failures} failed requests)"
        )

    def metric(
        self, planned: PlannedAlarm, targets: AlarmTargets, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        function, fn = _function(planned), _deployed(planned, targets)
        ids = (f"errors{id_suffix}", f"handled{id_suffix}", f"invocations{id_suffix}")
        return cw.MathExpression(
            expression=lambda_error_rate_expression(*ids, self.min_failures),
            using_metrics={
                ids[0]: fn.metric_errors(statistic=SUM, period=period),
                ids[1]: handler_metric(function, LAMBDA_ERRORS, period),
                ids[2]: fn.metric_invocations(statistic=SUM, period=period),
            },
            period=period,
            label=f"{function.label} failed requests %",
        )


@dataclass(frozen=True)
class LambdaMetric(FunctionSource):
    """An AWS/Lambda metric of one function (FunctionName); with ``relative_to``, the
    threshold is a fraction of that limit of the function."""

    metric_name: str
    relative_to: Limit | None = None

    @property
    def unit_suffix(self) -> str:
        return " ms" if self.metric_name == "Duration" else ""

    def threshold(self, definition: AlarmDefinition, scope: Scope) -> float:
        if self.relative_to is None:
            return definition.threshold
        if scope.function is None:
            raise AlarmPlanError(f"{definition.key}: a threshold relative to a function needs one")
        return definition.threshold * scope.function.limit(self.relative_to)

    def condition(self, planned: PlannedAlarm) -> str:
        d = planned.definition
        what = f"{d.statistic} AWS/Lambda {self.metric_name} of function {_function(planned).label}"
        if self.relative_to is not None:
            what += f" ({d.threshold:.0%} of {self.relative_to.value})"
        return what

    def documented_condition(self, definition: AlarmDefinition) -> str:
        d = definition
        if self.relative_to is None:
            return super().documented_condition(d)
        return f"{d.statistic} > {d.threshold:.0%} of {self.relative_to.value}"

    def metric(
        self, planned: PlannedAlarm, targets: AlarmTargets, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        statistic = planned.definition.statistic
        return _deployed(planned, targets).metric(
            self.metric_name, statistic=statistic, period=period
        )


@dataclass(frozen=True)
class Heartbeat(FunctionSource):
    """1 in a period where AWS/Lambda counted invocations of the function but none of its
    own ``HandlerInvocations`` arrived (instrumentation dropped, EMF not extracted, a bad
    metrics release), else 0; 0 too without traffic."""

    handler_specs = (HANDLER_INVOCATIONS,)

    def condition(self, planned: PlannedAlarm) -> str:
        f = _function(planned)
        return (
            f"minutes with AWS/Lambda Invocations of function {f.label} but no "
            f"{f.namespace} HandlerInvocations[Handler={f.label}]"
        )

    def metric(
        self, planned: PlannedAlarm, targets: AlarmTargets, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        function, fn = _function(planned), _deployed(planned, targets)
        inv, seen = f"invocations{id_suffix}", f"seen{id_suffix}"
        return cw.MathExpression(
            expression=heartbeat_expression(inv, seen),
            using_metrics={
                inv: fn.metric_invocations(statistic=SUM, period=period),
                seen: handler_metric(function, HANDLER_INVOCATIONS, period),
            },
            period=period,
            label=f"{function.label} invoked without metrics",
        )
