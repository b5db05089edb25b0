"""The dashboard as synthesized: the alarm status widget first, a row per area, every metric
of both services on a graph, and every alarm's threshold drawn on the graph of its metric."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from infra.dashboard import ROWS
from infra.services import SERVICES
from infra_tests.cfn import dashboard_body, of_type, watched_metrics
from infra_tests.required_alarms import expanded

Widget = Mapping[str, Any]


@pytest.fixture(scope="module")
def widgets(resources: Mapping[str, Mapping[str, Any]]) -> list[Widget]:
    (dashboard,) = of_type(resources, "AWS::CloudWatch::Dashboard").values()
    widgets: list[Widget] = dashboard_body(dashboard)["widgets"]
    return widgets


def _graphs(widgets: list[Widget]) -> list[Widget]:
    return [w for w in widgets if w["type"] == "metric"]


def _plotted(graph: Widget) -> set[tuple[str, str, str]]:
    """(namespace, metric, stat) of every metric line of a graph (math inputs included)."""
    out = set()
    for line in graph["properties"]["metrics"]:
        if isinstance(line[0], dict):  # a math expression
            continue
        options = line[-1] if isinstance(line[-1], dict) else {}
        namespace, name = line[0], line[1]
        # CDK writes no "stat" for Average (its rendering: `statistic !== "Average"`), the
        # statistic a dashboard graph uses when none is given.
        out.add((namespace, name, options.get("stat", "Average")))
    return out


def test_rows_in_order_after_the_alarm_status(widgets: list[Widget]) -> None:
    assert widgets[0]["type"] == "alarm"
    headers = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert headers == [
        "## Reachability: the canary, a speaker and a listener from outside",
        "## Audio",
        "## Transcribe",
        "## Control",
        "## Status",
        "## Rate limiting",
        "## Errors",
        "## Platform: Lambda, API Gateway, DynamoDB, alarm delivery",
    ]
    for row_header in (w for w in widgets if w["type"] == "text"):
        assert row_header["width"] == 24
    # Widgets of one row sit side by side: rows never exceed the dashboard's 24 units.
    rows: dict[int, int] = {}
    for w in widgets:
        rows[w["y"]] = rows.get(w["y"], 0) + w["width"]
    assert max(rows.values()) <= 24


def test_alarm_status_widget_lists_every_alarm(
    widgets: list[Widget], resources: Mapping[str, Mapping[str, Any]]
) -> None:
    listed = widgets[0]["properties"]["alarms"]
    alarm_ids = set(of_type(resources, "AWS::CloudWatch::Alarm")) | set(
        of_type(resources, "AWS::CloudWatch::CompositeAlarm")
    )
    assert len(listed) == len(alarm_ids) == len(expanded()) + 1
    assert all(any("${" + i + ".Arn}" == arn for i in alarm_ids) for arn in listed)


def test_every_metric_of_both_services_is_on_a_graph(widgets: list[Widget]) -> None:
    plotted = {(ns, name) for g in _graphs(widgets) for ns, name, _ in _plotted(g)}
    for service in SERVICES:
        for spec in service.specs:
            assert (service.namespace, spec.name) in plotted, f"{service.namespace} {spec.name}"


def test_every_alarm_threshold_is_drawn_on_the_graph_of_its_metric(
    widgets: list[Widget], resources: Mapping[str, Mapping[str, Any]]
) -> None:
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        metrics = watched_metrics(alarm)
        period = metrics[0].period
        label = "Critical" if "-Critical-" in alarm["AlarmName"] else "Warning"
        homes = [
            g
            for g in _graphs(widgets)
            if g["properties"].get("period") == period
            and {(m.namespace, m.name, m.statistic) for m in metrics} <= _plotted(g)
            and any(
                a["value"] == alarm["Threshold"] and a["label"].startswith(label)
                for a in g["properties"].get("annotations", {}).get("horizontal", [])
            )
        ]
        assert homes, f"{alarm['AlarmName']}: no graph shows its threshold"


def test_layout_data_is_consistent() -> None:
    assert [r.title for r in ROWS] == [
        "Audio",
        "Transcribe",
        "Control",
        "Status",
        "Rate limiting",
        "Errors",
    ]
    titles = [g.title for r in ROWS for g in r.graphs]
    assert len(titles) == len(set(titles))
