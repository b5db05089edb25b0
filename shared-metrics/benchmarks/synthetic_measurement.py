"""Measuring the synthetic contenders: timing runs (wall, flush and CPU time, output bytes,
requests), the datapoints counted back from one invocation's output, tracemalloc memory,
and the cProfile of a)."""

from __future__ import annotations

import contextlib
import cProfile
import gc
import io
import pstats
import statistics
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field

from output_counting import captured_stdout, emf_datapoints
from synthetic_contenders import SharedMetricsContender
from synthetic_workload import SAMPLES_PER_INVOCATION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cold_starts import ColdStart
    from synthetic_contenders import Contender
    from synthetic_workload import Invocation


@dataclass
class Run:
    """One timing run of a contender over its invocations."""

    seconds: float  # wall clock, record + flush
    flush_seconds: float
    cpu_seconds: float  # this process only: excludes the emulator's work
    output_bytes: int  # EMF characters or PutMetricData body bytes, whole run
    requests: int


@dataclass
class Measurement:
    contender: Contender
    invocations: int
    repeats: int
    runs: list[Run] = field(default_factory=list)
    datapoints: int = 0  # per invocation, counted from the output itself
    memory_invocations: int = 0
    peak_bytes: int = 0
    retained_bytes: int = 0
    cold: ColdStart | None = None

    @property
    def samples(self) -> int:
        return self.invocations * SAMPLES_PER_INVOCATION

    def median_us(self, attribute: str = "seconds") -> float:
        return statistics.median(getattr(r, attribute) for r in self.runs) / self.samples * 1e6

    @property
    def us(self) -> float:
        return self.median_us()

    @property
    def output_bytes_per_invocation(self) -> float:
        return self.runs[-1].output_bytes / self.invocations

    @property
    def requests_per_invocation(self) -> float:
        return self.runs[-1].requests / self.invocations


def run_invocations(
    contender: Contender, invocations: Sequence[Invocation]
) -> tuple[float, float, float]:
    """Run the invocations; return wall seconds, of which in flush, and CPU seconds."""
    clock = time.perf_counter
    flush_total = 0.0
    cpu_start = time.process_time()
    start = clock()
    for invocation in invocations:
        contender.record(invocation)
        before_flush = clock()
        contender.flush()
        flush_total += clock() - before_flush
    return clock() - start, flush_total, time.process_time() - cpu_start


def timing_run(contender: Contender, invocations: Sequence[Invocation], warmup: Invocation) -> Run:
    with captured_stdout() as stdout:
        contender.start()
        contender.record(warmup)  # first-call costs belong to the cold start, not here
        contender.flush()
        if contender.counter:
            contender.counter.reset()
        stdout.chars = 0
        gc.collect()
        seconds, flush_seconds, cpu_seconds = run_invocations(contender, invocations)
        contender.stop()
    counter = contender.counter
    return Run(
        seconds,
        flush_seconds,
        cpu_seconds,
        output_bytes=counter.body_bytes if counter else stdout.chars,
        requests=counter.requests if counter else 0,
    )


def datapoints_per_invocation(contender: Contender, invocation: Invocation) -> int:
    """Publish one invocation and count the datapoints in what came out (not timed)."""
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        contender.start()
        contender.record(invocation)
        contender.flush()
        contender.stop()
    if contender.counter:
        return contender.counter.datapoints
    if not text.getvalue().isascii():
        raise RuntimeError(f"{contender.label}: EMF output is not ASCII; bytes != characters")
    return emf_datapoints(text.getvalue())


def memory_use(
    contender: Contender, invocations: Sequence[Invocation], warmup: Invocation
) -> tuple[int, int]:
    """Bytes allocated at the peak of the run, and still held after it (tracemalloc).

    A separate run, as tracing slows everything down; only allocations made during the run
    count (the warm-up's are not traced).
    """
    with captured_stdout():
        contender.start()
        contender.record(warmup)
        contender.flush()
        gc.collect()
        tracemalloc.start()
        try:
            run_invocations(contender, invocations)
            gc.collect()
            retained, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak, retained


def profile_emf(invocations: Sequence[Invocation], warmup: Invocation, top: int) -> None:
    contender = SharedMetricsContender()
    with captured_stdout():
        contender.start()
        contender.record(warmup)
        contender.flush()
        profiler = cProfile.Profile()
        profiler.enable()
        run_invocations(contender, invocations)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print("\ncProfile of a) over", len(invocations), "invocations (cProfile inflates calls):")
    print(out.getvalue())
