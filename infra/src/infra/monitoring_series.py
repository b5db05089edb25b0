"""Which custom metric series exist, and for how many hours a month each is billed.

A series is one namespace + metric name + dimension set with its values: "Each dimension set
is a separate metric" (Embedded Metric Format specification), and every unique combination is
a separately billed custom metric (CloudWatch pricing). CloudWatch bills a custom metric for
each hour it receives data ("prorated by the hour and metered only when you send metrics",
CloudWatch pricing page), so each series is billed for the hours it is emitted in:

- ``healthy``: emitted whenever there is traffic: the profile's traffic hours;
- ``always``: emitted by a scheduled invocation (every minute, whatever the traffic): all month;
- ``incident``: seen only while something fails: the profile's incident hours.

`series_of_event` reads the series out of one EMF event (what the local run measures);
`declared_series` is the ceiling the spec modules allow: every value of every closed set a
dimension draws from, which is what a month of every failure at once would bill.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from audio_transcription import metrics_spec as audio
from infra.services import AUDIO_TRANSCRIPTION, SERVICES, SESSION_MANAGEMENT, MonitoredService
from session_management import metrics_spec as session
from websocket_service import specs as common

# (namespace, metric name, ((dimension, value), ...) sorted)
Series = tuple[str, str, tuple[tuple[str, str], ...]]


def series(namespace: str, name: str, **dimensions: str) -> Series:
    return namespace, name, tuple(sorted(dimensions.items()))


def series_of_event(event: Mapping[str, Any]) -> set[Series]:
    """The series one EMF event publishes: each metric of each directive, once per dimension
    set, with the dimension values from the event's root keys."""
    found: set[Series] = set()
    for directive in event.get("_aws", {}).get("CloudWatchMetrics", ()):
        namespace = str(directive["Namespace"])
        for dimension_set in directive.get("Dimensions", ()):
            dims = tuple(sorted((str(d), str(event[d])) for d in dimension_set))
            for metric in directive.get("Metrics", ()):
                found.add((namespace, str(metric["Name"]), dims))
    return found


# The closed set each dimension's values come from, per namespace and metric: a client cannot
# add a value (`closed` maps anything else to "Other"), so these bound the series count.
_COMMON = {
    ("RateLimitViolations", "MessageType"): common.MESSAGE_TYPES,
    ("LambdaErrors", "ErrorType"): common.LAMBDA_ERROR_TYPES,
    ("DynamoDBErrors", "Operation"): common.DYNAMODB_OPERATIONS,
    ("DynamoDBErrors", "ErrorCode"): common.DYNAMODB_ERROR_CODES,
}
_HANDLER_METRICS = ("LambdaErrors", "HandlerInvocations", "ErrorResponses")
CLOSED_SETS: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {
    SESSION_MANAGEMENT.namespace: {
        **_COMMON,
        **{(m, "Handler"): session.HANDLERS for m in _HANDLER_METRICS},
        ("ControlMessagesReceived", "ActionType"): session.ACTION_TYPES,
        ("ControlMessagesRejected", "Reason"): session.CONTROL_REJECTION_REASONS,
        ("ListenerNotificationFailures", "ErrorType"): session.NOTIFICATION_ERROR_TYPES,
    },
    AUDIO_TRANSCRIPTION.namespace: {
        **_COMMON,
        **{(m, "Handler"): audio.HANDLERS for m in _HANDLER_METRICS},
        ("AudioChunksDropped", "Reason"): audio.DROP_REASONS,
        ("TranscribeStreamErrors", "ErrorType"): audio.TRANSCRIBE_ERROR_TYPES,
    },
}


class UndeclaredDimensionError(ValueError):
    """A spec's dimension whose values come from no known closed set (its series cannot be
    bounded, so neither can their cost)."""


def declared_series(services: Iterable[MonitoredService] = SERVICES) -> set[Series]:
    """Every series the spec modules allow: each dimension set with every combination of its
    dimensions' closed-set values."""
    out: set[Series] = set()
    for service in services:
        closed = CLOSED_SETS.get(service.namespace, {})
        for spec in service.specs:
            for dimension_set in spec.dimension_sets:
                values = []
                for dimension in dimension_set:
                    allowed = closed.get((spec.name, dimension))
                    if allowed is None:
                        raise UndeclaredDimensionError(
                            f"{service.namespace} {spec.name}: dimension {dimension} has no "
                            "closed set in infra.monitoring_series.CLOSED_SETS"
                        )
                    values.append([(dimension, v) for v in allowed])
                for combination in itertools.product(*values):
                    out.add((service.namespace, spec.name, tuple(sorted(combination))))
    return out


@dataclass(frozen=True)
class SeriesUsage:
    """The series a workload emits, by when they are emitted (see the module docstring), and
    where that came from."""

    healthy: frozenset[Series]
    always: frozenset[Series]
    incident: frozenset[Series]
    source: str

    def __post_init__(self) -> None:
        # A series billed for the hours of its most frequent class only.
        object.__setattr__(self, "healthy", self.healthy - self.always)
        object.__setattr__(self, "incident", self.incident - self.healthy - self.always)

    def metric_months(
        self, traffic_hours: float, incident_hours: float, month_hours: float
    ) -> float:
        """Metric-months billed: each series' billed hours over the month's."""
        for label, hours in (("traffic", traffic_hours), ("incident", incident_hours)):
            if not 0 <= hours <= month_hours:
                raise ValueError(f"{label} hours {hours:g} outside 0..{month_hours:g}")
        return (
            len(self.always)
            + len(self.healthy) * traffic_hours / month_hours
            + len(self.incident) * incident_hours / month_hours
        )

    def all(self) -> frozenset[Series]:
        return self.always | self.healthy | self.incident
