"""The targets the report checks, each printed as PASS or MISS with its ratio."""

from __future__ import annotations

from collections.abc import Sequence

from report_tables import yes_no

# One convention across the repository (the handlers avoid importing typing).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import handler_replay
    import zip_cold_start
    from realistic_measurement import RealisticResult
    from synthetic_measurement import Measurement


# Targets the report checks (the design brief, then issue 10).
TARGET_US_PER_SAMPLE = 0.5
TARGET_SPEEDUP_OVER_OTHER_LIBRARIES = 3.0
TARGET_FEWER_REQUESTS_THAN_NAIVE = 50.0
TARGET_COLD_START_MS = 20.0
TARGET_REALISTIC_ADVANTAGE = 2.0  # per invocation, time and EMF bytes, vs the best library
TARGET_ZIP_IMPORT_FRACTION = 0.5  # of the same zip's import without bytecode


def targets(
    results: Sequence[Measurement],
    realistic: Sequence[RealisticResult] = (),
    workload: handler_replay.Workload | None = None,
    zips: Sequence[zip_cold_start.HandlerColdStart] = (),
) -> list[str]:
    by_key = {m.contender.key: m for m in results}
    ours = by_key.get("a")
    if ours is None:
        return ["  (a) was not run: no targets to check)"]
    lines = []

    def verdict(ok: bool, text: str) -> None:
        lines.append(f"  {'PASS' if ok else 'MISS'}  {text}")

    floor = by_key.get("ref")
    reach = ""
    if floor and floor.us > TARGET_US_PER_SAMPLE:
        reach = (
            f"; out of reach on this CPython: the no-library floor ref) alone takes "
            f"{floor.us:.2f} us = {floor.us / TARGET_US_PER_SAMPLE:.2f}x the budget, and a) is "
            f"{ours.us / floor.us:.2f}x the floor"
        )
    verdict(
        ours.us <= TARGET_US_PER_SAMPLE,
        f"bound-series EMF path <= {TARGET_US_PER_SAMPLE:g} us/sample incl. flush: "
        f"{ours.us:.2f} us = {ours.us / TARGET_US_PER_SAMPLE:.2f}x the budget "
        f"(CPU time: {ours.median_us('cpu_seconds'):.2f} us){reach}",
    )
    libraries = [by_key[k] for k in ("c", "d") if k in by_key]
    if libraries:
        fastest = min(libraries, key=lambda m: m.us)
        speedup = fastest.us / ours.us
        cpu_speedup = fastest.median_us("cpu_seconds") / ours.median_us("cpu_seconds")
        text = (
            f">= {TARGET_SPEEDUP_OVER_OTHER_LIBRARIES:g}x faster than the fastest other library "
            f"({fastest.contender.label}, {fastest.us:.2f} us): {speedup:.2f}x "
            f"(CPU time: {cpu_speedup:.2f}x"
        )
        if floor:
            text += f"; even the no-library floor ref) is only {fastest.us / floor.us:.2f}x"
        verdict(speedup >= TARGET_SPEEDUP_OVER_OTHER_LIBRARIES, text + ")")
    if "b" in by_key and "e" in by_key:
        b, e = by_key["b"], by_key["e"]
        fewer = e.requests_per_invocation / b.requests_per_invocation
        verdict(
            fewer >= TARGET_FEWER_REQUESTS_THAN_NAIVE,
            f">= {TARGET_FEWER_REQUESTS_THAN_NAIVE:g}x fewer PutMetricData requests than batches "
            f"of 20: {e.requests_per_invocation:g} vs {b.requests_per_invocation:g} per "
            f"invocation = {fewer:.0f}x",
        )
    if ours.cold:
        cold = ours.cold
        verdict(
            cold.init_ms <= TARGET_COLD_START_MS and not cold.boto3_after_flush,
            f"cold start with the EMF sink <= {TARGET_COLD_START_MS:g} ms, boto3 not imported: "
            f"{cold.init_ms:.1f} ms = {cold.init_ms / TARGET_COLD_START_MS:.2f}x the budget "
            f"({cold.flush_ms:.1f} ms with the 1st flush); boto3 imported: "
            f"{yes_no(cold.boto3_after_flush)}",
        )
    if realistic and workload:
        mine, others = realistic[0], realistic[1:]
        quickest = min(others, key=lambda other: other.us())
        leanest = min(others, key=lambda other: other.bytes(workload))
        verdict(
            quickest.us() / mine.us() >= TARGET_REALISTIC_ADVANTAGE,
            f"realistic workload >= {TARGET_REALISTIC_ADVANTAGE:g}x less time per invocation "
            f"than the best other library ({quickest.replay.label}, {quickest.us():.1f} us): "
            f"{mine.us():.1f} us = {quickest.us() / mine.us():.2f}x",
        )
        verdict(
            leanest.bytes(workload) / mine.bytes(workload) >= TARGET_REALISTIC_ADVANTAGE,
            f"realistic workload >= {TARGET_REALISTIC_ADVANTAGE:g}x fewer EMF bytes per "
            f"invocation than the best other library ({leanest.replay.label}, "
            f"{leanest.bytes(workload):,.0f} B): {mine.bytes(workload):,.0f} B = "
            f"{leanest.bytes(workload) / mine.bytes(workload):.2f}x",
        )
    for z in zips:
        ratio = z.shipped.wall_ms / z.no_bytecode.wall_ms
        verdict(
            ratio <= TARGET_ZIP_IMPORT_FRACTION and z.shipped.wall_ms < z.powertools.wall_ms,
            f"{z.label} zip import <= {TARGET_ZIP_IMPORT_FRACTION:g}x of it without bytecode "
            f"and below powertools: {z.shipped.wall_ms:.1f} ms = {ratio:.2f}x of "
            f"{z.no_bytecode.wall_ms:.1f} ms; powertools {z.powertools.wall_ms:.1f} ms "
            f"({z.powertools.wall_ms / z.shipped.wall_ms:.2f}x ours)",
        )
    return lines
