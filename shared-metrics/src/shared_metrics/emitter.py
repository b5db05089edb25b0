"""`MetricsEmitter`: record values against specs, buffer them, flush them to a sink."""

from __future__ import annotations

import atexit
import functools
import time

# _thread and _weakrefset rather than threading and weakref: the same lock and WeakSet
# without importing two more modules at Lambda cold start.
from _thread import allocate_lock
from _weakrefset import WeakSet

from shared_metrics import diagnostics, limits
from shared_metrics.bound_series import (
    DEFAULT_MAX_CACHED_SERIES,
    BoundSeries,
    RejectedSeries,
    SeriesRegistry,
)
from shared_metrics.buffer import MetricBuffer
from shared_metrics.deadline import DeadlineWatch
from shared_metrics.sinks.base import PublishResult, total_datapoints
from shared_metrics.spec import (
    MetricSpec,
    MetricSpecError,
    check_default_dimensions,
    check_namespace,
)
from shared_metrics.stats import EmitterStats
from shared_metrics.timing import Timer
from shared_metrics.validation import (
    MetricValidationError,
    Rejection,
    explain_failure,
    timer_rejection,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeVar

    from shared_metrics.sinks.base import MetricSink

    H = TypeVar("H", bound=Callable[..., Any])

DEFAULT_MAX_BUFFERED_VALUES = 100_000


class MetricsEmitter:
    """Records metric values for one CloudWatch namespace and flushes them to a sink.

    `record` never raises into the caller (unless ``strict=True``, meant for tests): a bad
    value or dimension is rejected, counted in `stats()` and logged once per reason.
    Flushing happens when the buffer holds a sink's worth of data, on `flush()`, at the end
    of every invocation wrapped by `lambda_handler`/`invocation`, and at interpreter exit.

    The sink is required: `shared_metrics.emitter_from_env` builds an emitter whose sink and
    options come from the environment, the way a Lambda function is configured.
    """

    def __init__(
        self,
        namespace: str,
        sink: MetricSink,
        default_dimensions: Mapping[str, str] | None = None,
        *,
        strict: bool = False,
        max_buffered_values: int = DEFAULT_MAX_BUFFERED_VALUES,
        flush_threshold: int | None = None,
        clock: Callable[[], float] = time.time,
        timer_clock: Callable[[], float] = time.perf_counter,
        max_cached_series: int = DEFAULT_MAX_CACHED_SERIES,
        flush_at_exit: bool = True,
        deadline_watch: DeadlineWatch | None = None,
    ) -> None:
        self.namespace = check_namespace(namespace)
        self.sink = sink
        self.strict = strict
        defaults = check_default_dimensions(dict(default_dimensions or {}))
        self._buffer = MetricBuffer(
            max_buffered_values, flush_threshold or sink.preferred_batch_values
        )
        self._clock = clock
        # What timers measure elapsed time with; a simulation can add its simulated time.
        self.timer_clock = timer_clock
        self._lock = allocate_lock()  # counters, caches and properties (never the hot path)
        self._flush_lock = allocate_lock()
        self._registry = SeriesRegistry(
            self.namespace,
            defaults,
            self._buffer,
            self._lock,
            clock,
            self._reject,
            self._auto_flush,
            max_cached_series,
        )
        # The registry's cache, read directly by `record` (one attribute lookup less).
        self._series_cache = self._registry.cache
        # A simulation passes a watch on its own clock (the same arm/disarm contract).
        self._deadline = deadline_watch if deadline_watch is not None else DeadlineWatch()
        self._on_deadline = self._deadline_reached  # bound once: armed at every invocation
        self._properties: dict[str, object] = {}
        self._rejected: dict[str, int] = {}
        self._dropped: dict[str, int] = {}
        self._delivered = 0
        self._publish_failures = 0
        self._flushes = 0
        self._deadline_flushes = 0
        self._logged: set[str] = set()
        if flush_at_exit:
            _LIVE_EMITTERS.add(self)

    # -- recording -----------------------------------------------------------------------

    def record(
        self, spec: MetricSpec, value: float, dimensions: Mapping[str, str] | None = None
    ) -> bool:
        """Record one value; return whether it was accepted. On a hot path, bind the series
        once with `series` and record through it: the dimensions are then not looked up per
        sample."""
        try:
            key = (spec, tuple(dimensions.items()) if dimensions else ())
            bound = self._series_cache.get(key)
            if bound is None:
                bound = self._registry.bind(spec, dimensions, key)
        except MetricValidationError as exc:
            self._reject(exc)
            return False
        except Exception as exc:
            self._reject(explain_failure(spec, value, dimensions, exc))
            return False
        return bound.record(value)

    def series(
        self, spec: MetricSpec, dimensions: Mapping[str, str] | None = None
    ) -> BoundSeries | RejectedSeries:
        """``spec`` with these dimension values, validated once, to `record`/`count` on.

        Never raises (unless strict): a spec or dimensions that cannot be accepted give a
        series that rejects, and counts, every value recorded through it. Asking again for
        the same spec and values returns the same series while it is in use.
        """
        try:
            return self._registry.bind(spec, dimensions, None)
        except MetricValidationError as exc:
            rejection = exc
        except Exception as exc:
            rejection = explain_failure(spec, None, dimensions, exc)
        if self.strict:
            raise rejection
        return RejectedSeries(self._reject, spec, rejection)

    def count(
        self, spec: MetricSpec, amount: float = 1, dimensions: Mapping[str, str] | None = None
    ) -> bool:
        """Record that something happened ``amount`` times (a Count metric)."""
        return self.record(spec, amount, dimensions)

    def timer(self, spec: MetricSpec, dimensions: Mapping[str, str] | None = None) -> Timer:
        """Time a ``with`` block or, used as a decorator, every call of a function."""
        return Timer(self, spec, dimensions)

    def set_property(self, key: str, value: object) -> bool:
        """Attach a log property to the next flush's EMF events (searchable, not a metric)."""
        if value.__class__ is str and key.__class__ is str and key and key != "_aws":
            with self._lock:  # the usual property (an id): JSON as it is
                self._properties[key] = value
            return True
        try:
            if not isinstance(key, str) or not key or key == "_aws":
                raise MetricValidationError(
                    Rejection.INVALID_PROPERTY,
                    f"property key must be a non-empty string other than '_aws', got {key!r:.80}",
                )
            try:
                import json

                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise MetricValidationError(
                    Rejection.INVALID_PROPERTY,
                    f"property {key!r} is not JSON-serializable without NaN/Inf: {exc}",
                ) from None
            with self._lock:
                self._properties[key] = value
            return True
        except MetricValidationError as exc:
            self._reject(exc)
            return False

    def reject_timer(self, spec: object) -> None:
        """Called by a `Timer` whose spec does not measure time (or is not a spec)."""
        self._reject(timer_rejection(spec))

    def _reject(self, exc: MetricValidationError) -> None:
        reason = exc.reason.value
        with self._lock:
            self._rejected[reason] = self._rejected.get(reason, 0) + 1
        self._log_once(f"rejected:{reason}", f"metric rejected ({reason}): {exc.message}")
        if self.strict:
            raise exc

    def _log_once(self, key: str, message: str) -> None:
        with self._lock:
            if key in self._logged:
                return
            self._logged.add(key)
        diagnostics.warning(
            f"{message} [{self.namespace}; further occurrences are only counted in stats()]"
        )

    # -- flushing ------------------------------------------------------------------------

    def flush(self) -> PublishResult | None:
        """Publish everything buffered now. Never raises; returns what the sink reported."""
        with self._flush_lock:
            return self._flush_locked()

    def _auto_flush(self) -> None:
        # Another thread already flushing will take this data too, or the next record will.
        if self._flush_lock.acquire(blocking=False):
            try:
                self._flush_locked()
            finally:
                self._flush_lock.release()

    def _flush_locked(self) -> PublishResult | None:
        try:
            with self._lock:  # the registry's lock too: one acquisition for both
                batches, expected = self._registry.drain_all_locked()
                properties, self._properties = self._properties, {}
            if not batches:
                return None
            try:
                result = self.sink.publish(self.namespace, batches, properties)
            except Exception as exc:
                result = PublishResult(
                    undelivered=list(batches),
                    failures=1,
                    failure_message=f"sink {self.sink.name!r} raised {type(exc).__name__}: {exc}",
                )
            self._account(result, expected)
            if result.undelivered:
                self._buffer.restore(result.undelivered)
                with self._lock:
                    # New properties set meanwhile win over the ones of the failed flush.
                    self._properties = {**properties, **self._properties}
            return result
        except Exception as exc:  # a bug here must still not reach the handler
            diagnostics.exception(f"metrics flush failed unexpectedly: {exc}")
            return None
        finally:
            if self._buffer.dropped:
                self._log_once(
                    "dropped:buffer_full",
                    f"metrics dropped (buffer_full): more than {self._buffer.max_values} "
                    "distinct values were waiting for the sink (is it failing?); the oldest "
                    "were dropped",
                )

    def _account(self, result: PublishResult, expected: int) -> None:
        if not (result.undelivered or result.discarded or result.failures):  # the usual flush
            with self._lock:
                self._flushes += 1
                self._delivered += result.delivered
            if result.delivered != expected:
                self._log_once(
                    "accounting",
                    f"sink {self.sink.name!r} accounted for {result.delivered} of {expected} "
                    "datapoints",
                )
            return
        undelivered = total_datapoints(result.undelivered) if result.undelivered else 0
        with self._lock:
            self._flushes += 1
            self._delivered += result.delivered
            self._publish_failures += result.failures
            for discard in result.discarded:
                self._dropped[discard.reason] = (
                    self._dropped.get(discard.reason, 0) + discard.datapoints
                )
        for discard in result.discarded:
            self._log_once(
                f"dropped:{discard.reason}",
                f"metrics dropped ({discard.reason}): {discard.message}",
            )
        if result.failures:
            self._log_once(
                f"publish:{self.sink.name}",
                f"publishing to {self.sink.name} failed, data kept for the next flush: "
                f"{result.failure_message}",
            )
        accounted = result.delivered + undelivered + sum(d.datapoints for d in result.discarded)
        if accounted != expected:
            self._log_once(
                "accounting",
                f"sink {self.sink.name!r} accounted for {accounted} of {expected} datapoints",
            )

    def lambda_handler(self, handler: H) -> H:
        """Decorate a Lambda handler so metrics are flushed before every return or raise, and
        shortly before the invocation's deadline (see `invocation`)."""

        @functools.wraps(handler)
        def wrapper(event: Any, context: Any = None, *args: Any, **kwargs: Any) -> Any:
            with self.invocation(context):
                return handler(event, context, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def invocation(self, context: Any = None) -> _Invocation:
        """``with emitter.invocation(context):`` flushes when the block ends, however it ends.

        With a Lambda context, it also flushes ``DEADLINE_FLUSH_MARGIN_MS`` before the
        context's ``get_remaining_time_in_millis()`` runs out: an invocation that times out is
        stopped before any ``finally`` runs, and its metrics are the ones an on-call person
        needs. Such early flushes are counted (``stats().deadline_flushes``) and logged once.
        """
        return _Invocation(self, context)

    def _deadline_reached(self) -> None:
        with self._lock:
            self._deadline_flushes += 1
        self._log_once(
            "deadline",
            "invocation about to reach its deadline: metrics flushed early (a timeout follows "
            "unless the handler returns now)",
        )
        self.flush()

    def close(self) -> None:
        """Flush and stop flushing at interpreter exit."""
        self.flush()
        _LIVE_EMITTERS.discard(self)

    # -- introspection -------------------------------------------------------------------

    def stats(self) -> EmitterStats:
        # The flush lock makes the snapshot consistent: no data is in flight to a sink.
        with self._flush_lock:
            self._registry.move_all_to_buffer()
            samples, datapoints, held, evicted = self._buffer.counts()
            with self._lock:
                dropped = dict(self._dropped)
                rejected = dict(self._rejected)
                delivered, failures, flushes, deadline_flushes = (
                    self._delivered,
                    self._publish_failures,
                    self._flushes,
                    self._deadline_flushes,
                )
        if evicted:
            dropped["buffer_full"] = evicted
        return EmitterStats(
            accepted=samples,
            rejected=rejected,
            datapoints=datapoints,
            delivered=delivered,
            dropped=dropped,
            buffered=held,
            publish_failures=failures,
            flushes=flushes,
            deadline_flushes=deadline_flushes,
        )

    @property
    def buffered_values(self) -> int:
        """Distinct values held: what ``max_buffered_values`` bounds."""
        with self._flush_lock:
            self._registry.move_all_to_buffer()
            return self._buffer.values

    @property
    def max_buffered_values(self) -> int:
        """The bound on distinct values held before the oldest are dropped."""
        return self._buffer.max_values


class _Invocation:
    __slots__ = ("_emitter", "_context", "_token")

    def __init__(self, emitter: MetricsEmitter, context: Any) -> None:
        self._emitter = emitter
        self._context = context
        self._token: int | None = None

    def __enter__(self) -> MetricsEmitter:
        delay = _seconds_before_deadline(self._context) if self._context is not None else None
        if delay is not None:
            # One watch per emitter, as Lambda runs one invocation at a time per environment;
            # with concurrent invocations the most recent one's deadline is watched.
            self._token = self._emitter._deadline.arm(delay, self._emitter._on_deadline)
        return self._emitter

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            self._emitter._deadline.disarm(self._token)
        self._emitter.flush()


def _seconds_before_deadline(context: Any) -> float | None:
    """When to flush early for a Lambda context, or None without a usable one."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    try:
        millis = float(remaining())
    except Exception:  # a context that cannot say: no early flush, never a failure
        return None
    if millis != millis:  # NaN
        return None
    return max(0.0, millis - limits.DEADLINE_FLUSH_MARGIN_MS) / 1000


# Last resort only: Lambda freezes the environment after the handler returns, so atexit may
# never run there. Handlers flush through `lambda_handler`/`invocation` instead.
_LIVE_EMITTERS: WeakSet[MetricsEmitter] = WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for emitter in list(_LIVE_EMITTERS):
        emitter.flush()


__all__ = ["EmitterStats", "MetricSpecError", "MetricsEmitter"]
