"""The buffer and emitter as a state machine: record, flush, sink failures, clock, eviction.

Delivered data is read back from the real EMF sink's output, so "delivered" means "valid
EMF that CloudWatch Logs would extract", not a counter the code under test keeps itself. The
model keys each datapoint by what CloudWatch would store it under: metric, dimension set with
its values, the timestamp of its time bucket (the minute, or the second for high resolution)
and the value; a value delivered under the wrong dimensions or in the wrong minute fails.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from shared_metrics import BoundSeries, MetricsEmitter, MetricSpec, Unit
from shared_metrics.series import SeriesBatch
from shared_metrics.sinks.base import MetricSink, PublishResult
from shared_metrics.sinks.emf import EmfSink
from shared_metrics.testing.emf_reader import parse_event

NAMESPACE = "Test/StateMachine"
SPECS = [
    MetricSpec("Latency", Unit.MILLISECONDS, [[], ["SessionId"]]),
    MetricSpec("Chunks", Unit.COUNT, [[]]),
    MetricSpec("Bytes", Unit.BYTES, [["Reason"]], storage_resolution=1),
]
SESSIONS = ["s1", "s2", "s3"]
REASONS = ["TooLarge", "Garbled"]
CAP = 24
THRESHOLD = 10


class FlakyEmfSink(MetricSink):
    """The real EMF sink behind a switch: ok, fail (nothing written) or partial."""

    name = "flaky-emf"
    preferred_batch_values = THRESHOLD

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.emf = EmfSink(self.stream)
        self.mode = "ok"

    def publish(
        self, namespace: str, batches: Sequence[SeriesBatch], properties: Mapping[str, object]
    ) -> PublishResult:
        if self.mode == "fail":
            return PublishResult(undelivered=list(batches), failures=1, failure_message="down")
        if self.mode == "partial":
            sent, kept = list(batches[::2]), list(batches[1::2])
            result = self.emf.publish(namespace, sent, properties)
            result.undelivered.extend(kept)
            result.failures += 1 if kept else 0
            return result
        return self.emf.publish(namespace, batches, properties)


def dims_for(spec: MetricSpec, session: str, reason: str) -> dict[str, str]:
    given = {"SessionId": session, "Reason": reason}
    return {k: given[k] for k in spec.dimension_keys}


# (metric, ((dimension, value), ...) of one dimension set, timestamp in ms, value)
Datapoint = tuple[str, tuple[tuple[str, str], ...], int, float]


def datapoints_of(
    spec: MetricSpec, dims: Mapping[str, str], now: float, value: float
) -> list[Datapoint]:
    """What one recorded value must become: one datapoint per dimension set, stamped with the
    start of its time bucket (EMF timestamps are epoch milliseconds)."""
    second = int(now)
    bucket = second - second % spec.storage_resolution
    return [
        (spec.name, tuple((k, dims[k]) for k in dimension_set), bucket * 1000, float(value))
        for dimension_set in spec.dimension_sets
    ]


class EmitterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 1_800_000_000.0
        self.sink = FlakyEmfSink()
        self.emitter = MetricsEmitter(
            NAMESPACE,
            self.sink,
            max_buffered_values=CAP,
            flush_threshold=THRESHOLD,
            clock=lambda: self.now,
            flush_at_exit=False,
        )
        # Model: accepted datapoints, and rejections.
        self.accepted: Counter[Datapoint] = Counter()
        self.rejected = 0
        # Bound series the "caller" holds, by (spec name, session, reason).
        self.bound: dict[tuple[str, str, str], BoundSeries] = {}

    @rule(
        spec=st.sampled_from(SPECS),
        value=st.one_of(st.integers(0, 5), st.floats(0, 1e6, allow_nan=False)),
        session=st.sampled_from(SESSIONS),
        reason=st.sampled_from(REASONS),
        keep=st.booleans(),
    )
    def record_bound(
        self, spec: MetricSpec, value: float, session: str, reason: str, keep: bool
    ) -> None:
        """The fast path: a series bound once, kept by the caller or dropped at once (its
        samples must still be flushed)."""
        dims = dims_for(spec, session, reason)
        key = (spec.name, session, reason)
        series = self.bound.get(key)
        if series is None:
            bound = self.emitter.series(spec, dims)
            assert isinstance(bound, BoundSeries)
            series = bound
        assert series.record(value)
        self.accepted.update(datapoints_of(spec, dims, self.now, value))
        if keep:
            self.bound[key] = series
        else:
            self.bound.pop(key, None)

    @rule(spec=st.sampled_from(SPECS), start=st.integers(0, 10_000), n=st.integers(1, 300))
    def record_bound_burst(self, spec: MetricSpec, start: int, n: int) -> None:
        # More than a hand-over's worth at once, so samples move to the buffer mid-burst.
        dims = dims_for(spec, "s2", "Garbled")
        series = self.emitter.series(spec, dims)
        for i in range(n):
            value = float(start + i % 50)
            assert series.count(value)
            self.accepted.update(datapoints_of(spec, dims, self.now, value))

    @rule(
        spec=st.sampled_from(SPECS),
        value=st.one_of(st.integers(0, 5), st.floats(0, 1e6, allow_nan=False)),
        session=st.sampled_from(SESSIONS),
        reason=st.sampled_from(REASONS),
    )
    def record(self, spec: MetricSpec, value: float, session: str, reason: str) -> None:
        dims = dims_for(spec, session, reason)
        assert self.emitter.record(spec, value, dims)
        self.accepted.update(datapoints_of(spec, dims, self.now, value))

    @rule(spec=st.sampled_from(SPECS), start=st.integers(0, 10_000), n=st.integers(1, 40))
    def record_burst(self, spec: MetricSpec, start: int, n: int) -> None:
        # Many distinct values at once: what fills the buffer while the sink is down.
        for i in range(n):
            value = float(start + i)
            dims = dims_for(spec, SESSIONS[i % 3], "TooLarge")
            assert self.emitter.record(spec, value, dims)
            self.accepted.update(datapoints_of(spec, dims, self.now, value))

    @rule(spec=st.sampled_from(SPECS), bad=st.sampled_from(["nan", "inf", "str", "dims"]))
    def record_invalid(self, spec: MetricSpec, bad: str) -> None:
        value: object = {"nan": float("nan"), "inf": float("inf"), "str": "12"}.get(bad, 1.0)
        dims: dict[str, object] = dict(dims_for(spec, "s1", "Garbled"))
        if bad == "dims":
            dims["Unexpected"] = "x"
        assert not self.emitter.record(spec, value, dims)  # type: ignore[arg-type]
        self.rejected += 1

    @rule()
    def flush(self) -> None:
        self.emitter.flush()

    @rule(mode=st.sampled_from(["ok", "fail", "partial"]))
    def set_sink_mode(self, mode: str) -> None:
        self.sink.mode = mode

    @rule(seconds=st.sampled_from([0.5, 1, 30, 61, 59.5]))
    def advance_clock(self, seconds: float) -> None:
        self.now += seconds

    def delivered(self) -> Counter[Datapoint]:
        """Every datapoint in the EMF output, each line checked against the specification."""
        out: Counter[Datapoint] = Counter()
        for line in self.sink.stream.getvalue().splitlines():
            doc = parse_event(line)
            ts = doc["_aws"]["Timestamp"]
            for directive in doc["_aws"]["CloudWatchMetrics"]:
                assert directive["Namespace"] == NAMESPACE
                for definition in directive["Metrics"]:
                    name = definition["Name"]
                    for dimension_set in directive["Dimensions"]:
                        dims = tuple((k, doc[k]) for k in dimension_set)
                        for value in doc[name]:
                            out[(name, dims, ts, float(value))] += 1
        return out

    @invariant()
    def conservation(self) -> None:
        stats = self.emitter.stats()
        assert stats.datapoints == sum(self.accepted.values())
        assert stats.datapoints == stats.delivered + stats.dropped_total + stats.buffered
        assert stats.rejected_total == self.rejected

    @invariant()
    def bounded(self) -> None:
        assert self.emitter.buffered_values <= CAP

    @invariant()
    def delivered_at_most_once(self) -> None:
        delivered = self.delivered()
        assert sum(delivered.values()) == self.emitter.stats().delivered
        for key, count in delivered.items():
            assert count <= self.accepted[key], (
                f"{key} delivered {count}x, accepted {self.accepted[key]}x"
            )

    def teardown(self) -> None:
        # With a healthy sink, one flush delivers everything still buffered; then every
        # accepted datapoint was delivered exactly once or counted as dropped.
        self.sink.mode = "ok"
        self.emitter.flush()
        stats = self.emitter.stats()
        assert stats.buffered == 0
        delivered = self.delivered()
        if stats.dropped_total == 0:
            assert delivered == self.accepted
        else:
            lost = sum((self.accepted - delivered).values())
            assert lost == stats.dropped_total


TestEmitterMachine = EmitterMachine.TestCase
TestEmitterMachine.settings = settings(max_examples=60, stateful_step_count=80, deadline=None)
