"""What can go wrong, as data: each class of failure the service can suffer, the alarms that
must catch it, and the local-run phase(s) that prove they do.

Alarms are named by their keys (the alarm name without the ``<stack>-`` prefix, made by
`infra.alarm_vocabulary.alarm_name`). Tests hold the catalog to the alarm plan both ways
(every alarm catches something here, every entry names only alarms that exist), and the local
run holds it to its phases (each entry's alarms are designed to fire in one of its phases).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.alarm_vocabulary import (
    CANARY_SCOPE,
    SERVICE_DEGRADED_KEY,
    STAGE_SCOPE,
    Severity,
    alarm_name,
    topic_scope,
)
from infra.functions import FUNCTIONS, Table
from infra.services import AUDIO_TRANSCRIPTION, SESSION_MANAGEMENT

CRITICAL, WARNING = Severity.CRITICAL, Severity.WARNING
SM, AT = SESSION_MANAGEMENT.label, AUDIO_TRANSCRIPTION.label
FUNCTION_LABELS = tuple(f.label for f in FUNCTIONS)
CONNECTION, SESSION_STATUS, AUDIO_PROCESSOR = FUNCTION_LABELS
TABLE_LABELS = tuple(t.label for t in Table)


def key(severity: Severity, scope: str, alarm: str) -> str:
    """An alarm's name without the stack prefix."""
    return alarm_name("", severity, scope, alarm).removeprefix("-")


def per(severity: Severity, scopes: tuple[str, ...], alarm: str) -> tuple[str, ...]:
    return tuple(key(severity, scope, alarm) for scope in scopes)


PAGE = key(CRITICAL, "Service", SERVICE_DEGRADED_KEY)


@dataclass(frozen=True)
class FailureClass:
    name: str
    what: str  # what happens, as the on-call person would describe it
    alarms: tuple[str, ...]  # the alarm keys that must catch it
    phases: tuple[str, ...]  # the local-run phases that show them firing

    @property
    def pages(self) -> bool:
        return PAGE in self.alarms


