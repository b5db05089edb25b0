"""Side-by-side benchmark: shared-metrics against the other ways to publish Lambda metrics.

    ./pants run shared-metrics/benchmarks/metrics_benchmark.py
    ./pants run shared-metrics/benchmarks/metrics_benchmark.py -- --profile

A report, not a test: it prints the tables and the targets (PASS/MISS) and exits 0 either way.

Workload, shaped like a Lambda function: 10 metric specs, each published to two dimension sets
([] and [SessionId]); an invocation records 1,000 samples (lognormal latency-like floats,
full precision, so no two values aggregate) spread at random over the specs, for one session,
then flushes. 100 invocations per timing run; the networked contenders do fewer.

Contenders: a) to e) and the ref) floor, as `synthetic_contenders` lists them.

Per contender: us per sample incl. flush (median over interleaved repeats, wall and CPU),
output bytes, PutMetricData requests, datapoints counted back from the output (proof that
every contender published the same data), tracemalloc peak/retained memory (separate run),
and the cold start (import + init + first record, then first flush) in fresh interpreters.

The emulator runs in its own process (as `AwsEmulator`), so its work neither holds this
process's GIL nor shows up in this process's tracemalloc peak; a networked contender's time
still includes the emulator's response time, as a real endpoint's would.

The parts, one module each: the synthetic workload (synthetic_workload), its contenders
(synthetic_contenders) and their measurement (output_counting, synthetic_measurement); the
emulator's process (emulator_process); the libraries' and the handler zips' cold starts
(cold_starts); the realistic workload (handler_replay, realistic_measurement, minimal_emf); the
report (benchmark_report: its tables, report_targets: its verdicts); this module: options and
the run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import cold_starts
import handler_replay
from benchmark_report import print_report, versions
from cold_starts import COLD_SNIPPETS, cold_start
from emulator_process import emulator_process, reset_emulator
from realistic_measurement import MinimalEmf, measure_realistic
from synthetic_contenders import (
    EmbeddedMetricsContender,
    FloorReference,
    NaiveBoto3Contender,
    PowertoolsContender,
    SharedMetricsContender,
)
from synthetic_measurement import (
    Measurement,
    datapoints_per_invocation,
    memory_use,
    profile_emf,
    timing_run,
)
from synthetic_workload import METRIC_NAMES, SAMPLES_PER_INVOCATION, SEED, make_invocations

from shared_metrics.testing.aws_emulator import EMULATOR_ENV

TYPE_CHECKING = False
if TYPE_CHECKING:
    from synthetic_contenders import Contender


def progress(started: float, message: str) -> None:
    """A progress line on stderr: seconds since the start, and what runs now."""
    print(f"[{time.perf_counter() - started:5.1f} s] {message}", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--invocations", type=int, default=100, help="per timing run")
    parser.add_argument("--repeats", type=int, default=5, help="timing runs per contender")
    parser.add_argument(
        "--network-invocations", type=int, default=10, help="per timing run of b) and e)"
    )
    parser.add_argument("--network-repeats", type=int, default=3, help="timing runs of b), e)")
    parser.add_argument("--memory-invocations", type=int, default=20, help="in the tracemalloc run")
    parser.add_argument(
        "--network-memory-invocations", type=int, default=3, help="in b), e)'s tracemalloc run"
    )
    parser.add_argument("--cold-runs", type=int, default=5, help="cold starts per contender")
    parser.add_argument("--no-network", action="store_true", help="skip b) and e)")
    parser.add_argument("--workload-repeats", type=int, default=9, help="realistic workload runs")
    parser.add_argument(
        "--workload-passes", type=int, default=6, help="passes over the workload per run"
    )
    parser.add_argument(
        "--zip-runs", type=int, default=15, help="cold imports per handler zip and variant"
    )
    parser.add_argument(
        "--dist", default="dist", help="where `./pants package ::` wrote the handler zips"
    )
    parser.add_argument("--profile", action="store_true", help="also cProfile a)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    # Lambda's environment: aws-embedded-metrics picks its stdout sink from this variable.
    os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", "metrics-benchmark")
    for key, value in EMULATOR_ENV.items():
        os.environ.setdefault(key, value)
    rng = random.Random(SEED)
    invocations = make_invocations(args.invocations, rng)
    warmup = make_invocations(1, rng, prefix="warmup")[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"shared-metrics benchmark: CPython {platform.python_version()}, {os.cpu_count()} CPUs "
        f"(load average {load}), {versions()}\n"
        f"workload: {len(METRIC_NAMES)} specs x dimension sets [[], [SessionId]]; an "
        f"invocation = {SAMPLES_PER_INVOCATION:,} samples (lognormal ms,\nfull precision) "
        "for one session, then a flush. Repeats interleaved across contenders.\n"
    )
    with contextlib.ExitStack() as stack:
        endpoint = None if args.no_network else stack.enter_context(emulator_process())
        contenders: list[Contender] = [
            SharedMetricsContender(),
            SharedMetricsContender(by_lookup=True),
        ]
        if endpoint:
            contenders.append(SharedMetricsContender(endpoint))
        contenders += [PowertoolsContender(), EmbeddedMetricsContender()]
        if endpoint:
            contenders.append(NaiveBoto3Contender(endpoint))
        contenders.append(FloorReference())
        results = [
            Measurement(c, args.network_invocations, args.network_repeats)
            if c.networked
            else Measurement(c, args.invocations, args.repeats)
            for c in contenders
        ]
        # Interleaved, so background load hits every contender alike and the ratios hold.
        for repeat in range(max(m.repeats for m in results)):
            progress(started, f"timing, repeat {repeat + 1}")
            for m in results:
                if repeat < m.repeats:
                    if endpoint and m.contender.networked:
                        reset_emulator(endpoint)
                    m.runs.append(timing_run(m.contender, invocations[: m.invocations], warmup))
        progress(started, "datapoints and peak memory")
        for m in results:
            m.datapoints = datapoints_per_invocation(m.contender, invocations[0])
            m.memory_invocations = min(
                m.invocations,
                args.network_memory_invocations
                if m.contender.networked
                else args.memory_invocations,
            )
            m.peak_bytes, m.retained_bytes = memory_use(
                m.contender, invocations[: m.memory_invocations], warmup
            )
        progress(started, "cold starts")
        with tempfile.TemporaryDirectory(prefix="metrics-benchmark-pyc-") as pycache:
            for m in results:
                if m.contender.key in COLD_SNIPPETS:
                    m.cold = cold_start(m.contender.key, args.cold_runs, pycache, endpoint)
        workload = handler_replay.load_workload()
        realistic = measure_realistic(
            workload,
            args.workload_repeats,
            args.workload_passes,
            lambda message: progress(started, message),
        )
        progress(started, "handler zips, cold")
        try:
            zips = cold_starts.measure(Path(args.dist), Path.cwd(), args.zip_runs)
        except cold_starts.ZipMissing as exc:
            print(f"handler zips skipped: {exc}", file=sys.stderr)
            zips = []
        progress(started, "done")
    print_report(
        results, args.cold_runs, realistic, workload, zips, args.zip_runs, MinimalEmf.of(workload)
    )
    if args.profile:
        profile_emf(invocations, warmup, top=25)
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
