"""What the monitoring's AWS services charge, as data: one `RegionPrices` per Region priced.

Every figure carries the pricing page it is published on and the day it was read. The pages
(https://aws.amazon.com/cloudwatch/pricing/, https://aws.amazon.com/sns/pricing/,
https://aws.amazon.com/kms/pricing/) render their paid-tier tables with JavaScript; what
could be read of them on 2026-12-03 (a stored copy of the CloudWatch page) is the free tier
text, quoted in `FREE_TIER_SOURCE`. The paid-tier figures are AWS's published us-east-1 list
prices as AWS has long published them (the custom-metric tiers also as quoted from the Japanese
CloudWatch pricing page at github.com/nishinoshake/aws-rough/issues/37, the Logs figures as
republished for us-east-1 in June 2026 by c3x.dev); ``source`` says which for each. Check
them against the live page before relying on a figure to the cent.

A Region is priced only if it is here: `prices_for` refuses any other Region by name rather
than silently using us-east-1's figures (prices vary by Region: "Pricing varies by Region",
CloudWatch pricing page). To add one, copy `US_EAST_1` with that Region's figures and the
date they were read, and add it to `PRICES`.
"""

from __future__ import annotations

from dataclasses import dataclass

CLOUDWATCH_PAGE = "https://aws.amazon.com/cloudwatch/pricing/"
SNS_PAGE = "https://aws.amazon.com/sns/pricing/"
KMS_PAGE = "https://aws.amazon.com/kms/pricing/"
READ_ON = "2026-12-03"

LIST_PRICE = "AWS's published us-east-1 list price (the page's paid-tier table did not render)"
ANOMALY_SOURCE = (
    "not read live: AWS's pricing page bills an anomaly detection alarm as 3 alarm metrics per "
    "metric (standard resolution: $0.30); c3x.dev reads it as $0.10 plus $0.30 for the model. "
    "The stack has no anomaly detection alarm today; check the page before adding one"
)
MATH_ALARM_SOURCE = (
    "CloudWatch pricing page, Alarms (not read live): metric math alarms are billed per metric "
    "in the expression, i.e. per MetricStat the alarm's Metrics list"
)
FREE_TIER_SOURCE = (
    "CloudWatch pricing page, free tier (stored copy read 2026-12-03): '10 Metrics (of Custom "
    "Metrics and Detailed Monitoring Metrics)', '3 Custom Dashboards referencing up to 50 "
    "metrics each per month', '10 Alarm metrics (only applicable to Standard resolution "
    "alarms ...)', '5 GB Data (ingestion, archive storage, and data scanned by Logs Insights "
    "queries)', '1 Contributor Insights rule per month The first 1 million log events that "
    "match the rule per month', 'Synthetics 100 canary runs per month'"
)


def dollars(amount: float) -> str:
    """A unit price as the pricing pages write it: $0.30, $3.00, $0.005, $0.0012."""
    return f"${amount:.2f}" if round(amount, 2) == amount else f"${amount:g}"


@dataclass(frozen=True)
class Price:
    """One unit price: ``amount`` US dollars per ``per`` units of ``unit``."""

    amount: float
    unit: str
    page: str
    source: str = LIST_PRICE
    per: float = 1.0
    read_on: str = READ_ON

    def cost(self, quantity: float) -> float:
        return self.amount * quantity / self.per

    def text(self) -> str:
        per = "" if self.per == 1 else f"{self.per:,.0f} "
        return f"{dollars(self.amount)} per {per}{self.unit}"


@dataclass(frozen=True)
class Tier:
    """``size`` units (None: every unit beyond the tiers before) at ``amount`` each."""

    size: float | None
    amount: float


@dataclass(frozen=True)
class TieredPrice:
    """A price per unit that falls with volume, each tier charging the units inside it."""

    tiers: tuple[Tier, ...]
    unit: str
    page: str
    source: str = LIST_PRICE
    read_on: str = READ_ON

    def __post_init__(self) -> None:
        if not self.tiers or self.tiers[-1].size is not None:
            raise ValueError(f"{self.unit}: the last tier must be open-ended (size None)")
        if any(t.size is None or t.size <= 0 for t in self.tiers[:-1]):
            raise ValueError(f"{self.unit}: every tier but the last needs a positive size")

    def cost(self, quantity: float) -> float:
        if quantity < 0:
            raise ValueError(f"{self.unit}: negative quantity {quantity}")
        total, left = 0.0, quantity
        for tier in self.tiers:
            used = left if tier.size is None else min(left, tier.size)
            total += used * tier.amount
            left -= used
            if left <= 0:
                break
        return total

    def text(self) -> str:
        parts = []
        for i, tier in enumerate(self.tiers):
            label = (
                "beyond"
                if tier.size is None
                else ("first " if i == 0 else "next ") + f"{tier.size:,.0f}"
            )
            parts.append(f"{label} {dollars(tier.amount)}")
        return ", ".join(parts) + f" per {self.unit}"


