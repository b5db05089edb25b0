"""Eight threads recording at once lose nothing and count everything exactly."""

from __future__ import annotations

import io
import threading
from collections import Counter

from shared_metrics import MetricsEmitter, MetricSpec, Unit
from shared_metrics.sinks.emf import EmfSink
from shared_metrics.sinks.memory import MemorySink
from shared_metrics.testing.emf_reader import read_datapoints

LATENCY = MetricSpec("Latency", Unit.MILLISECONDS, [[], ["SessionId"]])
CHUNKS = MetricSpec("Chunks")
THREADS = 8
PER_THREAD = 5_000


def hammer(emitter: MetricsEmitter, flush_too: bool) -> None:
    barrier = threading.Barrier(THREADS)

    def work(n: int) -> None:
        barrier.wait()
        for i in range(PER_THREAD):
            emitter.record(LATENCY, float(i % 50), {"SessionId": f"s{n}"})
            emitter.count(CHUNKS)
            emitter.record(LATENCY, float("nan"), {"SessionId": f"s{n}"})  # rejected
            if flush_too and i % 997 == 0:
                emitter.flush()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    emitter.flush()


def test_eight_threads_conserve_every_sample_in_memory() -> None:
    sink = MemorySink()
    emitter = MetricsEmitter("Test/Threads", sink, flush_threshold=500, flush_at_exit=False)
    hammer(emitter, flush_too=True)
    stats = emitter.stats()
    assert stats.accepted == THREADS * PER_THREAD * 2
    assert stats.rejected == {"non_finite_value": THREADS * PER_THREAD}
    assert stats.datapoints == THREADS * PER_THREAD * 3
    assert stats.delivered == stats.datapoints
    assert stats.buffered == 0 and stats.dropped == {}
    assert len(sink.samples("Latency")) == THREADS * PER_THREAD
    assert sink.samples("Chunks") == [1] * (THREADS * PER_THREAD)
    for n in range(THREADS):
        expected = sorted(float(i % 50) for i in range(PER_THREAD))
        assert sink.samples("Latency", {"SessionId": f"s{n}"}) == expected


def test_eight_threads_through_emf_output() -> None:
    stream = io.StringIO()
    emitter = MetricsEmitter("Test/Threads", EmfSink(stream), flush_at_exit=False)
    hammer(emitter, flush_too=False)
    points = read_datapoints(stream.getvalue().splitlines())
    assert sum(points[("Test/Threads", "Chunks", ())].values()) == THREADS * PER_THREAD
    aggregate = points[("Test/Threads", "Latency", ())]
    assert aggregate == Counter({float(v): THREADS * PER_THREAD // 50 for v in range(50)})
    for n in range(THREADS):
        assert (
            sum(points[("Test/Threads", "Latency", (("SessionId", f"s{n}"),))].values())
            == PER_THREAD
        )
