"""The infra README's alarm and failure tables, made from the alarm table and the catalog.

``./pants run infra/src/infra/docs.py`` prints them; paste the output between the README's
``<!-- alarms -->`` and ``<!-- /alarms -->`` markers (a test fails while they differ).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from infra.alarm_definition import PlannedAlarm
from infra.alarm_plan import plan_alarms
from infra.alarm_scopes import MonitoredCanary, MonitoredFunction, Resources
from infra.alarm_table import ALARMS
from infra.canary import DEFAULT_SCHEDULE, canary_name
from infra.drilldown import QUERIES, RULES
from infra.failure_catalog import CATALOG, NOT_CAUGHT
from infra.functions import FUNCTIONS, Table

MARK_START, MARK_END = "<!-- alarms -->", "<!-- /alarms -->"


def default_plan() -> tuple[PlannedAlarm, ...]:
    """The plan of the stack's own functions, tables, topics and canary (default limits)."""
    functions = tuple(
        MonitoredFunction(f.label, f.service.namespace, f.timeout, f.reserved_concurrency)
        for f in FUNCTIONS
    )
    canary = MonitoredCanary(canary_name("x"), DEFAULT_SCHEDULE)
    return plan_alarms(
        "x", Resources(functions, tables=tuple(t.label for t in Table), canary=canary)
    )


def alarm_rows(plan: Sequence[PlannedAlarm]) -> list[str]:
    rows = [
        "| severity | alarm | where | condition | first check (runbook) |",
        "|---|---|---|---|---|",
    ]
    for d in ALARMS:
        scopes = [p.scope for p in plan if p.definition is d]
        rows.append(
            f"| {d.severity.value} | {d.key} | {', '.join(scopes)} | "
            f"{d.source.documented_condition(d)} {d.source.documented_window(d)} | "
            f"{d.first_check} |"
        )
    return rows


def catalog_rows() -> list[str]:
    rows = [
        "| failure | what happens | caught by | pages | proven in phase |",
        "|---|---|---|---|---|",
    ]
    for f in CATALOG:
        rows.append(
            f"| {f.name} | {f.what} | {', '.join(f.alarms)} | {'yes' if f.pages else 'no'} | "
            f"{', '.join(f.phases)} |"
        )
    return rows


def not_caught_rows() -> list[str]:
    rows = ["| failure | what happens | why no alarm | where it shows |", "|---|---|---|---|"]
    for u in NOT_CAUGHT:
        rows.append(f"| {u.name} | {u.what} | {u.why_no_alarm} | {u.where_it_shows} |")
    return rows


def drilldown_rows() -> list[str]:
    rows = [
        "| Contributor Insights rule `<stack>-<rule>` | answers | log groups | keys | filter |",
        "|---|---|---|---|---|",
    ]
    for r in RULES:
        filters = "; ".join(
            " ".join(f"{k} {v}" if k != "Match" else str(v) for k, v in f.items())
            for f in r.filters
        )
        rows.append(
            f"| {r.key} | {r.answers} | {', '.join(r.functions)} | "
            f"{', '.join(f'`{k}`' for k in r.keys)} | `{filters}` ({r.aggregate}) |"
        )
    rows += ["", "| saved query `<stack>/<query>` | answers | log groups |", "|---|---|---|"]
    for q in QUERIES:
        rows.append(f"| {q.key} | {q.answers} | {', '.join(q.scope)} |")
    return rows


def generated() -> str:
    """What the README holds between its markers."""
    return "\n".join(
        [
            MARK_START,
            *alarm_rows(default_plan()),
            "",
            "Failure catalog (`failure_catalog.py`): what each class of failure fires, and the",
            "local-run phase that shows it.",
            "",
            *catalog_rows(),
            "",
            "Not caught by any alarm of this stack (`failure_catalog.NOT_CAUGHT`), and where",
            "each shows instead.",
            "",
            *not_caught_rows(),
            "",
            "Drill-down (`drilldown.py`): what each Contributor Insights rule and saved Logs",
            "Insights query answers; every alarm's runbook names the ones to open.",
            "",
            *drilldown_rows(),
            MARK_END,
        ]
    )


if __name__ == "__main__":
    sys.stdout.write(generated() + "\n")
