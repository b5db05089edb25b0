"""Latency timers: a context manager and a decorator that record elapsed time."""

from __future__ import annotations

import functools

from shared_metrics.spec import TIME_UNIT_FACTORS, MetricSpec, Unit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import TracebackType
    from typing import Any, Protocol, TypeVar

    class TimedRecorder(Protocol):
        """What a timer records into (`MetricsEmitter` is one)."""

        timer_clock: Callable[[], float]

        def record(
            self, spec: MetricSpec, value: float, dimensions: Mapping[str, str] | None = None
        ) -> bool: ...

        def reject_timer(self, spec: object) -> None: ...

    F = TypeVar("F", bound=Callable[..., Any])

# inspect.CO_COROUTINE, without importing inspect (a cold start cost).
_CO_COROUTINE = 0x80


class Timer:
    """Records the time spent in a ``with`` block or a decorated call, also when it raises.

    The value is in the spec's unit (Milliseconds, Microseconds or Seconds). Each decorated
    call measures on its own, so a decorator can wrap concurrent calls; a ``with`` block
    keeps its start on the timer, so use one `MetricsEmitter.timer(...)` per block.
    """

    __slots__ = ("_emitter", "_spec", "_dimensions", "_factor", "_start")

    def __init__(
        self,
        emitter: TimedRecorder,
        spec: MetricSpec,
        dimensions: Mapping[str, str] | None = None,
    ) -> None:
        self._emitter = emitter
        self._spec = spec
        self._dimensions = dimensions
        unit = getattr(spec, "unit", None)
        # None: the spec's unit is not a time unit, and every measurement is rejected.
        self._factor = TIME_UNIT_FACTORS.get(unit) if isinstance(unit, Unit) else None
        self._start = 0.0

    def __enter__(self) -> Timer:
        self._start = self._emitter.timer_clock()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish(self._start)

    def _finish(self, start: float) -> None:
        if self._factor is None:
            self._emitter.reject_timer(self._spec)
        else:
            self._emitter.record(
                self._spec, (self._emitter.timer_clock() - start) * self._factor, self._dimensions
            )

    def __call__(self, func: F) -> F:
        # Each call keeps its own start (concurrent calls share this timer) and reuses what
        # __init__ worked out once, instead of building a Timer per call.
        clock, finish = self._emitter.timer_clock, self._finish
        code = getattr(func, "__code__", None)
        if code is not None and code.co_flags & _CO_COROUTINE:

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                start = clock()
                try:
                    return await func(*args, **kwargs)
                finally:
                    finish(start)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return func(*args, **kwargs)
            finally:
                finish(start)

        return wrapper  # type: ignore[return-value]
