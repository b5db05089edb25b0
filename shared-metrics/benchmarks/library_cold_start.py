"""The libraries' cold start: import + init + first record, then the first flush, each in a
fresh `python -c` run from compiled bytecode (the snippets: COLD_SNIPPETS)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import textwrap
from dataclasses import dataclass

from emulator_process import child_env

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
