"""Every failure of infra's catalog is proven by the phases it names: they exist, and each
alarm that must catch the failure is designed to fire in one of them (the e2e test shows
each phase firing exactly what it was designed to)."""

from __future__ import annotations

import pytest

from infra.failure_catalog import CATALOG, FailureClass
from local_run.simulation.phases import PHASES


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.name)
def test_the_catalogs_phases_fire_its_alarms(entry: FailureClass) -> None:
    by_name = {p.name: p for p in PHASES}
    assert set(entry.phases) <= set(by_name), entry.phases
    designed = set().union(*(by_name[name].expected for name in entry.phases))
    assert set(entry.alarms) <= designed, sorted(set(entry.alarms) - designed)
