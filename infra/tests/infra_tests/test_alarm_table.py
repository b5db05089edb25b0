"""The alarm table, before anything is synthesized: it reads like the issue, it covers every
alarmed spec of both services, and it refuses to drift from the spec modules."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from infra.alarm_definition import (
    MAX_DESCRIPTION_CHARS,
    AlarmDefinition,
    AlarmPlanError,
    PlannedAlarm,
)
from infra.alarm_plan import plan_alarms
from infra.alarm_scopes import MonitoredCanary, MonitoredFunction, Resources
from infra.alarm_table import ALARMS
from infra.alarm_vocabulary import (
    MINUTE,
    Severity,
    Window,
    alarm_name,
    composite_alarm_name,
    sustained,
    total_in,
)
from infra.functions import FUNCTIONS
from infra.service_sources import ServiceMetric
from infra.services import AGGREGATE, SERVICES, MonitoredService
from infra_tests.required_alarms import (
    FUNCTION_LABELS,
    REQUIRED_ALARMS,
    TABLE_LABELS,
    alarm_id,
    expanded,
)
from shared_metrics import MetricSpec, Unit

PREFIX = "ws-test"


RESOURCES = Resources(
    functions=tuple(
        MonitoredFunction(f.label, f.service.namespace, f.timeout, f.reserved_concurrency)
        for f in FUNCTIONS
    ),
    tables=TABLE_LABELS,
    canary=MonitoredCanary("ws-test-ws", timedelta(minutes=5)),
)
NOTHING = Resources(functions=(), stage=False, tables=(), topics=())


@pytest.fixture(scope="module")
def plan() -> tuple[PlannedAlarm, ...]:
    return plan_alarms(PREFIX, RESOURCES)


def _find(plan: tuple[PlannedAlarm, ...], severity: str, key: str, scope: str) -> PlannedAlarm:
    matches = [
        p
        for p in plan
        if p.severity.value == severity
        and p.definition.key == key
        and (p.scope == scope or (p.service is not None and p.service.namespace == scope))
    ]
    assert len(matches) == 1, f"{severity} {key} {scope}: {len(matches)} alarms"
    return matches[0]


@pytest.mark.parametrize("pair", expanded(), ids=alarm_id)
def test_the_table_is_the_issues_list(plan: tuple[PlannedAlarm, ...], pair: tuple) -> None:
    issue, scope = pair
    d = _find(plan, issue.severity, issue.key, scope).definition
    assert d.source.specs == issue.watches
    assert d.statistic == issue.statistic
    assert d.threshold == issue.threshold
    assert d.window.period_seconds == issue.period
    assert d.window.evaluation_periods == issue.evaluation_periods
    assert d.window.datapoints_to_alarm == issue.datapoints_to_alarm


def test_nothing_beyond_the_issues_list(plan: tuple[PlannedAlarm, ...]) -> None:
    assert len(plan) == len(expanded())
    assert {(d.severity.value, d.key) for d in ALARMS} == {
        (a.severity, a.key) for a in REQUIRED_ALARMS
    }


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.namespace)
def test_every_alarmed_spec_has_an_alarm_in_its_namespace(
    plan: tuple[PlannedAlarm, ...], service: MonitoredService
) -> None:
    watched = {series for p in plan for series in p.watched_series()}
    for spec in service.alarmed:
        assert (service.namespace, spec.name, AGGREGATE) in watched, spec.name


def test_every_alarm_watches_an_aggregate_series_the_specs_declare(
    plan: tuple[PlannedAlarm, ...],
) -> None:
    declared = {
        (s.namespace, spec.name, tuple(dims))
        for s in SERVICES
        for spec in s.specs
        for dims in spec.dimension_sets
    }
    for p in plan:
        for series in p.watched_series():
            assert series in declared, f"{p.name} watches {series}, which no spec declares"
        if p.function is not None:
            assert p.scope in FUNCTION_LABELS


def test_names_are_unique_readable_and_short(plan: tuple[PlannedAlarm, ...]) -> None:
    names = [p.name for p in plan]
    assert len(set(names)) == len(names)
    assert all(len(n) <= 255 and n.isascii() and '"' not in n for n in names)
    assert alarm_name("p", Severity.WARNING, "Scope", "Key") == "p-Warning-Scope-Key"
    assert composite_alarm_name("p") == "p-Critical-Service-ServiceDegraded"
    by_name = {p.name: p for p in plan}
    assert (
        by_name[f"{PREFIX}-Critical-AudioTranscription-AudioLatencyP95"].definition.threshold == 100
    )
    assert f"{PREFIX}-Critical-audio_processor-LambdaErrorRate" in by_name


def test_descriptions_say_what_it_means_and_what_to_check_first(
    plan: tuple[PlannedAlarm, ...],
) -> None:
    for p in plan:
        description = p.description()
        assert description.startswith(f"{p.severity.value}: ")
        assert " First check: " in description
        assert len(description) <= MAX_DESCRIPTION_CHARS
        assert f"> {p.threshold:g}" in description
    latency = _find(plan, "Critical", "AudioLatencyP95", "AudioTranscription/WebSocket")
    assert (
        "p95 of AudioTranscription/WebSocket AudioProcessingLatency > 100 ms in every "
        "minute for 5 minutes" in latency.description()
    )


def test_windows_read_like_the_issue() -> None:
    assert sustained(5) == Window(MINUTE, 5, 5)
    assert total_in(5).period_seconds == 300 and total_in(5).evaluation_periods == 1
    with pytest.raises(ValueError):
        Window(MINUTE, 2, 3)
    with pytest.raises(ValueError):
        Window(MINUTE / 2, 1, 1)


# -- the plan refuses to drift from the spec modules --------------------------------------------

ORPHAN = MetricSpec("OrphanMetric", Unit.COUNT, [[]], "alarmed, but no alarm watches it")
NO_AGGREGATE = MetricSpec("PerThing", Unit.COUNT, [["Thing"]], "no aggregate series")


def _service(specs: tuple[MetricSpec, ...], alarmed: tuple[MetricSpec, ...]) -> MonitoredService:
    return MonitoredService("Test", "Test/NS", specs, alarmed)


def _definition(spec: MetricSpec) -> AlarmDefinition:
    return AlarmDefinition(
        "Key", Severity.WARNING, ServiceMetric(spec), "Sum", 1, total_in(5), "m.", "c."
    )


def test_an_alarmed_spec_without_an_alarm_fails_the_plan() -> None:
    with pytest.raises(AlarmPlanError, match="OrphanMetric.*no alarm definition watches it"):
        plan_alarms(PREFIX, NOTHING, [_service((ORPHAN,), (ORPHAN,))], [])


def test_an_alarm_on_a_spec_no_service_alarms_on_fails_the_plan() -> None:
    with pytest.raises(AlarmPlanError, match="watches nothing.*OrphanMetric"):
        plan_alarms(PREFIX, NOTHING, [_service((ORPHAN,), ())], [_definition(ORPHAN)])


def test_an_alarmed_spec_without_an_aggregate_series_fails_the_plan() -> None:
    with pytest.raises(AlarmPlanError, match="aggregate series"):
        plan_alarms(
            PREFIX,
            NOTHING,
            [_service((NO_AGGREGATE,), (NO_AGGREGATE,))],
            [_definition(NO_AGGREGATE)],
        )


def test_the_real_table_without_resources_has_no_platform_target() -> None:
    with pytest.raises(AlarmPlanError, match="no resource of its kind"):
        plan_alarms(PREFIX, NOTHING)


def test_relative_thresholds_come_from_each_functions_limits(
    plan: tuple[PlannedAlarm, ...],
) -> None:
    for f in FUNCTIONS:
        duration = _find(plan, "Warning", "DurationNearTimeout", f.label)
        assert duration.threshold == pytest.approx(0.8 * f.timeout.total_seconds() * 1000)
        concurrency = _find(plan, "Warning", "ConcurrencyNearLimit", f.label)
        assert concurrency.threshold == 0.9 * f.reserved_concurrency


def test_the_canarys_alarms_count_runs_at_its_schedule() -> None:
    """A period per run: at a 10-minute schedule, 2 of 3 runs is 2 of 3 10-minute periods."""
    slow = dataclasses.replace(RESOURCES, canary=MonitoredCanary("c", timedelta(minutes=10)))
    plan = plan_alarms(PREFIX, slow)
    unreachable = _find(plan, "Critical", "Unreachable", "Canary")
    assert unreachable.window == Window(timedelta(minutes=10), 3, 2)
    assert unreachable.definition.window.period == timedelta(minutes=5)  # the default's
    assert "in 2 of 3 10-minute periods" in unreachable.description()
    assert "CloudWatchSynthetics SuccessPercent of canary c" in unreachable.description()
    duration = _find(plan, "Warning", "RunDuration", "Canary")
    assert duration.window == Window(timedelta(minutes=10), 3, 3)
    # Everything else keeps its own window.
    assert all(p.window is p.definition.window for p in plan if p.scope != "Canary")


def test_without_a_canary_its_alarms_watch_nothing() -> None:
    with pytest.raises(AlarmPlanError, match="Unreachable watches nothing.*CanaryMetric"):
        plan_alarms(PREFIX, dataclasses.replace(RESOURCES, canary=None))
