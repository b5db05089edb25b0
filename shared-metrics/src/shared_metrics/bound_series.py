"""Bound series, the recording fast path, and the registry that owns them.

A `BoundSeries` is one metric with its dimension values resolved once.

``latency = metrics.series(SPEC, {"Reason": "TooLarge"})`` validates the spec and dimensions
once; ``latency.record(v)`` then costs a type check, a clock read and a ``list.append``.
No lock is taken per sample: ``list.append`` is atomic (under the GIL, and per object in the
free-threaded build), and the samples are counted and aggregated into the emitter's bounded
buffer when a series has gathered ``HANDOVER_SAMPLES`` of them, at every flush, and before
`stats()` reads the counters. So every guarantee of `MetricsEmitter.record` holds here too:
validation, never raising (outside strict mode), bounded memory with exact drop counts, a
timestamp per storage-resolution bucket, and the accounting invariant of `EmitterStats`.

The one difference: a sample is stamped with the bucket that was current when it was
appended, so under contention one recorded within a thread switch of a minute boundary may
land in the next minute instead of the one its clock read said.

A `SeriesRegistry` holds the specs and series one emitter records into, and their pending samples.
Each (spec, dimension values) is validated once, when it is bound (`bind`); its samples then wait in
a `PendingSamples` outside the buffer, appended without a lock by its `BoundSeries`, and move into
the emitter's bounded buffer a hand-over at a time, or all at once at a flush (`drain_all_locked`)
and before counters are read (`move_all_to_buffer`). The registry is the `BoundSeries`' owner: their
slow paths (a new time bucket, a full hand-over) land here, and their first sample since a drain
lists them in `_pending_list` for the next one.
"""

from __future__ import annotations

from _weakref import ref

