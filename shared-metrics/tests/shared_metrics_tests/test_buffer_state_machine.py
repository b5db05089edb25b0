"""The buffer and emitter as a state machine: record, flush, sink failures, clock, eviction.

Delivered data is read back from the real EMF sink's output, so "delivered" means "valid
EMF that CloudWatch Logs would extract", not a counter the code under test keeps itself.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from shared_metrics import MetricsEmitter, MetricSpec, Unit
from shared_metrics.series import SeriesBatch
from shared_metrics.sinks.base import PublishResult
from shared_metrics.sinks.emf import EmfSink
from shared_metrics.testing.emf_reader import read_datapoints

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


class FlakyEmfSink:
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
        # Model: datapoints accepted per (metric, value), and rejections.
        self.accepted: Counter[tuple[str, float]] = Counter()
        self.rejected = 0

    @rule(
        spec=st.sampled_from(SPECS),
        value=st.one_of(st.integers(0, 5), st.floats(0, 1e6, allow_nan=False)),
        session=st.sampled_from(SESSIONS),
        reason=st.sampled_from(REASONS),
    )
    def record(self, spec: MetricSpec, value: float, session: str, reason: str) -> None:
        assert self.emitter.record(spec, value, dims_for(spec, session, reason))
        self.accepted[(spec.name, float(value))] += len(spec.dimension_sets)

    @rule(spec=st.sampled_from(SPECS), start=st.integers(0, 10_000), n=st.integers(1, 40))
    def record_burst(self, spec: MetricSpec, start: int, n: int) -> None:
        # Many distinct values at once: what fills the buffer while the sink is down.
        for i in range(n):
            value = float(start + i)
            assert self.emitter.record(spec, value, dims_for(spec, SESSIONS[i % 3], "TooLarge"))
            self.accepted[(spec.name, value)] += len(spec.dimension_sets)

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

    @rule(seconds=st.sampled_from([0.5, 1, 30, 61]))
    def advance_clock(self, seconds: float) -> None:
        self.now += seconds

    def delivered(self) -> Counter[tuple[str, float]]:
        out: Counter[tuple[str, float]] = Counter()
        lines = self.sink.stream.getvalue().splitlines()
        for (_ns, name, _dims), values in read_datapoints(lines).items():
            for value, count in values.items():
                out[(name, float(value))] += count
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
