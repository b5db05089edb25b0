"""The printed report: the libraries' versions for its header, then the tables (synthetic time
and output, cold starts, the realistic workload, the handler zips) with their notes, and the
targets, in order."""

from __future__ import annotations

from collections.abc import Sequence

from report_targets import targets
from synthetic_workload import SAMPLES_PER_INVOCATION

TYPE_CHECKING = False
if TYPE_CHECKING:
    import cold_starts
    import handler_replay
    from realistic_measurement import MinimalEmf, RealisticResult
    from synthetic_measurement import Measurement


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def name(m: Measurement) -> str:
    return f"{m.contender.key}) {m.contender.label}"


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def time_table(results: Sequence[Measurement]) -> str:
    ours = next((m for m in results if m.contender.key == "a"), None)
    rows = [
        [
            name(m),
            f"{m.invocations} x{m.repeats}",
            f"{m.us:.2f}",
            f"{min(r.seconds for r in m.runs) / m.samples * 1e6:.2f}",
            f"{m.us / ours.us:.1f}x" if ours else "-",
            "in record"
            if m.contender.sends_during_record
            else f"{m.median_us('flush_seconds'):.2f}",
            f"{m.median_us('cpu_seconds'):.2f}",
        ]
        for m in results
    ]
    headers = [
        "contender",
        "invocations",
        "us/sample",
        "(best)",
        "vs a)",
        "of it flush",
        "CPU us/sample",
    ]
    return table(headers, rows)


def output_table(results: Sequence[Measurement]) -> str:
    rows = [
        [
            name(m),
            f"{m.output_bytes_per_invocation:,.0f}" + (" EMF" if m.contender.uses_emf else " req"),
            f"{m.requests_per_invocation:g}",
            f"{m.runs[-1].requests:,}",
            f"{m.datapoints:,}",
            f"{m.memory_invocations}",
            f"{m.peak_bytes / 1024:,.0f}",
            f"{m.retained_bytes / 1024:,.0f}",
        ]
        for m in results
    ]
    headers = [
        "contender",
        "bytes/inv",
        "PutMetricData/inv",
        "total",
        "datapoints/inv",
        "mem: inv",
        "peak KiB",
        "retained KiB",
    ]
    return table(headers, rows)


TABLE_NOTES = f"""\
us/sample: median over the repeats of (record + flush) wall time / samples, (best): the
  fastest repeat, a hint of how much machine load is in the median; 'vs a)': us/sample
  divided by a)'s. 'of it flush': the part spent in the end-of-invocation flush (e) sends
  every 20 datums while recording). CPU us/sample: this process's CPU time only, so for b)
  and e) it leaves out the wait for the emulator. moto is slow with multi-value datums
  (tens of ms per request here) and says nothing about CloudWatch's latency: for b) and e)
  compare requests and CPU, not wall time.
bytes/inv: EMF characters written (ASCII JSON, so bytes), or PutMetricData body bytes on
  the wire (botocore's CBOR, gzipped from 10 KiB). total: PutMetricData requests, one run.
datapoints/inv: counted from the output of one invocation (a sample on two dimension sets
  is 2; expected {2 * SAMPLES_PER_INVOCATION:,}).
mem: a separate run under tracemalloc (after a warm-up, untraced) over 'mem: inv'
  invocations: the peak of what was allocated during it, and what is still held after it
  (what a warm Lambda container keeps growing by).
ref) is not a library: a function call and list.append per sample plus one json encode per
  flush, what any Python EMF writer must do at least: the floor a) is held to."""


def cold_table(results: Sequence[Measurement]) -> str:
    rows = [
        [
            name(m),
            f"{m.cold.init_ms:.1f}",
            f"{m.cold.best_init_ms:.1f}",
            f"{m.cold.flush_ms:.1f}",
            yes_no(m.cold.boto3_after_record),
            yes_no(m.cold.boto3_after_flush),
        ]
        for m in results
        if m.cold
    ]
    headers = [
        "contender",
        "import+init+1st record ms",
        "(best)",
        "... +1st flush ms",
        "boto3 after record",
        "boto3 after flush",
    ]
    return table(headers, rows)