from shared_metrics import limits
from shared_metrics.series import Series
from shared_metrics.validation import (
    MetricValidationError,
    Rejection,
    check_dimensions,
    check_value,
    explain_failure,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from shared_metrics.buffer import MetricBuffer
    from shared_metrics.series import SeriesBatch
    from shared_metrics.spec import MetricSpec

_MAX = limits.MAX_VALUE_MAGNITUDE
_MIN = -limits.MAX_VALUE_MAGNITUDE
# CloudWatch keeps values as doubles: an int beyond 2^53 is recorded as the float it becomes
# (check_value converts it), so equal values aggregate as one and read back as CloudWatch has them.
_MAX_EXACT = 2**53
_MIN_EXACT = -(2**53)

# Samples a series gathers before they go to the buffer: the lock and the aggregation are paid
# once per this many samples, and no series holds more than this many outside the buffer
# (fewer if the emitter's flush threshold is lower, so that it still flushes on time).
HANDOVER_SAMPLES = 256


class PendingSamples:
    """The samples of one series not yet in the buffer, and the buckets they fall in.

    Owned by the registry (strongly, so no sample is lost when the last `BoundSeries` of it is
    dropped before a flush); `values` is appended to without a lock, everything else changes
    under the emitter's lock.
    """

    __slots__ = ("series", "values", "marks", "timestamp", "bound")

    def __init__(self, series: Series) -> None:
        self.series = series
        self.values: list[float] = []
        # (position in values, bucket timestamp) where each bucket's samples begin.
        self.marks: list[tuple[int, int]] = []
        self.timestamp: int | None = None  # the bucket samples are appended to now
        self.bound: Callable[[], BoundSeries | None] | None = None  # weak ref to the live one

    def take(self) -> list[tuple[int, list[float]]]:
        """Remove the samples appended so far; return them per bucket. Under the emitter's
        lock. Samples appended meanwhile stay (they sit after the ones read)."""
        # Before the samples are read: a recorder appending after the read then finds its
        # series unlisted and lists it again, so no sample is left behind unlisted.
        bound = self.bound() if self.bound is not None else None
        if bound is not None:
            bound._limit = 1  # unlisted: its next sample lists it again
        values = self.values
        taken = len(values)
        if not taken:
            return []
        chunk = values[:taken]
        del values[:taken]
        marks = self.marks
        if len(marks) == 1:  # one bucket: the usual case
            return [(marks[0][1], chunk)]
        buckets = []
        for i, (start, timestamp) in enumerate(marks):
            end = marks[i + 1][0] if i + 1 < len(marks) else taken
            if end > start:
                buckets.append((timestamp, chunk[start:end]))
        self.marks = [(0, marks[-1][1])]
        return buckets


def take_all(pendings: list[PendingSamples]) -> list[tuple[int, Series, list[float]]]:
    """`PendingSamples.take` of each, as (bucket timestamp, series, values): what a flush
    moves. The same steps, inlined for the usual single bucket (a flush's hot loop)."""
    items: list[tuple[int, Series, list[float]]] = []
    for pending in pendings:
        marks = pending.marks
        if len(marks) != 1:  # no sample yet, or several buckets
            items.extend((timestamp, pending.series, v) for timestamp, v in pending.take())
            continue
        bound = pending.bound() if pending.bound is not None else None
        if bound is not None:
            bound._limit = 1  # unlisted before the samples are read, as in `take`
        values = pending.values
        taken = len(values)
        if taken:
            chunk = values[:taken]
            del values[:taken]
            items.append((marks[0][1], pending.series, chunk))
    return items


class BoundSeries:
    """A spec with its dimension values, ready to record. Get one from `MetricsEmitter.series`.

    Thread-safe; hold it for as long as the dimension values stay the same (a module-level or
    per-connection attribute). `record` and `count` return whether the value was accepted.
    """

    __slots__ = (
        "spec",
        "_owner",
        "_pending",
        "_values",
        "_append",
        "_clock",
        "_start",
        "_end",
        "_limit",
        "_handover",
        "_list",
        "__weakref__",
    )

    def __init__(self, owner: SeriesRegistry, spec: MetricSpec, pending: PendingSamples) -> None:
        self.spec = spec
        self._owner = owner
        self._pending = pending
        self._values = pending.values
        self._append = pending.values.append
        self._clock = owner._clock
        # The current bucket [start, end); empty until the first sample sets it.
        self._start = 1.0
        self._end = 0.0
        # Pending samples at which `record` leaves the fast path: 1 while the series is not
        # listed for the next flush (the first sample lists it), else the hand-over size.
        self._limit = 1
        self._handover = owner._handover_samples
        self._list = owner._pending_list.append  # lists the series for the next flush

    def record(self, value: float) -> bool:
        """Record one value; return whether it was accepted."""
        try:
            cls = value.__class__
            if not (
                (cls is float and _MIN <= value <= _MAX)
                or (cls is int and _MIN_EXACT <= value <= _MAX_EXACT)
            ):
                value = check_value(self.spec, value)
            if not self._start <= self._clock() < self._end:
                self._owner._start_bucket(self, self._pending)
            self._append(value)
            if len(self._values) >= self._limit:
                if len(self._values) < self._handover:
                    # The first sample since the series was drained. Marked first, then
                    # listed: a drain in between unmarks it, and the next sample lists it
                    # again (a series listed twice is drained once, harmlessly).
                    self._limit = self._handover
                    self._list(self._pending)
                else:  # a hand-over's worth: into the buffer now
                    self._owner._hand_over(self._pending)
            return True
        except MetricValidationError as exc:
            self._owner._reject(exc)
        except Exception as exc:
            explained = explain_failure(self.spec, value, None, exc, dimensions_valid=True)
            self._owner._reject(explained)
        return False

    def count(self, amount: float = 1) -> bool:
        """Record that something happened ``amount`` times (a Count metric)."""
        return self.record(amount)

    def _set_bucket(self, start: int, end: int) -> None:
        self._start = start
        self._end = end

    def __repr__(self) -> str:
        return f"BoundSeries({self._pending.series!r})"


class RejectedSeries:
    """What `MetricsEmitter.series` returns for a spec or dimensions it cannot accept: every
    value recorded through it is rejected with that reason, counted per sample like
    `MetricsEmitter.record` would."""

    __slots__ = ("spec", "_reject", "_rejection")

    def __init__(
        self,
        reject: Callable[[MetricValidationError], None],
        spec: object,
        rejection: MetricValidationError,
    ) -> None:
        self.spec = spec
        self._reject = reject
        self._rejection = rejection

    def record(self, value: float) -> bool:
        self._reject(self._rejection)
        return False

    def count(self, amount: float = 1) -> bool:
        return self.record(amount)

    def __repr__(self) -> str:
        return f"RejectedSeries({self._rejection.reason.value}: {self._rejection.message})"


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
