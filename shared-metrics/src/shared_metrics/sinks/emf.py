"""Embedded Metric Format to stdout: the Lambda default (no API call, no boto3 import).

CloudWatch Logs extracts the metrics from each JSON line. EMF has no Counts array, so a
value recorded n times is written n times; the per-series aggregation still keeps one flush
to a handful of lines.
"""

from __future__ import annotations

import json
import sys

from shared_metrics import limits
from shared_metrics.sinks.base import Discard, PublishResult

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from typing import IO, Any

    from shared_metrics.series import SeriesBatch
    from shared_metrics.spec import MetricSpec

    GroupKey = tuple[int, tuple[tuple[str, str], ...], tuple[tuple[str, ...], ...]]

_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


class EmfSink:
    name = "emf"
    # 100 metrics x 100 values: one full EMF event.
    preferred_batch_values = limits.EMF_MAX_METRICS_PER_DIRECTIVE * limits.EMF_MAX_VALUES_PER_METRIC

    def __init__(
        self, stream: IO[str] | None = None, max_event_bytes: int = limits.EMF_MAX_EVENT_BYTES
    ):
        # None means "sys.stdout at publish time", so redirected or captured stdout works.
        self._stream = stream
        self.max_event_bytes = max_event_bytes

    def publish(
        self,
        namespace: str,
        batches: Sequence[SeriesBatch],
        properties: Mapping[str, object],
    ) -> PublishResult:
        # Group series that can share an event: same timestamp, dimension values and sets.
        groups: dict[GroupKey, dict[str, tuple[MetricSpec, dict[float, int]]]] = {}
        datapoints: dict[GroupKey, int] = {}
        for ts, series, values in batches:
            key = (ts, series.dimensions, series.dimension_sets)
            metrics = groups.get(key)
            if metrics is None:
                metrics = groups[key] = {}
                datapoints[key] = 0
            datapoints[key] += sum(values.values()) * series.weight
            entry = metrics.get(series.spec.name)
            if entry is None:
                metrics[series.spec.name] = (series.spec, dict(values))
            else:
                merged = entry[1]
                for value, count in values.items():
                    merged[value] = merged.get(value, 0) + count

        lines: list[str] = []
        discarded: list[Discard] = []
        for key, metrics in groups.items():
            ts, dimensions, dimension_sets = key
            try:
                lines.extend(
                    self._events(namespace, ts, dimensions, dimension_sets, metrics, properties)
                )
            except (TypeError, ValueError) as exc:
                # Only a property that is not JSON can get here (values are validated).
                discarded.append(Discard("emf_encoding_error", datapoints[key], str(exc)))

        total = sum(datapoints.values())
        lost = sum(d.datapoints for d in discarded)
        if not lines:
            return PublishResult(discarded=discarded)
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            stream.write("\n".join(lines) + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:
            # Nothing is known to have reached the log: keep it all for the next flush.
            return PublishResult(
                undelivered=list(batches), failures=1, failure_message=f"EMF write failed: {exc}"
            )
        return PublishResult(delivered=total - lost, discarded=discarded)

    def _events(
        self,
        namespace: str,
        ts: int,
        dimensions: tuple[tuple[str, str], ...],
        dimension_sets: tuple[tuple[str, ...], ...],
        metrics: dict[str, tuple[MetricSpec, dict[float, int]]],
        properties: Mapping[str, object],
    ) -> Iterator[str]:
        # Each metric's values, expanded (no Counts in EMF) and cut into <= 100 per array.
        chunked: list[tuple[MetricSpec, list[list[float]]]] = []
        cap = limits.EMF_MAX_VALUES_PER_METRIC
        for spec, values in metrics.values():
            flat: list[float] = []
            for value, count in values.items():
                if count == 1:
                    flat.append(value)
                else:
                    flat.extend([value] * count)
            chunked.append((spec, [flat[i : i + cap] for i in range(0, len(flat), cap)]))

        root: dict[str, Any] = {k: v for k, v in properties.items() if k != "_aws"}
        root.update(dimensions)
        declared_sets = [list(s) for s in dimension_sets]
        rounds = max(len(chunks) for _, chunks in chunked)
        per_event = limits.EMF_MAX_METRICS_PER_DIRECTIVE
        for r in range(rounds):
            present = [(spec, chunks[r]) for spec, chunks in chunked if r < len(chunks)]
            for i in range(0, len(present), per_event):
                yield from self._encode(
                    namespace, ts, declared_sets, root, present[i : i + per_event]
                )

    def _encode(
        self,
        namespace: str,
        ts: int,
        declared_sets: list[list[str]],
        root: dict[str, Any],
        present: list[tuple[MetricSpec, list[float]]],
    ) -> Iterator[str]:
        definitions = []
        event = dict(root)
        for spec, values in present:
            definition: dict[str, Any] = {"Name": spec.name, "Unit": spec.unit.value}
            if spec.storage_resolution == 1:
                definition["StorageResolution"] = 1
            definitions.append(definition)
            event[spec.name] = values
        event["_aws"] = {
            "Timestamp": ts * 1000,
            "CloudWatchMetrics": [
                {"Namespace": namespace, "Dimensions": declared_sets, "Metrics": definitions}
            ],
        }
        line = _dumps(event)
        # ensure_ascii (the default) makes the line pure ASCII: characters are bytes.
        if len(line) <= self.max_event_bytes:
            yield line
        elif len(present) > 1:
            half = len(present) // 2
            yield from self._encode(namespace, ts, declared_sets, root, present[:half])
            yield from self._encode(namespace, ts, declared_sets, root, present[half:])
        elif any(k not in _keys(declared_sets) for k in root):
            # Log properties are what made one metric too big: the metric matters more.
            slim = {k: v for k, v in root.items() if k in _keys(declared_sets)}
            yield from self._encode(namespace, ts, declared_sets, slim, present)
        else:
            raise ValueError(
                f"EMF event for {present[0][0].name!r} exceeds {self.max_event_bytes} bytes"
            )


def _keys(declared_sets: list[list[str]]) -> set[str]:
    return {k for s in declared_sets for k in s}
