"""The alarm plan: each definition of the alarm table applied to its services and resources,
in plain Python (`plan_alarms`). A canary alarm's period is the canary's schedule.

Planning checks the table against the spec modules before anything is built: every spec a
service marks as alarmed is watched, and every alarm watches the aggregate series of a spec
some service marks as alarmed. A renamed or dropped metric therefore fails the synth instead
of leaving an alarm watching nothing. Alarm names must be unique, descriptions within
CloudWatch's limit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from infra.alarm_definition import (
    AlarmDefinition,
    ApiGatewayMetric,
    CanaryMetric,
    ErrorRate,
    Heartbeat,
    LambdaErrorRate,
    LambdaMetric,
    MetricSource,
    ServiceMetric,
    Severity,
    StageRequestFailures,
    TableSystemErrors,
    TableThrottles,
    TopicDeliveryFailures,
    Window,
)
from infra.alarm_descriptions import MAX_DESCRIPTION_CHARS, alarm_description
from infra.alarm_names import CANARY_SCOPE, STAGE_SCOPE, alarm_name, topic_scope
from infra.alarm_resources import MonitoredCanary, MonitoredFunction, Resources
from infra.alarm_table import ALARMS
from infra.services import AGGREGATE, SERVICES, MonitoredService

# (namespace, metric name, dimension names): one CloudWatch series.
Series = tuple[str, str, tuple[str, ...]]


class AlarmPlanError(ValueError):
    """The alarm table and the spec modules disagree."""


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
    # The functions behind the stage, whose own error answers a stage alarm subtracts.
    stage_functions: tuple[MonitoredFunction, ...] = ()
    canary: MonitoredCanary | None = None
    # The window as placed: the definition's, but a canary alarm's periods are its runs.
    placed_window: Window | None = None

    @property
    def severity(self) -> Severity:
        return self.definition.severity

    @property
    def window(self) -> Window:
        return self.placed_window or self.definition.window

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
        return alarm_description(
            self.definition,
            prefix=self.prefix,
            scope=self.scope,
            threshold=self.threshold,
            service=self.service,
            function=self.function,
            canary=self.canary,
            window=self.window,
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
        stage_functions = resources.functions if scope == STAGE_SCOPE else ()
        canary = resources.canary if isinstance(d.source, CanaryMetric) else None
        window = dataclasses.replace(d.window, period=canary.schedule) if canary else None
        return PlannedAlarm(
            d, name, scope, threshold, service, function, prefix, stage_functions, canary, window
        )

    source = d.source
    if isinstance(source, LambdaErrorRate | LambdaMetric | Heartbeat):
        return [at(f.label, function=f) for f in resources.functions]
    if isinstance(source, ApiGatewayMetric | StageRequestFailures):
        return [at(STAGE_SCOPE)] if resources.stage else []
    if isinstance(source, TableThrottles | TableSystemErrors):
        return [at(table) for table in resources.tables]
    if isinstance(source, TopicDeliveryFailures):
        return [at(topic_scope(source.topic))] if source.topic in resources.topics else []
    if isinstance(source, CanaryMetric):
        return [at(CANARY_SCOPE)] if resources.canary is not None else []
    return [
        at(s.label, service=s) for s in services if all(s.alarms_on(spec) for spec in source.specs)
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
