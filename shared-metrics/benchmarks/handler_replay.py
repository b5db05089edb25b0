"""The realistic workload: each real handler invocation's metrics, replayed through every contender.

handler_workload.json (captured from the real handlers by local_run.handler_workload) holds,
per function, each invocation's series (metric, unit, dimension sets, dimension values, value
-> count) and log properties. Each contender publishes exactly those datapoints per
invocation, the way its users would, then flushes:
- shared-metrics: one emitter per function on the EMF sink, the series bound once at init
  (what the services do), `record` per sample, `set_property`, `flush`;
- powertools: one `EphemeralMetrics` per dimension combination (its Metrics publish one
  dimension set per flush, and its instances share state), `add_dimension`, `add_metric`
  per sample, `add_metadata`, `flush_metrics`;
- aws-embedded-metrics: one logger per dimension combination and invocation (what
  `metric_scope` does), `set_dimensions` with all of the series' sets, `put_metric` per
  sample, `set_property`, `flush`;
- ref) the floor, not a library: the EMF event shared-metrics writes for the invocation (the
  same datapoints, properties and directives), written by hand: one dict filled with the
  properties and each sample, one `json` encode, one write to stdout.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORKLOAD = Path(__file__).with_name("handler_workload.json")

# One invocation: {"properties": {...}, "series": [{"namespace", "name", "unit", "resolution",
# "dimension_sets", "dimensions", "values": [[value, count], ...]}]}
Invocation = dict[str, Any]
Workload = dict[str, list[Invocation]]


def load_workload(path: Path | None = None) -> Workload:
    candidates = [path] if path else [WORKLOAD, Path("shared-metrics/benchmarks") / WORKLOAD.name]
    for candidate in candidates:
        if candidate is not None and candidate.is_file():
            workload: Workload = json.loads(candidate.read_text())
            return workload
    raise FileNotFoundError(f"{WORKLOAD.name} not found (looked in {candidates})")


def expected_datapoints(invocation: Invocation) -> int:
    return sum(
        count * len(s["dimension_sets"]) for s in invocation["series"] for _, count in s["values"]
    )


def _groups(invocation: Invocation) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Series by (dimension sets, dimension values): what one logger/flush can carry."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for s in invocation["series"]:
        key = (
            s["namespace"],
            json.dumps(s["dimension_sets"]),
            tuple(sorted(s["dimensions"].items())),
        )
        groups.setdefault(key, []).append(s)
    return groups


class LambdaContext:
    """What the handlers' `metrics.invocation(context)` reads: the time left (a 29 s timeout)."""

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


class Replay:
    """A contender. `start` is the Lambda environment's init (not timed): it also turns each
    invocation into the calls to make (`plan`), so the timed `invoke` spends nothing on
    reading the workload."""

    key = ""
    label = ""
    library = True  # False for the floor: a reference the libraries are held to, not one of them

    def start(self, workload: Workload) -> None:
        self.plans = {
            function: [self.plan(function, invocation) for invocation in invocations]
            for function, invocations in workload.items()
        }

    def plan(self, function: str, invocation: Invocation) -> Any:
        raise NotImplementedError

    def invoke(self, function: str, plan: Any) -> None:
        raise NotImplementedError

    def check(self) -> None:
        """Raise if the contender lost or refused data it was given (then its figures are void)."""


class SharedMetricsReplay(Replay):
    key, label = "a", "shared-metrics, EMF sink"

    def start(self, workload: Workload) -> None:
        from shared_metrics import MetricsEmitter, MetricSpec, Unit
        from shared_metrics.sinks.emf import EmfSink

        self.emitters: dict[str, MetricsEmitter] = {}
        self.specs: dict[tuple[str, str], MetricSpec] = {}
        self.context = LambdaContext()
        self.new_emitter = lambda namespace: MetricsEmitter(
            namespace, EmfSink(), flush_at_exit=False
        )
        self.new_spec = lambda s: MetricSpec(
            s["name"], Unit(s["unit"]), s["dimension_sets"], storage_resolution=s["resolution"]
        )
        super().start(workload)

    def plan(self, function: str, invocation: Invocation) -> Any:
        samples = []
        for s in invocation["series"]:
            emitter = self.emitters.get(function)
            if emitter is None:
                emitter = self.emitters[function] = self.new_emitter(s["namespace"])
            spec = self.specs.get((s["namespace"], s["name"]))
            if spec is None:
                spec = self.specs[(s["namespace"], s["name"])] = self.new_spec(s)
            # The services bind each series once and keep it (ServiceMetrics._series).
            record = emitter.series(spec, s["dimensions"]).record
            samples += [(record, value) for value, count in s["values"] for _ in range(count)]
        return list(invocation["properties"].items()), samples

    def invoke(self, function: str, plan: Any) -> None:
        emitter = self.emitters[function]
        properties, samples = plan
        with emitter.invocation(self.context):  # as the handlers' guard does
            for name, value in properties:
                emitter.set_property(name, value)
            for record, value in samples:
                record(value)

    def check(self) -> None:
        for emitter in self.emitters.values():
            stats = emitter.stats()
            if stats.delivered != stats.datapoints or stats.rejected_total:
                raise RuntimeError(f"{self.label}: not everything was delivered: {stats}")


