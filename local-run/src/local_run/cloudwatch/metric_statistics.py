"""CloudWatch statistics of a period's values, as the alarms read them.

Per period (aligned to the epoch: ``[k * period, (k + 1) * period)``, `aligned`), statistics
are computed over every observation in the period (`stat_value`):

- Sum = sum(value * count), SampleCount = sum(count), Average = Sum / SampleCount,
  Minimum, Maximum.
- pNN (percentile), nearest rank on the raw distribution: the smallest value ``v`` such that
  the counts of values ``<= v`` add up to at least ``NN / 100 * SampleCount`` (p0 is the
  Minimum). AWS defines p95 as the value "95 percent of the data within the period is lower
  than" (CloudWatch User Guide, "CloudWatch statistics definitions",
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html).
  CloudWatch itself computes percentiles approximately for large sets, so values near a
  threshold may differ slightly from the service.

A store that already holds per-period statistics (GetMetricData's, see
`local_run.cloudwatch.metric_source.PeriodStatistics`) answers them as they are.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from fractions import Fraction

from local_run.cloudwatch.alarm_model import PERCENTILE, MetricStat
from local_run.cloudwatch.metric_store import (
    Distribution,
    EvaluationError,
    MetricStore,
    Observation,
)


def merge(observations: Iterable[Observation]) -> dict[float, float]:
    """The observations' values pooled: value -> total count (zero counts left out)."""
    merged: dict[float, float] = defaultdict(float)
    for _, dist in observations:
        for value, count in dist.items():
            merged[value] += count
    return {v: c for v, c in merged.items() if c > 0}


def statistic(dist: Distribution, stat: str) -> float | None:
    """One CloudWatch statistic of a period's values (``None`` when there are none)."""
    total = sum(dist.values())
    if total <= 0:
        return None
    if stat == "SampleCount":
        return float(total)
    if stat == "Sum":
        return float(sum(v * c for v, c in dist.items()))
    if stat == "Average":
        return float(sum(v * c for v, c in dist.items()) / total)
    if stat == "Minimum":
        return min(dist)
    if stat == "Maximum":
        return max(dist)
    match = PERCENTILE.match(stat)
    if match:
        return percentile(dist, match.group(1))
    raise EvaluationError(f"unsupported statistic {stat!r}")


def percentile(dist: Distribution, p: str | float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``p`` % of the samples at or
    below it. ``p`` as a string (``"95"``, ``"99.9"``) is exact."""
    items = sorted((v, Fraction(c)) for v, c in dist.items() if c > 0)
    if not items:
        return None
    fraction = Fraction(str(p)) / 100
    if not 0 <= fraction <= 1:
        raise EvaluationError(f"percentile out of range: {p}")
    target = fraction * sum(c for _, c in items)
    cumulative = Fraction(0)
    for value, count in items:
        cumulative += count
        if cumulative >= target:
            return value
    return items[-1][0]


def aligned(timestamp: float, period: int) -> float:
    """The start of the period holding ``timestamp``."""
    return math.floor(timestamp / period) * period


def stat_value(store: MetricStore, stat: MetricStat, period_start: float) -> float | None:
    """The statistic of one period. A store with a ``period_statistic(stat, period_start)``
    method (per-period statistics as GetMetricData returns them, see
    `local_run.cloudwatch.metric_source.PeriodStatistics`) answers directly; otherwise the statistic
    is computed from the raw observations."""
    direct = getattr(store, "period_statistic", None)
    if direct is not None:
        value: float | None = direct(stat, period_start)
        return value
    return statistic(
        merge(store.observations(stat.metric, period_start, period_start + stat.period)),
        stat.stat,
    )
