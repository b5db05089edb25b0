"""Reading alarms from templates: infra's REAL synthesized stack, and shapes it does not use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from audio_transcription.metrics_spec import AUDIO_PROCESSING_LATENCY
from audio_transcription.metrics_spec import NAMESPACE as AUDIO_NAMESPACE
from infra.alarm_scopes import SYNTHETICS_NAMESPACE
from infra.alarm_vocabulary import Severity, alarm_name, composite_alarm_name
from infra.canary import canary_name
from infra.stack import WebSocketServiceStack
from local_run.cloudwatch.alarm_model import (
    ComparisonOperator,
    CompositeAlarm,
    MetricAlarm,
    TemplateAlarms,
    TreatMissingData,
)
from local_run.cloudwatch.alarm_rule import AllOf, AnyOf, Not, StateIs
from local_run.cloudwatch.evaluator import AlarmState, evaluate
from local_run.cloudwatch.intrinsics import TemplateAlarmError
from local_run.cloudwatch.metric_statistics import aligned
from local_run.cloudwatch.metric_store import InMemoryMetricStore
from local_run.cloudwatch.template_alarms import read_alarms, read_template_file
from local_run.simulation.stack_alarms import synthesized_alarms
from local_run_tests.conftest import STACK_NAME

AUDIO, LATENCY = "AudioTranscription", "AudioLatencyP95"
CRITICAL_LATENCY = alarm_name(STACK_NAME, Severity.CRITICAL, AUDIO, LATENCY)
WARNING_LATENCY = alarm_name(STACK_NAME, Severity.WARNING, AUDIO, LATENCY)
DEGRADED = composite_alarm_name(STACK_NAME)


@pytest.fixture(scope="module")
def alarms(template_json: dict[str, Any]) -> TemplateAlarms:
    return read_alarms(template_json)


@pytest.fixture(scope="module")
def resolved(stack: WebSocketServiceStack) -> TemplateAlarms:
    """Resource references mapped to local names: FunctionName to made-up function names,
    TableName, TopicName and ApiId to the local run's."""
    return synthesized_alarms(STACK_NAME, {label: f"fn-{label}" for label in stack.functions})


def test_every_alarm_of_the_stack_parses(
    alarms: TemplateAlarms, stack: WebSocketServiceStack, template_json: dict[str, Any]
) -> None:
    resources = template_json["Resources"]
    n_metric = sum(r["Type"] == "AWS::CloudWatch::Alarm" for r in resources.values())
    n_composite = sum(r["Type"] == "AWS::CloudWatch::CompositeAlarm" for r in resources.values())
    assert len(alarms.metric_alarms) == n_metric == len(stack.alarms.plan)
    assert len(alarms.composite_alarms) == n_composite == 1
    assert {a.name for a in alarms.metric_alarms} == {p.name for p in stack.alarms.plan}
    for alarm in alarms.metric_alarms:
        # What infra's README promises for every alarm.
        assert alarm.comparison is ComparisonOperator.GREATER_THAN
        # ... but the canary's success alarm, for which a canary that stops is the incident.
        expected = (
            TreatMissingData.BREACHING
            if alarm.name.endswith("-Critical-Canary-Unreachable")
            else TreatMissingData.NOT_BREACHING
        )
        assert alarm.treat_missing_data is expected
        # Critical alarms page through the composite only; warnings notify their topic.
        if "-Critical-" in alarm.name:
            assert alarm.alarm_actions == alarm.ok_actions == ()
        else:
            assert alarm.alarm_actions and alarm.alarm_actions == alarm.ok_actions
    degraded = alarms.by_name(DEGRADED)
    critical = {a.logical_id for a in alarms.metric_alarms if "-Critical-" in a.name}
    assert isinstance(degraded, CompositeAlarm) and isinstance(degraded.rule, AnyOf)
    assert all(isinstance(r, StateIs) and r.state == "ALARM" for r in degraded.rule.operands)
    assert degraded.children == critical


