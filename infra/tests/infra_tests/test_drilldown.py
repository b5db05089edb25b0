"""The drill-down in the template: every Contributor Insights rule and saved query, on the
log groups that hold the answer; every alarm's runbook names what to open; the dashboard
shows the rules and queries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from infra.alarm_table import ALARMS
from infra.drilldown import ACCESS_LOGS, DRILLDOWN, QUERIES, RULES
from infra.stack import WebSocketServiceStack
from infra_tests.cfn import dashboard_body, of_type, text
from infra_tests.conftest import STACK_NAME

Resources = Mapping[str, Mapping[str, Any]]


def _group_ids(stack: WebSocketServiceStack) -> dict[str, str]:
    groups = {**stack.log_groups, ACCESS_LOGS: stack.access_logs}
    return {label: stack.resolve(g.node.default_child.logical_id) for label, g in groups.items()}  # type: ignore[union-attr]


def test_every_rule_is_in_the_template_on_its_log_groups(
    resources: Resources, stack: WebSocketServiceStack
) -> None:
    ids = _group_ids(stack)
    found = {p["RuleName"]: p for p in of_type(resources, "AWS::CloudWatch::InsightRule").values()}
    assert sorted(found) == sorted(f"{STACK_NAME}-{r.key}" for r in RULES)
    for rule in RULES:
        props = found[f"{STACK_NAME}-{rule.key}"]
        assert props["RuleState"] == "ENABLED"
        body = json.loads(text(props["RuleBody"]))
        assert body["Schema"] == {"Name": "CloudWatchLogRule", "Version": 1}
        assert body["LogFormat"] == "JSON"
        assert body["LogGroupNames"] == ["${" + ids[f] + "}" for f in rule.functions]
        # Per-session detail without per-session metrics: ids are keys, never dimensions.
        assert any(k in ("$.SessionId", "$.ConnectionId") for k in body["Contribution"]["Keys"])


def test_every_query_is_saved_for_its_log_groups(
    resources: Resources, stack: WebSocketServiceStack
) -> None:
    ids = _group_ids(stack)
    found = {p["Name"]: p for p in of_type(resources, "AWS::Logs::QueryDefinition").values()}
    assert sorted(found) == sorted(f"{STACK_NAME}/{q.key}" for q in QUERIES)
    for query in QUERIES:
        props = found[f"{STACK_NAME}/{query.key}"]
        assert props["QueryString"] == query.query
        assert props["LogGroupNames"] == [{"Ref": ids[s]} for s in query.scope]


def test_every_alarm_names_its_rule_and_query(resources: Resources) -> None:
    rule_keys = {r.key for r in RULES}
    query_keys = {q.key for q in QUERIES}
    assert set(DRILLDOWN) == {(d.severity.value, d.key) for d in ALARMS}
    for (rules, queries) in DRILLDOWN.values():
        assert set(rules) <= rule_keys and set(queries) <= query_keys
    used = {k for rules, _ in DRILLDOWN.values() for k in rules}
    assert used == rule_keys  # every rule is some alarm's drill-down
    for props in of_type(resources, "AWS::CloudWatch::Alarm").values():
        name = props["AlarmName"].removeprefix(f"{STACK_NAME}-")
        severity, key = name.split("-")[0], name.split("-")[-1]
        rules, queries = DRILLDOWN[(severity, key)]
        description = props["AlarmDescription"]
        for r in rules:
            assert f"Contributor Insights rule {STACK_NAME}-{r}" in description
        for q in queries:
            assert f"{STACK_NAME}/{q}" in description
        assert len(description) <= 1024


def test_the_dashboard_shows_the_rules_and_queries(resources: Resources) -> None:
    (dashboard,) = of_type(resources, "AWS::CloudWatch::Dashboard").values()
    widgets = dashboard_body(dashboard)["widgets"]
    expressions = [
        m[0]["expression"]
        for w in widgets
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
        if isinstance(m[0], dict)
    ]
    for rule in RULES:
        assert f"INSIGHT_RULE_METRIC('{STACK_NAME}-{rule.key}', 'UniqueContributors')" in (
            expressions
        )
    log_widgets = [w for w in widgets if w["type"] == "log"]
    assert log_widgets
    shown = " ".join(w["properties"]["query"] for w in log_widgets)
    assert "slow-audio" not in shown  # the widget holds the query itself, not its name
    assert any(q.query.split(" | ")[0] in shown for q in QUERIES)
