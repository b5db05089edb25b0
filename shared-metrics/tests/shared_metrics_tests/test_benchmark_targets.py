"""The benchmark's verdicts (shared-metrics/benchmarks/report_targets.py) on given figures: each
target's bound, the rounding a ratio is judged at, the pairing of interleaved repeats, and
the verdicts the report prints for a run's figures. No timing is measured here."""

from __future__ import annotations

import math

import pytest
from handler_replay import (
    EmbeddedMetricsReplay,
    FloorReplay,
    PowertoolsReplay,
    ReplayRun,
    SharedMetricsReplay,
    Workload,
)
from realistic_measurement import MinimalEmf, RealisticResult
from report_targets import (
    AHEAD_OF_LIBRARIES,
    BOUND_SERIES_VS_FLOOR,
    EMF_BYTES_VS_MINIMUM,
    FEWER_REQUESTS_THAN_NAIVE,
    REALISTIC_VS_FLOOR,
    Target,
    Verdict,
    paired_ratio,
    ratio,
    targets,
)
from synthetic_contenders import (
    Contender,
    EmbeddedMetricsContender,
    FloorReference,
    PowertoolsContender,
    SharedMetricsContender,
)
from synthetic_measurement import Measurement, Run


@pytest.mark.parametrize(
    ("target", "measured", "reference", "passed"),
    [
        (BOUND_SERIES_VS_FLOOR, 0.756, 0.60, False),  # 1.26x
        (BOUND_SERIES_VS_FLOOR, 0.75, 0.60, True),  # 1.25x
        (BOUND_SERIES_VS_FLOOR, 1.175, 0.94, True),  # 1.25x, 1.2500000000000002 in binary
        (BOUND_SERIES_VS_FLOOR, 0.744, 0.60, True),  # 1.24x
        (BOUND_SERIES_VS_FLOOR, 0.94, 0.60, False),  # 1.57x, the figures before this target
        (REALISTIC_VS_FLOOR, 15.3, 10.2, True),  # 1.5x, 1.5000000000000002 in binary
        (REALISTIC_VS_FLOOR, 15.1, 10.0, False),  # 1.51x
        (EMF_BYTES_VS_MINIMUM, 618, 562, True),  # 1.0996 prints as 1.10x
        (EMF_BYTES_VS_MINIMUM, 622, 562, False),  # 1.11x
        (AHEAD_OF_LIBRARIES, 46.4, 71.9, True),  # 0.65x
        (AHEAD_OF_LIBRARIES, 71.9, 71.9, False),  # level is not ahead
        (AHEAD_OF_LIBRARIES, 71.6, 71.9, False),  # 0.996 prints as 1.00x: not ahead either
        (AHEAD_OF_LIBRARIES, 71.0, 71.9, True),  # 0.99x
        (FEWER_REQUESTS_THAN_NAIVE, 100, 2, True),  # 50x fewer
        (FEWER_REQUESTS_THAN_NAIVE, 98, 2, False),  # 49x
    ],
)
def test_each_target_judges_the_ratio_as_printed(
    target: Target, measured: float, reference: float, passed: bool
) -> None:
    assert target.met(ratio(measured, reference)) is passed


def test_a_ratio_needs_two_finite_figures_and_a_reference_above_zero() -> None:
    for measured, reference in ((1.0, 0.0), (math.nan, 1.0), (1.0, math.inf), (-1.0, 1.0)):
        with pytest.raises(ValueError, match="figure"):
            ratio(measured, reference)
    with pytest.raises(TypeError, match="number"):
        ratio(True, 1.0)


def test_interleaved_repeats_are_compared_pair_by_pair() -> None:
    # Ratios 1.0, 2.0 and 1.5 within the repeats: their median, not the ratio of the medians
    # (2.0 / 1.0 = 2.0).
    assert paired_ratio([1.0, 2.0, 3.0], [1.0, 1.0, 2.0]) == 1.5
    with pytest.raises(ValueError, match="one per repeat"):
        paired_ratio([1.0, 2.0], [1.0])


def synthetic(
    contender: Contender,
    cpu_us_per_sample: list[float],
    bytes_per_invocation: float,
    wall_us_per_sample: list[float] | None = None,
) -> Measurement:
    """A contender's measurement with these CPU (and wall, by default the same) us a sample
    in its repeats."""
    invocations = 10
    m = Measurement(contender, invocations, len(cpu_us_per_sample))
    samples = invocations * 1000
    m.runs = [
        Run(wall * samples / 1e6, 0.0, cpu * samples / 1e6, int(bytes_per_invocation * 10), 0)
        for cpu, wall in zip(
            cpu_us_per_sample, wall_us_per_sample or cpu_us_per_sample, strict=True
        )
    ]
    return m


def realistic(
    replay: object,
    cpu_us_per_invocation: list[float],
    bytes_per_invocation: float,
    wall_us_per_invocation: list[float] | None = None,
) -> RealisticResult:
    result = RealisticResult(replay)  # type: ignore[arg-type]
    walls = wall_us_per_invocation or cpu_us_per_invocation
    result.runs = [
        ReplayRun({"f": wall * 10 / 1e6}, cpu * 10 / 1e6, {"f": 10})
        for cpu, wall in zip(cpu_us_per_invocation, walls, strict=True)
    ]
    result.bytes_per_invocation = {"f": bytes_per_invocation}
    return result


