"""Flushing at the end of every invocation, timers, and the at-exit last resort."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Mapping, Sequence

import pytest

from shared_metrics import MetricsEmitter, MetricSpec, Unit, limits
from shared_metrics.series import SeriesBatch
from shared_metrics.sinks.base import PublishResult
from shared_metrics.sinks.emf import EmfSink
from shared_metrics.sinks.memory import MemorySink
from shared_metrics.testing.emf_reader import read_datapoints

LATENCY = MetricSpec("Latency", Unit.MILLISECONDS)
LATENCY_US = MetricSpec("LatencyMicros", Unit.MICROSECONDS)
CALLS = MetricSpec("Calls")


class FakeClock:
    """perf_counter stand-in: each call advances 25 ms, so timings are exact."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 0.025
        return self.t


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def new_emitter(timer_clock: FakeClock | None = None) -> tuple[MetricsEmitter, MemorySink]:
    sink = MemorySink()
    if timer_clock is None:
        return MetricsEmitter("Test/Lambda", sink, flush_at_exit=False), sink
    emitter = MetricsEmitter("Test/Lambda", sink, timer_clock=timer_clock, flush_at_exit=False)
    return emitter, sink


def test_handler_decorator_flushes_on_return_and_on_raise() -> None:
    emitter, sink = new_emitter()

    @emitter.lambda_handler
    def handler(event: dict[str, object], context: object) -> dict[str, object]:
        emitter.count(CALLS)
        if event.get("fail"):
            raise RuntimeError("boom")
        return {"statusCode": 200}

    assert handler({}, None) == {"statusCode": 200}
    assert sink.samples("Calls") == [1]  # flushed before the handler returned
    with pytest.raises(RuntimeError, match="boom"):
        handler({"fail": True}, None)
    assert sink.samples("Calls") == [1, 1]
    assert handler.__name__ == "handler"


def test_invocation_context_manager_flushes_when_the_block_raises() -> None:
    emitter, sink = new_emitter()
    with pytest.raises(ValueError):
        with emitter.invocation():
            emitter.count(CALLS)
            raise ValueError("bad event")
    assert sink.samples("Calls") == [1]


def test_flush_failure_never_reaches_the_handler() -> None:
    class ExplodingSink:
        name = "exploding"
        preferred_batch_values = 100

        def publish(self, *args: object) -> None:
            raise RuntimeError("sink bug")

    emitter = MetricsEmitter("Test/Lambda", ExplodingSink(), flush_at_exit=False)  # type: ignore[arg-type]

    @emitter.lambda_handler
    def handler(event: object, context: object) -> str:
        emitter.count(CALLS)
        return "ok"

    assert handler({}, None) == "ok"
    stats = emitter.stats()
    assert stats.publish_failures == 1 and stats.buffered == 1


def test_timer_records_milliseconds_also_when_the_body_raises(clock: FakeClock) -> None:
    emitter, sink = new_emitter(clock)
    with emitter.timer(LATENCY):
        pass
    with pytest.raises(KeyError):
        with emitter.timer(LATENCY):
            raise KeyError("x")
    emitter.flush()
    assert sink.samples("Latency") == pytest.approx([25.0, 25.0])


def test_timer_as_decorator_sync_async_and_units(clock: FakeClock) -> None:
    emitter, sink = new_emitter(clock)

    @emitter.timer(LATENCY_US)
    def work(x: int) -> int:
        if x < 0:
            raise ValueError
        return x * 2

    @emitter.timer(LATENCY)
    async def awork() -> str:
        return "done"

    assert work(2) == 4
    with pytest.raises(ValueError):
        work(-1)
    assert asyncio.run(awork()) == "done"
    emitter.flush()
    assert sink.samples("LatencyMicros") == pytest.approx([25_000.0, 25_000.0])
    assert sink.samples("Latency") == pytest.approx([25.0])


def test_timer_on_a_count_metric_is_rejected_not_recorded() -> None:
    emitter, sink = new_emitter()
    with emitter.timer(CALLS):
        pass
    emitter.flush()
    assert sink.samples("Calls") == []
    assert emitter.stats().rejected == {"not_a_time_unit": 1}


def test_emitter_flushes_by_itself_when_a_sink_batch_is_full() -> None:
    stream = io.StringIO()
    emitter = MetricsEmitter(
        "Test/Lambda", EmfSink(stream), flush_threshold=10, flush_at_exit=False
    )
    for v in range(25):
        emitter.record(LATENCY, v)
    assert emitter.stats().flushes == 2  # at 10 and 20 distinct values, without flush()
    assert emitter.stats().buffered == 5


