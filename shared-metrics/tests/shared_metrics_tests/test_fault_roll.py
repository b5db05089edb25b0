"""The one fault roll behind every injected AWS error (the proxy in front of the emulator and
the client-side injection for real endpoints): rates are probabilities of disjoint outcomes,
so they must each be >= 0 and add up to at most 1, and a seeded roll is reproducible."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_metrics.testing.fault_proxy import FaultRoll

rate = st.floats(min_value=0.0, max_value=1.0)


@given(throttle=rate, server_error=rate, seed=st.integers(0, 2**32))
def test_outcomes_follow_the_rates_and_the_seed(
    throttle: float, server_error: float, seed: int
) -> None:
    if throttle + server_error > 1:
        with pytest.raises(ValueError, match="add up to at most 1"):
            FaultRoll(throttle=throttle, server_error=server_error)
        return
    a = FaultRoll(throttle=throttle, server_error=server_error, seed=seed)
    b = FaultRoll(throttle=throttle, server_error=server_error, seed=seed)
    rolls = [a.roll() for _ in range(50)]
    assert rolls == [b.roll() for _ in range(50)]
    assert set(rolls) <= {"throttled", "server_error", None}
    if throttle == 0:
        assert "throttled" not in rolls
    if server_error == 0:
        assert "server_error" not in rolls
    if throttle == 1:
        assert rolls == ["throttled"] * 50
    if server_error == 1:
        assert rolls == ["server_error"] * 50
    assert a.on == (throttle + server_error > 0)


def test_a_negative_rate_is_refused_with_both_rates_named() -> None:
    roll = FaultRoll()
    with pytest.raises(ValueError, match=r"server_error=-0.1, throttle=0.2"):
        roll.set(throttle=0.2, server_error=-0.1)
    assert not roll.on  # the refused rates were not taken


def test_the_shares_are_near_the_rates_over_many_calls() -> None:
    roll = FaultRoll(throttle=0.15, server_error=0.15, seed=7)
    rolls = [roll.roll() for _ in range(20_000)]
    # 20,000 draws: a share's standard deviation is about 0.0025; 0.02 is 8 of them.
    assert abs(rolls.count("throttled") / len(rolls) - 0.15) < 0.02
    assert abs(rolls.count("server_error") / len(rolls) - 0.15) < 0.02
