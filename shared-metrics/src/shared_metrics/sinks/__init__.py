"""Where flushed metrics go: `emf`, `cloudwatch`, `memory` (and `NullSink` for off).

Each sink implements `base.MetricSink`; `shared_metrics.config` picks one. Import the sink
module you need: this package imports none of them, so the EMF path never loads the others.
"""