def test_shapes_of_the_stack(alarms: TemplateAlarms, resolved: TemplateAlarms) -> None:
    latency = alarms.by_name(CRITICAL_LATENCY)
    assert isinstance(latency, MetricAlarm)
    stat = latency.returned.metric_stat
    assert stat is not None and stat.stat == "p95" and stat.period == 60
    assert stat.metric.namespace == AUDIO_NAMESPACE
    assert stat.metric.name == AUDIO_PROCESSING_LATENCY.name
    assert stat.metric.dimensions == ()
    assert latency.threshold == 100
    assert (latency.evaluation_periods, latency.datapoints_to_alarm) == (5, 5)
    lambda_alarms = [a for a in alarms.metric_alarms if a.name.endswith("-LambdaErrorRate")]
    assert len(lambda_alarms) == 3
    for alarm in lambda_alarms:
        assert alarm.returned.expression is not None
        lambda_metrics = [m for m in alarm.metrics if m.namespace == "AWS/Lambda"]
        assert [m.name for m in lambda_metrics] == ["Errors", "Invocations"]
        assert all(m.dimensions[0][1].startswith("{Ref:") for m in lambda_metrics)
    # Function names, table names, topic names and the API id are resource references.
    assert len(alarms.unresolved_dimension_values()) == 3 + 3 + 2 + 1
    assert resolved.unresolved_dimension_values() == frozenset()


def latency_store(bad_minutes: range, p95_bad: float = 150.0) -> InMemoryMetricStore:
    """30 minutes of audio latency: fast, except in ``bad_minutes`` where 10 % of the
    samples are slow (p95 = the slow value); the canary passing every 5 minutes meanwhile
    (without its runs, its success alarm fires: missing data breaches)."""
    store = InMemoryMetricStore()
    for k in range(30):
        dist = {35.0: 90, p95_bad: 10} if k in bad_minutes else {20.0: 50, 40.0: 45, 90.0: 5}
        store.put(AUDIO_NAMESPACE, AUDIO_PROCESSING_LATENCY.name, START + 60 * k + 10, dist)
    canary = {"CanaryName": canary_name(STACK_NAME)}
    for k in range(-15, 30, 5):
        t = START + 60 * k + 20
        store.put(SYNTHETICS_NAMESPACE, "SuccessPercent", t, 100.0, canary)
        store.put(SYNTHETICS_NAMESPACE, "Duration", t, 1500.0, canary)
    return store


START = aligned(1_700_000_000, 60)


def test_five_minutes_of_slow_audio_trip_exactly_the_critical_latency_alarm(
    resolved: TemplateAlarms,
) -> None:
    result = evaluate(resolved, latency_store(range(10, 15)), START, START + 30 * 60)
    fired_metric_alarms = {n for n in result.fired() if n != DEGRADED}
    assert fired_metric_alarms == {CRITICAL_LATENCY}
    assert DEGRADED in result.fired()
    changes = [(c.new, (c.timestamp - START) / 60) for c in result.changes_of(CRITICAL_LATENCY)]
    # Baseline p95 is 90 ms (not > 100): OK; ALARM once minutes 10..14 are all complete.
    assert changes[:2] == [(AlarmState.OK, 1), (AlarmState.ALARM, 15)]
    assert changes[-1][0] is AlarmState.OK
    assert result.final_states[WARNING_LATENCY] is AlarmState.OK


@pytest.mark.parametrize(
    "bad_minutes, p95_bad", [(range(10, 14), 150.0), (range(10, 15), 100.0)], ids=["4 min", "=100"]
)
def test_short_or_boundary_latency_trips_nothing(
    resolved: TemplateAlarms, bad_minutes: range, p95_bad: float
) -> None:
    result = evaluate(resolved, latency_store(bad_minutes, p95_bad), START, START + 30 * 60)
    assert result.fired() == frozenset()


def test_cdk_out_file(tmp_path: Path, template_json: dict[str, Any]) -> None:
    path = tmp_path / "stack.template.json"
    path.write_text(json.dumps(template_json))
    assert read_template_file(path) == read_alarms(template_json)


