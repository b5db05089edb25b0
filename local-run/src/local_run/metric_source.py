"""Where the evaluator's metric data comes from: a small `MetricSource` interface.

`MotoBackendSource` reads the raw datums PutMetricData stored in the in-process moto
CloudWatch backend (the state of `shared_metrics.testing.aws_emulator.AwsEmulator` when it
runs in this process). Reading the backend instead of calling GetMetricData matters twice:
moto computes no percentiles, and it matches dimensions loosely (a query for {A} also
returns datums published with {A, B}); here every datum keeps its EXACT dimension set and
its raw values, and `local_run.evaluator` computes the statistics.

A GetMetricData-based source (for LocalStack or real AWS, e.g. the backtest of issue 5)
can implement the same interface later; it does not exist yet.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, Protocol

from local_run.evaluator import InMemoryMetricStore, dimension_key

# moto's defaults: the account it answers as, and the region AwsEmulator's clients use.
MOTO_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


class MetricSource(Protocol):
    def read(self, start: float, end: float) -> InMemoryMetricStore:
        """Every datum with ``start <= timestamp < end`` (epoch seconds), exact dimensions."""
        ...


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
        self.skipped_aggregates = 0  # StatisticValues datums: no raw values to evaluate

    def _datums(self) -> list[Any]:
        from moto.cloudwatch.models import cloudwatch_backends

        backend = cloudwatch_backends[self.account][self.region]
        return list(backend.metric_data)

    def read(self, start: float, end: float) -> InMemoryMetricStore:
        from moto.cloudwatch.models import MetricDatum

        # moto stores a value with count n as n datums: fold them back into value -> count.
        grouped: dict[tuple[str, str, tuple[tuple[str, str], ...], float], dict[float, float]]
        grouped = defaultdict(lambda: defaultdict(float))
        self.skipped_aggregates = 0
        for datum in self._datums():
            if not isinstance(datum, MetricDatum):
                self.skipped_aggregates += 1
                continue
            ts = _epoch(datum.timestamp)
            if not start <= ts < end:
                continue
            dims = dimension_key((str(d.name), str(d.value)) for d in datum.dimensions)
            grouped[(datum.namespace, datum.name, dims, ts)][float(datum.value)] += 1.0
        store = InMemoryMetricStore()
        for (namespace, name, dims, ts), dist in grouped.items():
            store.put(namespace, name, ts, dict(dist), dims)
        return store
