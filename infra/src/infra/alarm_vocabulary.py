"""The words the alarm table is written in: severities, the statistics it uses, windows,
missing-data treatments, the limits a threshold can be relative to, and alarm names.

Windows read like the issue: ``sustained(5)`` is "for 5 minutes" (every 1-minute period of
the last 5 breaches), ``total_in(5)`` is "more than N in 5 minutes" (the sum over one
5-minute period), ``runs(2, 3)`` is "in 2 of the canary's last 3 runs".

A name is ``<prefix>-<Severity>-<scope>-<key>``, the scope being a service, a function, the
WebSocket stage (`STAGE_SCOPE`), a table, an alarm topic (`topic_scope`) or the canary
(`CANARY_SCOPE`). The failure catalog and the local run's phases name alarms through these
functions too, so their keys cannot drift from the names the stack deploys.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta


class Severity(enum.Enum):
    """Where an alarm notifies: each severity has its own SNS topic."""

    CRITICAL = "Critical"
    WARNING = "Warning"


# CloudWatch statistics the table uses.
P90 = "p90"
P95 = "p95"
SUM = "Sum"
MAXIMUM = "Maximum"
AVERAGE = "Average"

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Window:
    """How long a threshold must be breached: M of N periods of the given length."""

    period: timedelta
    evaluation_periods: int
    datapoints_to_alarm: int

    def __post_init__(self) -> None:
        seconds = self.period.total_seconds()
        if seconds < 60 or seconds % 60:
            raise ValueError(f"alarm periods are whole minutes, got {self.period}")
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise ValueError("datapoints_to_alarm must be within 1..evaluation_periods")

    @property
    def period_seconds(self) -> int:
        return int(self.period.total_seconds())

    def text(self) -> str:
        """The window in words, as a description says it."""
        minutes = self.period_seconds // 60
        if self.evaluation_periods == 1:
            return "within 1 minute" if minutes == 1 else f"within {minutes} minutes"
        if minutes == 1 and self.datapoints_to_alarm == self.evaluation_periods:
            return f"in every minute for {self.evaluation_periods} minutes"
        return (
            f"in {self.datapoints_to_alarm} of {self.evaluation_periods} "
            f"{minutes}-minute periods"
        )


def sustained(minutes: int) -> Window:
    """Breached in every 1-minute period for ``minutes`` minutes."""
    return Window(MINUTE, minutes, minutes)


def m_of_n(m: int, n: int) -> Window:
    """Breached in at least ``m`` of the last ``n`` 1-minute periods."""
    return Window(MINUTE, n, m)


def total_in(minutes: int) -> Window:
    """The total over one ``minutes``-long period ("more than N in 5 minutes")."""
    return Window(timedelta(minutes=minutes), 1, 1)


# The canary's default schedule; its alarms' periods follow the schedule it is deployed with.
CANARY_SCHEDULE = timedelta(minutes=5)


def runs(m: int, n: int) -> Window:
    """Breached in ``m`` of the canary's last ``n`` runs (one period per run: the plan sets
    the period to the canary's schedule)."""
    return Window(CANARY_SCHEDULE, n, m)


class MissingData(enum.Enum):
    """How an alarm treats a period without data (its TreatMissingData)."""

    # No traffic is not an incident (the heartbeat catches metrics that stop arriving).
    NOT_BREACHING = "notBreaching"
    # Silence is the incident: a canary that stops running must not look healthy.
    BREACHING = "breaching"


class Limit(enum.Enum):
    """What a relative threshold is a fraction of, read from the deployed function."""

    TIMEOUT_MS = "the function's timeout"
    CONCURRENCY = "the function's concurrency limit"


# -- names --------------------------------------------------------------------------------------

SERVICE_DEGRADED_KEY = "ServiceDegraded"

# The scope of the WebSocket stage's alarms in their names.
STAGE_SCOPE = "WebSocketApi"
# The scope of the reachability canary's alarms.
CANARY_SCOPE = "Canary"


def alarm_name(prefix: str, severity: Severity, scope: str, key: str) -> str:
    """``<prefix>-<Severity>-<service or function>-<what>``, e.g.
    ``ws-prod-Critical-AudioTranscription-AudioLatencyP95``: sorts by severity in the
    console, and says where to look before the alarm is opened."""
    return f"{prefix}-{severity.value}-{scope}-{key}"


def composite_alarm_name(prefix: str) -> str:
    return alarm_name(prefix, Severity.CRITICAL, "Service", SERVICE_DEGRADED_KEY)


def topic_scope(severity: Severity) -> str:
    return f"{severity.value}AlarmsTopic"
