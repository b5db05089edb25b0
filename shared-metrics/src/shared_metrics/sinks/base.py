"""`MetricSink`, the base every sink extends, and what a publish reports back.

A sink receives one flush at a time: the emitter's namespace, the buffered series batches and
the log properties, and answers with a `PublishResult` accounting for every datapoint. Write a
new sink by subclassing `MetricSink` (see `memory.MemorySink` for the smallest one).
"""

from __future__ import annotations

# abc is loaded at interpreter start-up (io uses it): no import cost on a Lambda cold start.
from abc import ABC, abstractmethod

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from shared_metrics.series import SeriesBatch


class MetricSink(ABC):
    """Where an emitter's flushes go. Subclasses set `name` and `preferred_batch_values`.

    `publish` may fail by raising or by returning datapoints as undelivered: the emitter keeps
    those for the next flush either way, and never lets the failure reach a handler.
    """

    # Names the sink in logs and stats ("emf", "cloudwatch", ...).
    name: str
    # How many distinct buffered values make a full publish: the emitter flushes on its own
    # once it holds that many.
    preferred_batch_values: int

    @abstractmethod
    def publish(
        self,
        namespace: str,
        batches: Sequence[SeriesBatch],
        properties: Mapping[str, object],
    ) -> PublishResult:
        """Deliver ``batches`` under ``namespace``; account for every datapoint."""


class Discard:
    """Datapoints a sink gave up on for good (retrying could not help), and why."""

    __slots__ = ("reason", "datapoints", "message")

    def __init__(self, reason: str, datapoints: int, message: str) -> None:
        self.reason = reason
        self.datapoints = datapoints
        self.message = message

    def __repr__(self) -> str:
        return f"Discard({self.reason!r}, {self.datapoints}, {self.message!r})"


class PublishResult:
    """Accounting of one publish, in datapoints (a sample on one dimension set).

    Every datapoint handed to `publish` is exactly one of: delivered, undelivered (returned
    for the next flush) or discarded (with a reason).
    """

    __slots__ = ("delivered", "undelivered", "discarded", "failures", "failure_message")

    def __init__(
        self,
        delivered: int = 0,
        undelivered: list[SeriesBatch] | None = None,
        discarded: list[Discard] | None = None,
        failures: int = 0,
        failure_message: str = "",
    ) -> None:
        self.delivered = delivered
        self.undelivered = undelivered if undelivered is not None else []
        self.discarded = discarded if discarded is not None else []
        self.failures = failures  # failed attempts (requests or writes), retried or not
        self.failure_message = failure_message

    def __repr__(self) -> str:
        return (
            f"PublishResult(delivered={self.delivered}, undelivered="
            f"{total_datapoints(self.undelivered)}, discarded={self.discarded!r}, "
            f"failures={self.failures})"
        )


def total_datapoints(batches: Sequence[SeriesBatch]) -> int:
    # Unpacked rather than through the properties: this runs on every flush.
    return sum(sum(values.values()) * series.weight for _, series, values in batches)
