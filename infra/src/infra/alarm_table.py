"""The alarm set, as data: tune thresholds, windows and runbooks here, in one place.

Each `AlarmDefinition` names the metric it watches by its spec (never by a name written
again), a statistic, a strict ``>`` threshold, a window, a severity and a short runbook:
what the alarm means and what to check first. `CloudWatchAlarms` places a service-metric
alarm in every service whose spec module marks the spec as alarmed (the common specs thus
get one alarm per namespace) and a Lambda alarm on every function.

Windows read like the issue: ``sustained(5)`` is "for 5 minutes" (every 1-minute period of
the last 5 breaches), ``total_in(5)`` is "more than N in 5 minutes" (the sum over one
5-minute period).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from audio_transcription.metrics_spec import (
    AUDIO_BUFFER_OVERFLOWS,
    AUDIO_PROCESSING_LATENCY,
    TRANSCRIBE_STREAM_ATTEMPTS,
    TRANSCRIBE_STREAM_ERRORS,
)
from session_management.metrics_spec import (
    CONNECTIONS_CLOSED_FOR_RATE_LIMIT,
    CONTROL_MESSAGE_LATENCY,
    DYNAMODB_ERRORS,
    LISTENER_NOTIFICATION_FAILURES,
    RATE_LIMIT_VIOLATIONS,
)
from shared_metrics import MetricSpec, Unit


class Severity(enum.Enum):
    """Where an alarm notifies: each severity has its own SNS topic."""

    CRITICAL = "Critical"
    WARNING = "Warning"


# CloudWatch statistics the table uses.
P95 = "p95"
SUM = "Sum"

MINUTE = timedelta(minutes=1)


# -- what an alarm watches --------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceMetric:
    """The aggregate series of one spec, in each service that marks the spec as alarmed."""

    spec: MetricSpec

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return (self.spec,)


@dataclass(frozen=True)
class ErrorRate:
    """``100 * errors / attempts`` in percent, per service; 0 when there were no attempts."""

    errors: MetricSpec
    attempts: MetricSpec

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return (self.errors, self.attempts)


@dataclass(frozen=True)
class LambdaErrorRate:
    """``100 * Errors / Invocations`` of one function (AWS/Lambda, FunctionName), in percent."""

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return ()


MetricSource = ServiceMetric | ErrorRate | LambdaErrorRate


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


def sustained(minutes: int) -> Window:
    """Breached in every 1-minute period for ``minutes`` minutes."""
    return Window(MINUTE, minutes, minutes)


def total_in(minutes: int) -> Window:
    """The total over one ``minutes``-long period ("more than N in 5 minutes")."""
    return Window(timedelta(minutes=minutes), 1, 1)


@dataclass(frozen=True)
class AlarmDefinition:
    key: str  # the alarm's part of its name, unique within a scope (service or function)
    severity: Severity
    source: MetricSource
    statistic: str
    threshold: float  # strictly greater than this breaches
    window: Window
    meaning: str  # what it means when it fires
    first_check: str  # the runbook's first step

    @property
    def unit_suffix(self) -> str:
        """How the threshold reads: ``100 ms``, ``5 %``, ``10``."""
        if isinstance(self.source, ErrorRate | LambdaErrorRate):
            return " %"
        return _UNIT_SUFFIXES.get(self.source.spec.unit, "")


_UNIT_SUFFIXES = {Unit.MILLISECONDS: " ms", Unit.SECONDS: " s", Unit.MICROSECONDS: " us"}


# -- the alarms ------------------------------------------------------------------------------

CRITICAL = Severity.CRITICAL
WARNING = Severity.WARNING

ALARMS: tuple[AlarmDefinition, ...] = (
    # Critical: the service is failing its users now.
    AlarmDefinition(
        key="AudioLatencyP95",
        severity=CRITICAL,
        source=ServiceMetric(AUDIO_PROCESSING_LATENCY),
        statistic=P95,
        threshold=100,
        window=sustained(5),
        meaning="Audio takes too long from arrival to its hand-off to Transcribe: live "
        "captions lag behind the speaker.",
        first_check="the Transcribe row (stream errors, init latency, buffer overflows: a "
        "slow or failing stream makes chunks wait), then the audio_processor function's "
        "Duration and Throttles, then DynamoDB latency of the sessions table (one GetItem "
        "per chunk).",
    ),
    AlarmDefinition(
        key="TranscribeStreamErrorRate",
        severity=CRITICAL,
        source=ErrorRate(TRANSCRIBE_STREAM_ERRORS, TRANSCRIBE_STREAM_ATTEMPTS),
        statistic=SUM,
        threshold=5,
        window=sustained(5),
        meaning="Transcribe streams fail to open or break while streaming: sessions lose "
        "their transcripts.",
        first_check="TranscribeStreamErrors by ErrorType on the dashboard. LimitExceeded: "
        "the concurrent stream quota (Service Quotas). Credentials or BadRequest: the "
        "function's role or a recent deploy. ServiceUnavailable or InternalFailure: the AWS "
        "Health Dashboard for Transcribe in this Region.",
    ),
    AlarmDefinition(
        key="LambdaErrorRate",
        severity=CRITICAL,
        source=LambdaErrorRate(),
        statistic=SUM,
        threshold=1,
        window=sustained(5),
        meaning="Invocations of this function fail outright (AWS/Lambda Errors: crashes, "
        "timeouts, out of memory): clients get no answer.",
        first_check="the function's log group in Logs Insights ('Task timed out', 'Runtime "
        "exited', level ERROR) and whether a deploy just happened (roll back). Exceptions the "
        "handlers answer with a 500 are counted in LambdaErrors (by Handler, ErrorType) on "
        "the Errors row.",
    ),
    # Warning: degraded, or heading there.
    AlarmDefinition(
        key="AudioLatencyP95",
        severity=WARNING,
        source=ServiceMetric(AUDIO_PROCESSING_LATENCY),
        statistic=P95,
        threshold=75,
        window=sustained(10),
        meaning="Audio processing is slower than usual: captions start to lag (the critical "
        "alarm fires at 100 ms).",
        first_check="the Transcribe row (init latency, stream errors) and the audio_processor "
        "function's Duration; a growing AudioBufferOverflows means Transcribe cannot keep up.",
    ),
    AlarmDefinition(
        key="ControlLatencyP95",
        severity=WARNING,
        source=ServiceMetric(CONTROL_MESSAGE_LATENCY),
        statistic=P95,
        threshold=150,
        window=sustained(10),
        meaning="Control messages (pause, mute, volume, end) take too long to apply and reach "
        "every listener.",
        first_check="ListenerNotificationLatency and ListenerNotificationFailures on the "
        "Control row (a slow post_to_connection fan-out, very large sessions), then DynamoDB "
        "errors and the connection function's Duration.",
    ),
    AlarmDefinition(
        key="RateLimitViolations",
        severity=WARNING,
        source=ServiceMetric(RATE_LIMIT_VIOLATIONS),
        statistic=SUM,
        threshold=100,
        window=total_in(1),
        meaning="Clients send faster than the per-connection limits allow and are refused "
        "(429): abuse, a misbehaving client release, or limits set too low.",
        first_check="RateLimitViolations by MessageType, then the function logs (Logs "
        "Insights: event = 'ConnectionClosedForRateLimit', by connectionId): one client or "
        "many? Raise the RATE_LIMIT_* settings only if normal clients are refused.",
    ),
    AlarmDefinition(
        key="AudioBufferOverflows",
        severity=WARNING,
        source=ServiceMetric(AUDIO_BUFFER_OVERFLOWS),
        statistic=SUM,
        threshold=10,
        window=total_in(5),
        meaning="Audio piles up faster than it reaches Transcribe and the oldest audio is "
        "evicted: transcripts lose audio.",
        first_check="Transcribe stream errors and init latency (a failing or slow stream), "
        "AudioChunksDropped with Reason BufferFull, and AUDIO_BUFFER_MAX_BYTES of the "
        "audio_processor function.",
    ),
    AlarmDefinition(
        key="ListenerNotificationFailures",
        severity=WARNING,
        source=ServiceMetric(LISTENER_NOTIFICATION_FAILURES),
        statistic=SUM,
        threshold=50,
        window=total_in(5),
        meaning="Notifications do not reach listeners: they miss pauses, mutes and the end "
        "of their session.",
        first_check="ListenerNotificationFailures by ErrorType. Gone: listeners who left "
        "without a $disconnect (removed automatically; bursts after network incidents are "
        "benign). LimitExceeded: API Gateway throttling (stage and account limits). "
        "Forbidden: the functions' execute-api:ManageConnections permission.",
    ),
    AlarmDefinition(
        key="DynamoDBErrors",
        severity=WARNING,
        source=ServiceMetric(DYNAMODB_ERRORS),
        statistic=SUM,
        threshold=10,
        window=total_in(5),
        meaning="DynamoDB calls fail after botocore's retries: requests get 503 "
        "StorageUnavailable and rate limits fail open.",
        first_check="DynamoDBErrors by Operation and ErrorCode. ThrottlingException: the "
        "tables' throttling metrics and hot keys. AccessDeniedException: the function's IAM "
        "policy (a recent deploy). ResourceNotFoundException: the table names in the "
        "function's environment.",
    ),
    AlarmDefinition(
        key="ConnectionsClosedForRateLimit",
        severity=WARNING,
        source=ServiceMetric(CONNECTIONS_CLOSED_FOR_RATE_LIMIT),
        statistic=SUM,
        threshold=10,
        window=total_in(5),
        meaning="Connections are being closed for repeated rate-limit violations: abusive "
        "clients, or legitimate ones cut off by limits that are too low.",
        first_check="the function logs (Logs Insights: event = "
        "'ConnectionClosedForRateLimit', by connectionId and messageType): a few clients "
        "suggest abuse; many suggest a client release that sends too fast.",
    ),
)
