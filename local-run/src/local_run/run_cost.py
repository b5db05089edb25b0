"""The monitoring's monthly bill from what a local run measured, and the measured defaults of
`infra.monitoring_measured` from the benchmark's handler workload.

From a run (`run_measurement`): every series the handlers wrote, read from the EMF events in
each function's log group (`ScenarioResult.log_events`), classed by when it appeared: in the
healthy baseline phase (billed in traffic hours; the scheduled status update's, which name no
client, all month) or only in the other phases (failure-only: billed in incident hours);
without a baseline phase every phase counts as healthy (an upper bound). And the EMF bytes
each function wrote per invocation in the baseline phase (the events as the EMF sink wrote
them, one line each, over AWS/Lambda Invocations of the function), or over the whole run
when the baseline phase did not run. `print_run_cost` prints
the bill for the default traffic profile with them, as the last thing the run reports.

``./pants run local-run/src/local_run/run_cost.py`` prints what `measure_workload` finds in
shared-metrics/benchmarks/handler_workload.json, to paste into `infra.monitoring_measured`.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.alarm_scopes import LAMBDA_NAMESPACE
from infra.monitoring_bill import Measurement
from infra.monitoring_cost import ERRORS, bill_for, report
from infra.monitoring_series import Series, series_of_event
from infra.monitoring_traffic import TrafficProfile
from local_run.cloudwatch.alarm_model import MetricId
from local_run.simulation.backend import SERVICE_NAMESPACES
from local_run.simulation.local_names import log_group_name
from local_run.simulation.scenario import ScenarioResult

HEALTHY_PHASE = "baseline"
_COMPACT = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


@dataclass
class _Tally:
    events: int = 0
    emf_bytes: float = 0.0
    invocations: int = 0


def event_bytes(event: Mapping[str, Any]) -> int:
    """An EMF event's size as the EMF sink writes it: compact JSON and a newline."""
    return len(_COMPACT(event).encode()) + 1


def _service_namespace(namespace: str) -> str:
    """A run's namespace (``LocalRun/<id>/...`` on a remote backend) as the stack's."""
    for service in SERVICE_NAMESPACES:
        if namespace == service or namespace.endswith("/" + service):
            return service
    return namespace


def _stack_series(event: Mapping[str, Any]) -> set[Series]:
    return {(_service_namespace(ns), name, dims) for ns, name, dims in series_of_event(event)}


def run_measurement(result: ScenarioResult) -> Measurement:
    """What the run's handlers wrote: their series by class and EMF bytes per invocation."""
    baseline = [s for s in result.spans if s.phase.name == HEALTHY_PHASE]
    window = (baseline[0].start, baseline[0].end) if baseline else (result.start, result.end)
    healthy: dict[str, frozenset[Series]] = {}
    always: dict[str, frozenset[Series]] = {}
    incident: set[Series] = set()
    emf_bytes: dict[str, float] = {}
    for label, function_name in result.function_names.items():
        found_healthy: set[Series] = set()
        found_always: set[Series] = set()
        tally = _Tally()
        for event in result.log_events.get(log_group_name(function_name), ()):
            t = float(event.get("_aws", {}).get("Timestamp", 0)) / 1000
            in_window = window[0] <= t < window[1]
            found = _stack_series(event)
            if not in_window:
                incident |= found
            elif "SessionId" not in event and "ConnectionId" not in event:
                found_always |= found  # the scheduled update: it names no client
            else:
                found_healthy |= found
            if in_window:
                tally.events += 1
                tally.emf_bytes += event_bytes(event)
        metric = MetricId(LAMBDA_NAMESPACE, "Invocations", (("FunctionName", function_name),))
        tally.invocations = len(result.platform.store.observations(metric, *window))
        healthy[label], always[label] = frozenset(found_healthy), frozenset(found_always)
        if tally.invocations:
            emf_bytes[label] = tally.emf_bytes / tally.invocations
    where = f"the {HEALTHY_PHASE} phase" if baseline else "the whole run"
    return Measurement(
        emf_bytes=emf_bytes,
        healthy=healthy,
        always=always,
        incident=frozenset(incident),
        source=f"measured by this local run: the series its handlers wrote, EMF bytes per "
        f"invocation over {where}",
        incident_source="measured by this local run: the series seen only in its fault phases"
        if baseline
        else "none: without the baseline phase every series counts as healthy",
    )


