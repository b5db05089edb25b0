"""Where flushed metrics go: `emf`, `cloudwatch`, `memory` (and `NullSink` for off).

Each sink extends `base.MetricSink` (also importable from here, with `PublishResult` and
`Discard`, to write one of your own); `shared_metrics.config` picks one from the environment.
Import the sink module you need: this package imports none of them, so the EMF path never
loads the others.
"""

from shared_metrics.sinks.base import Discard, MetricSink, PublishResult

__all__ = ["Discard", "MetricSink", "PublishResult"]
