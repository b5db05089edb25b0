"""Sinks that keep metrics in the process: `MemorySink` for tests and local runs, `NullSink`."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared_metrics.series import SeriesBatch
from shared_metrics.sinks.base import Discard, MetricSink, PublishResult, total_datapoints


@dataclass(frozen=True)
class PublishedDatum:
    """One value -> count map as CloudWatch would store it for one metric series."""

    namespace: str
    timestamp: int
    name: str
    unit: str
    dimensions: tuple[tuple[str, str], ...]  # in the dimension set's order
    values: Mapping[float, int]


class MemorySink(MetricSink):
    """Keeps every published datapoint, per dimension set, like CloudWatch would see them.

    ``fail = True`` makes every publish fail (all data returned undelivered), which is how
    tests and local runs exercise the buffer's retry and drop paths without a network.
    """

    name = "memory"
    preferred_batch_values = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.published: list[PublishedDatum] = []
        self.properties: list[dict[str, object]] = []
        self.fail = False

    def publish(
        self,
        namespace: str,
        batches: Sequence[SeriesBatch],
        properties: Mapping[str, object],
    ) -> PublishResult:
        with self._lock:
            if self.fail:
                return PublishResult(
                    undelivered=list(batches), failures=1, failure_message="MemorySink.fail is set"
                )
            for ts, series, values in batches:
                spec = series.spec
                for dimension_set in series.dimension_sets:
                    self.published.append(
                        PublishedDatum(
                            namespace,
                            ts,
                            spec.name,
                            spec.unit.value,
                            series.project(dimension_set),
                            dict(values),
                        )
                    )
            if properties:
                self.properties.append(dict(properties))
            return PublishResult(delivered=total_datapoints(batches))

    def samples(
        self, name: str, dimensions: Mapping[str, str] | None = None, namespace: str | None = None
    ) -> list[float]:
        """Every value published for one series (exact dimension set match), sorted."""
        wanted = dict(dimensions or {})
        out: list[float] = []
        with self._lock:
            for datum in self.published:
                if datum.name != name or dict(datum.dimensions) != wanted:
                    continue
                if namespace is not None and datum.namespace != namespace:
                    continue
                for value, count in datum.values.items():
                    out.extend([value] * count)
        return sorted(out)

    def datapoints(self) -> int:
        with self._lock:
            return sum(sum(d.values.values()) for d in self.published)

    def clear(self) -> None:
        with self._lock:
            self.published.clear()
            self.properties.clear()


class NullSink(MetricSink):
    """``METRICS_SINK=off``: metrics are switched off; what is flushed is counted, not kept."""

    name = "off"
    preferred_batch_values = 10_000

    def publish(
        self,
        namespace: str,
        batches: Sequence[SeriesBatch],
        properties: Mapping[str, object],
    ) -> PublishResult:
        n = total_datapoints(batches)
        return PublishResult(
            discarded=[Discard("sink_off", n, "metrics are off (METRICS_SINK=off)")]
        )
