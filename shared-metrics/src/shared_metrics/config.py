"""Configuration from environment variables, the way Lambda functions are configured.

| variable                       | meaning                                             | default |
|--------------------------------|-----------------------------------------------------|---------|
| METRICS_SINK                   | emf, cloudwatch, memory or off                      | emf     |
| METRICS_NAMESPACE              | namespace for `emitter_from_env` (overrides code)   | -       |
| METRICS_ENDPOINT_URL           | CloudWatch endpoint (an emulator, LocalStack)       | AWS     |
| METRICS_FLUSH_BUDGET_SECONDS   | time one PutMetricData flush may take, retries incl.| 3       |
| METRICS_MAX_BUFFERED_VALUES    | distinct values held before the oldest are dropped  | 100000  |
| METRICS_STRICT                 | 1/true: raise on rejected values (tests)            | false   |

A bad value is logged and the default used: configuration of metrics must not stop a
Lambda function from starting.
"""

from __future__ import annotations

import os

from shared_metrics import diagnostics
from shared_metrics.emitter import DEFAULT_MAX_BUFFERED_VALUES, MetricsEmitter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from shared_metrics.sinks.base import MetricSink

SINKS = ("emf", "cloudwatch", "memory", "off")


def sink_from_env(environ: Mapping[str, str] | None = None) -> MetricSink:
    env = os.environ if environ is None else environ
    kind = env.get("METRICS_SINK", "emf").strip().lower() or "emf"
    if kind not in SINKS:
        diagnostics.error(f"METRICS_SINK={kind!r} is not one of {', '.join(SINKS)}; using emf")
        kind = "emf"
    if kind == "cloudwatch":
        from shared_metrics.sinks.cloudwatch import CloudWatchSink

        return CloudWatchSink(
            endpoint_url=env.get("METRICS_ENDPOINT_URL") or None,
            budget_seconds=_number(env, "METRICS_FLUSH_BUDGET_SECONDS", 3.0),
        )
    if kind == "memory":
        from shared_metrics.sinks.memory import MemorySink

        return MemorySink()
    if kind == "off":
        from shared_metrics.sinks.memory import NullSink

        return NullSink()
    from shared_metrics.sinks.emf import EmfSink

    return EmfSink()


def emitter_from_env(
    namespace: str,
    default_dimensions: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> MetricsEmitter:
    """An emitter configured by the environment variables above."""
    env = os.environ if environ is None else environ
    return MetricsEmitter(
        env.get("METRICS_NAMESPACE") or namespace,
        sink_from_env(env),
        default_dimensions,
        strict=env.get("METRICS_STRICT", "").strip().lower() in ("1", "true", "yes"),
        max_buffered_values=int(
            _number(env, "METRICS_MAX_BUFFERED_VALUES", DEFAULT_MAX_BUFFERED_VALUES)
        ),
    )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        diagnostics.error(f"{name}={raw!r} must be a positive number; using {default}")
        return default
    return value
