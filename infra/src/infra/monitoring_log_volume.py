"""How much log data the stack writes and reads in a month, per log group: what the functions
write (EMF, Lambda's own lines), the API access logs, and what Logs Insights scans of it.

Bytes are counted as written (one newline per line); GB are 2^30 bytes. Storage is the
steady state of a log group's retention: a group keeping 30 days holds 30 days of data, i.e.
30 / 30.42 of a month's ingestion, every hour of the month.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from infra.monitoring_inventory import HOURS_PER_MONTH, Inventory, LogReader
from infra.monitoring_measured import ACCESS_LOG_VALUES, LAMBDA_PLATFORM_BYTES
from infra.monitoring_traffic import TrafficProfile

GB = float(2**30)
NEVER_EXPIRES_MONTHS = 12  # a log group without retention: priced in its 12th month


@dataclass(frozen=True)
class LogVolume:
    """Bytes a month: by kind, and by log group (logical id; a function without its own log
    group writes to Lambda's default one, named after the function)."""

    emf: float
    platform: float
    access: float
    by_group: Mapping[str, float]

    def stored_gb_months(self, inventory: Inventory) -> float:
        retention = {g: lg.retention_days for g, lg in inventory.log_groups.items()}
        return sum(b / GB * stored_months(retention.get(g)) for g, b in self.by_group.items())

    def hourly(self, profile: TrafficProfile) -> dict[str, float]:
        """Bytes per traffic hour per log group: what a query over recent hours scans."""
        hours = profile.traffic_hours_per_month or HOURS_PER_MONTH
        return {g: b / hours for g, b in self.by_group.items()}


def log_volume(
    inventory: Inventory,
    function_labels: Mapping[str, str],
    invocations: Mapping[str, float],
    requests: Mapping[str, float],
    emf_bytes: Mapping[str, float],
) -> LogVolume:
    """A month's log data: each function's invocations x its EMF bytes (functions on the emf
    sink) and Lambda's lines; each request's access log line."""
    by_group: dict[str, float] = {}
    emf = platform = 0.0
    for fn, f in inventory.functions.items():
        label = function_labels[fn]
        written = invocations[fn] * emf_bytes[label] if f.metrics_sink == "emf" else 0.0
        lambda_lines = invocations[fn] * LAMBDA_PLATFORM_BYTES
        group = f.log_group or f"/aws/lambda/{label}"
        by_group[group] = by_group.get(group, 0.0) + written + lambda_lines
        emf += written
        platform += lambda_lines
    access = 0.0
    if inventory.access_logs is not None:
        group, log_format = inventory.access_logs
        access = sum(n * access_log_bytes(log_format, route) for route, n in requests.items())
        by_group[group] = by_group.get(group, 0.0) + access
    return LogVolume(emf, platform, access, by_group)


def access_log_bytes(log_format: str, route: str) -> float:
    """One access log line (and its newline) for a request on ``route``."""
    event = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    values = {**ACCESS_LOG_VALUES, "$context.eventType": event, "$context.routeKey": route}
    line = log_format
    # Longest names first: a variable whose name begins a longer one's is never replaced
    # inside it (none does in today's format).
    for name in sorted(values, key=len, reverse=True):
        line = line.replace(name, values[name])
    return float(len(line.encode()) + 1)


def stored_months(retention_days: int | None) -> float:
    """GB-months stored per GB ingested a month, in the steady state of the retention."""
    if retention_days is None:
        return float(NEVER_EXPIRES_MONTHS)
    return retention_days / (HOURS_PER_MONTH / 24)


def scanned_gb(reader: LogReader, hourly: Mapping[str, float], hours: float) -> float:
    """GB a query over the last ``hours`` of ``reader``'s log groups scans."""
    return sum(hourly.get(g, 0.0) for g in reader.log_groups) * hours / GB


def query_runs_gb(
    queries: tuple[LogReader, ...], hourly: Mapping[str, float], profile: TrafficProfile
) -> float:
    """GB the saved queries scan a month: the runs per incident, each over its log groups'
    last ``query_window_hours`` (or ``gb_scanned_per_query`` when given)."""
    if not queries:
        return 0.0
    per_query = [
        profile.gb_scanned_per_query
        if profile.gb_scanned_per_query is not None
        else scanned_gb(q, hourly, profile.query_window_hours)
        for q in queries
    ]
    if profile.query_runs_per_incident is None:
        per_incident = sum(per_query)
    else:
        per_incident = profile.query_runs_per_incident * sum(per_query) / len(per_query)
    return profile.incidents_per_month * per_incident
