"""The synthetic workload, shaped like a Lambda function, and the names it publishes under.

10 metric specs, each published to two dimension sets ([] and [SessionId]); an invocation
records 1,000 samples (lognormal latency-like floats, full precision, so no two values
aggregate) spread at random over the specs, for one session, then flushes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from shared_metrics.testing.aws_emulator import EMULATOR_ENV

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
