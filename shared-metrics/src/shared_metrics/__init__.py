"""Buffered, validated, thread-safe CloudWatch metrics for Lambda functions.

from shared_metrics import MetricSpec, MetricsEmitter, Unit

LATENCY = MetricSpec("AudioProcessingLatency", Unit.MILLISECONDS, [[], ["SessionId"]])
metrics = emitter_from_env("AudioTranscription/WebSocket")

@metrics.lambda_handler
def handler(event, context):
    with metrics.timer(LATENCY, {"SessionId": session_id}):
        ...
"""

from shared_metrics.bound_series import BoundSeries, RejectedSeries
from shared_metrics.config import emitter_from_env, sink_from_env
from shared_metrics.emitter import EmitterStats, MetricsEmitter
from shared_metrics.spec import MetricSpec, MetricSpecError, Unit
from shared_metrics.timing import Timer
from shared_metrics.validation import MetricValidationError, Rejection

__all__ = [
    "BoundSeries",
    "EmitterStats",
    "MetricSpec",
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
