"""Metric data held in memory, as PutMetricData delivers it.

A `MetricStore` maps one series (namespace, name, EXACT dimension set: a metric published
with dimensions {A, B} is not seen by an alarm on {A}, unlike moto) to observations
``(timestamp in epoch seconds, {value: count})`` (PutMetricData's Values/Counts; a single Value
is ``{value: 1}``). `InMemoryMetricStore` is the one filled with `put`; the stores of
`local_run.cloudwatch.metric_source` read theirs from an emulator or GetMetricData.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from local_run.cloudwatch.alarm_model import Dimensions, MetricId

Distribution = Mapping[float, float]  # value -> count
Observation = tuple[float, Distribution]


# Here, with the first code to raise it: the store, the statistics and the evaluator all
# reject bad input with this one error.
class EvaluationError(ValueError):
    """Bad input to the alarm evaluation (a bad value or count, an empty window, a statistic
    it does not know)."""


def dimension_key(dimensions: Mapping[str, str] | Iterable[tuple[str, str]]) -> Dimensions:
    """The canonical (sorted) form of a dimension set."""
    pairs = dimensions.items() if isinstance(dimensions, Mapping) else dimensions
    return tuple(sorted((str(n), str(v)) for n, v in pairs))


class MetricStore(Protocol):
    def observations(self, metric: MetricId, start: float, end: float) -> Sequence[Observation]:
        """Observations of exactly this series with ``start <= timestamp < end``."""
        ...


class InMemoryMetricStore:
    """A `MetricStore` filled with `put`."""

    def __init__(self) -> None:
        self._series: dict[MetricId, list[Observation]] = defaultdict(list)

    def put(
        self,
        namespace: str,
        name: str,
        timestamp: float,
        values: Distribution | float,
        dimensions: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    ) -> None:
        dist = {float(values): 1.0} if isinstance(values, int | float) else dict(values)
        for value, count in dist.items():
            if not (math.isfinite(value) and math.isfinite(count)) or count < 0:
                raise EvaluationError(f"{namespace} {name}: bad value/count {value}/{count}")
        metric = MetricId(namespace, name, dimension_key(dimensions))
        self._series[metric].append((float(timestamp), dist))

    def observations(self, metric: MetricId, start: float, end: float) -> Sequence[Observation]:
        return [o for o in self._series.get(metric, ()) if start <= o[0] < end]

    def series(self) -> tuple[MetricId, ...]:
        return tuple(self._series)
