"""The bounded, thread-safe buffer between `record()` and a sink.

Values are aggregated per (time bucket, series) as value -> count: percentiles survive
(CloudWatch computes them from Values/Counts) and a flush carries one entry per distinct
value instead of one per sample. Memory is bounded by the number of distinct values held.
"""

from __future__ import annotations

from _thread import allocate_lock  # threading.Lock itself, without importing threading

# Counts a list into a dict in C (what Counter.update uses); collections is imported by the
# Lambda runtime before any handler.
from collections import _count_elements  # type: ignore[attr-defined]

from shared_metrics.series import Series, SeriesBatch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

# When full, evict down to this fraction of the cap at once, so eviction is amortized
# instead of scanning the dict for its oldest key on every record.
_EVICT_TO_FRACTION = 15 / 16


class MetricBuffer:
    def __init__(self, max_values: int, flush_threshold: int) -> None:
        if max_values < 1 or flush_threshold < 1:
            raise ValueError("max_values and flush_threshold must be positive")
        self.max_values = max_values
        self.flush_threshold = min(flush_threshold, max_values)
        self._lock = allocate_lock()
        self._data: dict[tuple[int, Series], dict[float, int]] = {}
        self._values = 0  # distinct (bucket, series, value) entries: what the cap bounds
        self._flush_mark = self.flush_threshold
        self.dropped = 0  # datapoints evicted because the buffer was full
        # Counted under the lock, so concurrent recorders never lose an increment.
        self.accepted_samples = 0
        self.accepted_datapoints = 0

    def add_all(self, items: Iterable[tuple[int, Series, list[float]]]) -> bool:
        """Add samples, as (bucket timestamp, series, values), under one lock acquisition;
        return True when the buffer holds enough for a flush, or had to evict (so that the
        emitter flushes, and reports the eviction)."""
        with self._lock:
            return self._add_locked(items)

    def _add_locked(self, items: Iterable[tuple[int, Series, list[float]]]) -> bool:
        """`add_all` under the lock."""
        full = False
        data = self._data
        samples = datapoints = 0
        for timestamp, series, values in items:
            samples += len(values)
            datapoints += len(values) * series.weight
            key = (timestamp, series)
            slot = data.get(key)
            if slot is None:
                slot = data[key] = {}
            held = len(slot)
            _count_elements(slot, values)
            self._values += len(slot) - held
            if self._values > self.max_values:
                self._evict_locked()
                full = True
            elif self._values >= self._flush_mark:
                full = True
        # Counted under the lock, so concurrent recorders never lose an increment.
        self.accepted_samples += samples
        self.accepted_datapoints += datapoints
        return full

    def drain(self) -> list[SeriesBatch]:
        """Take everything out, oldest first."""
        return self.add_and_drain([])[0]

    def add_and_drain(
        self, items: list[tuple[int, Series, list[float]]]
    ) -> tuple[list[SeriesBatch], int]:
        """`add_all` then `drain` under one lock acquisition (what a flush does); return the
        batches and the datapoints they hold."""
        with self._lock:
            data: dict[tuple[int, Series], dict[float, int]] = {}
            if items and not self._data:
                # Into an empty buffer: counted straight into the batches, the same as adding
                # them and taking everything out, unless there are enough to evict some.
                samples = datapoints = 0
                for timestamp, series, values in items:
                    samples += len(values)
                    datapoints += len(values) * series.weight
                    key = (timestamp, series)
                    slot = data.get(key)
                    if slot is None:
                        slot = data[key] = {}
                    _count_elements(slot, values)
                if samples > self.max_values:
                    data = {}
                else:
                    self.accepted_samples += samples
                    self.accepted_datapoints += datapoints
                    self._flush_mark = self.flush_threshold
                    new = tuple.__new__  # SeriesBatch(...) without its Python-level __new__
                    batches = [new(SeriesBatch, (k[0], k[1], v)) for k, v in data.items()]
                    return batches, datapoints
            if items:
                self._add_locked(items)
            data, self._data = self._data, {}
            self._values = 0
            self._flush_mark = self.flush_threshold
        batches = _batches(data)
        return batches, sum(sum(v.values()) * s.weight for _, s, v in batches)

    def restore(self, batches: Iterable[SeriesBatch]) -> None:
        """Put undelivered data back in front (it is the oldest), within the cap.

        After a failed flush the next automatic flush waits until another threshold's worth
        of data has arrived, so a sink that is down is not hammered on every record.
        """
        with self._lock:
            merged: dict[tuple[int, Series], dict[float, int]] = {}
            for ts, series, values in batches:
                slot = merged.setdefault((ts, series), {})
                for value, count in values.items():
                    slot[value] = slot.get(value, 0) + count
            for key, values in self._data.items():
                slot = merged.setdefault(key, {})
                for value, count in values.items():
                    slot[value] = slot.get(value, 0) + count
            self._data = merged
            self._values = sum(len(v) for v in merged.values())
            if self._values > self.max_values:
                self._evict_locked()
            self._flush_mark = self._values + self.flush_threshold

    def _evict_locked(self) -> None:
        target = max(1, int(self.max_values * _EVICT_TO_FRACTION))
        victims = []
        lost = 0
        for key, slot in self._data.items():
            if self._values <= target:
                break
            weight = key[1].weight
            excess = self._values - target
            if len(slot) <= excess:
                victims.append(key)
                self._values -= len(slot)
                lost += sum(slot.values()) * weight
            else:
                # One series holds more distinct values than the cap allows: trim its oldest.
                for value in list(slot)[:excess]:
                    lost += slot.pop(value) * weight
                self._values -= excess
        for key in victims:
            del self._data[key]
        self.dropped += lost

    @property
    def values(self) -> int:
        return self._values

    def counts(self) -> tuple[int, int, int, int]:
        """One consistent reading: (accepted samples, accepted datapoints, datapoints held,
        datapoints evicted). Held datapoints are counted here, on demand: `stats()` is rare,
        `add` is the hot path."""
        with self._lock:
            held = sum(sum(v.values()) * s.weight for (_, s), v in self._data.items())
            return self.accepted_samples, self.accepted_datapoints, held, self.dropped


def _batches(data: dict[tuple[int, Series], dict[float, int]]) -> list[SeriesBatch]:
    new = tuple.__new__  # SeriesBatch(...) without its Python-level __new__
    return [new(SeriesBatch, (ts, series, values)) for (ts, series), values in data.items()]
