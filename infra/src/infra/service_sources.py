"""The sources in the services' own namespaces: one spec's aggregate series
(`ServiceMetric`) and an error rate of two (`ErrorRate`). Their alarms go in every service
whose spec module marks the specs as alarmed; the dashboard's service rows draw them per
service (`ServiceSource.line`).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from infra.alarm_definition import (
    AlarmPlanError,
    DashboardRow,
    MetricSource,
    PlannedAlarm,
    Series,
)
from infra.alarm_scopes import AlarmTargets, Resources, Scope
from infra.alarm_vocabulary import SUM
from infra.services import AGGREGATE, MonitoredService
from shared_metrics import MetricSpec, Unit

_UNIT_SUFFIXES = {Unit.MILLISECONDS: " ms", Unit.SECONDS: " s", Unit.MICROSECONDS: " us"}


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


def filled_sum(using: dict[str, cw.IMetric], period: Duration, label: str) -> cw.MathExpression:
    """The sum of counts, each 0 in a period without one."""
    # A count is published only in the periods where something happened: filled with 0, a
    # quiet period is a real 0, so a burst that has left the window stops breaching at once
    # instead of the newest real datapoint (the burst) deciding for the whole evaluation
    # range (which, evaluated every minute, flaps OK and back into ALARM).
    return cw.MathExpression(
        expression=" + ".join(f"FILL({i}, 0)" for i in using),
        using_metrics=using,
        period=period,
        label=label,
    )


class ServiceSource(MetricSource):
    """A source in each service that marks all of its specs as alarmed."""

    dashboard_row: ClassVar[DashboardRow] = DashboardRow.SERVICES

    def scopes(self, resources: Resources, services: Sequence[MonitoredService]) -> list[Scope]:
        return [
            Scope(s.label, service=s)
            for s in services
            if all(s.alarms_on(spec) for spec in self.specs)
        ]

    def missing(self) -> str:
        names = " and ".join(spec.name for spec in self.specs)
        return f"no service's ALARMED tuple holds {names}"

    def watched_series(self, planned: PlannedAlarm) -> tuple[Series, ...]:
        service = _service(planned)
        return tuple((service.namespace, spec.name, AGGREGATE) for spec in self.specs)

    @abc.abstractmethod
    def line(
        self, service: MonitoredService, statistic: str, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        """What a dashboard graph of the service rows draws for ``service``."""


def _service(planned: PlannedAlarm) -> MonitoredService:
    if planned.service is None:
        raise AlarmPlanError(f"{planned.name}: a service metric needs a service")
    return planned.service


@dataclass(frozen=True)
class ServiceMetric(ServiceSource):
    """The aggregate series of one spec, in each service that marks the spec as alarmed."""

    spec: MetricSpec

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return (self.spec,)

    @property
    def unit_suffix(self) -> str:
        return _UNIT_SUFFIXES.get(self.spec.unit, "")

    def condition(self, planned: PlannedAlarm) -> str:
        return f"{planned.definition.statistic} of {_service(planned).namespace} {self.spec.name}"

    def metric(
        self, planned: PlannedAlarm, targets: AlarmTargets, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        statistic = planned.definition.statistic
        metric = service_metric(_service(planned), self.spec, statistic, period)
        if statistic != SUM:
            return metric
        return filled_sum({f"count{id_suffix}": metric}, period, f"{self.spec.name} (0 when none)")

    def line(
        self, service: MonitoredService, statistic: str, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        label = f"{service.label} {self.spec.name} {statistic}"
        return service_metric(service, self.spec, statistic, period, label)


@dataclass(frozen=True)
class ErrorRate(ServiceSource):
    """``100 * errors / attempts`` in percent, per service; 0 when there were no attempts."""

    errors: MetricSpec
    attempts: MetricSpec

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return (self.errors, self.attempts)

    @property
    def unit_suffix(self) -> str:
        return " %"

    def condition(self, planned: PlannedAlarm) -> str:
        return (
            f"{_service(planned).namespace} {self.errors.name} / {self.attempts.name} "
            f"(per-period sums, 0 without attempts)"
        )

    def metric(
        self, planned: PlannedAlarm, targets: AlarmTargets, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        return self.line(_service(planned), planned.definition.statistic, period, id_suffix)

    def line(
        self, service: MonitoredService, statistic: str, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        errors, attempts = f"errors{id_suffix}", f"attempts{id_suffix}"
        return cw.MathExpression(
            expression=rate_expression(errors, attempts),
            using_metrics={
                errors: service_metric(service, self.errors, SUM, period, self.errors.name),
                attempts: service_metric(service, self.attempts, SUM, period, self.attempts.name),
            },
            period=period,
            label=f"{service.label} error rate %",
        )
