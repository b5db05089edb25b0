"""What the buffer holds and the sinks publish: values aggregated per series and time bucket."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from shared_metrics.spec import MetricSpec


class Series:
    """A metric with concrete dimension values, and the dimension sets it is published to.

    Instances are interned by the emitter, so they hash by identity (the fastest hash there
    is, and this is the hot path). Two instances with the same content can still meet in one
    flush (after a cache reset, or a sink's leftovers); sinks merge them by name, dimension
    values and sets.
    """

    __slots__ = ("spec", "dimensions", "dimension_sets", "weight")

    def __init__(
        self,
        spec: MetricSpec,
        dimensions: tuple[tuple[str, str], ...],
        dimension_sets: tuple[tuple[str, ...], ...],
    ) -> None:
        self.spec = spec
        self.dimensions = dimensions
        self.dimension_sets = dimension_sets
        # A sample becomes one datapoint per dimension set: the unit of delivery accounting.
        self.weight = len(dimension_sets)

    def project(self, dimension_set: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        """The (name, value) pairs of one dimension set, in the set's order."""
        values = dict(self.dimensions)
        return tuple((key, values[key]) for key in dimension_set)

    def __repr__(self) -> str:
        return f"Series({self.spec.name!r}, {dict(self.dimensions)!r}, {self.dimension_sets!r})"


class SeriesBatch(tuple[int, Series, "dict[float, int]"]):
    """Samples of one series in one time bucket: value -> how many times it was recorded.

    A tuple ``(timestamp, series, values)``; not a NamedTuple because `typing` is a cold
    start cost the EMF path does not otherwise pay.
    """

    __slots__ = ()

    def __new__(cls, timestamp: int, series: Series, values: dict[float, int]) -> SeriesBatch:
        return tuple.__new__(cls, (timestamp, series, values))

    @property
    def timestamp(self) -> int:
        return self[0]

    @property
    def series(self) -> Series:
        return self[1]

    @property
    def values(self) -> dict[float, int]:
        return self[2]

    @property
    def samples(self) -> int:
        return sum(self.values.values())

    @property
    def datapoints(self) -> int:
        return self.samples * self.series.weight
