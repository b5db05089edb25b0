"""The benchmark's realistic workload is what the real handlers emit today.

shared-metrics/benchmarks/handler_workload.json is committed (the benchmark must not import
the services); this runs the capture again and compares everything but timer values, which
are real elapsed times. If it fails after a change to what a handler emits, regenerate the
file: ./pants run local-run/src/local_run/handler_workload.py
"""

from __future__ import annotations

import json
from typing import Any

from local_run.handler_workload import WORKLOAD_PATH, capture
from shared_metrics.spec import TIME_UNIT_FACTORS, Unit

TIME_UNITS = {unit.value for unit in TIME_UNIT_FACTORS}


def comparable(workload: dict[str, list[dict[str, Any]]]) -> dict[str, list[Any]]:
    def series(s: dict[str, Any]) -> tuple[Any, ...]:
        values = (
            sum(c for _, c in s["values"])  # timers: how many, not how long
            if s["unit"] in TIME_UNITS
            else sorted(tuple(v) for v in s["values"])
        )
        dimensions = json.dumps(s["dimensions"], sort_keys=True)
        sets = json.dumps(s["dimension_sets"])
        return (s["namespace"], s["name"], s["unit"], s["resolution"], sets, dimensions, values)

    return {
        label: [(i["properties"], sorted(series(s) for s in i["series"])) for i in invocations]
        for label, invocations in workload.items()
    }


def test_the_committed_workload_is_what_the_handlers_emit() -> None:
    committed = json.loads(WORKLOAD_PATH.read_text())
    assert comparable(capture()) == comparable(committed)
    assert {"connection", "session_status", "audio_processor"} == committed.keys()
    assert Unit.MILLISECONDS.value in TIME_UNITS
