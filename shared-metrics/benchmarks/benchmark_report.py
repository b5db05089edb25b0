"""The printed report: the libraries' versions for its header, then the tables, their notes
and the targets, in order."""

from __future__ import annotations

from collections.abc import Sequence

from report_tables import (
    TABLE_NOTES,
    cold_table,
    output_table,
    realistic_table,
    time_table,
    zip_table,
)
from report_targets import targets

# One convention across the repository (the handlers avoid importing typing).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import handler_replay
    import zip_cold_start
    from realistic_measurement import MinimalEmf, RealisticResult
    from synthetic_measurement import Measurement


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
    zips: Sequence[zip_cold_start.HandlerColdStart] = (),
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
            "library_cold_start.py."
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
            "(zip_cold_start.py describes the variants)."
        )
        print(zip_table(zips))
    print(
        "\nTargets (time: this process's CPU time, the median over the interleaved repeats "
        "of a)'s / the other's in the same repeat)"
    )
    print("\n".join(v.line() for v in targets(results, realistic, workload, zips, minimal)))
