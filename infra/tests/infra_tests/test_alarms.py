"""Every alarm as synthesized: what it watches, how it compares, how long, what it does with
missing data, and whom it notifies; the composite alarm; and both directions of
consistency with the spec modules, read from the template itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from infra.services import AGGREGATE, SERVICES
from infra_tests.cfn import expressions, of_type, ref, text, watched_metrics
from infra_tests.conftest import STACK_NAME
from infra_tests.issue_alarms import ISSUE_ALARMS, IssueAlarm, alarm_id, expanded

Resources = Mapping[str, Mapping[str, Any]]


@pytest.fixture(scope="module")
def alarms(resources: Resources) -> dict[str, Mapping[str, Any]]:
    """AlarmName -> Properties."""
    return {
        props["AlarmName"]: props for props in of_type(resources, "AWS::CloudWatch::Alarm").values()
    }


@pytest.fixture(scope="module")
def topics(resources: Resources) -> dict[str, dict[str, str]]:
    """Severity -> a Ref to its topic."""
    out = {}
    for logical_id in of_type(resources, "AWS::SNS::Topic"):
        for severity in ("Critical", "Warning"):
            if logical_id.startswith(f"{severity}AlarmsTopic"):
                out[severity] = ref(logical_id)
    assert set(out) == {"Critical", "Warning"}
    return out


def _name(issue: IssueAlarm, scope: str) -> str:
    return f"{STACK_NAME}-{issue.severity}-{scope.split('/')[0]}-{issue.key}"


@pytest.mark.parametrize("pair", expanded(), ids=alarm_id)
def test_alarm(
    pair: tuple[IssueAlarm, str],
    alarms: dict[str, Mapping[str, Any]],
    topics: dict[str, dict[str, str]],
    logical_ids: dict[str, str],
) -> None:
    issue, scope = pair
    alarm = alarms[_name(issue, scope)]

    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == issue.threshold
    assert alarm["EvaluationPeriods"] == issue.evaluation_periods
    assert alarm["DatapointsToAlarm"] == issue.datapoints_to_alarm
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [topics[issue.severity]]
    assert alarm["OKActions"] == [topics[issue.severity]]
    assert alarm.get("ActionsEnabled", True) is True
    assert "First check: " in alarm["AlarmDescription"]

    watched = watched_metrics(alarm)
    assert {m.period for m in watched} == {issue.period}
    assert {m.statistic for m in watched} == {issue.statistic}
    if issue.statistic.startswith("p"):  # percentiles synthesize as ExtendedStatistic
        assert alarm["ExtendedStatistic"] == issue.statistic and "Statistic" not in alarm
    if issue.watches == ():  # AWS/Lambda, per function
        function = "${" + logical_ids[scope] + "}"
        assert sorted((m.namespace, m.name, m.dimensions) for m in watched) == [
            ("AWS/Lambda", "Errors", (("FunctionName", function),)),
            ("AWS/Lambda", "Invocations", (("FunctionName", function),)),
        ]
        assert expressions(alarm) == ["IF(invocations > 0, 100 * FILL(errors, 0) / invocations, 0)"]
    else:
        assert [(m.namespace, m.name, m.dimensions) for m in watched] == [
            (scope, spec.name, ()) for spec in issue.watches
        ]
        if len(issue.watches) == 2:  # errors / attempts, zero-traffic guard
            assert expressions(alarm) == ["IF(attempts > 0, 100 * FILL(errors, 0) / attempts, 0)"]
            ids = [q["Id"] for q in alarm["Metrics"] if "MetricStat" in q]
            assert ids == ["errors", "attempts"]
        else:
            assert expressions(alarm) == []
            assert "Dimensions" not in alarm  # the aggregate series, never a SessionId


def test_no_other_alarms(alarms: dict[str, Mapping[str, Any]]) -> None:
    assert sorted(alarms) == sorted(_name(issue, scope) for issue, scope in expanded())


def test_service_degraded_fires_on_any_critical_alarm(
    resources: Resources, alarms: dict[str, Mapping[str, Any]], topics: dict[str, dict[str, str]]
) -> None:
    (composite,) = of_type(resources, "AWS::CloudWatch::CompositeAlarm").values()
    assert composite["AlarmName"] == f"{STACK_NAME}-Critical-Service-ServiceDegraded"
    assert composite["AlarmActions"] == [topics["Critical"]]
    assert composite["OKActions"] == [topics["Critical"]]
    rule = text(composite["AlarmRule"])
    ids_by_name = {
        props["AlarmName"]: logical_id
        for logical_id, props in of_type(resources, "AWS::CloudWatch::Alarm").items()
    }
    critical = {ids_by_name[n] for n in alarms if "-Critical-" in n}
    in_rule = {i for i in ids_by_name.values() if "${" + i + ".Arn}" in rule}
    assert in_rule == critical and len(critical) == 5
    assert rule.count(" OR ") == len(critical) - 1 and " AND " not in rule


def test_every_alarm_watches_a_declared_aggregate_series(
    alarms: dict[str, Mapping[str, Any]],
) -> None:
    """Read from the template: no alarm can watch a metric the specs do not publish."""
    declared = {
        (s.namespace, spec.name)
        for s in SERVICES
        for spec in s.specs
        if AGGREGATE in spec.dimension_sets
    }
    for name, alarm in alarms.items():
        for m in watched_metrics(alarm):
            if m.namespace.startswith("AWS/"):
                continue
            assert (m.namespace, m.name) in declared, f"{name} watches {m}"
            assert m.dimension_names == AGGREGATE, f"{name} must watch the aggregate series"


def test_every_alarmed_spec_is_watched(alarms: dict[str, Mapping[str, Any]]) -> None:
    watched = {
        (m.namespace, m.name, m.dimension_names)
        for alarm in alarms.values()
        for m in watched_metrics(alarm)
    }
    for service in SERVICES:
        for spec in service.alarmed:
            assert (service.namespace, spec.name, AGGREGATE) in watched, spec.name


def test_the_issue_list_covers_every_alarmed_spec() -> None:
    for service in SERVICES:
        listed = {spec for a in ISSUE_ALARMS if service.namespace in a.scopes for spec in a.watches}
        assert set(service.alarmed) <= listed, service.namespace
