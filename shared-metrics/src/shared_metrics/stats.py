"""`EmitterStats`: what an emitter has accepted, rejected, delivered and dropped."""

from __future__ import annotations


class EmitterStats:
    """Counters since the emitter was created.

    ``accepted``/``rejected`` count samples (calls to `record`). Delivery is counted in
    datapoints: a sample published to two dimension sets is two datapoints. At any moment
    ``datapoints == delivered + sum(dropped.values()) + buffered``.
    """

    __slots__ = (
        "accepted",
        "rejected",
        "datapoints",
        "delivered",
        "dropped",
        "buffered",
        "publish_failures",
        "flushes",
        "deadline_flushes",
    )

    def __init__(
        self,
        accepted: int,
        rejected: dict[str, int],
        datapoints: int,
        delivered: int,
        dropped: dict[str, int],
        buffered: int,
        publish_failures: int,
        flushes: int,
        deadline_flushes: int = 0,
    ) -> None:
        self.accepted = accepted
        self.rejected = rejected
        self.datapoints = datapoints
        self.delivered = delivered
        self.dropped = dropped
        self.buffered = buffered
        self.publish_failures = publish_failures
        self.flushes = flushes
        # Invocations that neared their deadline: flushed early, probably about to time out.
        self.deadline_flushes = deadline_flushes

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        return f"EmitterStats({self.as_dict()!r})"
