"""Embedded Metric Format to stdout: the Lambda default (no API call, no boto3 import).

CloudWatch Logs extracts the metrics from each JSON line. EMF has no Counts array, so a
value recorded n times is written n times; the per-series aggregation still keeps one flush
to a handful of lines.
"""

from __future__ import annotations

import json
import sys

from shared_metrics import limits
from shared_metrics.sinks.base import Discard, MetricSink, PublishResult

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from typing import IO, Any

    from shared_metrics.series import SeriesBatch
    from shared_metrics.spec import MetricSpec

    GroupKey = tuple[int, tuple[tuple[str, str], ...], tuple[tuple[str, ...], ...]]

_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_dumps = _encoder.encode


def _one_shot_encoder() -> Callable[[object, int], Sequence[str]]:
    """`_dumps` without its cost per call on small events (the Python half of
    `JSONEncoder.encode` costs about as much as the encoding of an invocation's event): the
    C encoder it builds per call, built once; called as ``encode(obj, 0)``, it returns the
    JSON text in parts. Without the circular-reference check, which needs state per call:
    the event that fails here (a property that contains itself) goes through `_dumps` on the
    general path, which reports it as before. `_dumps` itself where the C encoder is missing
    or does not encode as `_dumps` does."""
    try:
        from json.encoder import (  # type: ignore[attr-defined]
            c_make_encoder,
            encode_basestring_ascii,
        )

        encode = c_make_encoder(
            None, _encoder.default, encode_basestring_ascii, None, ":", ",", False, False, False
        )
        probe = {"a": [1, 2.5, "\u00e9"], "b": {"c": None, "d": True}}
        if "".join(encode(probe, 0)) == _dumps(probe):
            return encode
    except Exception:  # noqa: S110 - any surprise: the encoder everyone uses
        pass
    return lambda obj, _indent: (_dumps(obj),)


_encode_in_parts = _one_shot_encoder()
# Event layouts whose directives' JSON is kept: far more than the handlers have; cleared when
# full, so layouts that change with every flush cannot grow it without bound.
_MAX_CACHED_LAYOUTS = 256


