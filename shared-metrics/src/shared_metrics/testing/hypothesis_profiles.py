"""Hypothesis settings profiles for this repository's tests.

``loaded-machine``: no deadline and no "too slow" health check, because the property tests
that do I/O (moto's server on loopback) or synthesize a stack run on a 2-core machine that
also runs other test processes, or on a slowed one (`./slowed test`); an example's wall time
there says nothing about the code under test, and no verdict may depend on it. It is every
run's default (CI also names it with ``--hypothesis-profile=loaded-machine``).

Every test directory's conftest calls `register` (a profile must be registered before
pytest's hypothesis plugin loads it by name).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

LOADED_MACHINE = "loaded-machine"


def register() -> None:
    settings.register_profile(
        LOADED_MACHINE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile(LOADED_MACHINE)