# -- shapes the stack does not use ---------------------------------------------------------------


def template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def simple(**props: Any) -> dict[str, Any]:
    base = {
        "Namespace": "ns",
        "MetricName": "m",
        "Statistic": "Average",
        "Period": 300,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "EvaluationPeriods": 3,
    }
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {**base, **props}}


def test_defaults_names_and_tokens() -> None:
    result = read_alarms(
        template(
            A=simple(
                AlarmName={"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "a"]]},
                Dimensions=[{"Name": "B", "Value": "2"}, {"Name": "A", "Value": {"Ref": "Fn"}}],
            ),
            B=simple(AlarmName={"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "b"]]}),
        ),
        parameters={"AWS::StackName": "prod"},
    )
    a = result.by_name("prod-a")
    assert isinstance(a, MetricAlarm)
    assert a.treat_missing_data is TreatMissingData.MISSING  # the default
    assert a.datapoints_to_alarm == 3  # defaults to EvaluationPeriods
    assert a.metrics[0].dimensions == (("A", "{Ref:Fn}"), ("B", "2"))
    # Without the parameter the name cannot be resolved: the logical id stands in.
    assert read_alarms(template(A=simple(AlarmName={"Ref": "Name"}))).metric_alarms[0].name == "A"


def composite(rule: Any) -> dict[str, Any]:
    return {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {"AlarmRule": rule}}


def test_composite_rules() -> None:
    rule = {
        "Fn::Join": [
            "",
            [
                'NOT (ALARM("',
                {"Fn::GetAtt": ["A", "Arn"]},
                '") AND OK(',
                {"Ref": "B"},
                ')) OR ALARM("arn:aws:cloudwatch:us-east-1:123:alarm:named-c")',
            ],
        ]
    }
    result = read_alarms(
        template(A=simple(), B=simple(), C=simple(AlarmName="named-c"), X=composite(rule))
    )
    assert result.composite_alarms[0].rule == AnyOf(
        (Not(AllOf((StateIs("ALARM", "A"), StateIs("OK", "B")))), StateIs("ALARM", "C"))
    )


@pytest.mark.parametrize(
    "resources, message",
    [
        ({"A": simple(Statistic="tm90")}, "A.*unsupported statistic 'tm90'"),
        ({"A": simple(ExtendedStatistic="p95")}, "exactly one of Statistic"),
        (
            {"A": simple(ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold")},
            "ComparisonOperator",
        ),
        ({"A": simple(TreatMissingData="sometimes")}, "TreatMissingData"),
        ({"A": simple(DatapointsToAlarm=4)}, "exceeds"),
        ({"A": simple(ThresholdMetricId="ad1")}, "ThresholdMetricId"),
        (
            {
                "A": simple(
                    Metrics=[{"Id": "e", "Expression": "SEARCH('x', 'Sum', 60)"}],
                    Namespace=None,
                )
            },
            "both Metrics",
        ),
        (
            {"A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
                "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold",
                "EvaluationPeriods": 1,
                "Metrics": [{"Id": "e", "Expression": "SEARCH('x', 'Sum', 60)"}]}}},
            "alarm A .*SEARCH is not supported",
        ),
        (
            {"A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
                "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold",
                "EvaluationPeriods": 1,
                "Metrics": [{"Id": "e", "Expression": "x * 2"}]}}},
            "unknown ids",
        ),
        ({"A": simple(), "X": composite('ALARM("nope")')}, "X: AlarmRule refers to unknown alarm"),
        (
            {"A": simple(), "X": composite('ALARM(A) AND ALARM(A) OR ALARM(A)')},
            "mixes AND and OR",
        ),
        ({"A": simple(), "X": composite("ALARM(A) AND")}, "ends early"),
    ],
)
def test_unsupported_shapes_name_the_alarm(resources: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateAlarmError, match=message):
        read_alarms(template(**resources))
