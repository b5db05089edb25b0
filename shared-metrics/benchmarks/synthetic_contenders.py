"""The synthetic workload's contenders: each way of publishing its metrics, and the floor.

Contenders:
  a) shared-metrics, EMF sink               (stdout, bound series; a2) records by lookup)
  b) shared-metrics, CloudWatch sink        (PutMetricData to moto's server on 127.0.0.1)
  c) aws-lambda-powertools Metrics          (EMF to stdout, captured)
  d) aws-embedded-metrics                   (EMF to stdout via its Lambda environment)
  e) naive seed design                      (boto3 put_metric_data, batches of 20 datums,
                                             one datum per sample and dimension set)
  ref) no library: a call + list.append per sample, one json encode per flush: the least
       any Python EMF writer does, to show what the targets ask for; not in the targets.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from output_counting import PutMetricDataCounter
from synthetic_workload import METRIC_NAMES, NAIVE_BATCH_DATUMS, NAMESPACE, REGION, UNIT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from synthetic_workload import Invocation

    from shared_metrics.sinks.base import MetricSink


def boto3_cloudwatch_client(endpoint_url: str, **config: Any) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "cloudwatch", endpoint_url=endpoint_url, region_name=REGION, config=Config(**config)
    )


class Contender:
    """One way of publishing the workload's metrics.

    `start` builds a fresh emitter/logger/client, as a Lambda does at init (not timed).
    `record` and `flush` are one invocation's two halves, timed separately.
    """

    key = ""
    label = ""
    networked = False  # publishes with PutMetricData to the emulator
    uses_emf = False  # writes EMF to sys.stdout (captured and counted while measured)
    sends_during_record = False
    # Networked contenders count requests; EMF contenders' bytes come from the stream.
    counter: PutMetricDataCounter | None = None

    def start(self) -> None:
        raise NotImplementedError

    def record(self, invocation: Invocation) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Check everything was delivered; raise if not (a benchmark of lost data is void)."""


class SharedMetricsContender(Contender):
    """The bound-series fast path: the invocation's series bound once (10 binds per 1,000
    samples, as the session id changes per invocation); ``by_lookup`` records with
    ``record(spec, value, dims)`` instead, the dimensions looked up per sample."""

    def __init__(self, endpoint_url: str | None = None, by_lookup: bool = False) -> None:
        self.endpoint_url = endpoint_url
        self.by_lookup = by_lookup
        self.networked = endpoint_url is not None
        self.uses_emf = not self.networked
        self.key, self.label = (
            ("b", "shared-metrics, CloudWatch sink")
            if self.networked
            else ("a2", "shared-metrics, EMF, record(spec, v, dims)")
            if by_lookup
            else ("a", "shared-metrics, EMF sink (bound series)")
        )

    def start(self) -> None:
        from shared_metrics import MetricsEmitter, MetricSpec, Unit

        self.specs = [MetricSpec(name, Unit(UNIT), [[], ["SessionId"]]) for name in METRIC_NAMES]
        sink: MetricSink
        if self.endpoint_url is None:
            from shared_metrics.sinks.emf import EmfSink

            sink = EmfSink()  # sys.stdout at publish time: the captured stream
        else:
            from shared_metrics.sinks.cloudwatch import CloudWatchSink

            cloudwatch = CloudWatchSink(endpoint_url=self.endpoint_url, region_name=REGION)
            self.counter = PutMetricDataCounter(cloudwatch.client())
            sink = cloudwatch
        self.emitter = MetricsEmitter(NAMESPACE, sink, flush_at_exit=False)

    def record(self, invocation: Invocation) -> None:
        session = {"SessionId": invocation.session_id}
        if self.by_lookup:
            record, specs = self.emitter.record, self.specs
            for index, value in invocation.samples:
                record(specs[index], value, session)
            return
        bound = [self.emitter.series(spec, session).record for spec in self.specs]
        for index, value in invocation.samples:
            bound[index](value)

    def flush(self) -> None:
        self.emitter.flush()

    def stop(self) -> None:
        stats = self.emitter.stats()
        if stats.delivered != stats.datapoints or stats.rejected_total or stats.publish_failures:
            raise RuntimeError(f"{self.label}: not everything was delivered: {stats}")


