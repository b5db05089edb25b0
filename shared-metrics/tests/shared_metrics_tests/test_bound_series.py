"""`MetricsEmitter.series`: the bound-series fast path keeps every guarantee of `record`.

The state machine (test_buffer_state_machine.py) models bound series among the other
operations; here: many threads at once, series dropped before a flush, the series cap,
rejections, and the deadline watch that replaced a thread per invocation.
"""

from __future__ import annotations

import _thread
import sys
import threading
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_metrics import (
    BoundSeries,
    MetricsEmitter,
    MetricSpec,
    MetricValidationError,
    RejectedSeries,
    Unit,
    deadline,
)
from shared_metrics.sinks.memory import MemorySink

LATENCY = MetricSpec("Latency", Unit.MILLISECONDS, [[], ["SessionId"]])
DROPPED = MetricSpec("Dropped", Unit.COUNT, [["Reason"]])


def emitter_on(sink: MemorySink, **options: object) -> MetricsEmitter:
    return MetricsEmitter("Test/Bound", sink, flush_at_exit=False, **options)  # type: ignore[arg-type]


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    # Switch threads as often as CPython allows, so interleavings the GIL makes rare happen.
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_concurrent_recorders_and_a_flusher_lose_and_duplicate_nothing() -> None:
    sink = MemorySink()
    emitter = emitter_on(sink, flush_threshold=500)
    shared = emitter.series(DROPPED, {"Reason": "TooLarge"})
    threads, per_thread = 4, 5_000
    done = threading.Event()

    def recorder(n: int) -> None:
        own = emitter.series(LATENCY, {"SessionId": f"s{n}"})
        for i in range(per_thread):
            assert shared.count()
            assert own.record(float(i % 97))
            if i % 1000 == 0:  # and the slow path, on the same series, from the same thread
                assert emitter.record(LATENCY, float(i % 97), {"SessionId": f"s{n}"})

    def flusher() -> None:
        while not done.is_set():
            emitter.flush()

    flushing = threading.Thread(target=flusher)
    flushing.start()
    workers = [threading.Thread(target=recorder, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.set()
    flushing.join()
    emitter.flush()

    stats = emitter.stats()
    recorded = threads * (2 * per_thread + per_thread // 1000)
    assert stats.accepted == recorded
    assert stats.delivered == stats.datapoints and stats.buffered == 0 and not stats.dropped
    assert sink.samples("Dropped", {"Reason": "TooLarge"}) == [1] * (threads * per_thread)
    for n in range(threads):
        expected = sorted(
            [float(i % 97) for i in range(per_thread)]
            + [float(i % 97) for i in range(0, per_thread, 1000)]
        )
        assert sink.samples("Latency", {"SessionId": f"s{n}"}) == expected


def test_samples_of_a_series_dropped_before_the_flush_are_flushed() -> None:
    sink = MemorySink()
    emitter = emitter_on(sink)
    emitter.series(LATENCY, {"SessionId": "gone"}).record(12.5)  # nobody keeps the series
    emitter.flush()
    assert sink.samples("Latency", {"SessionId": "gone"}) == [12.5]
    assert sink.samples("Latency") == [12.5]


def test_the_same_series_is_returned_while_it_is_in_use() -> None:
    emitter = emitter_on(MemorySink())
    first = emitter.series(LATENCY, {"SessionId": "a"})
    assert emitter.series(LATENCY, {"SessionId": "a"}) is first
    assert emitter.series(LATENCY, {"SessionId": "b"}) is not first


@given(sessions=st.integers(1, 400), cap=st.integers(1, 50))
def test_many_short_lived_series_stay_within_the_series_cap(sessions: int, cap: int) -> None:
    """A client minting a session id per request cannot grow the emitter without bound: with
    each series dropped after use and flushed, no more than the cap are held at once."""
    sink = MemorySink()
    emitter = emitter_on(sink, max_cached_series=cap)
    for n in range(sessions):
        emitter.series(LATENCY, {"SessionId": f"s{n}"}).record(float(n))
        emitter.flush()
        assert len(emitter._registry._pending) <= cap
    assert sink.samples("Latency") == [float(n) for n in range(sessions)]


def test_a_series_that_cannot_be_accepted_rejects_every_sample() -> None:
    sink = MemorySink()
    emitter = emitter_on(sink)
    wrong = emitter.series(DROPPED, {"Why": "TooLarge"})
    assert isinstance(wrong, RejectedSeries)
    assert [wrong.count(), wrong.record(2.0), wrong.count()] == [False, False, False]
    not_a_spec = emitter.series("Dropped", {})  # type: ignore[arg-type]
    assert not not_a_spec.record(1.0)
    emitter.flush()
    stats = emitter.stats()
    assert stats.rejected == {"missing_dimension": 3, "not_a_spec": 1}
    assert stats.accepted == 0 and sink.datapoints() == 0


def test_a_bad_value_through_a_bound_series_is_rejected_with_its_reason() -> None:
    emitter = emitter_on(MemorySink())
    series = emitter.series(LATENCY, {"SessionId": "a"})
    assert isinstance(series, BoundSeries)
    assert not series.record(float("nan"))
    assert not series.record("12")  # type: ignore[arg-type]
    assert not series.record(True)
    assert not series.record(2.0**400)
    assert emitter.stats().rejected == {
        "non_finite_value": 1,
        "wrong_value_type": 2,
        "value_out_of_range": 1,
    }


def test_strict_mode_raises_when_the_series_is_bound() -> None:
    emitter = emitter_on(MemorySink(), strict=True)
    with pytest.raises(MetricValidationError) as raised:
        emitter.series(DROPPED, {})
    assert raised.value.reason.value == "missing_dimension"


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_invocations_share_one_deadline_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each invocation with a Lambda context is watched for its deadline by the same thread:
    arming it costs no thread start per invocation."""
    starts: list[object] = []

    def counting_start(function: Callable[..., object], args: tuple[object, ...]) -> int:
        starts.append(function)
        return _thread.start_new_thread(function, args)

    monkeypatch.setattr(deadline, "start_new_thread", counting_start)
    emitter = emitter_on(MemorySink())
    for _ in range(100):
        with emitter.invocation(Context()):
            emitter.record(LATENCY, 1.0, {"SessionId": "a"})
    assert len(starts) == 1
    assert emitter.stats().deadline_flushes == 0
    assert emitter.stats().flushes == 100