CATALOG: tuple[FailureClass, ...] = (
    FailureClass(
        "Unreachable from outside",
        "nothing reaches the service: a broken custom domain or certificate, a deleted stage "
        "or route, API Gateway failing before any integration, a client release that cannot "
        "connect. No invocation, no error, no heartbeat gap: only the canary, a speaker and a "
        "listener from outside, sees it",
        (key(CRITICAL, CANARY_SCOPE, "Unreachable"), PAGE),
        ("endpoint-unreachable", "route-broken"),
    ),
    FailureClass(
        "Slow from outside",
        "every request succeeds, but clients wait seconds to connect and for answers (cold "
        "starts with a long init, API Gateway or the network in front of the functions): "
        "what the handlers time themselves does not include it",
        (key(WARNING, CANARY_SCOPE, "RunDuration"),),
        ("slow-from-outside",),
    ),
    FailureClass(
        "Handler exceptions",
        "a bug or an item the code cannot read: handlers raise, the guard answers 500",
        (*per(CRITICAL, FUNCTION_LABELS, "LambdaErrorRate"), PAGE),
        ("handler-exceptions",),
    ),
    FailureClass(
        "Crashes and timeouts",
        "a dependency hangs: invocations run into the function timeout (their metrics get out "
        "only through the flush just before the deadline), and clients get errors from API "
        "Gateway",
        (
            key(CRITICAL, CONNECTION, "LambdaErrorRate"),
            key(CRITICAL, AUDIO_PROCESSOR, "LambdaErrorRate"),
            *per(WARNING, FUNCTION_LABELS, "DurationNearTimeout"),
            key(CRITICAL, STAGE_SCOPE, "PlatformErrors"),
            PAGE,
        ),
        ("lambda-timeouts",),
    ),
    FailureClass(
        "Lambda throttling",
        "traffic beyond a function's reserved concurrency: Lambda refuses invocations",
        (
            *per(CRITICAL, FUNCTION_LABELS, "Throttles"),
            *per(WARNING, FUNCTION_LABELS, "ConcurrencyNearLimit"),
            key(CRITICAL, STAGE_SCOPE, "PlatformErrors"),
            PAGE,
        ),
        ("lambda-throttling",),
    ),
    FailureClass(
        "API Gateway cannot call a function",
        "a missing invoke permission or a broken integration: messages fail before any "
        "handler runs",
        (key(CRITICAL, STAGE_SCOPE, "PlatformErrors"), PAGE),
        ("apigw-integration-errors",),
    ),
    FailureClass(
        "Slow Transcribe",
        "audio waits for Transcribe: live captions lag",
        (key(CRITICAL, AT, "AudioLatencyP95"), PAGE),
        ("audio-latency-spike",),
    ),
    FailureClass(
        "Slow degradation",
        "audio and control messages get slower, still under the critical thresholds",
        (key(WARNING, AT, "AudioLatencyP95"), key(WARNING, SM, "ControlLatencyP95")),
        ("slow-degradation",),
    ),
    FailureClass(
        "Transcribe down",
        "streams fail to open or break: transcripts stop, audio piles up and is evicted",
        (
            key(CRITICAL, AT, "TranscribeStreamErrorRate"),
            key(WARNING, AT, "AudioBufferOverflows"),
            PAGE,
        ),
        ("transcribe-outage",),
    ),
    FailureClass(
        "DynamoDB errors",
        "DynamoDB answers 500s: requests get 503 StorageUnavailable",
        (*per(WARNING, (SM, AT), "DynamoDBErrors"), *per(WARNING, TABLE_LABELS, "SystemErrors")),
        ("dynamodb-errors",),
    ),
    FailureClass(
        "DynamoDB throttling",
        "a table's limits or a hot key: DynamoDB throttles, calls fail after retries",
        (*per(WARNING, (SM, AT), "DynamoDBErrors"), *per(WARNING, TABLE_LABELS, "Throttles")),
        ("dynamodb-throttling",),
    ),
    FailureClass(
        "Abusive clients",
        "clients flood the service: refused (429) and, when they persist, disconnected",
        (
            *per(WARNING, (SM, AT), "RateLimitViolations"),
            *per(WARNING, (SM, AT), "ConnectionsClosedForRateLimit"),
        ),
        ("rate-limit-abuse",),
    ),
    FailureClass(
        "Listeners vanishing",
        "listeners leave without $disconnect: notifications to them fail (410)",
        (key(WARNING, SM, "ListenerNotificationFailures"),),
        ("listeners-gone",),
    ),
    FailureClass(
        "Metrics pipeline broken",
        "a function runs but its metrics stop arriving (instrumentation dropped by a deploy, "
        "EMF not extracted): every alarm on its namespace would go quietly OK",
        per(WARNING, FUNCTION_LABELS, "Heartbeat"),
        ("metrics-lost-session", "metrics-lost-audio"),
    ),
    FailureClass(
        "Alarm delivery failing",
        "the alarm subscribers' HTTPS endpoints reject notifications (a pager integration "
        "deleted or its key rotated): pages and warnings reach nobody",
        (
            key(WARNING, topic_scope(CRITICAL), "DeliveryFailures"),
            key(CRITICAL, topic_scope(WARNING), "DeliveryFailures"),
            PAGE,
        ),
        ("alarm-delivery-failing",),
    ),
)


@dataclass(frozen=True)
class UncaughtFailure:
    """A failure no alarm of this stack can catch, said so, with where it does show."""

    name: str
    what: str
    why_no_alarm: str
    where_it_shows: str


NOT_CAUGHT: tuple[UncaughtFailure, ...] = (
    UncaughtFailure(
        "CloudWatch cannot publish to an alarm topic",
        "the topics' KMS key policy no longer lets CloudWatch use the key, or the topic policy "
        "no longer lets it publish: alarms change state and notify nobody",
        "CloudWatch's Publish fails before SNS accepts anything, so no SNS metric counts it, "
        "and the alarm that would watch it could only notify through the same topics",
        "each alarm's history (DescribeAlarmHistory, type Action: 'Failed to execute action'); "
        "the stack grants cloudwatch.amazonaws.com kms:Decrypt/kms:GenerateDataKey* on the key "
        "and sns:Publish on each topic (tested in infra's stack tests): change neither by hand",
    ),
    UncaughtFailure(
        "An e-mail-only pager",
        "the pages go to e-mail subscribers only, and their mail bounces",
        "SNS counts a failed e-mail in NumberOfNotificationsFailed only when it stops "
        "retrying, about 6 hours later: the DeliveryFailures alarms fire then, not in time",
        "the DeliveryFailures alarms, hours late; page through an HTTPS subscription "
        "(INFRA_CRITICAL_URLS), whose every failed attempt SNS counts at once",
    ),
)
