"""Side-by-side benchmark: shared-metrics against the other ways to publish Lambda metrics.

    ./pants run shared-metrics/benchmarks/metrics_benchmark.py
    ./pants run shared-metrics/benchmarks/metrics_benchmark.py -- --profile

A report, not a test: it prints the tables and the targets (PASS/MISS) and exits 0 either way.

Workload, shaped like a Lambda function: 10 metric specs, each published to two dimension sets
([] and [SessionId]); an invocation records 1,000 samples (lognormal latency-like floats,
full precision, so no two values aggregate) spread at random over the specs, for one session,
then flushes. 100 invocations per timing run; the networked contenders do fewer.

Contenders:
  a) shared-metrics, EMF sink               (stdout, captured and counted, not printed)
  b) shared-metrics, CloudWatch sink        (PutMetricData to moto's server on 127.0.0.1)
  c) aws-lambda-powertools Metrics          (EMF to stdout, captured)
  d) aws-embedded-metrics                   (EMF to stdout via its Lambda environment)
  e) naive seed design                      (boto3 put_metric_data, batches of 20 datums,
                                             one datum per sample and dimension set)
  ref) no library: a call + list.append per sample, one json encode per flush: the least
       any Python EMF writer does, to show what the targets ask for; not in the targets.

Per contender: us per sample incl. flush (median over interleaved repeats, wall and CPU),
output bytes, PutMetricData requests, datapoints counted back from the output (proof that
every contender published the same data), tracemalloc peak/retained memory (separate run),
and the cold start (import + init + first record, then first flush) in fresh interpreters.

The emulator runs in its own process (as `AwsEmulator`), so its work neither holds this
process's GIL nor shows up in this process's tracemalloc peak; a networked contender's time
still includes the emulator's response time, as a real endpoint's would.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
import tracemalloc
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import handler_replay
import zip_cold_start

from shared_metrics.testing.aws_emulator import EMULATOR_ENV

# One convention across the repository (the handlers avoid importing typing).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from shared_metrics.sinks.base import MetricSink

NAMESPACE = "MetricsBenchmark"
REGION = EMULATOR_ENV["AWS_DEFAULT_REGION"]
METRIC_NAMES = (
    "AudioChunkLatency",
    "TranscribeLatency",
    "DynamoDbReadLatency",
    "DynamoDbWriteLatency",
    "PostToConnectionLatency",
    "HandlerDuration",
    "AuthorizerLatency",
    "SessionLookupLatency",
    "PartialResultLatency",
    "FinalResultLatency",
)
UNIT = "Milliseconds"
SAMPLES_PER_INVOCATION = 1_000
NAIVE_BATCH_DATUMS = 20
SEED = 20240611

# Targets the report checks (the design brief, then issue 10).
TARGET_US_PER_SAMPLE = 0.5
TARGET_SPEEDUP_OVER_OTHER_LIBRARIES = 3.0
TARGET_FEWER_REQUESTS_THAN_NAIVE = 50.0
TARGET_COLD_START_MS = 20.0
TARGET_REALISTIC_ADVANTAGE = 2.0  # per invocation, time and EMF bytes, vs the best library
TARGET_ZIP_IMPORT_FRACTION = 0.5  # of the same zip's import without bytecode


# -- workload ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    session_id: str
    samples: list[tuple[int, float]]  # (index into METRIC_NAMES, value in milliseconds)


def make_invocations(count: int, rng: random.Random, prefix: str = "conn") -> list[Invocation]:
    names = len(METRIC_NAMES)
    return [
        Invocation(
            session_id=f"{prefix}-{i:04d}-{rng.getrandbits(64):016x}",
            samples=[
                (rng.randrange(names), rng.lognormvariate(math.log(40.0), 0.6))
                for _ in range(SAMPLES_PER_INVOCATION)
            ],
        )
        for i in range(count)
    ]


# -- what the contenders produce ---------------------------------------------------------


class CountingStream(io.TextIOBase):
    """A text stream that counts what is written and keeps nothing (EMF output is ASCII)."""

    def __init__(self) -> None:
        super().__init__()
        self.chars = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def emf_datapoints(text: str) -> int:
    """Datapoints in EMF output: every value of a metric counts once per dimension set."""
    total = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        event = json.loads(line)
        for directive in event["_aws"]["CloudWatchMetrics"]:
            sets = len(directive["Dimensions"])
            for metric in directive["Metrics"]:
                values = event[metric["Name"]]
                total += (len(values) if isinstance(values, list) else 1) * sets
    return total


class PutMetricDataCounter:
    """Counts the PutMetricData requests a boto3 client sends, their body bytes and datapoints.

    Body bytes are what goes on the wire: botocore's CBOR encoding, gzipped when >= 10 KiB.
    """

    def __init__(self, client: Any) -> None:
        self.requests = 0
        self.body_bytes = 0
        self.datapoints = 0
        events = client.meta.events
        events.register("before-parameter-build.cloudwatch.PutMetricData", self._on_params)
        events.register("before-send.cloudwatch.PutMetricData", self._on_send)

    def reset(self) -> None:
        self.requests = self.body_bytes = self.datapoints = 0

    def _on_params(self, params: dict[str, Any], **kwargs: Any) -> None:
        for datum in params.get("MetricData", ()):
            if "Counts" in datum:
                self.datapoints += int(sum(datum["Counts"]))
            elif "Values" in datum:
                self.datapoints += len(datum["Values"])
            else:
                self.datapoints += 1

    def _on_send(self, request: Any, **kwargs: Any) -> None:  # must return None
        self.requests += 1
        body = request.body
        self.body_bytes += len(body) if isinstance(body, bytes | bytearray) else 0


def boto3_cloudwatch_client(endpoint_url: str, **config: Any) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "cloudwatch", endpoint_url=endpoint_url, region_name=REGION, config=Config(**config)
    )


# -- contenders --------------------------------------------------------------------------


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


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Run:
    """One timing run of a contender over its invocations."""

    seconds: float  # wall clock, record + flush
    flush_seconds: float
    cpu_seconds: float  # this process only: excludes the emulator's work
    output_bytes: int  # EMF characters or PutMetricData body bytes, whole run
    requests: int


@dataclass
class Measurement:
    contender: Contender
    invocations: int
    repeats: int
    runs: list[Run] = field(default_factory=list)
    datapoints: int = 0  # per invocation, counted from the output itself
    memory_invocations: int = 0
    peak_bytes: int = 0
    retained_bytes: int = 0
    cold: ColdStart | None = None

    @property
    def samples(self) -> int:
        return self.invocations * SAMPLES_PER_INVOCATION

    def median_us(self, attribute: str = "seconds") -> float:
        return statistics.median(getattr(r, attribute) for r in self.runs) / self.samples * 1e6

    @property
    def us(self) -> float:
        return self.median_us()

    @property
    def output_bytes_per_invocation(self) -> float:
        return self.runs[-1].output_bytes / self.invocations

    @property
    def requests_per_invocation(self) -> float:
        return self.runs[-1].requests / self.invocations


@contextlib.contextmanager
def captured_stdout() -> Iterator[CountingStream]:
    stream = CountingStream()
    with contextlib.redirect_stdout(stream):
        yield stream


def run_invocations(
    contender: Contender, invocations: Sequence[Invocation]
) -> tuple[float, float, float]:
    """Run the invocations; return wall seconds, of which in flush, and CPU seconds."""
    clock = time.perf_counter
    flush_total = 0.0
    cpu_start = time.process_time()
    start = clock()
    for invocation in invocations:
        contender.record(invocation)
        before_flush = clock()
        contender.flush()
        flush_total += clock() - before_flush
    return clock() - start, flush_total, time.process_time() - cpu_start


def timing_run(contender: Contender, invocations: Sequence[Invocation], warmup: Invocation) -> Run:
    with captured_stdout() as stdout:
        contender.start()
        contender.record(warmup)  # first-call costs belong to the cold start, not here
        contender.flush()
        if contender.counter:
            contender.counter.reset()
        stdout.chars = 0
        gc.collect()
        seconds, flush_seconds, cpu_seconds = run_invocations(contender, invocations)
        contender.stop()
    counter = contender.counter
    return Run(
        seconds,
        flush_seconds,
        cpu_seconds,
        output_bytes=counter.body_bytes if counter else stdout.chars,
        requests=counter.requests if counter else 0,
    )


def datapoints_per_invocation(contender: Contender, invocation: Invocation) -> int:
    """Publish one invocation and count the datapoints in what came out (not timed)."""
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        contender.start()
        contender.record(invocation)
        contender.flush()
        contender.stop()
    if contender.counter:
        return contender.counter.datapoints
    if not text.getvalue().isascii():
        raise RuntimeError(f"{contender.label}: EMF output is not ASCII; bytes != characters")
    return emf_datapoints(text.getvalue())


def memory_use(
    contender: Contender, invocations: Sequence[Invocation], warmup: Invocation
) -> tuple[int, int]:
    """Bytes allocated at the peak of the run, and still held after it (tracemalloc).

    A separate run, as tracing slows everything down; only allocations made during the run
    count (the warm-up's are not traced).
    """
    with captured_stdout():
        contender.start()
        contender.record(warmup)
        contender.flush()
        gc.collect()
        tracemalloc.start()
        try:
            run_invocations(contender, invocations)
            gc.collect()
            retained, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak, retained


# -- the emulator, in its own process ----------------------------------------------------

EMULATOR_CHILD = """
import sys
from shared_metrics.testing.aws_emulator import AwsEmulator
with AwsEmulator() as aws:
    print(aws.endpoint_url, flush=True)
    sys.stdin.read()  # run until the parent closes our stdin
"""


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment plus its import path (for `python -c` children)."""
    stdlib = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
    paths = [p for p in sys.path if p and p not in stdlib and not p.endswith(".zip")]
    env = {**os.environ, **EMULATOR_ENV, "PYTHONPATH": os.pathsep.join(paths)}
    env.update(extra)
    return env


@contextlib.contextmanager
def emulator_process() -> Iterator[str]:
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(
            [sys.executable, "-c", EMULATOR_CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=child_env(),
            text=True,
        )
        try:
            assert child.stdout is not None
            url = child.stdout.readline().strip()
            if not url.startswith("http://"):
                log.seek(0)
                raise RuntimeError(f"the emulator did not start:\n{log.read().decode()[-2000:]}")
            yield url
        finally:
            assert child.stdin is not None
            child.stdin.close()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def reset_emulator(endpoint_url: str) -> None:
    request = urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


# -- cold start --------------------------------------------------------------------------

# The Lambda way: the sink comes from METRICS_SINK (emf for a, cloudwatch for b).
SHARED_METRICS_COLD = (
    """
    from shared_metrics import MetricSpec, Unit, emitter_from_env
    LATENCY = MetricSpec("AudioChunkLatency", Unit.MILLISECONDS, [[], ["SessionId"]])
    metrics = emitter_from_env("MetricsBenchmark")
    metrics.record(LATENCY, 12.5, {"SessionId": "conn-1"})
    """,
    "metrics.flush()",
)

# Each snippet: `init` = imports + emitter/logger + first record, then `flush`.
COLD_SNIPPETS = {
    "a": SHARED_METRICS_COLD,
    "b": SHARED_METRICS_COLD,
    "c": (
        """
        from aws_lambda_powertools import Metrics
        from aws_lambda_powertools.metrics import MetricUnit
        metrics = Metrics(namespace="MetricsBenchmark")
        metrics.add_dimensions(SessionId="conn-1")
        metrics.add_metric(name="AudioChunkLatency", unit=MetricUnit.Milliseconds, value=12.5)
        """,
        "metrics.flush_metrics()",
    ),
    "d": (
        """
        from aws_embedded_metrics.logger.metrics_logger_factory import create_metrics_logger
        metrics = create_metrics_logger()
        metrics.set_namespace("MetricsBenchmark")
        metrics.set_dimensions({}, {"SessionId": "conn-1"})
        metrics.put_metric("AudioChunkLatency", 12.5, "Milliseconds")
        """,
        "metrics.flush_sync()",
    ),
    "e": (
        """
        import boto3
        cloudwatch = boto3.client(
            "cloudwatch", endpoint_url=os.environ["METRICS_ENDPOINT_URL"], region_name="us-east-1"
        )
        pending = [{"MetricName": "AudioChunkLatency", "Value": 12.5, "Unit": "Milliseconds"}]
        """,
        'cloudwatch.put_metric_data(Namespace="MetricsBenchmark", MetricData=pending)',
    ),
}

COLD_TEMPLATE = """
import os, sys, time
t0 = time.perf_counter()
{init}
t1 = time.perf_counter()
boto3_after_record = "boto3" in sys.modules
{flush}
t2 = time.perf_counter()
print("@@cold", (t1 - t0) * 1e3, (t2 - t0) * 1e3, boto3_after_record, "boto3" in sys.modules,
      file=sys.stderr)
"""


@dataclass
class ColdStart:
    init_ms: float  # median: imports + emitter/logger + first record
    flush_ms: float  # median: the same plus the first flush
    best_init_ms: float  # the fastest run, a hint of how much of the median is machine load
    boto3_after_record: bool
    boto3_after_flush: bool


def cold_start(key: str, runs: int, pycache: str, endpoint_url: str | None) -> ColdStart:
    init, flush = COLD_SNIPPETS[key]
    code = COLD_TEMPLATE.format(init=textwrap.dedent(init).strip(), flush=flush)
    env = child_env(
        METRICS_SINK="cloudwatch" if key == "b" else "emf",
        METRICS_ENDPOINT_URL=endpoint_url or "",
        # Lambda runs compiled bytecode: compile once (the warm-up run) into a private cache.
        PYTHONPYCACHEPREFIX=pycache,
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    samples = []
    for _ in range(runs + 1):  # the first run compiles the bytecode and is not counted
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        line = next((x for x in done.stderr.splitlines() if x.startswith("@@cold ")), None)
        if done.returncode != 0 or line is None:
            raise RuntimeError(f"cold start of {key!r} failed:\n{done.stderr[-2000:]}")
        _, init_ms, flush_ms, after_record, after_flush = line.split()
        samples.append(
            (float(init_ms), float(flush_ms), after_record == "True", after_flush == "True")
        )
    counted = samples[1:]
    return ColdStart(
        init_ms=statistics.median(s[0] for s in counted),
        flush_ms=statistics.median(s[1] for s in counted),
        best_init_ms=min(s[0] for s in counted),
        boto3_after_record=any(s[2] for s in counted),
        boto3_after_flush=any(s[3] for s in counted),
    )


# -- the realistic workload --------------------------------------------------------------


@dataclass
class RealisticResult:
    replay: handler_replay.Replay
    runs: list[handler_replay.ReplayRun] = field(default_factory=list)
    bytes_per_invocation: dict[str, float] = field(default_factory=dict)
    datapoints: int = 0

    def us(self, function: str | None = None) -> float:
        """Median us per invocation, of one function or of the whole mix."""

        def per_invocation(run: handler_replay.ReplayRun) -> float:
            functions = [function] if function else list(run.seconds)
            seconds = sum(run.seconds[f] for f in functions)
            return seconds / sum(run.invocations[f] for f in functions) * 1e6

        return statistics.median(per_invocation(r) for r in self.runs)

    def bytes(self, workload: handler_replay.Workload, function: str | None = None) -> float:
        if function:
            return self.bytes_per_invocation[function]
        total = sum(self.bytes_per_invocation[f] * len(i) for f, i in workload.items())
        return total / sum(len(i) for i in workload.values())


def measure_realistic(
    workload: handler_replay.Workload, repeats: int, passes: int, started: float
) -> list[RealisticResult]:
    results = [RealisticResult(cls()) for cls in handler_replay.REPLAYS]
    expected = sum(handler_replay.expected_datapoints(i) for v in workload.values() for i in v)
    for result in results:
        replay = result.replay
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            replay.start(workload)
            handler_replay.run_workload(replay, workload, 1)
        result.datapoints = emf_datapoints(text.getvalue())
        replay.check()
        if result.datapoints != expected:
            raise RuntimeError(
                f"{replay.label}: {result.datapoints} datapoints published, {expected} expected"
            )
        for function, plans in replay.plans.items():
            with captured_stdout() as out:
                for plan in plans:
                    replay.invoke(function, plan)
            result.bytes_per_invocation[function] = out.chars / len(plans)
    for repeat in range(repeats):  # interleaved, as the synthetic runs
        progress(started, f"realistic workload, repeat {repeat + 1}")
        for result in results:
            with captured_stdout():
                result.replay.start(workload)
                handler_replay.run_workload(result.replay, workload, 1)  # warm-up
                gc.collect()
                result.runs.append(handler_replay.run_workload(result.replay, workload, passes))
    return results


def realistic_table(results: Sequence[RealisticResult], workload: handler_replay.Workload) -> str:
    functions = list(workload)
    ours = results[0]
    rows = []
    for r in results:
        rows.append(
            [
                f"{r.replay.key}) {r.replay.label}",
                *(f"{r.us(f):.1f}" for f in functions),
                f"{r.us():.1f}",
                f"{r.us() / ours.us():.1f}x",
                *(f"{r.bytes(workload, f):,.0f}" for f in functions),
                f"{r.bytes(workload):,.0f}",
                f"{r.bytes(workload) / ours.bytes(workload):.1f}x",
            ]
        )
    headers = [
        "contender",
        *(f"us {f}" for f in functions),
        "us/inv",
        "vs a)",
        *(f"B {f}" for f in functions),
        "B/inv",
        "vs a)",
    ]
    return table(headers, rows)


def zip_table(results: Sequence[zip_cold_start.HandlerColdStart]) -> str:
    rows = [
        [
            r.label,
            f"{r.zip_bytes:,}",
            f"{r.modules}",
            f"{r.no_bytecode.wall_ms:.1f}",
            f"{r.shipped.wall_ms:.1f}",
            f"{r.shipped.best_ms:.1f}",
            f"{r.shipped.wall_ms / r.no_bytecode.wall_ms:.2f}",
            f"{r.powertools.wall_ms:.1f}",
            f"{r.shipped.cpu_ms:.1f} / {r.no_bytecode.cpu_ms:.1f} / {r.powertools.cpu_ms:.1f}",
        ]
        for r in results
    ]
    headers = [
        "handler zip",
        "bytes",
        ".py",
        "no .pyc ms",
        "shipped ms",
        "(best)",
        "ratio",
        "powertools ms",
        "CPU ms: shipped / no .pyc / powertools",
    ]
    return table(headers, rows)


# -- profile -----------------------------------------------------------------------------


def profile_emf(invocations: Sequence[Invocation], warmup: Invocation, top: int) -> None:
    contender = SharedMetricsContender()
    with captured_stdout():
        contender.start()
        contender.record(warmup)
        contender.flush()
        profiler = cProfile.Profile()
        profiler.enable()
        run_invocations(contender, invocations)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print("\ncProfile of a) over", len(invocations), "invocations (cProfile inflates calls):")
    print(out.getvalue())


# -- report ------------------------------------------------------------------------------


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for dist in ("boto3", "moto", "aws-lambda-powertools", "aws-embedded-metrics"):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist} ?")
    return ", ".join(parts)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def name(m: Measurement) -> str:
    return f"{m.contender.key}) {m.contender.label}"


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def time_table(results: Sequence[Measurement]) -> str:
    ours = next((m for m in results if m.contender.key == "a"), None)
    rows = [
        [
            name(m),
            f"{m.invocations} x{m.repeats}",
            f"{m.us:.2f}",
            f"{min(r.seconds for r in m.runs) / m.samples * 1e6:.2f}",
            f"{m.us / ours.us:.1f}x" if ours else "-",
            "in record"
            if m.contender.sends_during_record
            else f"{m.median_us('flush_seconds'):.2f}",
            f"{m.median_us('cpu_seconds'):.2f}",
        ]
        for m in results
    ]
    headers = [
        "contender",
        "invocations",
        "us/sample",
        "(best)",
        "vs a)",
        "of it flush",
        "CPU us/sample",
    ]
    return table(headers, rows)


def output_table(results: Sequence[Measurement]) -> str:
    rows = [
        [
            name(m),
            f"{m.output_bytes_per_invocation:,.0f}" + (" EMF" if m.contender.uses_emf else " req"),
            f"{m.requests_per_invocation:g}",
            f"{m.runs[-1].requests:,}",
            f"{m.datapoints:,}",
            f"{m.memory_invocations}",
            f"{m.peak_bytes / 1024:,.0f}",
            f"{m.retained_bytes / 1024:,.0f}",
        ]
        for m in results
    ]
    headers = [
        "contender",
        "bytes/inv",
        "PutMetricData/inv",
        "total",
        "datapoints/inv",
        "mem: inv",
        "peak KiB",
        "retained KiB",
    ]
    return table(headers, rows)


TABLE_NOTES = f"""\
us/sample: median over the repeats of (record + flush) wall time / samples, (best): the
  fastest repeat, a hint of how much machine load is in the median; 'vs a)': us/sample
  divided by a)'s. 'of it flush': the part spent in the end-of-invocation flush (e) sends
  every 20 datums while recording). CPU us/sample: this process's CPU time only, so for b)
  and e) it leaves out the wait for the emulator. moto is slow with multi-value datums
  (tens of ms per request here) and says nothing about CloudWatch's latency: for b) and e)
  compare requests and CPU, not wall time.
bytes/inv: EMF characters written (ASCII JSON, so bytes), or PutMetricData body bytes on
  the wire (botocore's CBOR, gzipped from 10 KiB). total: PutMetricData requests, one run.
datapoints/inv: counted from the output of one invocation (a sample on two dimension sets
  is 2; expected {2 * SAMPLES_PER_INVOCATION:,}).
mem: a separate run under tracemalloc (after a warm-up, untraced) over 'mem: inv'
  invocations: the peak of what was allocated during it, and what is still held after it
  (what a warm Lambda container keeps growing by).
ref) is not a library: a function call and list.append per sample plus one json encode per
  flush, what any Python EMF writer must do at least; it is not a contender in the targets."""


def cold_table(results: Sequence[Measurement]) -> str:
    rows = [
        [
            name(m),
            f"{m.cold.init_ms:.1f}",
            f"{m.cold.best_init_ms:.1f}",
            f"{m.cold.flush_ms:.1f}",
            yes_no(m.cold.boto3_after_record),
            yes_no(m.cold.boto3_after_flush),
        ]
        for m in results
        if m.cold
    ]
    headers = [
        "contender",
        "import+init+1st record ms",
        "(best)",
        "... +1st flush ms",
        "boto3 after record",
        "boto3 after flush",
    ]
    return table(headers, rows)


def targets(
    results: Sequence[Measurement],
    realistic: Sequence[RealisticResult] = (),
    workload: handler_replay.Workload | None = None,
    zips: Sequence[zip_cold_start.HandlerColdStart] = (),
) -> list[str]:
    by_key = {m.contender.key: m for m in results}
    ours = by_key.get("a")
    if ours is None:
        return ["  (a) was not run: no targets to check)"]
    lines = []

    def verdict(ok: bool, text: str) -> None:
        lines.append(f"  {'PASS' if ok else 'MISS'}  {text}")

    floor = by_key.get("ref")
    reach = ""
    if floor and floor.us > TARGET_US_PER_SAMPLE:
        reach = (
            f"; out of reach on this CPython: the no-library floor ref) alone takes "
            f"{floor.us:.2f} us = {floor.us / TARGET_US_PER_SAMPLE:.2f}x the budget, and a) is "
            f"{ours.us / floor.us:.2f}x the floor"
        )
    verdict(
        ours.us <= TARGET_US_PER_SAMPLE,
        f"bound-series EMF path <= {TARGET_US_PER_SAMPLE:g} us/sample incl. flush: "
        f"{ours.us:.2f} us = {ours.us / TARGET_US_PER_SAMPLE:.2f}x the budget "
        f"(CPU time: {ours.median_us('cpu_seconds'):.2f} us){reach}",
    )
    libraries = [by_key[k] for k in ("c", "d") if k in by_key]
    if libraries:
        fastest = min(libraries, key=lambda m: m.us)
        speedup = fastest.us / ours.us
        cpu_speedup = fastest.median_us("cpu_seconds") / ours.median_us("cpu_seconds")
        text = (
            f">= {TARGET_SPEEDUP_OVER_OTHER_LIBRARIES:g}x faster than the fastest other library "
            f"({fastest.contender.label}, {fastest.us:.2f} us): {speedup:.2f}x "
            f"(CPU time: {cpu_speedup:.2f}x"
        )
        if floor:
            text += f"; even the no-library floor ref) is only {fastest.us / floor.us:.2f}x"
        verdict(speedup >= TARGET_SPEEDUP_OVER_OTHER_LIBRARIES, text + ")")
    if "b" in by_key and "e" in by_key:
        b, e = by_key["b"], by_key["e"]
        fewer = e.requests_per_invocation / b.requests_per_invocation
        verdict(
            fewer >= TARGET_FEWER_REQUESTS_THAN_NAIVE,
            f">= {TARGET_FEWER_REQUESTS_THAN_NAIVE:g}x fewer PutMetricData requests than batches "
            f"of 20: {e.requests_per_invocation:g} vs {b.requests_per_invocation:g} per "
            f"invocation = {fewer:.0f}x",
        )
    if ours.cold:
        cold = ours.cold
        verdict(
            cold.init_ms <= TARGET_COLD_START_MS and not cold.boto3_after_flush,
            f"cold start with the EMF sink <= {TARGET_COLD_START_MS:g} ms, boto3 not imported: "
            f"{cold.init_ms:.1f} ms = {cold.init_ms / TARGET_COLD_START_MS:.2f}x the budget "
            f"({cold.flush_ms:.1f} ms with the 1st flush); boto3 imported: "
            f"{yes_no(cold.boto3_after_flush)}",
        )
    if realistic and workload:
        mine, others = realistic[0], realistic[1:]
        quickest = min(others, key=lambda other: other.us())
        leanest = min(others, key=lambda other: other.bytes(workload))
        verdict(
            quickest.us() / mine.us() >= TARGET_REALISTIC_ADVANTAGE,
            f"realistic workload >= {TARGET_REALISTIC_ADVANTAGE:g}x less time per invocation "
            f"than the best other library ({quickest.replay.label}, {quickest.us():.1f} us): "
            f"{mine.us():.1f} us = {quickest.us() / mine.us():.2f}x",
        )
        verdict(
            leanest.bytes(workload) / mine.bytes(workload) >= TARGET_REALISTIC_ADVANTAGE,
            f"realistic workload >= {TARGET_REALISTIC_ADVANTAGE:g}x fewer EMF bytes per "
            f"invocation than the best other library ({leanest.replay.label}, "
            f"{leanest.bytes(workload):,.0f} B): {mine.bytes(workload):,.0f} B = "
            f"{leanest.bytes(workload) / mine.bytes(workload):.2f}x",
        )
    for z in zips:
        ratio = z.shipped.wall_ms / z.no_bytecode.wall_ms
        verdict(
            ratio <= TARGET_ZIP_IMPORT_FRACTION and z.shipped.wall_ms < z.powertools.wall_ms,
            f"{z.label} zip import <= {TARGET_ZIP_IMPORT_FRACTION:g}x of it without bytecode "
            f"and below powertools: {z.shipped.wall_ms:.1f} ms = {ratio:.2f}x of "
            f"{z.no_bytecode.wall_ms:.1f} ms; powertools {z.powertools.wall_ms:.1f} ms "
            f"({z.powertools.wall_ms / z.shipped.wall_ms:.2f}x ours)",
        )
    return lines


def print_report(
    results: Sequence[Measurement],
    cold_runs: int,
    realistic: Sequence[RealisticResult] = (),
    workload: handler_replay.Workload | None = None,
    zips: Sequence[zip_cold_start.HandlerColdStart] = (),
    zip_runs: int = 0,
) -> None:
    print(time_table(results))
    print()
    print(output_table(results))
    print(TABLE_NOTES)
    if any(m.cold for m in results):
        print(
            f"\nCold start: a fresh `python -c` per run; median of {cold_runs} runs after one "
            "warm-up run that\ncompiles the bytecode (PYTHONDONTWRITEBYTECODE unset, "
            "PYTHONPYCACHEPREFIX = a temp dir),\nas Lambda zips normally run from compiled .pyc. "
            "Interpreter startup is not included.\nThe snippets: COLD_SNIPPETS in this file."
        )
        print(cold_table(results))
    if realistic and workload:
        counts = ", ".join(f"{f} {len(i)}" for f, i in workload.items())
        print(
            f"\nRealistic workload: each real handler invocation's metrics ({counts} "
            "invocations, captured\nby local_run.handler_workload), replayed per contender as "
            "handler_replay.py describes;\nus per invocation (median of the repeats) incl. the "
            "flush, and EMF bytes written per invocation."
        )
        print(realistic_table(realistic, workload))
    if zips:
        print(
            f"\nHandler zips, cold: import of lambda_function in a fresh `python -I -B` after "
            f"awslambdaric's bootstrap,\nfrom a read-only copy; median of {zip_runs} runs "
            "(zip_cold_start.py describes the variants)."
        )
        print(zip_table(zips))
    print("\nTargets")
    print("\n".join(targets(results, realistic, workload, zips)))


# -- main --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--invocations", type=int, default=100, help="per timing run")
    parser.add_argument("--repeats", type=int, default=5, help="timing runs per contender")
    parser.add_argument(
        "--network-invocations", type=int, default=10, help="per timing run of b) and e)"
    )
    parser.add_argument("--network-repeats", type=int, default=3, help="timing runs of b), e)")
    parser.add_argument("--memory-invocations", type=int, default=20, help="in the tracemalloc run")
    parser.add_argument(
        "--network-memory-invocations", type=int, default=3, help="in b), e)'s tracemalloc run"
    )
    parser.add_argument("--cold-runs", type=int, default=5, help="cold starts per contender")
    parser.add_argument("--no-network", action="store_true", help="skip b) and e)")
    parser.add_argument("--workload-repeats", type=int, default=9, help="realistic workload runs")
    parser.add_argument(
        "--workload-passes", type=int, default=6, help="passes over the workload per run"
    )
    parser.add_argument(
        "--zip-runs", type=int, default=15, help="cold imports per handler zip and variant"
    )
    parser.add_argument(
        "--dist", default="dist", help="where `./pants package ::` wrote the handler zips"
    )
    parser.add_argument("--profile", action="store_true", help="also cProfile a)")
    return parser.parse_args(argv)


def progress(started: float, message: str) -> None:
    print(f"[{time.perf_counter() - started:5.1f} s] {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    # Lambda's environment: aws-embedded-metrics picks its stdout sink from this variable.
    os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", "metrics-benchmark")
    for key, value in EMULATOR_ENV.items():
        os.environ.setdefault(key, value)
    rng = random.Random(SEED)
    invocations = make_invocations(args.invocations, rng)
    warmup = make_invocations(1, rng, prefix="warmup")[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"shared-metrics benchmark: CPython {platform.python_version()}, {os.cpu_count()} CPUs "
        f"(load average {load}), {versions()}\n"
        f"workload: {len(METRIC_NAMES)} specs x dimension sets [[], [SessionId]]; an "
        f"invocation = {SAMPLES_PER_INVOCATION:,} samples (lognormal ms,\nfull precision) "
        "for one session, then a flush. Repeats interleaved across contenders.\n"
    )
    with contextlib.ExitStack() as stack:
        endpoint = None if args.no_network else stack.enter_context(emulator_process())
        contenders: list[Contender] = [
            SharedMetricsContender(),
            SharedMetricsContender(by_lookup=True),
        ]
        if endpoint:
            contenders.append(SharedMetricsContender(endpoint))
        contenders += [PowertoolsContender(), EmbeddedMetricsContender()]
        if endpoint:
            contenders.append(NaiveBoto3Contender(endpoint))
        contenders.append(FloorReference())
        results = [
            Measurement(c, args.network_invocations, args.network_repeats)
            if c.networked
            else Measurement(c, args.invocations, args.repeats)
            for c in contenders
        ]
        # Interleaved, so background load hits every contender alike and the ratios hold.
        for repeat in range(max(m.repeats for m in results)):
            progress(started, f"timing, repeat {repeat + 1}")
            for m in results:
                if repeat < m.repeats:
                    if endpoint and m.contender.networked:
                        reset_emulator(endpoint)
                    m.runs.append(timing_run(m.contender, invocations[: m.invocations], warmup))
        progress(started, "datapoints and peak memory")
        for m in results:
            m.datapoints = datapoints_per_invocation(m.contender, invocations[0])
            m.memory_invocations = min(
                m.invocations,
                args.network_memory_invocations
                if m.contender.networked
                else args.memory_invocations,
            )
            m.peak_bytes, m.retained_bytes = memory_use(
                m.contender, invocations[: m.memory_invocations], warmup
            )
        progress(started, "cold starts")
        with tempfile.TemporaryDirectory(prefix="metrics-benchmark-pyc-") as pycache:
            for m in results:
                if m.contender.key in COLD_SNIPPETS:
                    m.cold = cold_start(m.contender.key, args.cold_runs, pycache, endpoint)
        workload = handler_replay.load_workload()
        realistic = measure_realistic(
            workload, args.workload_repeats, args.workload_passes, started
        )
        progress(started, "handler zips, cold")
        try:
            zips = zip_cold_start.measure(Path(args.dist), Path.cwd(), args.zip_runs)
        except zip_cold_start.ZipMissing as exc:
            print(f"handler zips skipped: {exc}", file=sys.stderr)
            zips = []
        progress(started, "done")
    print_report(results, args.cold_runs, realistic, workload, zips, args.zip_runs)
    if args.profile:
        profile_emf(invocations, warmup, top=25)
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
