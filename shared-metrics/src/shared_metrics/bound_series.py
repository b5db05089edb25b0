"""`BoundSeries`: one metric with its dimension values resolved once: the recording fast path.

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
"""

from __future__ import annotations

from shared_metrics import limits
from shared_metrics.validation import MetricValidationError, check_value, explain_failure

# Not `typing.TYPE_CHECKING`: importing typing costs Lambda cold start milliseconds.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol

    from shared_metrics.series import Series
    from shared_metrics.spec import MetricSpec

    class SeriesOwner(Protocol):
        """What a series calls on its slow paths (`registry.SeriesRegistry` implements it)."""

        _clock: Callable[[], float]
        _handover_samples: int

        def _reject(self, exc: MetricValidationError) -> None: ...

        def _start_bucket(self, bound: BoundSeries, pending: PendingSamples) -> None: ...

        _pending_list: list[PendingSamples]

        def _hand_over(self, pending: PendingSamples) -> None: ...


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

    def __init__(self, owner: SeriesOwner, spec: MetricSpec, pending: PendingSamples) -> None:
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
