"""The protocol every sink implements, and what a publish reports back."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Protocol

    from shared_metrics.series import SeriesBatch

    class MetricSink(Protocol):
        name: str
        # How many distinct buffered values make a full publish: the emitter flushes on its
        # own once it holds that many.
        preferred_batch_values: int

        def publish(
            self,
            namespace: str,
            batches: Sequence[SeriesBatch],
            properties: Mapping[str, object],
        ) -> PublishResult: ...


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
