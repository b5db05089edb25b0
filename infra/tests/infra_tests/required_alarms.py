"""The alarms the stack must have (the services' alarms, then the platform's, anchored on
AWS's recommended alarms), written out independently of `infra.alarm_table`: what the
synthesized alarms must be. Specs are named by their constants, namespaces by the spec
modules, functions by their handler modules; ``kind`` says what an alarm is placed on."""

from __future__ import annotations

from dataclasses import dataclass

from audio_transcription import metrics_spec as audio
from audio_transcription.handlers import audio_processor
from session_management import metrics_spec as session
from session_management.handlers import connection, session_status
from shared_metrics import MetricSpec

SM = session.NAMESPACE
AT = audio.NAMESPACE
FUNCTION_LABELS = (
    connection.HANDLER_NAME,
    session_status.HANDLER_NAME,
    audio_processor.HANDLER_NAME,
)


FUNCTION_NAMESPACES = {
    connection.HANDLER_NAME: SM,
    session_status.HANDLER_NAME: SM,
    audio_processor.HANDLER_NAME: AT,
}
STAGE = "WebSocketApi"
CANARY = "Canary"
TABLE_LABELS = ("SessionsTable", "ConnectionsTable", "RateLimitsTable")


@dataclass(frozen=True)
class RequiredAlarm:
    severity: str
    key: str
    scopes: tuple[str, ...]  # namespaces, function labels, the stage, tables or topics
    watches: tuple[MetricSpec, ...]  # () for AWS-namespace alarms; (errors, attempts) for rates
    statistic: str
    threshold: float  # for "timeout"/"concurrency" kinds: the fraction of that limit
    period: int  # seconds
    evaluation_periods: int
    datapoints_to_alarm: int
    kind: str = "service"  # service, function, stage, table, topic, canary
    metric: str = ""  # the AWS metric an AWS-namespace alarm reads
    relative_to: str = ""  # "", "Timeout" or "ReservedConcurrentExecutions" (of the function)
    missing: str = "notBreaching"  # TreatMissingData


REQUIRED_ALARMS: tuple[RequiredAlarm, ...] = (
    # Critical: audio p95 > 100 ms for 5 min; Transcribe stream error rate > 5 % for 5 min;
    # Lambda error rate > 1 % for 5 min, per function.
    RequiredAlarm(
        "Critical",
        "AudioLatencyP95",
        (AT,),
        (audio.AUDIO_PROCESSING_LATENCY,),
        "p95",
        100,
        60,
        5,
        5,
    ),
    RequiredAlarm(
        "Critical",
        "TranscribeStreamErrorRate",
        (AT,),
        (audio.TRANSCRIBE_STREAM_ERRORS, audio.TRANSCRIBE_STREAM_ATTEMPTS),
        "Sum",
        5,
        60,
        5,
        5,
    ),
    # Failed requests (AWS/Lambda Errors + LambdaErrors[Handler]) / Invocations.
    RequiredAlarm(
        "Critical", "LambdaErrorRate", FUNCTION_LABELS, (), "Sum", 1, 60, 5, 5, kind="function"
    ),
    # Warning: audio p95 > 75 ms for 10 min; control p95 > 150 ms for 10 min; rate-limit
    # violations > 100 per minute; buffer overflows > 10 in 5 min; listener notification
    # failures > 50 in 5 min; DynamoDB errors > 10 in 5 min; connections closed for rate
    # limiting > 10 in 5 min.
    RequiredAlarm(
        "Warning",
        "AudioLatencyP95",
        (AT,),
        (audio.AUDIO_PROCESSING_LATENCY,),
        "p95",
        75,
        60,
        10,
        10,
    ),
    RequiredAlarm(
        "Warning",
        "ControlLatencyP95",
        (SM,),
        (session.CONTROL_MESSAGE_LATENCY,),
        "p95",
        150,
        60,
        10,
        10,
    ),
    RequiredAlarm(
        "Warning",
        "RateLimitViolations",
        (SM, AT),
        (session.RATE_LIMIT_VIOLATIONS,),
        "Sum",
        100,
        60,
        1,
        1,
    ),
    RequiredAlarm(
        "Warning",
        "AudioBufferOverflows",
        (AT,),
        (audio.AUDIO_BUFFER_OVERFLOWS,),
        "Sum",
        10,
        300,
        1,
        1,
    ),
    RequiredAlarm(
        "Warning",
        "ListenerNotificationFailures",
        (SM,),
        (session.LISTENER_NOTIFICATION_FAILURES,),
        "Sum",
        50,
        300,
        1,
        1,
    ),
    RequiredAlarm(
        "Warning", "DynamoDBErrors", (SM, AT), (session.DYNAMODB_ERRORS,), "Sum", 10, 300, 1, 1
    ),
    RequiredAlarm(
        "Warning",
        "ConnectionsClosedForRateLimit",
        (SM, AT),
        (session.CONNECTIONS_CLOSED_FOR_RATE_LIMIT,),
        "Sum",
        10,
        300,
        1,
        1,
    ),
)