class EmfSink(MetricSink):
    name = "emf"
    # 100 metrics x 100 values: one full EMF event.
    preferred_batch_values = limits.EMF_MAX_METRICS_PER_DIRECTIVE * limits.EMF_MAX_VALUES_PER_METRIC

    def __init__(
        self, stream: IO[str] | None = None, max_event_bytes: int = limits.EMF_MAX_EVENT_BYTES
    ):
        # None means "sys.stdout at publish time", so redirected or captured stdout works.
        self._stream = stream
        self.max_event_bytes = max_event_bytes
        self._definitions: dict[MetricSpec, dict[str, Any]] = {}  # spec -> its EMF definition
        # (namespace, (dimension sets, spec) per metric) -> the JSON of its directives.
        self._directives: dict[tuple[Any, ...], str] = {}

    def publish(
        self,
        namespace: str,
        batches: Sequence[SeriesBatch],
        properties: Mapping[str, object],
    ) -> PublishResult:
        one = self._one_event(namespace, batches, properties)
        if one is not None:  # the usual flush of one invocation: a single event
            line, carried = one
            return self._write_line(line, batches, carried)
        # Else one event per time bucket where that fits, and for the rest one event (or more,
        # cut to EMF's limits) per group of series with the same dimension values and sets.
        lines: list[str] = []
        total = 0
        rest: list[SeriesBatch] = []
        by_bucket: dict[int, list[SeriesBatch]] = {}
        for batch in batches:
            by_bucket.setdefault(batch[0], []).append(batch)
        for bucket in by_bucket.values():
            one = self._one_event(namespace, bucket, properties) if len(by_bucket) > 1 else None
            if one is None:
                rest.extend(bucket)
            else:
                lines.append(one[0])
                total += one[1]
        groups: dict[GroupKey, dict[str, tuple[MetricSpec, dict[float, int]]]] = {}
        datapoints: dict[GroupKey, int] = {}
        for ts, series, values in rest:
            key = (ts, series.dimensions, series.dimension_sets)
            metrics = groups.get(key)
            if metrics is None:
                metrics = groups[key] = {}
                datapoints[key] = 0
            datapoints[key] += sum(values.values()) * series.weight
            entry = metrics.get(series.spec.name)
            if entry is None:
                metrics[series.spec.name] = (series.spec, values)
            else:  # rare (see Series): merged into a copy, the batch's values stay as they are
                merged = dict(entry[1])
                for value, count in values.items():
                    merged[value] = merged.get(value, 0) + count
                metrics[series.spec.name] = (entry[0], merged)

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

        return self._write(lines, batches, total + sum(datapoints.values()), discarded)

    def _write_line(self, line: str, batches: Sequence[SeriesBatch], total: int) -> PublishResult:
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:
            # Nothing is known to have reached the log: keep it all for the next flush.
            return PublishResult(
                undelivered=list(batches), failures=1, failure_message=f"EMF write failed: {exc}"
            )
        return PublishResult(delivered=total)

    def _write(
        self,
        lines: list[str],
        batches: Sequence[SeriesBatch],
        total: int,
        discarded: list[Discard],
    ) -> PublishResult:
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

    def _one_event(
        self,
        namespace: str,
        batches: Sequence[SeriesBatch],
        properties: Mapping[str, object],
    ) -> tuple[str, int] | None:
        """Everything in one event and its datapoints, or None when it does not fit one: more
        than one time bucket, a metric twice (under other dimension values), a root key that
        two series or a property need with different contents, more than 100 values of a
        metric, or too big. One directive per list of dimension sets, naming every metric
        published to them."""
        if not batches or len(batches) > limits.EMF_MAX_METRICS_PER_DIRECTIVE:
            return None
        cap = limits.EMF_MAX_VALUES_PER_METRIC
        for batch in batches:
            if len(batch[2]) > cap:  # more than 100 distinct values: the rounds of _events
                return None
        timestamp = batches[0][0]
        event: dict[str, Any] = dict(properties)
        if "_aws" in event:
            return None
        metric_names: set[str] = set()
        layout = []
        datapoints = 0
        for ts, series, values in batches:
            spec = series.spec
            name = spec.name
            samples = sum(values.values())
            if ts != timestamp or name in event or samples > cap:
                return None
            for key, value in series.dimensions:
                if event.setdefault(key, value) != value or key in metric_names:
                    return None
            # Every value once (the dict's keys, in C), else each as many times as recorded.
            event[name] = list(values) if samples == len(values) else _expanded(values)
            datapoints += samples * series.weight
            metric_names.add(name)
            layout.append((series.dimension_sets, spec))
        # The directives depend only on which metrics go to which dimension sets: the same
        # for every invocation of a handler, so their JSON is written once and kept.
        layout_key = (namespace, tuple(layout))
        directives = self._directives.get(layout_key)
        if directives is None:
            directives = self._directives_json(namespace, layout)
            if len(self._directives) >= _MAX_CACHED_LAYOUTS:
                self._directives.clear()
            self._directives[layout_key] = directives
        try:
            root = "".join(_encode_in_parts(event, 0))
        except Exception:
            return None  # a property that is not JSON: the general path discards its group
        # The "_aws" member last, as if it were the dict's last key.
        line = (
            f'{root[:-1]}{"," if len(root) > 2 else ""}"_aws":{{"Timestamp":{timestamp * 1000},'
            f'"CloudWatchMetrics":{directives}}}}}'
        )
        return (line, datapoints) if len(line) <= self.max_event_bytes else None

    def _directives_json(
        self, namespace: str, layout: list[tuple[tuple[tuple[str, ...], ...], MetricSpec]]
    ) -> str:
        by_set: dict[tuple[tuple[str, ...], ...], list[dict[str, Any]]] = {}
        definitions = self._definitions
        for sets, spec in layout:
            definition = definitions.get(spec)
            if definition is None:
                definition = definitions[spec] = _definition(spec)
            by_set.setdefault(sets, []).append(definition)
        return _dumps(
            [
                {"Namespace": namespace, "Dimensions": [list(d) for d in sets], "Metrics": metrics}
                for sets, metrics in by_set.items()
            ]
        )

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
            flat = _expanded(values)
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
        known = self._definitions
        for spec, values in present:
            definition = known.get(spec)
            if definition is None:
                definition = known[spec] = _definition(spec)
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


def _definition(spec: MetricSpec) -> dict[str, Any]:
    definition: dict[str, Any] = {"Name": spec.name, "Unit": spec.unit.value}
    if spec.storage_resolution == 1:
        definition["StorageResolution"] = 1
    return definition


def _expanded(values: Mapping[float, int]) -> list[float]:
    """EMF has no counts: a value recorded n times is written n times."""
    if len(values) == sum(values.values()):  # every value once: the dict's keys, in C
        return list(values)
    flat: list[float] = []
    for value, count in values.items():
        if count == 1:
            flat.append(value)
        else:
            flat.extend([value] * count)
    return flat
