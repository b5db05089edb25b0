"""Buffered, validated, thread-safe CloudWatch metrics for Lambda functions.

from shared_metrics import MetricSpec, Unit, emitter_from_env

LATENCY = MetricSpec("AudioProcessingLatency", Unit.MILLISECONDS)
DROPPED = MetricSpec("AudioChunksDropped", Unit.COUNT, [[], ["Reason"]])
metrics = emitter_from_env("AudioTranscription/WebSocket")  # sink and options from the env
too_large = metrics.series(DROPPED, {"Reason": "TooLarge"})  # bound once: the fast path

@metrics.lambda_handler
def handler(event, context):
    with metrics.timer(LATENCY):
        ...
    too_large.count()

Session ids belong in log properties (`metrics.set_property`), never in dimensions: each
dimension value is a billed custom metric. A sink of your own extends `MetricSink`.
"""

from shared_metrics.bound_series import BoundSeries, RejectedSeries
from shared_metrics.config import emitter_from_env, sink_from_env
from shared_metrics.emitter import MetricsEmitter
from shared_metrics.sinks.base import MetricSink
from shared_metrics.spec import MetricSpec, MetricSpecError, Unit
from shared_metrics.stats import EmitterStats
from shared_metrics.timing import Timer
from shared_metrics.validation import MetricValidationError, Rejection

__all__ = [
    "BoundSeries",
    "EmitterStats",
    "MetricSpec",
    "MetricSink",
    "MetricSpecError",
    "MetricValidationError",
    "MetricsEmitter",
    "Rejection",
    "RejectedSeries",
    "Timer",
    "Unit",
    "emitter_from_env",
    "sink_from_env",
]
