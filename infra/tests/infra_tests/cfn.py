"""Reading a synthesized CloudFormation template the way the tests compare it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Resources = Mapping[str, Mapping[str, Any]]


def of_type(resources: Resources, type_name: str) -> dict[str, Mapping[str, Any]]:
    """Logical id -> Properties of every resource of one type."""
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in resources.items()
        if resource["Type"] == type_name
    }


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def text(value: Any) -> str:
    """A string property with its intrinsics spelled out: ``{"Ref": "X"}`` -> ``${X}``,
    ``{"Fn::GetAtt": ["X", "Arn"]}`` -> ``${X.Arn}``, ``Fn::Join`` joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        if "Ref" in value:
            return "${" + value["Ref"] + "}"
        if "Fn::GetAtt" in value:
            return "${" + ".".join(value["Fn::GetAtt"]) + "}"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(text(part) for part in parts)
    raise ValueError(f"cannot render {value!r}")


@dataclass(frozen=True)
class WatchedMetric:
    """One metric an alarm reads."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]  # (name, rendered value), sorted by name
    statistic: str
    period: int

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.dimensions)


def _dimensions(raw: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((d["Name"], text(d["Value"])) for d in raw or ()))


def watched_metrics(alarm: Mapping[str, Any]) -> list[WatchedMetric]:
    """The metrics of an alarm, in either form CloudFormation takes (single metric, or a
    ``Metrics`` list with math)."""
    if "MetricName" in alarm:
        return [
            WatchedMetric(
                alarm["Namespace"],
                alarm["MetricName"],
                _dimensions(alarm.get("Dimensions")),
                alarm.get("ExtendedStatistic") or alarm["Statistic"],
                alarm["Period"],
            )
        ]
    out = []
    for query in alarm["Metrics"]:
        stat = query.get("MetricStat")
        if stat is None:
            continue
        metric = stat["Metric"]
        out.append(
            WatchedMetric(
                metric["Namespace"],
                metric["MetricName"],
                _dimensions(metric.get("Dimensions")),
                stat["Stat"],
                stat["Period"],
            )
        )
    return out


def expressions(alarm: Mapping[str, Any]) -> list[str]:
    return [q["Expression"] for q in alarm.get("Metrics", []) if "Expression" in q]


def statements(policy_document: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from policy_document["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def dashboard_body(dashboard: Mapping[str, Any]) -> dict[str, Any]:
    """The dashboard JSON, intrinsics rendered as ``${...}`` placeholders."""
    rendered = text(dashboard["DashboardBody"])
    return json.loads(rendered)
