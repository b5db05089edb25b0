"""What an alarm definition is made of: severities, the statistics the table uses, the
sources an alarm can watch (a service's spec, an error rate, a platform metric of a function,
the stage, a table, a topic or the canary), windows and missing-data treatments;
`alarm_table.ALARMS` is written in these terms.

Windows read like the issue: ``sustained(5)`` is "for 5 minutes" (every 1-minute period of
the last 5 breaches), ``total_in(5)`` is "more than N in 5 minutes" (the sum over one
5-minute period), ``runs(2, 3)`` is "in 2 of the canary's last 3 runs".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from shared_metrics import MetricSpec, Unit
from websocket_service.specs import HANDLER_INVOCATIONS, LAMBDA_ERRORS


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
    """Failed requests of one function in percent of its invocations: unhandled failures
    (AWS/Lambda ``Errors``: crashes, timeouts, out of memory) plus the exceptions the handler
    guard answers with a 500 (``LambdaErrors`` by Handler, in the function's namespace),
    over AWS/Lambda ``Invocations``. A period with fewer than ``min_failures`` failed
    requests counts as 0 %: one failure at very low traffic is not an incident."""

    min_failures: int

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return ()

    @property
    def function_specs(self) -> tuple[tuple[MetricSpec, tuple[str, ...]], ...]:
        return ((LAMBDA_ERRORS, HANDLER_DIMENSION),)


class Limit(enum.Enum):
    """What a relative threshold is a fraction of, read from the deployed function."""

    TIMEOUT_MS = "the function's timeout"
    CONCURRENCY = "the function's concurrency limit"


@dataclass(frozen=True)
class LambdaMetric:
    """An AWS/Lambda metric of one function (FunctionName); with ``relative_to``, the
    threshold is a fraction of that limit of the function."""

    metric_name: str
    relative_to: Limit | None = None

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return ()

    @property
    def function_specs(self) -> tuple[tuple[MetricSpec, tuple[str, ...]], ...]:
        return ()


@dataclass(frozen=True)
class Heartbeat:
    """1 in a period where AWS/Lambda counted invocations of the function but none of its
    own ``HandlerInvocations`` arrived (instrumentation dropped, EMF not extracted, a bad
    metrics release), else 0; 0 too without traffic."""

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return ()

    @property
    def function_specs(self) -> tuple[tuple[MetricSpec, tuple[str, ...]], ...]:
        return ((HANDLER_INVOCATIONS, HANDLER_DIMENSION),)


@dataclass(frozen=True)
class ApiGatewayMetric:
    """An AWS/ApiGateway metric of the WebSocket stage (ApiId, Stage)."""

    metric_name: str

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return ()


@dataclass(frozen=True)
class StageRequestFailures:
    """Requests of the WebSocket stage that failed in API Gateway or Lambda, not by a
    handler's own answer: AWS/ApiGateway ExecutionError + IntegrationError + ClientError less
    every function's ``ErrorResponses`` (Handler), each function's 4XX/5XX answers.

    AWS documents IntegrationError as "the number of requests that return a 4XX/5XX response
    from the integration" (a handler's 4xx has been reported in ClientError instead) and says
    nothing of where a throttled invocation, a missing invoke permission, an unhandled
    exception or a timeout is counted. Under every such reading the handlers' own answers are
    in exactly one of the three, so the difference is the same: the requests API Gateway or
    Lambda failed (and API Gateway's own 4XX refusals, none of which this service provokes)."""

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return ()


@dataclass(frozen=True)
class TableThrottles:
    """AWS/DynamoDB ReadThrottleEvents + WriteThrottleEvents of one table (TableName)."""

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return ()


@dataclass(frozen=True)
class TableSystemErrors:
    """AWS/DynamoDB SystemErrors of one table, summed over the operations the services call
    (DynamoDB publishes it per TableName and Operation)."""

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return ()


@dataclass(frozen=True)
class CanaryMetric:
    """A CloudWatchSynthetics metric of the reachability canary (CanaryName), in periods of
    the canary's schedule (the alarm plan sets the period: one run per period). With
    ``failed_percent`` it is ``100 - SuccessPercent``: the runs that failed, in percent."""

    metric_name: str
    failed_percent: bool = False

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return ()


@dataclass(frozen=True)
class TopicDeliveryFailures:
    """AWS/SNS NumberOfNotificationsFailed of the alarm topic of ``topic`` (TopicName)."""

    topic: Severity

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        return ()


FunctionSource = LambdaErrorRate | LambdaMetric | Heartbeat
PlatformSource = (
    FunctionSource
    | ApiGatewayMetric
    | StageRequestFailures
    | TableThrottles
    | TableSystemErrors
    | TopicDeliveryFailures
    | CanaryMetric
)
MetricSource = ServiceMetric | ErrorRate | PlatformSource

# The custom dimension set by which function-scoped alarms read a service metric.
HANDLER_DIMENSION = ("Handler",)


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
    missing_data: MissingData = MissingData.NOT_BREACHING

    @property
    def unit_suffix(self) -> str:
        """How the threshold reads: ``100 ms``, ``5 %``, ``10``."""
        source = self.source
        if isinstance(source, ErrorRate | LambdaErrorRate):
            return " %"
        if isinstance(source, ServiceMetric):
            return _UNIT_SUFFIXES.get(source.spec.unit, "")
        if isinstance(source, LambdaMetric | CanaryMetric) and source.metric_name == "Duration":
            return " ms"
        if isinstance(source, CanaryMetric) and source.failed_percent:
            return " %"
        return ""


_UNIT_SUFFIXES = {Unit.MILLISECONDS: " ms", Unit.SECONDS: " s", Unit.MICROSECONDS: " us"}