class PowertoolsContender(Contender):
    key, label, uses_emf = "c", "aws-lambda-powertools Metrics", True

    def start(self) -> None:
        from aws_lambda_powertools import Metrics
        from aws_lambda_powertools.metrics import MetricUnit

        self.metrics = Metrics(namespace=NAMESPACE)
        self.metrics.clear_metrics()  # Metrics instances share their state
        self.unit = MetricUnit(UNIT)

    def record(self, invocation: Invocation) -> None:
        metrics, unit = self.metrics, self.unit
        # Its dimensions belong to the flush, not to a value: one extra set per invocation.
        metrics.add_dimensions(SessionId=invocation.session_id)
        for index, value in invocation.samples:
            metrics.add_metric(name=METRIC_NAMES[index], unit=unit, value=value)

    def flush(self) -> None:
        self.metrics.flush_metrics()


class EmbeddedMetricsContender(Contender):
    key, label, uses_emf = "d", "aws-embedded-metrics", True

    def start(self) -> None:
        from aws_embedded_metrics.logger.metrics_logger_factory import create_metrics_logger

        self.create_logger = create_metrics_logger

    def record(self, invocation: Invocation) -> None:
        # What `metric_scope` does per call: a new logger, flushed synchronously at the end.
        logger = self.logger = self.create_logger()
        logger.set_namespace(NAMESPACE)
        logger.set_dimensions({}, {"SessionId": invocation.session_id})
        put_metric = logger.put_metric
        for index, value in invocation.samples:
            put_metric(METRIC_NAMES[index], value, UNIT)

    def flush(self) -> None:
        self.logger.flush_sync()


class NaiveBoto3Contender(Contender):
    """The seed design: one datum per sample and dimension set, sent 20 at a time."""

    key, label, networked = "e", "naive: boto3, batches of 20 datums", True
    sends_during_record = True

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url

    def start(self) -> None:
        self.client = boto3_cloudwatch_client(self.endpoint_url)
        self.counter = PutMetricDataCounter(self.client)
        self.pending: list[dict[str, Any]] = []

    def record(self, invocation: Invocation) -> None:
        pending, session = self.pending, [{"Name": "SessionId", "Value": invocation.session_id}]
        for index, value in invocation.samples:
            name = METRIC_NAMES[index]
            pending.append({"MetricName": name, "Value": value, "Unit": UNIT})
            pending.append(
                {"MetricName": name, "Value": value, "Unit": UNIT, "Dimensions": session}
            )
            if len(pending) >= NAIVE_BATCH_DATUMS:
                self._send(NAIVE_BATCH_DATUMS)

    def flush(self) -> None:
        while self.pending:
            self._send(NAIVE_BATCH_DATUMS)

    def _send(self, datums: int) -> None:
        batch, self.pending[:datums] = self.pending[:datums], []
        self.client.put_metric_data(Namespace=NAMESPACE, MetricData=batch)


class FloorReference(Contender):
    """Not a library: the least an EMF writer in Python does, for scale.

    A function call and a list.append per sample; per flush, one compact json encode per
    event of <= 100 values per metric (no validation, no aggregation, no thread safety).
    """

    key, label, uses_emf = "ref", "floor: call+append, json per flush", True

    def start(self) -> None:
        self.values: dict[str, list[float]] = {name: [] for name in METRIC_NAMES}
        self.session_id = ""
        self.encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode

    def add(self, name: str, value: float) -> None:
        self.values[name].append(value)

    def record(self, invocation: Invocation) -> None:
        self.session_id, add = invocation.session_id, self.add
        for index, value in invocation.samples:
            add(METRIC_NAMES[index], value)

    def flush(self) -> None:
        values, self.values = self.values, {name: [] for name in METRIC_NAMES}
        timestamp = int(time.time() * 1000)
        lines = []
        for start in range(0, max(map(len, values.values())), 100):
            chunk = {name: v[start : start + 100] for name, v in values.items() if len(v) > start}
            definitions = [{"Name": name, "Unit": UNIT} for name in chunk]
            directive = {
                "Namespace": NAMESPACE,
                "Dimensions": [[], ["SessionId"]],
                "Metrics": definitions,
            }
            event: dict[str, object] = {
                "_aws": {"Timestamp": timestamp, "CloudWatchMetrics": [directive]}
            }
            event.update(chunk, SessionId=self.session_id)
            lines.append(self.encode(event))
        sys.stdout.write("\n".join(lines) + "\n")