# The platform, anchored on AWS's recommended alarms.
REQUIRED_ALARMS += (
    RequiredAlarm("Critical", "Throttles", FUNCTION_LABELS, (), "Sum", 0, 60, 5, 5,
               kind="function", metric="Throttles"),
    RequiredAlarm("Warning", "DurationNearTimeout", FUNCTION_LABELS, (), "p90", 0.8, 60, 5, 5,
               kind="function", metric="Duration", relative_to="Timeout"),
    RequiredAlarm("Warning", "ConcurrencyNearLimit", FUNCTION_LABELS, (), "Maximum", 0.9, 60, 5, 5,
               kind="function", metric="ConcurrentExecutions",
               relative_to="ReservedConcurrentExecutions"),
    RequiredAlarm("Warning", "Heartbeat", FUNCTION_LABELS, (), "Sum", 0, 60, 5, 5, kind="function"),
    # Requests failed in API Gateway or Lambda: API Gateway's error counts, which document a
    # handler's own 4XX/5XX answers as IntegrationError, less those answers.
    RequiredAlarm("Critical", "PlatformErrors", (STAGE,), (), "Sum", 0, 60, 5, 5, kind="stage"),
    RequiredAlarm("Warning", "Throttles", TABLE_LABELS, (), "Sum", 0, 60, 5, 3, kind="table"),
    RequiredAlarm("Warning", "SystemErrors", TABLE_LABELS, (), "Sum", 0, 60, 5, 3, kind="table"),
    # Each topic's delivery failures reach the OTHER topic: a failing critical topic is a
    # warning (e-mail), a failing warning topic pages.
    RequiredAlarm("Warning", "DeliveryFailures", ("CriticalAlarmsTopic",), (), "Sum", 0, 300, 1, 1,
               kind="topic", metric="NumberOfNotificationsFailed"),
    RequiredAlarm("Critical", "DeliveryFailures", ("WarningAlarmsTopic",), (), "Sum", 0, 300, 1, 1,
               kind="topic", metric="NumberOfNotificationsFailed"),
)


def expanded() -> list[tuple[RequiredAlarm, str]]:
    """Each alarm with each of its scopes: one CloudWatch alarm per pair."""
    return [(alarm, scope) for alarm in REQUIRED_ALARMS for scope in alarm.scopes]


def alarm_id(pair: tuple[RequiredAlarm, str]) -> str:
    alarm, scope = pair
    return f"{alarm.severity}-{scope.split('/')[0]}-{alarm.key}"


# The reachability canary (CloudWatchSynthetics, CanaryName): pages when 2 of its last 3 runs
# fail or do not happen (a canary that stops running must not look healthy), warns when 3
# runs in a row average over 15 s; one run per 5-minute period at the default schedule.
REQUIRED_ALARMS += (
    RequiredAlarm("Critical", "Unreachable", (CANARY,), (), "Average", 0, 300, 3, 2,
               kind="canary", metric="SuccessPercent", missing="breaching"),
    RequiredAlarm("Warning", "RunDuration", (CANARY,), (), "Average", 15_000, 300, 3, 3,
               kind="canary", metric="Duration"),
)