class PowertoolsReplay(Replay):
    key, label = "c", "aws-lambda-powertools Metrics"

    def start(self, workload: Workload) -> None:
        from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

        self.ephemeral = EphemeralMetrics
        self.unit = MetricUnit
        self.metrics: dict[tuple[Any, ...], Any] = {}
        super().start(workload)

    def plan(self, function: str, invocation: Invocation) -> Any:
        flushes = []
        for (namespace, sets, _), series in _groups(invocation).items():
            # One flush per dimension set: powertools publishes one set per flush.
            for dimension_set in json.loads(sets):
                dims = {k: series[0]["dimensions"][k] for k in dimension_set}
                key = (namespace, tuple(sorted(dims.items())))
                metrics = self.metrics.get(key)
                if metrics is None:
                    metrics = self.metrics[key] = self.ephemeral(namespace=namespace)
                samples = [
                    (s["name"], self.unit(s["unit"]), value)
                    for s in series
                    for value, count in s["values"]
                    for _ in range(count)
                ]
                flushes.append((metrics, list(dims.items()), samples))
        return list(invocation["properties"].items()), flushes

    def invoke(self, function: str, plan: Any) -> None:
        properties, flushes = plan
        for metrics, dims, samples in flushes:
            for name, value in dims:
                metrics.add_dimension(name=name, value=value)
            for name, value in properties:
                metrics.add_metadata(key=name, value=value)
            for name, unit, value in samples:
                metrics.add_metric(name=name, unit=unit, value=value)
            metrics.flush_metrics()


class EmbeddedMetricsReplay(Replay):
    key, label = "d", "aws-embedded-metrics"

    def start(self, workload: Workload) -> None:
        from aws_embedded_metrics.logger.metrics_logger_factory import create_metrics_logger

        self.create_logger = create_metrics_logger
        super().start(workload)

    def plan(self, function: str, invocation: Invocation) -> Any:
        loggers = []
        for (namespace, sets, _), series in _groups(invocation).items():
            dims = series[0]["dimensions"]
            dimension_sets = [{k: dims[k] for k in s} for s in json.loads(sets)]
            samples = [
                (s["name"], value, s["unit"])
                for s in series
                for value, count in s["values"]
                for _ in range(count)
            ]
            loggers.append((namespace, dimension_sets, samples))
        return list(invocation["properties"].items()), loggers

    def invoke(self, function: str, plan: Any) -> None:
        properties, loggers = plan
        for namespace, dimension_sets, samples in loggers:
            # What `metric_scope` does per call: a new logger, flushed at the end.
            logger = self.create_logger()
            logger.set_namespace(namespace)
            logger.set_dimensions(*dimension_sets)
            for name, value in properties:
                logger.set_property(name, value)
            for name, value, unit in samples:
                logger.put_metric(name, value, unit)
            logger.flush_sync()


class FloorReplay(Replay):
    """The least a Python EMF writer does per invocation: what it cannot know before the
    invocation (properties, values, the time) goes into one dict around the directives a
    hand-written handler would keep as constants; one encode, one write. No validation,
    aggregation, buffer, lock, time bucket or deadline watch."""

    key, label, library = "ref", "floor: one dict, one json encode, one write", False

    def start(self, workload: Workload) -> None:
        # json.dumps(event, separators=(",", ":")) without building an encoder per call.
        self.encode = json.JSONEncoder(separators=(",", ":")).encode
        super().start(workload)

    def plan(self, function: str, invocation: Invocation) -> Any:
        dimensions: dict[str, str] = {}
        by_sets: dict[tuple[str, str], list[dict[str, Any]]] = {}
        samples = []
        for s in invocation["series"]:
            dimensions.update(s["dimensions"])
            definition: dict[str, Any] = {"Name": s["name"], "Unit": s["unit"]}
            if s["resolution"] == 1:
                definition["StorageResolution"] = 1
            by_sets.setdefault((s["namespace"], json.dumps(s["dimension_sets"])), []).append(
                definition
            )
            samples += [(s["name"], value) for value, count in s["values"] for _ in range(count)]
        directives = [
            {"Namespace": namespace, "Dimensions": json.loads(sets), "Metrics": metrics}
            for (namespace, sets), metrics in by_sets.items()
        ]
        return list(invocation["properties"].items()), dimensions, samples, directives

    def invoke(self, function: str, plan: Any) -> None:
        properties, dimensions, samples, directives = plan
        event = dict(dimensions)
        for name, value in properties:
            event[name] = value
        for name, value in samples:
            values = event.get(name)
            if values is None:
                event[name] = [value]
            else:
                values.append(value)
        event["_aws"] = {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": directives}
        sys.stdout.write(self.encode(event) + "\n")


REPLAYS: tuple[type[Replay], ...] = (
    SharedMetricsReplay,
    PowertoolsReplay,
    EmbeddedMetricsReplay,
    FloorReplay,
)


@dataclass
class ReplayRun:
    seconds: dict[str, float] = field(default_factory=dict)  # per function, wall
    cpu_seconds: float = 0.0
    invocations: dict[str, int] = field(default_factory=dict)


def run_workload(replay: Replay, workload: Workload, passes: int) -> ReplayRun:
    """Replay every function's invocations ``passes`` times, timed per function."""
    run = ReplayRun()
    clock = time.perf_counter
    cpu_start = time.process_time()
    for _ in range(passes):
        for function, plans in replay.plans.items():
            start = clock()
            for plan in plans:
                replay.invoke(function, plan)
            run.seconds[function] = run.seconds.get(function, 0.0) + clock() - start
            run.invocations[function] = run.invocations.get(function, 0) + len(plans)
    run.cpu_seconds = time.process_time() - cpu_start
    return run
