"""`SeriesRegistry`: the specs and series one emitter records into, and their pending samples.

Each (spec, dimension values) is validated once, when it is bound (`bind`); its samples then
wait in a `PendingSamples` outside the buffer, appended without a lock by its `BoundSeries`,
and move into the emitter's bounded buffer a hand-over at a time, or all at once at a flush
(`drain_all_locked`) and before counters are read (`move_all_to_buffer`). The registry is the
`BoundSeries`' owner: their slow paths (a new time bucket, a full hand-over) land here, and
their first sample since a drain lists them in `_pending_list` for the next one.
"""

from __future__ import annotations

from _weakref import ref

from shared_metrics import limits
from shared_metrics.bound_series import HANDOVER_SAMPLES, BoundSeries, PendingSamples, take_all
from shared_metrics.series import Series
from shared_metrics.validation import (
    MetricValidationError,
    Rejection,
    check_dimensions,
)

# Not `typing.TYPE_CHECKING`: importing typing costs Lambda cold start milliseconds.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from shared_metrics.buffer import MetricBuffer
    from shared_metrics.series import SeriesBatch
    from shared_metrics.spec import MetricSpec

# Dimension tuples seen recently, so validation runs once per series, not per sample.
# Cleared when full: a client sending a new session id per request cannot grow it unbounded.
DEFAULT_MAX_CACHED_SERIES = 10_000


class SeriesRegistry:
    """The specs (one definition per name in a namespace) and bound series of one emitter.

    Shares the emitter's lock, buffer and clock; ``reject`` counts a rejection and
    ``auto_flush`` flushes when a hand-over fills the buffer.
    """

    def __init__(
        self,
        namespace: str,
        defaults: dict[str, str],
        buffer: MetricBuffer,
        lock: Any,
        clock: Callable[[], float],
        reject: Callable[[MetricValidationError], None],
        auto_flush: Callable[[], None],
        max_cached_series: int = DEFAULT_MAX_CACHED_SERIES,
    ) -> None:
        self.namespace = namespace
        self._defaults = defaults
        self._default_keys = tuple(sorted(defaults))
        self._default_items = tuple(defaults.items())
        self._buffer = buffer
        self._lock = lock
        self._clock = clock
        self._reject = reject
        self._auto_flush = auto_flush
        self._handover_samples = min(HANDOVER_SAMPLES, buffer.flush_threshold)
        self._max_cached_series = max_cached_series
        # (spec, dimensions as given) -> its bound series, for `record(spec, value, dims)`.
        self.cache: dict[tuple[object, tuple[Any, ...]], BoundSeries] = {}
        # (spec, all dimension values) -> the samples not yet in the buffer. Held strongly:
        # entries go only when no BoundSeries of theirs is alive and they hold nothing.
        self._pending: dict[tuple[object, tuple[tuple[str, str], ...]], PendingSamples] = {}
        # Pending samples to move into the buffer at the next flush (appended without a lock).
        self._pending_list: list[PendingSamples] = []
        self._specs: dict[str, MetricSpec] = {}

    def bind(
        self,
        spec: MetricSpec,
        dimensions: Mapping[str, str] | None,
        key: tuple[Any, ...] | None,
    ) -> BoundSeries:
        """The live series of ``spec`` with these dimensions, or a new one; raises
        `MetricValidationError` for a spec or dimensions that cannot be accepted. With a
        ``key``, the series is also cached under it for `MetricsEmitter.record`."""
        items = check_dimensions(spec, dimensions)
        with self._lock:
            known = self._specs.get(spec.name)
            if known is None:
                self._check_spec_fits(spec)
                self._specs[spec.name] = spec
            elif known is not spec and not _same_definition(known, spec):
                raise MetricValidationError(
                    Rejection.SPEC_CONFLICT,
                    f"metric {spec.name!r} is declared twice with different units, dimension "
                    f"sets or resolution in namespace {self.namespace!r}; declare it once",
                )
            all_items = tuple(sorted(items + self._default_items)) if self._defaults else items
            content = (spec, all_items)
            pending = self._pending.get(content)
            bound = pending.bound() if pending is not None and pending.bound is not None else None
            if bound is None:
                if pending is None:
                    if len(self._pending) >= self._max_cached_series:
                        self._forget_unused_locked()
                    sets = tuple(self._default_keys + s for s in spec.dimension_sets)
                    pending = self._pending[content] = PendingSamples(Series(spec, all_items, sets))
                bound = BoundSeries(self, spec, pending)
                pending.bound = ref(bound)
            if key is not None:
                if len(self.cache) >= self._max_cached_series:
                    self.cache.clear()
                self.cache[key] = bound
            return bound

    def _forget_unused_locked(self) -> None:
        """Drop the pending entries nothing can record into any more and that hold nothing."""
        unused = [
            content
            for content, pending in self._pending.items()
            if (pending.bound is None or pending.bound() is None) and not pending.values
        ]
        for content in unused:
            del self._pending[content]

    def _check_spec_fits(self, spec: MetricSpec) -> None:
        clash = spec.dimension_keys & set(self._defaults)
        if clash:
            raise MetricValidationError(
                Rejection.SPEC_CONFLICT,
                f"metric {spec.name!r} declares dimension(s) {sorted(clash)} that the emitter "
                f"already sets as default dimensions",
            )
        widest = max(len(s) for s in spec.dimension_sets) + len(self._defaults)
        if widest > limits.MAX_DIMENSIONS_PER_METRIC:
            raise MetricValidationError(
                Rejection.SPEC_CONFLICT,
                f"metric {spec.name!r}: with the default dimensions a set has {widest} names, "
                f"CloudWatch allows {limits.MAX_DIMENSIONS_PER_METRIC}",
            )

    # -- the bound series' slow paths (called by BoundSeries) ------------------------------

    def _start_bucket(self, bound: BoundSeries, pending: PendingSamples) -> None:
        """The clock left the series' current bucket (or it has none yet): start the next."""
        resolution = bound.spec.storage_resolution
        now = int(self._clock())
        timestamp = now - now % resolution
        with self._lock:
            if pending.timestamp != timestamp:
                pending.marks.append((len(pending.values), timestamp))
                pending.timestamp = timestamp
        bound._set_bucket(timestamp, timestamp + resolution)

    def _hand_over(self, pending: PendingSamples) -> None:
        """A hand-over's worth of samples gathered by a series: into the buffer now."""
        with self._lock:
            series = pending.series
            full = self._buffer.add_all([(timestamp, series, v) for timestamp, v in pending.take()])
        if full:
            self._auto_flush()

    def move_all_to_buffer(self) -> None:
        """Every pending sample into the buffer: before counters are read."""
        with self._lock:
            items = take_all(self._take_listed_locked())
            if items:
                self._buffer.add_all(items)

    def drain_all_locked(self) -> tuple[list[SeriesBatch], int]:
        """Every pending sample and everything buffered, taken out: what a flush publishes,
        and the datapoints it holds. Under the emitter's lock (the caller's)."""
        return self._buffer.add_and_drain(take_all(self._take_listed_locked()))

    def _take_listed_locked(self) -> list[PendingSamples]:
        """The series listed for the next flush, unlisted from it."""
        listed = self._pending_list
        count = len(listed)
        taken = listed[:count]
        del listed[:count]  # appended meanwhile: stays for the next time
        return taken


def _same_definition(a: MetricSpec, b: MetricSpec) -> bool:
    return (a.unit, a.dimension_sets, a.storage_resolution) == (
        b.unit,
        b.dimension_sets,
        b.storage_resolution,
    )
