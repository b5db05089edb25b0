"""Where the evaluator's metric data comes from.

`MotoBackendSource` reads the raw datums PutMetricData stored in the in-process moto
CloudWatch backend (the state of `shared_metrics.testing.aws_emulator.AwsEmulator` when it
runs in this process). Reading the backend instead of calling GetMetricData matters twice:
moto computes no percentiles, and it matches dimensions loosely (a query for {A} also
returns datums published with {A, B}); here every datum keeps its EXACT dimension set and
its raw values, and `local_run.cloudwatch.metric_statistics` computes the statistics.

`GetMetricDataSource` (the backtest: LocalStack or real AWS) reads per-period statistics
with GetMetricData instead (real CloudWatch computes them, percentiles included) into a
`PeriodStatistics` store, which `local_run.cloudwatch.metric_statistics.stat_value` uses as is. The
in-process moto emulator answers GetMetricData for Sum, SampleCount, Average, Minimum and
Maximum but returns no percentile values (a pNN alarm sees missing data there), and it matches
dimensions loosely: a query without dimensions also counts datums published with some.

`read_settled` repeats the GetMetricData read until two reads agree: CloudWatch makes new
datapoints readable after a short delay. `RoutedStore` answers each namespace from its own
store (a local run on LocalStack or AWS: the services' namespaces from GetMetricData, and
AWS/Lambda from the run's own records).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from local_run.cloudwatch.alarm_model import MetricId, MetricStat
from local_run.cloudwatch.metric_statistics import aligned, stat_value
from local_run.cloudwatch.metric_store import (
    InMemoryMetricStore,
    MetricStore,
    Observation,
    dimension_key,
)

# moto's defaults: the account it answers as, and the region AwsEmulator's clients use.
MOTO_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


def _epoch(timestamp: Any) -> float:
    """moto keeps the Timestamp as the protocol parser produced it."""
    if isinstance(timestamp, datetime):
        ts = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
        return ts.timestamp()
    if isinstance(timestamp, int | float):
        return float(timestamp)
    text = str(timestamp)
    try:
        return float(text)
    except ValueError:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


class MotoBackendSource:
    """The datums of moto's CloudWatch backend in this process (account, region)."""

    def __init__(self, region: str = DEFAULT_REGION, account: str = MOTO_ACCOUNT) -> None:
        self.region = region
        self.account = account

    def _datums(self) -> list[Any]:
        from moto.cloudwatch.models import cloudwatch_backends

        backend = cloudwatch_backends[self.account][self.region]
        return list(backend.metric_data)

    def read(self, start: float, end: float) -> InMemoryMetricStore:
        """Every datum with ``start <= timestamp < end`` (epoch seconds), exact dimensions."""
        from moto.cloudwatch.models import MetricDatum

        # moto stores a value with count n as n datums: fold them back into value -> count.
        grouped: dict[tuple[str, str, tuple[tuple[str, str], ...], float], dict[float, float]]
        grouped = defaultdict(lambda: defaultdict(float))
        for datum in self._datums():
            if not isinstance(datum, MetricDatum):
                continue  # StatisticValues datums: no raw values to evaluate
            ts = _epoch(datum.timestamp)
            if not start <= ts < end:
                continue
            dims = dimension_key((str(d.name), str(d.value)) for d in datum.dimensions)
            grouped[(datum.namespace, datum.name, dims, ts)][float(datum.value)] += 1.0
        store = InMemoryMetricStore()
        for (namespace, name, dims, ts), dist in grouped.items():
            store.put(namespace, name, ts, dict(dist), dims)
        return store


# -- GetMetricData (the backtest) -------------------------------------------------------------

MAX_QUERIES_PER_REQUEST = 500  # GetMetricData's limit


class PeriodStatistics:
    """A `MetricStore` of per-period statistics (MetricStat -> period start -> value)."""

    def __init__(self) -> None:
        self._values: dict[MetricStat, dict[float, float]] = defaultdict(dict)

    def put(self, stat: MetricStat, period_start: float, value: float) -> None:
        self._values[stat][float(period_start)] = float(value)

    def period_statistic(self, stat: MetricStat, period_start: float) -> float | None:
        return self._values.get(stat, {}).get(float(period_start))

    def observations(self, metric: MetricId, start: float, end: float) -> Sequence[Observation]:
        return ()  # no raw values: `period_statistic` answers

    def datapoints(self, stat: MetricStat) -> int:
        return len(self._values.get(stat, {}))

    def snapshot(self) -> dict[MetricStat, dict[float, float]]:
        return {stat: dict(values) for stat, values in self._values.items() if values}