@dataclass(frozen=True)
class FreeTier:
    """AWS's monthly free tier for one account (applied only when asked: it is shared by
    everything else the account runs)."""

    custom_metrics: float = 10
    standard_alarm_metrics: float = 10
    dashboards: float = 3
    logs_gb: float = 5  # ingestion, storage and Logs Insights scans together
    insight_rules: float = 1
    insight_matched_events: float = 1_000_000
    canary_runs: float = 100
    sns_publishes: float = 1_000_000  # SNS: "first 1 million Amazon SNS requests per month"
    sns_https_deliveries: float = 100_000
    sns_email_deliveries: float = 1_000
    kms_requests: float = 20_000
    source: str = FREE_TIER_SOURCE


@dataclass(frozen=True)
class RegionPrices:
    region: str
    custom_metrics: TieredPrice
    put_metric_data: Price
    standard_alarm_metric: Price
    high_resolution_alarm_metric: Price
    # Alarm metrics one metric of an anomaly detection alarm is billed as (the metric and the
    # band's upper and lower bounds): see ANOMALY_SOURCE.
    anomaly_detection_metrics: int
    composite_alarm: Price
    dashboard: Price
    logs_ingestion: Price
    logs_storage: Price
    logs_insights_scanned: Price
    insight_rule: Price
    insight_matched_events: Price
    canary_run: Price
    sns_publish: Price
    sns_https_delivery: Price
    sns_email_delivery: Price
    kms_key: Price
    kms_requests: Price
    free_tier: FreeTier


US_EAST_1 = RegionPrices(
    region="us-east-1",
    custom_metrics=TieredPrice(
        (Tier(10_000, 0.30), Tier(240_000, 0.10), Tier(750_000, 0.05), Tier(None, 0.02)),
        "metric-month",
        CLOUDWATCH_PAGE,
        source=LIST_PRICE + "; the same tiers are quoted from aws.amazon.com/jp/cloudwatch/pricing "
        "at github.com/nishinoshake/aws-rough/issues/37. Custom metrics are prorated by the hour "
        "and metered only in hours with data (pricing page, not read live)",
    ),
    put_metric_data=Price(0.01, "PutMetricData requests", CLOUDWATCH_PAGE, per=1_000),
    standard_alarm_metric=Price(
        0.10, "standard resolution alarm metric-month", CLOUDWATCH_PAGE, MATH_ALARM_SOURCE
    ),
    high_resolution_alarm_metric=Price(
        0.30, "high resolution alarm metric-month", CLOUDWATCH_PAGE, MATH_ALARM_SOURCE
    ),
    anomaly_detection_metrics=3,
    composite_alarm=Price(0.50, "composite alarm-month", CLOUDWATCH_PAGE),
    dashboard=Price(3.00, "dashboard-month", CLOUDWATCH_PAGE),
    logs_ingestion=Price(
        0.50,
        "GB ingested (Standard log class)",
        CLOUDWATCH_PAGE,
        source=LIST_PRICE + "; also c3x.dev 'CloudWatch Logs cost optimization', us-east-1 "
        "June 2026: 'Ingestion: $0.50 per GB'",
    ),
    logs_storage=Price(
        0.03,
        "GB-month stored (archive)",
        CLOUDWATCH_PAGE,
        source=LIST_PRICE + "; also c3x.dev (June 2026): 'Storage: $0.03 per GB-month'",
    ),
    logs_insights_scanned=Price(
        0.005,
        "GB scanned by Logs Insights",
        CLOUDWATCH_PAGE,
        source=LIST_PRICE + "; also c3x.dev (June 2026): '$0.005 per GB scanned'",
    ),
    insight_rule=Price(0.50, "Contributor Insights rule-month", CLOUDWATCH_PAGE),
    insight_matched_events=Price(
        0.02, "log events matched by a rule", CLOUDWATCH_PAGE, per=1_000_000
    ),
    canary_run=Price(0.0012, "Synthetics canary run", CLOUDWATCH_PAGE),
    sns_publish=Price(0.50, "SNS publishes (standard topics)", SNS_PAGE, per=1_000_000),
    sns_https_delivery=Price(0.60, "HTTP/S deliveries", SNS_PAGE, per=1_000_000),
    sns_email_delivery=Price(2.00, "e-mail deliveries", SNS_PAGE, per=100_000),
    kms_key=Price(
        1.00,
        "customer managed KMS key-month",
        KMS_PAGE,
        source=LIST_PRICE + " ($1 per key-month, prorated hourly)",
    ),
    kms_requests=Price(0.03, "KMS requests", KMS_PAGE, per=10_000),
    free_tier=FreeTier(),
)

PRICES: dict[str, RegionPrices] = {US_EAST_1.region: US_EAST_1}
DEFAULT_REGION = US_EAST_1.region


class UnknownRegionError(ValueError):
    """A Region this model has no prices for."""


def prices_for(region: str, prices: dict[str, RegionPrices] | None = None) -> RegionPrices:
    """The prices of ``region``; `UnknownRegionError` for a Region without its own data."""
    table = PRICES if prices is None else prices
    found = table.get(region)
    if found is None:
        raise UnknownRegionError(
            f"no prices for Region {region!r} (priced: {', '.join(sorted(table))}); prices "
            "vary by Region, so another Region's are never used: add that Region's figures "
            "from the pricing pages to infra/src/infra/monitoring_prices.py (PRICES)"
        )
    return found