def realistic_table(
    results: Sequence[RealisticResult],
    workload: handler_replay.Workload,
    minimal: MinimalEmf | None = None,
) -> str:
    functions = list(workload)
    ours = next(r for r in results if r.replay.key == "a")
    rows = []
    for r in results:
        rows.append(
            [
                f"{r.replay.key}) {r.replay.label}",
                *(f"{r.us(f):.1f}" for f in functions),
                f"{r.us():.1f}",
                f"{r.us() / ours.us():.2f}x",
                *(f"{r.bytes(workload, f):,.0f}" for f in functions),
                f"{r.bytes(workload):,.0f}",
                f"{r.bytes(workload) / ours.bytes(workload):.2f}x",
            ]
        )
    if minimal:
        rows.append(
            [
                "min) smallest valid EMF, same datapoints",
                *("-" for _ in functions),
                "-",
                "-",
                *(f"{minimal.bytes(workload, f):,.0f}" for f in functions),
                f"{minimal.bytes(workload):,.0f}",
                f"{minimal.bytes(workload) / ours.bytes(workload):.2f}x",
            ]
        )
    headers = [
        "contender",
        *(f"us {f}" for f in functions),
        "us/inv",
        "vs a)",
        *(f"B {f}" for f in functions),
        "B/inv",
        "vs a)",
    ]
    return table(headers, rows)


def zip_table(results: Sequence[cold_starts.HandlerColdStart]) -> str:
    rows = [
        [
            r.label,
            f"{r.zip_bytes:,}",
            f"{r.modules}",
            f"{r.no_bytecode.wall_ms:.1f}",
            f"{r.shipped.wall_ms:.1f}",
            f"{r.shipped.best_ms:.1f}",
            f"{r.shipped.wall_ms / r.no_bytecode.wall_ms:.2f}",
            f"{r.powertools.wall_ms:.1f}",
            f"{r.shipped.cpu_ms:.1f} / {r.no_bytecode.cpu_ms:.1f} / {r.powertools.cpu_ms:.1f}",
        ]
        for r in results
    ]
    headers = [
        "handler zip",
        "bytes",
        ".py",
        "no .pyc ms",
        "shipped ms",
        "(best)",
        "ratio",
        "powertools ms",
        "CPU ms: shipped / no .pyc / powertools",
    ]
    return table(headers, rows)


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for dist in ("boto3", "moto", "aws-lambda-powertools", "aws-embedded-metrics"):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist} ?")
    return ", ".join(parts)


def print_report(
    results: Sequence[Measurement],
    cold_runs: int,
    realistic: Sequence[RealisticResult] = (),
    workload: handler_replay.Workload | None = None,
    zips: Sequence[cold_starts.HandlerColdStart] = (),
    zip_runs: int = 0,
    minimal: MinimalEmf | None = None,
) -> None:
    print(time_table(results))
    print()
    print(output_table(results))
    print(TABLE_NOTES)
    if any(m.cold for m in results):
        print(
            f"\nCold start: a fresh `python -c` per run; median of {cold_runs} runs after one "
            "warm-up run that\ncompiles the bytecode (PYTHONDONTWRITEBYTECODE unset, "
            "PYTHONPYCACHEPREFIX = a temp dir),\nas Lambda zips normally run from compiled .pyc. "
            "Interpreter startup is not included.\nThe snippets: COLD_SNIPPETS in "
            "cold_starts.py."
        )
        print(cold_table(results))
    if realistic and workload:
        counts = ", ".join(f"{f} {len(i)}" for f, i in workload.items())
        print(
            f"\nRealistic workload: each real handler invocation's metrics ({counts} "
            "invocations, captured\nby local_run.handler_workload), replayed per contender as "
            "handler_replay.py describes;\nus per invocation (median of the repeats) incl. the "
            "flush, and EMF bytes written per invocation;\nmin) the smallest valid EMF for the "
            "same datapoints and properties (minimal_emf.py says what it holds)."
        )
        print(realistic_table(realistic, workload, minimal))
    if zips:
        print(
            f"\nHandler zips, cold: import of lambda_function in a fresh `python -I -B` after "
            f"awslambdaric's bootstrap,\nfrom a read-only copy; median of {zip_runs} runs "
            "(cold_starts.py describes the variants)."
        )
        print(zip_table(zips))
    print(
        "\nTargets (time: this process's CPU time, the median over the interleaved repeats "
        "of a)'s / the other's in the same repeat)"
    )
    print("\n".join(v.line() for v in targets(results, realistic, workload, zips, minimal)))
