"""The defaults the README promises (its Configuration table), as literals: a changed default
fails here until the README says so too."""

from __future__ import annotations

from shared_metrics import emitter_from_env, limits
from shared_metrics.config import sink_from_env
from shared_metrics.sinks.cloudwatch import CloudWatchSink
from shared_metrics.sinks.emf import EmfSink


def test_the_default_sink_is_emf_to_stdout() -> None:
    assert isinstance(sink_from_env({}), EmfSink)


def test_a_putmetricdata_flush_may_take_3_seconds() -> None:
    sink = sink_from_env({"METRICS_SINK": "cloudwatch"})
    assert isinstance(sink, CloudWatchSink)
    assert sink.budget_seconds == 3


def test_at_most_100000_distinct_values_are_buffered() -> None:
    emitter = emitter_from_env("Test/Defaults", environ={"METRICS_SINK": "off"})
    assert emitter.max_buffered_values == 100_000
    assert emitter.strict is False


def test_the_deadline_flush_comes_500_ms_before_the_deadline() -> None:
    assert limits.DEADLINE_FLUSH_MARGIN_MS == 500
