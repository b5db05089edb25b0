"""The monitoring's monthly bill: each line computed on its own from the template's inventory,
a traffic profile, what the handlers write (a `Measurement`) and a Region's prices.

Scope: what exists to watch the service. CloudWatch custom metrics, alarms, the dashboard,
Contributor Insights, Synthetics, saved Logs Insights queries; CloudWatch Logs ingestion and
storage of what the functions write (EMF, Lambda's own lines) and of the API access logs the
drill-down reads; the SNS alarm topics and their KMS key. Not in it: Lambda, API Gateway,
DynamoDB and EventBridge usage (`Bill.out_of_scope` names them).

Assumptions the lines state: custom metric tiers count from zero (the account's other custom
metrics would push these into cheaper tiers); storage is counted at the ingested size, in
the steady state of each log group's retention (an upper bound if archived data is stored
compressed); GB are 2^30 bytes; a healthy event matches no Contributor Insights rule (each
filters on a failure) and during an incident every event of the rule's log groups matches
(an upper bound). The free tier is not applied unless asked (it is the account's, shared with
whatever else the account runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from infra.monitoring_inventory import (
    EMAIL_PROTOCOLS,
    HOURS_PER_MONTH,
    HTTP_PROTOCOLS,
    OUT_OF_SCOPE_KINDS,
    Inventory,
)
from infra.monitoring_log_volume import GB, log_volume, query_runs_gb, scanned_gb
from infra.monitoring_measured import ACCESS_LOG_SOURCE, LAMBDA_PLATFORM_SOURCE
from infra.monitoring_prices import Price, RegionPrices, TieredPrice
from infra.monitoring_series import Series, SeriesUsage
from infra.monitoring_traffic import TrafficProfile, invocations_per_month

PUBLISHING_SINKS = ("emf", "cloudwatch")  # "memory" and "off" publish nothing


@dataclass(frozen=True)
class Measurement:
    """What the functions write, per function label: EMF bytes per invocation and the series
    by when they are emitted; ``incident`` series are not attributed to a function."""

    emf_bytes: Mapping[str, float]
    healthy: Mapping[str, frozenset[Series]]
    always: Mapping[str, frozenset[Series]]
    incident: frozenset[Series]
    source: str
    incident_source: str

    def usage(self, labels: Iterable[str]) -> SeriesUsage:
        chosen = list(labels)

        def union(by_label: Mapping[str, frozenset[Series]]) -> frozenset[Series]:
            return frozenset(s for label in chosen for s in by_label.get(label, ()))

        return SeriesUsage(union(self.healthy), union(self.always), self.incident, self.source)


@dataclass(frozen=True)
class BillLine:
    item: str
    quantity: float
    unit: str
    price: str
    cost: float
    basis: str  # where the quantity comes from: template, profile, measured, assumed


@dataclass(frozen=True)
class Bill:
    region: str
    lines: tuple[BillLine, ...]
    free_tier: bool
    notes: tuple[str, ...]
    out_of_scope: tuple[str, ...] = field(default=())

    @property
    def total(self) -> float:
        return sum(line.cost for line in self.lines)


class MeasurementError(ValueError):
    """A function of the template has no measured bytes per invocation."""


def tiered(price: TieredPrice, quantity: float, free: float = 0.0) -> float:
    return price.cost(max(0.0, quantity - free))


def monthly_bill(
    inventory: Inventory,
    function_labels: Mapping[str, str],
    profile: TrafficProfile,
    measurement: Measurement,
    prices: RegionPrices,
    *,
    free_tier: bool = False,
) -> Bill:
    """The month's bill, line by line. ``function_labels``: function logical id -> label (the
    keys of ``measurement``)."""
    missing = sorted(set(inventory.functions) - set(function_labels))
    if missing:
        raise MeasurementError(f"no label for function(s) {', '.join(missing)} of the template")
    invocations, requests = invocations_per_month(profile, inventory)
    publishing = {
        fn: function_labels[fn]
        for fn, f in inventory.functions.items()
        if f.metrics_sink in PUBLISHING_SINKS
    }
    unmeasured = sorted(
        label
        for fn, label in publishing.items()
        if inventory.functions[fn].metrics_sink == "emf" and label not in measurement.emf_bytes
    )
    if unmeasured:
        raise MeasurementError(f"no EMF bytes per invocation measured for {', '.join(unmeasured)}")
    free = prices.free_tier
    lines: list[BillLine] = []
    usage = measurement.usage(publishing.values())
    metric_months = usage.metric_months(
        profile.traffic_hours_per_month, profile.incident_hours_per_month, HOURS_PER_MONTH
    )
    lines.append(
        BillLine(
            f"custom metrics: {len(usage.healthy)} series in traffic hours, "
            f"{len(usage.always)} all month, {len(usage.incident)} failure-only in incident hours",
            metric_months,
            "metric-months",
            prices.custom_metrics.text(),
            tiered(prices.custom_metrics, metric_months, free.custom_metrics if free_tier else 0),
            "measured series x profile hours",
        )
    )
    put_requests = sum(
        invocations[fn] for fn in publishing if inventory.functions[fn].metrics_sink == "cloudwatch"
    )
    if put_requests:
        lines.append(
            _line(
                "PutMetricData requests (one flush per invocation)",
                put_requests,
                prices.put_metric_data,
                "template x profile",
            )
        )

    # -- logs -------------------------------------------------------------------------------
    volume = log_volume(inventory, function_labels, invocations, requests, measurement.emf_bytes)
    logs_free = [free.logs_gb if free_tier else 0.0]  # shared by every logs line, in order

    def logs_line(item: str, gb: float, price: Price, unit: str, basis: str) -> BillLine:
        used = min(gb, logs_free[0])
        logs_free[0] -= used
        return BillLine(item, gb, unit, price.text(), price.cost(gb - used), basis)

    ingestion = prices.logs_ingestion
    lines += [
        logs_line(
            "EMF ingestion (the functions' log groups)",
            volume.emf / GB,
            ingestion,
            "GB",
            "profile x measured bytes",
        ),
        logs_line(
            "Lambda START/END/REPORT lines ingestion",
            volume.platform / GB,
            ingestion,
            "GB",
            "profile x assumed bytes",
        ),
        logs_line(
            "API access log ingestion (read by the drill-down)",
            volume.access / GB,
            ingestion,
            "GB",
            "profile x assumed bytes",
        ),
    ]
    retention = sorted({str(g.retention_days or "never") for g in inventory.log_groups.values()})
    lines.append(
        logs_line(
            f"log storage (retention {', '.join(retention)} days, steady state)",
            volume.stored_gb_months(inventory),
            prices.logs_storage,
            "GB-months",
            "template retention",
        )
    )

    # -- alarms, dashboards, rules ----------------------------------------------------------
    factor = prices.anomaly_detection_metrics
    standard = sum(
        a.metrics * (factor if a.anomaly_detection else 1)
        for a in inventory.alarms
        if not a.high_resolution
    )
    high = sum(
        a.metrics * (factor if a.anomaly_detection else 1)
        for a in inventory.alarms
        if a.high_resolution
    )
    n_alarms = len(inventory.alarms)
    lines.append(
        BillLine(
            f"standard resolution alarm metrics ({n_alarms} alarms; metric math: per metric)",
            standard,
            "alarm metrics",
            prices.standard_alarm_metric.text(),
            prices.standard_alarm_metric.cost(
                max(0.0, standard - (free.standard_alarm_metrics if free_tier else 0))
            ),
            "template",
        )
    )
    lines.append(
        _line(
            "high resolution alarm metrics (period < 60 s)",
            high,
            prices.high_resolution_alarm_metric,
            "template",
        )
    )
    lines.append(
        _line("composite alarms", len(inventory.composites), prices.composite_alarm, "template")
    )
    dashboards = len(inventory.dashboards)
    lines.append(
        _line(
            "dashboards",
            dashboards,
            prices.dashboard,
            "template",
            free.dashboards if free_tier else 0,
        )
    )

    hourly = volume.hourly(profile)
    widget_gb = sum(scanned_gb(w, hourly, w.hours) for w in inventory.dashboard_log_widgets)
    lines.append(
        logs_line(
            f"dashboard Logs Insights widgets ({len(inventory.dashboard_log_widgets)} widgets x "
            f"{profile.dashboard_views_per_month:g} loads)",
            profile.dashboard_views_per_month * widget_gb,
            prices.logs_insights_scanned,
            "GB scanned",
            "template x profile",
        )
    )
    lines.append(
        logs_line(
            f"saved Logs Insights query runs ({len(inventory.queries)} saved queries, "
            f"{profile.incidents_per_month:g} incidents)",
            query_runs_gb(inventory.queries, hourly, profile),
            prices.logs_insights_scanned,
            "GB scanned",
            "template x profile",
        )
    )
    rules = len(inventory.insight_rules)
    lines.append(
        _line(
            "Contributor Insights rules",
            rules,
            prices.insight_rule,
            "template",
            free.insight_rules if free_tier else 0,
        )
    )
    per_hour = {fn: n / max(profile.traffic_hours_per_month, 1.0) for fn, n in invocations.items()}
    matched = sum(
        per_hour[fn] * profile.incident_hours_per_month
        for rule in inventory.insight_rules
        for group in rule.log_groups
        for fn in inventory.function_log_groups(group)
    )
    lines.append(
        _line(
            "Contributor Insights matched events (incident hours, all match)",
            matched,
            prices.insight_matched_events,
            "profile (upper bound)",
            free.insight_matched_events if free_tier else 0,
        )
    )
    canary_runs = sum(inventory.canary_runs.values())
    lines.append(
        _line(
            f"Synthetics canary runs ({len(inventory.canary_runs)} canaries)",
            canary_runs,
            prices.canary_run,
            "template",
            free.canary_runs if free_tier else 0,
        )
    )

    # -- notifications ----------------------------------------------------------------------
    notifications = _notifications(inventory, profile)
    https = sum(
        n * sum(p in HTTP_PROTOCOLS for p in inventory.topics[t]) for t, n in notifications.items()
    )
    email = sum(
        n * sum(p in EMAIL_PROTOCOLS for p in inventory.topics[t]) for t, n in notifications.items()
    )
    subscribed = sum(len(p) for p in inventory.topics.values())
    lines.append(
        _line(
            f"SNS alarm notifications published ({len(inventory.topics)} topics)",
            sum(notifications.values()),
            prices.sns_publish,
            "template x profile",
            free.sns_publishes if free_tier else 0,
        )
    )
    lines.append(
        _line(
            f"SNS HTTP/S deliveries ({subscribed} subscriptions)",
            https,
            prices.sns_https_delivery,
            "template x profile",
            free.sns_https_deliveries if free_tier else 0,
        )
    )
    lines.append(
        _line(
            "SNS e-mail deliveries",
            email,
            prices.sns_email_delivery,
            "template x profile",
            free.sns_email_deliveries if free_tier else 0,
        )
    )
    lines.append(
        _line("KMS key of the alarm topics", inventory.kms_keys, prices.kms_key, "template")
    )
    notes = (
        f"series and EMF bytes: {measurement.source}",
        f"failure-only series: {measurement.incident_source}",
        LAMBDA_PLATFORM_SOURCE,
        ACCESS_LOG_SOURCE,
        f"month = {HOURS_PER_MONTH:g} h; GB = 2^30 bytes; custom metric tiers counted from zero",
        "log storage at the ingested size (upper bound if archived data is compressed)",
        "not modelled (small): KMS requests per notification, SNS delivery status log lines, "
        "GetMetricData/GetInsightRuleReport behind dashboard graphs",
        "free tier "
        + (
            "applied (this stack as the account's only user)"
            if free_tier
            else "not applied (it is the account's, shared)"
        ),
    )
    out = tuple(f"{kind}: {OUT_OF_SCOPE_KINDS[kind]}" for kind in inventory.out_of_scope)
    return Bill(
        prices.region,
        tuple(lines),
        free_tier,
        notes,
        ("AWS::Lambda::Function: invocations and duration", *out),
    )


def _line(item: str, quantity: float, price: Price, basis: str, free: float = 0.0) -> BillLine:
    return BillLine(
        item, quantity, price.unit, price.text(), price.cost(max(0.0, quantity - free)), basis
    )


def _notifications(inventory: Inventory, profile: TrafficProfile) -> dict[str, float]:
    """Notifications a month per topic: a topic a composite alarm notifies gets one episode
    per incident (it pages once), any other one per warning episode; an episode sends one
    notification per state its alarms notify on (ALARM and OK: 2)."""
    composites = set(inventory.composites)
    out: dict[str, float] = {}
    for topic in inventory.topics:
        senders = [a for a in inventory.actions if a.transitions_to(topic)]
        if not senders:
            continue
        pages = any(a.name in composites for a in senders)
        episodes = profile.incidents_per_month if pages else profile.warning_episodes_per_month
        out[topic] = episodes * max(a.transitions_to(topic) for a in senders)
    return out
