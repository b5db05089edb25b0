"""Measuring the realistic workload: each contender of handler_replay.py over the captured
handler invocations, time per invocation incl. the flush and EMF bytes per invocation, and
the bytes of the smallest valid EMF for the same invocations (minimal_emf)."""

from __future__ import annotations

import contextlib
import gc
import io
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import handler_replay
from minimal_emf import minimal_bytes
from output_counting import captured_stdout, emf_datapoints


def mix_bytes(
    per_function: dict[str, float], workload: handler_replay.Workload, function: str | None
) -> float:
    """Bytes per invocation of one function, or over the whole mix (weighted by invocations)."""
    if function:
        return per_function[function]
    total = sum(per_function[f] * len(i) for f, i in workload.items())
    return total / sum(len(i) for i in workload.values())


@dataclass
class MinimalEmf:
    """The smallest valid EMF event per invocation (minimal_emf), averaged per function."""

    bytes_per_invocation: dict[str, float]

    @classmethod
    def of(cls, workload: handler_replay.Workload, timestamp_ms: int | None = None) -> MinimalEmf:
        if timestamp_ms is None:  # the current minute, as the EMF sink stamps it
            timestamp_ms = int(time.time()) // 60 * 60_000
        return cls(
            {
                function: statistics.mean(minimal_bytes(i, timestamp_ms) for i in invocations)
                for function, invocations in workload.items()
            }
        )

    def bytes(self, workload: handler_replay.Workload, function: str | None = None) -> float:
        return mix_bytes(self.bytes_per_invocation, workload, function)


@dataclass
class RealisticResult:
    replay: handler_replay.Replay
    runs: list[handler_replay.ReplayRun] = field(default_factory=list)
    bytes_per_invocation: dict[str, float] = field(default_factory=dict)
    datapoints: int = 0

    def us(self, function: str | None = None) -> float:
        """Median us per invocation, of one function or of the whole mix."""

        def per_invocation(run: handler_replay.ReplayRun) -> float:
            functions = [function] if function else list(run.seconds)
            seconds = sum(run.seconds[f] for f in functions)
            return seconds / sum(run.invocations[f] for f in functions) * 1e6

        return statistics.median(per_invocation(r) for r in self.runs)

    def bytes(self, workload: handler_replay.Workload, function: str | None = None) -> float:
        return mix_bytes(self.bytes_per_invocation, workload, function)


def measure_realistic(
    workload: handler_replay.Workload,
    repeats: int,
    passes: int,
    progress: Callable[[str], None],
) -> list[RealisticResult]:
    results = [RealisticResult(cls()) for cls in handler_replay.REPLAYS]
    expected = sum(handler_replay.expected_datapoints(i) for v in workload.values() for i in v)
    for result in results:
        replay = result.replay
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            replay.start(workload)
            handler_replay.run_workload(replay, workload, 1)
        result.datapoints = emf_datapoints(text.getvalue())
        replay.check()
        if result.datapoints != expected:
            raise RuntimeError(
                f"{replay.label}: {result.datapoints} datapoints published, {expected} expected"
            )
        for function, plans in replay.plans.items():
            with captured_stdout() as out:
                for plan in plans:
                    replay.invoke(function, plan)
            result.bytes_per_invocation[function] = out.chars / len(plans)
    for repeat in range(repeats):  # interleaved, as the synthetic runs
        progress(f"realistic workload, repeat {repeat + 1}")
        for result in results:
            with captured_stdout():
                result.replay.start(workload)
                handler_replay.run_workload(result.replay, workload, 1)  # warm-up
                gc.collect()
                result.runs.append(handler_replay.run_workload(result.replay, workload, passes))
    return results
