from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local_run.cloudwatch.metric_statistics import merge, percentile, statistic


def test_simple_statistics() -> None:
    dist = {10.0: 3, 20.0: 1}
    assert statistic(dist, "Sum") == 50
    assert statistic(dist, "SampleCount") == 4
    assert statistic(dist, "Average") == 12.5
    assert statistic(dist, "Minimum") == 10
    assert statistic(dist, "Maximum") == 20
    assert statistic({}, "Sum") is None
    assert statistic({}, "p95") is None


def test_p95_of_values_and_counts() -> None:
    # 1..100 once each: p95 is 95 (95 values are <= 95), p50 is 50, p100 the maximum.
    dist = {float(v): 1 for v in range(1, 101)}
    assert statistic(dist, "p95") == 95
    assert statistic(dist, "p50") == 50
    assert statistic(dist, "p100") == 100
    assert statistic(dist, "p0") == 1
    # 94 fast samples and 6 slow: more than 5 % are slow, so p95 is slow.
    assert statistic({10.0: 94, 250.0: 6}, "p95") == 250
    # 95 fast and 5 slow: exactly 95 % are <= 10.
    assert statistic({10.0: 95, 250.0: 5}, "p95") == 10
    # Decimal percentiles.
    assert statistic({float(v): 1 for v in range(1, 1001)}, "p99.9") == 999


def test_merge_adds_counts_across_observations() -> None:
    merged = merge([(0.0, {10.0: 2}), (1.0, {10.0: 3, 20.0: 1})])
    assert merged == {10.0: 5, 20.0: 1}


distributions = st.dictionaries(
    st.integers(0, 10_000).map(float), st.integers(1, 50), min_size=1, max_size=30
)


@given(distributions, st.integers(0, 100))
def test_nearest_rank_definition(dist: dict[float, int], p: int) -> None:
    value = percentile(dist, p)
    assert value in dist
    total = sum(dist.values())
    at_or_below = sum(c for v, c in dist.items() if v <= value)
    below = sum(c for v, c in dist.items() if v < value)
    assert at_or_below * 100 >= p * total
    if p > 0:
        assert below * 100 < p * total


@given(distributions)
def test_percentiles_are_monotonic_and_bounded(dist: dict[float, int]) -> None:
    ps = [percentile(dist, p) for p in (0, 50, 90, 95, 99, 100)]
    assert ps == sorted(ps)  # type: ignore[type-var]
    assert ps[0] == min(dist) and ps[-1] == max(dist)
    average = statistic(dist, "Average")
    assert average is not None
    assert min(dist) - 1e-9 <= average <= max(dist) + 1e-9


def test_unknown_statistic() -> None:
    with pytest.raises(ValueError, match="tm90"):
        statistic({1.0: 1}, "tm90")