def test_interpreter_exit_flushes_what_was_never_flushed() -> None:
    # The last resort: a process that records and exits without flushing still writes EMF.
    code = textwrap.dedent(
        """
        from shared_metrics import MetricsEmitter, MetricSpec
        from shared_metrics.sinks.emf import EmfSink
        emitter = MetricsEmitter("Test/Exit", EmfSink())
        emitter.count(MetricSpec("Orphans"), 3)
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    points = read_datapoints(out.splitlines())
    assert points[("Test/Exit", "Orphans", ())] == {3: 1}


def test_timer_on_something_that_is_not_a_spec_says_so() -> None:
    emitter, _ = new_emitter()
    with emitter.timer("Latency"):  # type: ignore[arg-type]
        pass
    assert emitter.stats().rejected == {"not_a_spec": 1}


# -- the deadline flush: an invocation that times out keeps its metrics ------------------------


class FakeContext:
    """A Lambda context whose deadline is ``remaining_ms`` away when the invocation starts."""

    def __init__(self, remaining_ms: float) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> float:
        return self.remaining_ms


class WatchedSink(MemorySink):
    """A MemorySink that says when something was published."""

    def __init__(self) -> None:
        super().__init__()
        self.published_event = threading.Event()

    def publish(
        self, namespace: str, batches: Sequence[SeriesBatch], properties: Mapping[str, object]
    ) -> PublishResult:
        result = super().publish(namespace, batches, properties)
        self.published_event.set()
        return result


def test_an_invocation_that_overruns_its_deadline_is_flushed_before_it_ends() -> None:
    sink = WatchedSink()
    emitter = MetricsEmitter("Test/Lambda", sink, flush_at_exit=False)
    seen_inside: list[list[float]] = []

    @emitter.lambda_handler
    def slow_handler(event: object, context: object) -> str:
        emitter.count(CALLS)
        # The deadline (margin included) has passed: the early flush must deliver while the
        # handler still runs; a real timeout would stop it here, before any `finally`.
        assert sink.published_event.wait(timeout=30), "no flush before the deadline"
        seen_inside.append(sink.samples("Calls"))
        return "late"

    # The early flush is due 0.3 s after the invocation starts; the handler overruns it.
    deadline_ms = limits.DEADLINE_FLUSH_MARGIN_MS + 300
    assert slow_handler({}, FakeContext(deadline_ms)) == "late"
    assert seen_inside == [[1]]
    stats = emitter.stats()
    assert stats.deadline_flushes == 1
    assert stats.delivered == stats.datapoints == 1


def test_an_invocation_within_its_deadline_flushes_once_at_the_end() -> None:
    sink = WatchedSink()
    emitter = MetricsEmitter("Test/Lambda", sink, flush_at_exit=False)

    @emitter.lambda_handler
    def handler(event: object, context: object) -> str:
        emitter.count(CALLS)
        assert not sink.published_event.is_set()
        return "ok"

    assert handler({}, FakeContext(15 * 60 * 1000)) == "ok"  # 15 minutes away
    assert sink.samples("Calls") == [1]
    assert emitter.stats().deadline_flushes == 0


@pytest.mark.parametrize("context", [None, object(), FakeContext(float("nan"))])
def test_without_a_usable_context_there_is_no_early_flush(context: object) -> None:
    emitter, sink = new_emitter()
    with emitter.invocation(context):
        emitter.count(CALLS)
    assert sink.samples("Calls") == [1]
    assert emitter.stats().deadline_flushes == 0


def test_a_context_that_fails_does_not_fail_the_invocation() -> None:
    class Broken:
        def get_remaining_time_in_millis(self) -> float:
            raise RuntimeError("no deadline")

    emitter, sink = new_emitter()
    with emitter.invocation(Broken()):
        emitter.count(CALLS)
    assert sink.samples("Calls") == [1]


# -- evictions are logged like every other drop --------------------------------------------------


def test_buffer_evictions_are_counted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    sink = MemorySink()
    sink.fail = True  # the sink keeps failing: data piles up against the cap
    emitter = MetricsEmitter(
        "Test/Lambda", sink, max_buffered_values=16, flush_threshold=4, flush_at_exit=False
    )
    with caplog.at_level(logging.WARNING, logger="shared_metrics"):
        for value in range(200):
            emitter.record(LATENCY, float(value))
    stats = emitter.stats()
    assert stats.dropped.get("buffer_full", 0) > 0
    assert stats.datapoints == stats.delivered + stats.dropped_total + stats.buffered
    assert caplog.text.count("buffer_full") == 1
    assert "more than 16 distinct values" in caplog.text