class GetMetricDataSource:
    """Per-period statistics of the given MetricStats over ``[start, end)``, read with
    GetMetricData (``client``: a boto3 CloudWatch client). Each query's StartTime is aligned
    to its period, so the timestamps returned are the evaluator's period starts."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.requests = 0
        # Statistics the endpoint failed to compute (a 5xx even when asked alone), with the
        # error: moto, for one, answers 500 to a percentile query over data it holds.
        self.failed: dict[MetricStat, str] = {}

    def read_stats(self, stats: Iterable[MetricStat], start: float, end: float) -> PeriodStatistics:
        store = PeriodStatistics()
        by_period: dict[int, list[MetricStat]] = defaultdict(list)
        for stat in sorted(set(stats), key=repr):
            by_period[stat.period].append(stat)
        for period, group in sorted(by_period.items()):
            first = aligned(start, period)
            for i in range(0, len(group), MAX_QUERIES_PER_REQUEST):
                chunk = group[i : i + MAX_QUERIES_PER_REQUEST]
                self._read_isolating_failures(chunk, first, end, store)
        return store

    def _read_isolating_failures(
        self, stats: Sequence[MetricStat], start: float, end: float, store: PeriodStatistics
    ) -> None:
        """One request; when the endpoint fails it with a 5xx, each half again, down to the
        single statistics it cannot compute (recorded in `failed`), so that one bad query
        does not cost the others their data. 4xx errors (access, throttling) propagate."""
        import botocore.exceptions

        try:
            self._read(stats, start, end, store)
        except botocore.exceptions.ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status < 500:
                raise
            if len(stats) == 1:
                self.failed[stats[0]] = str(exc).splitlines()[0]
                return
            middle = len(stats) // 2
            self._read_isolating_failures(stats[:middle], start, end, store)
            self._read_isolating_failures(stats[middle:], start, end, store)

    def _read(
        self, stats: Sequence[MetricStat], start: float, end: float, store: PeriodStatistics
    ) -> None:
        queries = [
            {
                "Id": f"q{i}",
                "ReturnData": True,
                "MetricStat": {
                    "Metric": {
                        "Namespace": s.metric.namespace,
                        "MetricName": s.metric.name,
                        "Dimensions": [{"Name": n, "Value": v} for n, v in s.metric.dimensions],
                    },
                    "Period": s.period,
                    "Stat": s.stat,
                },
            }
            for i, s in enumerate(stats)
        ]
        paginator = self.client.get_paginator("get_metric_data")
        pages = paginator.paginate(
            MetricDataQueries=queries,
            StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
            ScanBy="TimestampAscending",
        )
        for page in pages:
            self.requests += 1
            for result in page.get("MetricDataResults", ()):
                stat = stats[int(result["Id"][1:])]
                points = zip(result.get("Timestamps", ()), result.get("Values", ()), strict=True)
                for ts, value in points:
                    if value is not None:
                        store.put(stat, _epoch(ts), value)


class StatisticsSource(Protocol):
    def read_stats(
        self, stats: Iterable[MetricStat], start: float, end: float
    ) -> PeriodStatistics: ...


def read_settled(
    source: StatisticsSource,
    stats: Iterable[MetricStat],
    start: float,
    end: float,
    *,
    wait: float,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> tuple[PeriodStatistics, bool]:
    """Read, then read again every ``interval`` seconds until two reads agree or ``wait``
    seconds have passed: (the last read, whether two reads agreed)."""
    stats = tuple(stats)
    deadline = monotonic() + wait
    store = source.read_stats(stats, start, end)
    while monotonic() + interval <= deadline:
        sleep(interval)
        again = source.read_stats(stats, start, end)
        if again.snapshot() == store.snapshot():
            return again, True
        store = again
    return store, False


class RoutedStore:
    """A `MetricStore` answering each namespace from its own store, ``default`` otherwise."""

    def __init__(self, default: MetricStore, by_namespace: Mapping[str, MetricStore]) -> None:
        self.default = default
        self.by_namespace = dict(by_namespace)

    def _store(self, metric: MetricId) -> MetricStore:
        return self.by_namespace.get(metric.namespace, self.default)

    def period_statistic(self, stat: MetricStat, period_start: float) -> float | None:
        return stat_value(self._store(stat.metric), stat, period_start)

    def observations(self, metric: MetricId, start: float, end: float) -> Sequence[Observation]:
        return self._store(metric).observations(metric, start, end)
