"""What a `MemorySink` holds, per series, in the shapes tests compare against.

A series key is ``(metric name, ((dimension, value), ...))`` with the dimensions in their
declared order; ``()`` is the aggregate series the alarms watch.

`counted` leaves out HandlerInvocations and ErrorResponses, which the handler guard counts
on every invocation (and every error answer) whatever the handler does (tests of what a
handler does compare the rest; `heartbeat=True` includes them).
"""

from __future__ import annotations

from shared_metrics.sinks.memory import MemorySink
from websocket_service.specs import ERROR_RESPONSES, HANDLER_INVOCATIONS

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]

_TIME_UNITS = ("Seconds", "Milliseconds", "Microseconds")
_GUARD_COUNTS = frozenset({HANDLER_INVOCATIONS.name, ERROR_RESPONSES.name})


def counted(sink: MemorySink, *, heartbeat: bool = False) -> dict[SeriesKey, float]:
    """The total of every non-time series (counts, bytes): what a Sum statistic shows."""
    totals: dict[SeriesKey, float] = {}
    for datum in sink.published:
        if datum.unit in _TIME_UNITS:
            continue
        if datum.name in _GUARD_COUNTS and not heartbeat:
            continue
        key = (datum.name, datum.dimensions)
        totals[key] = totals.get(key, 0) + sum(v * c for v, c in datum.values.items())
    return totals


def timed(sink: MemorySink) -> dict[SeriesKey, list[float]]:
    """Every value of every time series (latencies), sorted: what percentiles are made of."""
    values: dict[SeriesKey, list[float]] = {}
    for datum in sink.published:
        if datum.unit not in _TIME_UNITS:
            continue
        out = values.setdefault((datum.name, datum.dimensions), [])
        for value, count in datum.values.items():
            out.extend([value] * count)
    return {key: sorted(v) for key, v in values.items()}


def sample_counts(sink: MemorySink) -> dict[SeriesKey, int]:
    """How many samples each time series got (latency values themselves vary run to run)."""
    return {key: len(values) for key, values in timed(sink).items()}
