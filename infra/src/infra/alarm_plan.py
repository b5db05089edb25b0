"""The alarm plan: each definition of the alarm table applied to its services and resources,
in plain Python (`plan_alarms`). Each source kind says where its alarms go, how a threshold
relative to a function resolves, and (the canary's) which period a window has as placed.

Planning checks the table against the spec modules before anything is built: every spec a
service marks as alarmed is watched, and every alarm watches the aggregate series of a spec
some service marks as alarmed. A renamed or dropped metric therefore fails the synth instead
of leaving an alarm watching nothing. Alarm names must be unique, descriptions within
CloudWatch's limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from infra.alarm_definition import (
    MAX_DESCRIPTION_CHARS,
    AlarmDefinition,
    AlarmPlanError,
    PlannedAlarm,
)
from infra.alarm_scopes import Resources
from infra.alarm_table import ALARMS
from infra.alarm_vocabulary import alarm_name
from infra.services import SERVICES, MonitoredService


def plan_alarms(
    prefix: str,
    resources: Resources,
    services: Sequence[MonitoredService] = SERVICES,
    definitions: Sequence[AlarmDefinition] = ALARMS,
) -> tuple[PlannedAlarm, ...]:
    """Apply each definition to its services or resources; raise `AlarmPlanError` when the
    table and the spec modules disagree."""
    planned: list[PlannedAlarm] = []
    for d in definitions:
        scopes = d.source.scopes(resources, services)
        if not scopes:
            raise AlarmPlanError(
                f"alarm {d.severity.value} {d.key} watches nothing: {d.source.missing()}"
            )
        window = d.source.window(d, resources)
        planned.extend(
            PlannedAlarm(
                definition=d,
                name=alarm_name(prefix, d.severity, scope.name, d.key),
                scope=scope.name,
                threshold=d.source.threshold(d, scope),
                service=scope.service,
                function=scope.function,
                prefix=prefix,
                resources=resources,
                placed_window=window,
            )
            for scope in scopes
        )
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