def print_run_cost(
    result: ScenarioResult, stack_name: str, profile: TrafficProfile | None = None
) -> None:
    """The monthly bill for ``profile`` (the default one) from what the run measured."""
    from local_run.simulation.stack_alarms import synthesized_template

    profile = profile or TrafficProfile()
    try:
        measurement = run_measurement(result)
        template, labels = synthesized_template(stack_name)
        bill = bill_for(template, labels, profile, measurement)
    except ERRORS as exc:
        print(f"\nmonitoring cost: not computed: {exc}")
        return
    lines = report(
        bill,
        profile,
        "What the monitoring would cost a month at the default traffic profile, from this "
        "run's series and EMF bytes (./pants run infra/src/infra/monitoring_cost.py for others)",
    )
    print("\n" + "\n".join(lines))
    print(f"monitoring cost, default profile: ${bill.total:,.2f} a month ({bill.region})")


# -- the benchmark's workload -----------------------------------------------------------------


class _Context:
    """What the emitter's invocation reads: the time left (a 29 s timeout)."""

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def measure_workload(
    workload: Mapping[str, Sequence[Mapping[str, Any]]],
) -> tuple[dict[str, float], dict[str, frozenset[Series]], dict[str, frozenset[Series]]]:
    """(EMF bytes per invocation, healthy series, scheduled series) per function of
    handler_workload.json, replayed through shared-metrics' EMF sink with a flush per
    invocation; an invocation without a session in its properties is the scheduled one."""
    from shared_metrics import MetricsEmitter, MetricSpec, Unit
    from shared_metrics.sinks.emf import EmfSink

    emf: dict[str, float] = {}
    healthy: dict[str, frozenset[Series]] = {}
    scheduled: dict[str, frozenset[Series]] = {}
    for label, invocations in workload.items():
        out = io.StringIO()
        emitter: MetricsEmitter | None = None
        specs: dict[str, MetricSpec] = {}
        found: dict[bool, set[Series]] = {True: set(), False: set()}
        for invocation in invocations:
            start = out.tell()
            for s in invocation["series"]:
                if emitter is None:
                    emitter = MetricsEmitter(s["namespace"], EmfSink(out), flush_at_exit=False)
            if emitter is None:
                continue
            with emitter.invocation(_Context()):
                for name, value in invocation["properties"].items():
                    emitter.set_property(name, value)
                for s in invocation["series"]:
                    spec = specs.setdefault(
                        s["name"],
                        MetricSpec(
                            s["name"],
                            Unit(s["unit"]),
                            s["dimension_sets"],
                            storage_resolution=s["resolution"],
                        ),
                    )
                    for value, count in s["values"]:
                        for _ in range(count):
                            emitter.record(spec, value, s["dimensions"])
            for line in out.getvalue()[start:].splitlines():
                found["SessionId" not in invocation["properties"]] |= _stack_series(
                    json.loads(line)
                )
        emf[label] = len(out.getvalue().encode()) / len(invocations)
        healthy[label] = frozenset(found[False])
        if found[True]:
            scheduled[label] = frozenset(found[True])
    return emf, healthy, scheduled


def main() -> int:
    from local_run.handler_workload import WORKLOAD_PATH

    emf, healthy, scheduled = measure_workload(json.loads(WORKLOAD_PATH.read_text()))
    print("EMF_BYTES_PER_INVOCATION =", {k: round(v, 2) for k, v in emf.items()})
    for name, table in (("HEALTHY_SERIES", healthy), ("SCHEDULED_SERIES", scheduled)):
        print(f"{name} =")
        for label, found in table.items():
            print(f"  {label}:")
            for s in sorted(found):
                print(f"    {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