def by_name(verdicts: list[Verdict]) -> dict[str, list[bool]]:
    out: dict[str, list[bool]] = {}
    for v in verdicts:
        out.setdefault(v.target.name, []).append(v.passed)
    return out


def test_the_run_before_these_targets_misses_the_floors_and_is_ahead_of_the_libraries() -> None:
    # The figures of one quiet run before the library's changes: bound series 0.94 us a
    # sample against the floor's 0.60; 46.4 us a realistic invocation against aws-embedded-
    # metrics' 71.9 and powertools' 86.0; 569 EMF bytes against their 872 and 924.
    results = [
        synthetic(SharedMetricsContender(), [0.94, 0.95, 0.93], 19_816),
        synthetic(PowertoolsContender(), [37.6, 37.5, 37.7], 21_126),
        synthetic(EmbeddedMetricsContender(), [2.44, 2.40, 2.50], 21_088),
        synthetic(FloorReference(), [0.60, 0.61, 0.59], 19_816),
    ]
    replays = [
        realistic(SharedMetricsReplay(), [46.4, 46.0, 47.0], 569),
        realistic(PowertoolsReplay(), [86.0, 85.0, 87.0], 924),
        realistic(EmbeddedMetricsReplay(), [71.9, 71.0, 72.5], 872),
        realistic(FloorReplay(), [9.0, 9.1, 8.9], 569),
    ]
    workload: Workload = {"f": [{}] * 10}
    verdicts = targets(results, replays, workload, (), MinimalEmf({"f": 562}))
    assert by_name(verdicts) == {
        BOUND_SERIES_VS_FLOOR.name: [False],  # 1.57x
        AHEAD_OF_LIBRARIES.name: [True, True, True, True],  # synthetic time and bytes, realistic
        REALISTIC_VS_FLOOR.name: [False],  # 5.16x
        EMF_BYTES_VS_MINIMUM.name: [True],  # 1.01x
    }
    lines = [v.line() for v in verdicts]
    assert lines[0].startswith("  MISS  a) bound series") and "1.57x" in lines[0]
    assert any(line.startswith("  PASS  realistic EMF bytes") and "1.01x" in line for line in lines)


def test_targets_met_within_their_bounds_and_missed_past_them() -> None:
    results = [
        synthetic(SharedMetricsContender(), [0.75, 0.76, 0.74], 19_816),  # 1.25x the floor
        synthetic(EmbeddedMetricsContender(), [0.75, 0.76, 0.74], 19_816),  # level with a)
        synthetic(FloorReference(), [0.60, 0.60, 0.60], 19_816),
    ]
    replays = [
        realistic(SharedMetricsReplay(), [15.0, 15.0, 15.0], 619),  # 1.5x; 1.1x of 562
        realistic(EmbeddedMetricsReplay(), [14.0, 14.0, 14.0], 872),  # quicker than a)
        realistic(FloorReplay(), [10.0, 10.0, 10.0], 569),
    ]
    verdicts = by_name(targets(results, replays, {"f": [{}]}, (), MinimalEmf({"f": 562})))
    assert verdicts == {
        BOUND_SERIES_VS_FLOOR.name: [True],
        # synthetic time level (MISS), synthetic bytes level (MISS), realistic time behind
        # (MISS), realistic bytes ahead (PASS)
        AHEAD_OF_LIBRARIES.name: [False, False, False, True],
        REALISTIC_VS_FLOOR.name: [True],
        EMF_BYTES_VS_MINIMUM.name: [True],
    }


def test_without_a_there_is_nothing_to_judge() -> None:
    with pytest.raises(ValueError, match="a\\) was not run"):
        targets([synthetic(FloorReference(), [0.6], 1)])


def test_time_is_judged_on_cpu_time_not_on_the_wait_for_another_process() -> None:
    # The wall times say 2x (a) was preempted in every repeat); its CPU time is 1.2x.
    results = [
        synthetic(SharedMetricsContender(), [0.72, 0.72, 0.72], 19_816, [1.2, 1.2, 1.2]),
        synthetic(FloorReference(), [0.60, 0.60, 0.60], 19_816),
    ]
    replays = [
        realistic(SharedMetricsReplay(), [14.0, 14.0, 14.0], 569, [30.0, 30.0, 30.0]),
        realistic(FloorReplay(), [10.0, 10.0, 10.0], 569),
    ]
    verdicts = targets(results, replays, {"f": [{}]}, (), MinimalEmf({"f": 562}))
    judged = {v.target.name: v for v in verdicts}
    assert judged[BOUND_SERIES_VS_FLOOR.name].passed
    assert "1.20x CPU time (wall 2.00x" in judged[BOUND_SERIES_VS_FLOOR.name].line()
    assert judged[REALISTIC_VS_FLOOR.name].passed
    assert "1.40x CPU time (wall 3.00x" in judged[REALISTIC_VS_FLOOR.name].line()
