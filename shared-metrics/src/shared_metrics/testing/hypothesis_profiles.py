"""Hypothesis settings profiles for this repository's tests.

``loaded-machine`` (what CI selects with ``--hypothesis-profile=loaded-machine``): no
deadline and no "too slow" health check, because the property tests that do I/O (moto's
server on loopback) or synthesize a stack run on a 2-core machine that also runs other test
processes; an example's wall time there says nothing about the code under test.

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
