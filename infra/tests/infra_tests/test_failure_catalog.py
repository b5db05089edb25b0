"""The failure catalog against the synthesized alarms, both ways: every alarm catches some
failure of the catalog, every catalog entry is caught by alarms that exist; and the README
shows the catalog and the alarm table as they are."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.alarm_table import ALARMS
from infra.docs import MARK_END, MARK_START, generated
from infra.failure_catalog import CATALOG, PAGE
from infra_tests.cfn import of_type
from infra_tests.conftest import STACK_NAME

Resources = Mapping[str, Mapping[str, Any]]
README = Path(__file__).resolve().parents[2] / "README.md"


def _keys(resources: Resources) -> dict[str, Mapping[str, Any]]:
    out = {}
    for type_name in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
        for props in of_type(resources, type_name).values():
            out[props["AlarmName"].removeprefix(f"{STACK_NAME}-")] = props
    return out


def test_every_alarm_catches_a_failure_of_the_catalog(resources: Resources) -> None:
    caught = {alarm for entry in CATALOG for alarm in entry.alarms}
    assert set(_keys(resources)) - caught == set()


def test_every_catalog_entry_is_caught_by_alarms_that_exist(resources: Resources) -> None:
    keys = _keys(resources)
    for entry in CATALOG:
        assert entry.alarms, f"{entry.name}: no alarm catches it"
        assert entry.phases, f"{entry.name}: no phase proves it"
        missing = [a for a in entry.alarms if a not in keys]
        assert not missing, f"{entry.name}: no such alarm {missing}"
        # It pages exactly when one of its alarms is critical (the composite's children).
        critical = [a for a in entry.alarms if a.startswith("Critical-") and a != PAGE]
        assert entry.pages == bool(critical), entry.name


def test_the_readme_shows_the_alarm_table_and_the_catalog_as_they_are() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(MARK_START), text.index(MARK_END) + len(MARK_END)
    assert text[start:end] == generated(), (
        "infra/README.md is out of date: ./pants run infra/src/infra/docs.py prints the tables"
    )


def test_the_runbooks_in_the_template_are_the_tables(resources: Resources) -> None:
    descriptions = [
        props["AlarmDescription"] for props in of_type(resources, "AWS::CloudWatch::Alarm").values()
    ]
    for d in ALARMS:
        mine = [text for text in descriptions if f"First check: {d.first_check}" in text]
        assert mine, f"{d.severity.value} {d.key}: its runbook is in no alarm"
        assert all(d.meaning in text for text in mine)
