"""Every alarm as synthesized: what it watches, how it compares, how long, what it does with
missing data, and whom it notifies; the composite alarm; and both directions of
consistency with the spec modules, read from the template itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from infra.alarm_scopes import SYNTHETICS_NAMESPACE
from infra.services import AGGREGATE, SERVICES
from infra_tests.cfn import expressions, of_type, ref, text, watched_metrics
from infra_tests.conftest import STACK_NAME
from infra_tests.required_alarms import (
    FUNCTION_LABELS,
    FUNCTION_NAMESPACES,
    REQUIRED_ALARMS,
    STAGE,
    TABLE_LABELS,
    RequiredAlarm,
    alarm_id,
    expanded,
)
from websocket_canary.steps import STEPS

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


def _name(issue: RequiredAlarm, scope: str) -> str:
    return f"{STACK_NAME}-{issue.severity}-{scope.split('/')[0]}-{issue.key}"


@pytest.fixture(scope="module")
def resource_ids(resources: Resources, logical_ids: dict[str, str]) -> dict[str, str]:
    """Scope label -> the logical id of the resource it names (functions, tables, topics,
    and the API for the stage)."""
    ids = dict(logical_ids)
    for logical_id in of_type(resources, "AWS::DynamoDB::Table"):
        for label in TABLE_LABELS:
            if logical_id.startswith(label):
                ids[label] = logical_id
    for logical_id in of_type(resources, "AWS::SNS::Topic"):
        for label in ("CriticalAlarmsTopic", "WarningAlarmsTopic"):
            if logical_id.startswith(label):
                ids[label] = logical_id
    (api,) = of_type(resources, "AWS::ApiGatewayV2::Api")
    ids[STAGE] = api
    return ids


# The DynamoDB operations whose SystemErrors a table alarm adds up (the services' calls).
TABLE_OPERATIONS = (
    "DeleteItem",
    "GetItem",
    "PutItem",
    "Query",
    "Scan",
    "TransactWriteItems",
    "UpdateItem",
)


@pytest.mark.parametrize("pair", expanded(), ids=alarm_id)
def test_alarm(
    pair: tuple[RequiredAlarm, str],
    alarms: dict[str, Mapping[str, Any]],
    topics: dict[str, dict[str, str]],
    resources: Resources,
    resource_ids: dict[str, str],
) -> None:
    issue, scope = pair
    alarm = alarms[_name(issue, scope)]

    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == issue.evaluation_periods
    assert alarm["DatapointsToAlarm"] == issue.datapoints_to_alarm
    assert alarm["TreatMissingData"] == issue.missing
    if issue.severity == "Critical":
        # One page per incident: critical alarms page through the composite only.
        assert "AlarmActions" not in alarm and "OKActions" not in alarm
    else:
        assert alarm["AlarmActions"] == [topics[issue.severity]]
        assert alarm["OKActions"] == [topics[issue.severity]]
    assert alarm.get("ActionsEnabled", True) is True
    assert "First check: " in alarm["AlarmDescription"]

    threshold = issue.threshold
    if issue.relative_to:  # read from the synthesized function, not from a copy
        function = resources[resource_ids[scope]]["Properties"]
        limit = function[issue.relative_to]
        threshold *= limit * 1000 if issue.relative_to == "Timeout" else limit
    assert alarm["Threshold"] == pytest.approx(threshold)

    watched = watched_metrics(alarm)
    assert {m.period for m in watched} == {issue.period}
    if issue.statistic.startswith("p"):  # percentiles synthesize as ExtendedStatistic
        assert alarm["ExtendedStatistic"] == issue.statistic and "Statistic" not in alarm
    found = sorted((m.namespace, m.name, m.dimensions, m.statistic) for m in watched)
    resource = "${" + resource_ids.get(scope, "") + "}"
    if issue.kind == "service":
        assert {m.statistic for m in watched} == {issue.statistic}
        assert [(m.namespace, m.name, m.dimensions) for m in watched] == [
            (scope, spec.name, ()) for spec in issue.watches
        ]
        if len(issue.watches) == 2:  # errors / attempts, zero-traffic guard
            assert expressions(alarm) == ["IF(attempts > 0, 100 * FILL(errors, 0) / attempts, 0)"]
            ids = [q["Id"] for q in alarm["Metrics"] if "MetricStat" in q]
            assert ids == ["errors", "attempts"]
        elif issue.statistic == "Sum":
            # A count, published only where something happened: filled with 0, so a quiet
            # period is a real 0 and a burst stops breaching once it leaves the window.
            assert expressions(alarm) == ["FILL(count, 0)"]
            assert all(m.dimensions == () for m in watched)  # never a SessionId
        else:
            assert expressions(alarm) == []
            assert "Dimensions" not in alarm  # the aggregate series, never a SessionId
    elif issue.key in ("LambdaErrorRate", "Heartbeat"):
        namespace = FUNCTION_NAMESPACES[scope]
        own = "LambdaErrors" if issue.key == "LambdaErrorRate" else "HandlerInvocations"
        lambda_metrics = (
            ["Errors", "Invocations"] if issue.key == "LambdaErrorRate" else ["Invocations"]
        )
        assert found == sorted(
            [("AWS/Lambda", n, (("FunctionName", resource),), "Sum") for n in lambda_metrics]
            + [(namespace, own, (("Handler", scope),), "Sum")]
        )
    elif issue.kind == "function":
        assert found == [
            ("AWS/Lambda", issue.metric, (("FunctionName", resource),), issue.statistic)
        ]
    elif issue.kind == "stage":
        stage = (("ApiId", resource), ("Stage", "prod"))
        api_metrics = ("ExecutionError", "IntegrationError", "ClientError")
        assert found == sorted(
            [("AWS/ApiGateway", name, stage, "Sum") for name in api_metrics]
            + [
                (FUNCTION_NAMESPACES[label], "ErrorResponses", (("Handler", label),), "Sum")
                for label in FUNCTION_LABELS
            ]
        )
    elif issue.kind == "table":
        names: list[tuple[str, tuple[tuple[str, str], ...]]]
        if issue.key == "Throttles":
            names = [("ReadThrottleEvents", ()), ("WriteThrottleEvents", ())]
        else:
            names = [("SystemErrors", (("Operation", op),)) for op in TABLE_OPERATIONS]
        assert found == sorted(
            ("AWS/DynamoDB", n, tuple(sorted((("TableName", resource), *dims))), "Sum")
            for n, dims in names
        )
        # A sum of filled series: a period without throttling is 0, never missing.
        assert expressions(alarm) == [
            " + ".join(f"FILL({q['Id']}, 0)" for q in alarm["Metrics"] if "MetricStat" in q)
        ]
    elif issue.kind == "canary":
        canary_name = _canary_name(resources)
        assert found == [
            ("CloudWatchSynthetics", issue.metric, (("CanaryName", canary_name),), issue.statistic)
        ]
        if issue.metric == "SuccessPercent":
            # The failed runs in percent; no FILL: a period without a run stays missing, and
            # the alarm treats it as breaching.
            assert expressions(alarm) == ["100 - success"]
        else:
            assert expressions(alarm) == []
    else:
        topic = "${" + resource_ids[scope] + ".TopicName}"
        assert found == [("AWS/SNS", issue.metric, (("TopicName", topic),), "Sum")]
        assert expressions(alarm) == ["FILL(failed, 0)"]


def _canary_name(resources: Resources) -> str:
    (canary,) = of_type(resources, "AWS::Synthetics::Canary").values()
    name: str = canary["Name"]
    return name


def test_the_canary_alarms_read_the_canary_the_stack_deploys(
    alarms: dict[str, Mapping[str, Any]], resources: Resources
) -> None:
    name = _canary_name(resources)
    assert name == f"{STACK_NAME}-ws"
    unreachable = alarms[f"{STACK_NAME}-Critical-Canary-Unreachable"]
    assert "a period without a run breaches" in unreachable["AlarmDescription"]
    for step in STEPS:  # the runbook explains each step a failed run can name
        assert step in unreachable["AlarmDescription"], step


def test_the_lambda_error_rate_sees_handled_and_unhandled_failures(
    alarms: dict[str, Mapping[str, Any]],
) -> None:
    alarm = alarms[f"{STACK_NAME}-Critical-connection-LambdaErrorRate"]
    failed = "FILL(errors, 0) + FILL(handled, 0)"
    assert expressions(alarm) == [
        f"IF(invocations > 0, IF({failed} >= 3, 100 * ({failed}) / invocations, 0), 0)"
    ]
    assert "fewer than 3 failed requests" in alarm["AlarmDescription"]


def test_the_heartbeat_is_quiet_without_traffic(alarms: dict[str, Mapping[str, Any]]) -> None:
    alarm = alarms[f"{STACK_NAME}-Warning-audio_processor-Heartbeat"]
    assert expressions(alarm) == ["IF(FILL(invocations, 0) > 0, IF(FILL(seen, 0) == 0, 1, 0), 0)"]


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
    expected = [pair for pair in expanded() if pair[0].severity == "Critical"]
    assert in_rule == critical and len(critical) == len(expected)
    assert rule.count(" OR ") == len(critical) - 1 and " AND " not in rule


def test_every_alarm_watches_a_declared_aggregate_series(
    alarms: dict[str, Mapping[str, Any]],
) -> None:
    """Read from the template: no alarm can watch a metric the specs do not publish, and
    only the per-function alarms read a Handler series (never a session or connection)."""
    declared = {
        (s.namespace, spec.name, tuple(dims))
        for s in SERVICES
        for spec in s.specs
        for dims in spec.dimension_sets
    }
    for name, alarm in alarms.items():
        for m in watched_metrics(alarm):
            if m.namespace.startswith("AWS/") or m.namespace == SYNTHETICS_NAMESPACE:
                continue  # AWS's own metrics, and Synthetics' (the canary's)
            assert (m.namespace, m.name, m.dimension_names) in declared, f"{name} watches {m}"
            if m.dimension_names != AGGREGATE:
                assert m.dimension_names == ("Handler",), f"{name} watches {m}"
                assert dict(m.dimensions)["Handler"] in FUNCTION_NAMESPACES


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
        listed = {
            spec for a in REQUIRED_ALARMS if service.namespace in a.scopes for spec in a.watches
        }
        assert set(service.alarmed) <= listed, service.namespace
