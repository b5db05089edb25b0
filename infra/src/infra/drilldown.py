"""After the page: which sessions and connections suffer, without a metric per session.

Session and connection ids are EMF log properties (``SessionId``, ``ConnectionId``), never
dimensions. Two things read them where they are, in the functions' log groups:

- Contributor Insights rules (`RULES`, ``AWS::CloudWatch::InsightRule``): the top
  contributors of a log field over time, e.g. the sessions whose audio is dropped, by
  reason. They read the EMF lines the handlers write (one JSON object per line; a metric's
  values are an array, hence ``$.Metric[0]``, the first value of the event), and count
  EMF events: one per invocation and dimension combination.
- Saved Logs Insights queries (`QUERIES`, ``AWS::Logs::QueryDefinition``): the first check
  of each runbook, ready to run, scoped to the log groups that hold the answer.

Field names come from the spec constants and the property names the emitters use, so a
renamed metric renames the rule (a test checks every rule against what the real handlers
write). Each alarm's runbook names its rule and query (`DRILLDOWN`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audio_transcription.handlers import audio_processor
from audio_transcription.metrics_spec import AUDIO_CHUNKS_DROPPED, AUDIO_PROCESSING_LATENCY
from session_management.handlers import connection, session_status
from session_management.metrics_spec import LISTENER_NOTIFICATION_FAILURES
from websocket_service.service_metrics import (
    CONNECTION_ID_PROPERTY,
    SESSION_ID_PROPERTY,
)
from websocket_service.specs import RATE_LIMIT_VIOLATIONS
from websocket_service.synthetic_traffic import SYNTHETIC_PROPERTY

CONNECTION = connection.HANDLER_NAME
SESSION_STATUS = session_status.HANDLER_NAME
AUDIO = audio_processor.HANDLER_NAME
ALL_FUNCTIONS = (CONNECTION, SESSION_STATUS, AUDIO)
# The log group of the WebSocket stage's access logs, as a scope of queries.
ACCESS_LOGS = "api-access-logs"

RULE_SCHEMA = {"Name": "CloudWatchLogRule", "Version": 1}
# The audio latency (ms) above which a chunk counts as slow: the critical alarm's threshold.
SLOW_AUDIO_MS = 100


def field(name: str) -> str:
    """A root field of a JSON log event, in the rules' JSON property notation."""
    return f"$.{name}"


def first_value(metric: str) -> str:
    """The first value of an EMF metric (EMF writes a metric's values as an array)."""
    return f"$.{metric}[0]"


# The canary's sessions (their EMF events carry SYNTHETIC_PROPERTY, set by the handlers) are
# left out of the rules that rank sessions: each canary session is a few seconds long and its
# one audio chunk waits for a Transcribe stream to open, so it would rank among the slowest
# sessions without a user in it. Rules by connection keep it: an abuser could name its
# session like the canary's, and the canary never sends fast enough to be refused.
NOT_SYNTHETIC = {"Match": field(SYNTHETIC_PROPERTY), "IsPresent": False}


@dataclass(frozen=True)
class ContributorRule:
    key: str  # the rule's name after "<stack>-"
    answers: str  # the question it answers, for the README and the dashboard
    functions: tuple[str, ...]  # whose log groups it reads (function labels)
    keys: tuple[str, ...]
    filters: tuple[Mapping[str, Any], ...]
    aggregate: str = "Count"
    value_of: str | None = None

    def body(self, log_group_names: Sequence[str]) -> dict[str, Any]:
        """The rule's JSON (``CloudWatchLogRule`` schema)."""
        contribution: dict[str, Any] = {"Keys": list(self.keys), "Filters": list(self.filters)}
        if self.value_of is not None:
            contribution["ValueOf"] = self.value_of
        return {
            "Schema": dict(RULE_SCHEMA),
            "LogGroupNames": list(log_group_names),
            "LogFormat": "JSON",
            "Contribution": contribution,
            "AggregateOn": self.aggregate,
        }


RULES: tuple[ContributorRule, ...] = (
    ContributorRule(
        "DroppedAudioBySession",
        "which sessions lose audio, and why (invocations that dropped chunks, by Reason)",
        (AUDIO,),
        (field(SESSION_ID_PROPERTY), field("Reason")),
        ({"Match": first_value(AUDIO_CHUNKS_DROPPED.name), "GreaterThan": 0}, NOT_SYNTHETIC),
    ),
    ContributorRule(
        "SlowAudioBySession",
        f"which sessions' audio takes over {SLOW_AUDIO_MS} ms to reach Transcribe (chunks)",
        (AUDIO,),
        (field(SESSION_ID_PROPERTY),),
        (
            {"Match": first_value(AUDIO_PROCESSING_LATENCY.name), "GreaterThan": SLOW_AUDIO_MS},
            NOT_SYNTHETIC,
        ),
    ),
    ContributorRule(
        "RateLimitedConnections",
        "which connections are refused for sending too fast, and what they send",
        ALL_FUNCTIONS,
        (field(CONNECTION_ID_PROPERTY), field("MessageType")),
        ({"Match": first_value(RATE_LIMIT_VIOLATIONS.name), "GreaterThan": 0},),
    ),
    ContributorRule(
        "NotificationFailuresBySession",
        "which sessions' listeners miss notifications, and why (broadcasts with failures)",
        (CONNECTION,),
        (field(SESSION_ID_PROPERTY), field("ErrorType")),
        (
            {"Match": first_value(LISTENER_NOTIFICATION_FAILURES.name), "GreaterThan": 0},
            NOT_SYNTHETIC,
        ),
    ),
)


@dataclass(frozen=True)
class SavedQuery:
    key: str  # the query's name after "<stack>/"
    answers: str
    scope: tuple[str, ...]  # function labels and/or ACCESS_LOGS
    query: str


def _logged(name: str) -> str:
    """The condition for the handlers' structured log line ``name``: JSON written with
    json.dumps' default separators, which Lambda's runtime prefixes, so match the text."""
    return f'@message like \'"event": "{name}"\''


def _event(name: str) -> str:
    return f"filter {_logged(name)}"


def _parse(*fields: str) -> str:
    return " | ".join(f'parse @message \'"{f}": "*"\' as {f}' for f in fields)


QUERIES: tuple[SavedQuery, ...] = (
    SavedQuery(
        "slow-audio-by-session",
        "the sessions with the slowest audio (p95 and worst per session)",
        (AUDIO,),
        f"filter ispresent({AUDIO_PROCESSING_LATENCY.name}.0)"
        f" and not ispresent({SYNTHETIC_PROPERTY})"
        f" | stats count(*) as chunks, pct({AUDIO_PROCESSING_LATENCY.name}.0, 95) as p95,"
        f" max({AUDIO_PROCESSING_LATENCY.name}.0) as worst by {SESSION_ID_PROPERTY}"
        " | sort p95 desc | limit 20",
    ),
    SavedQuery(
        "dropped-audio-by-session",
        "the sessions losing audio, by reason",
        (AUDIO,),
        f"filter ispresent({AUDIO_CHUNKS_DROPPED.name}.0)"
        f" | stats count(*) as events by {SESSION_ID_PROPERTY}, Reason"
        " | sort events desc | limit 20",
    ),
    SavedQuery(
        "transcribe-stream-failures",
        "Transcribe streams that failed, by error type and session",
        (AUDIO,),
        f"{_event('TranscribeStreamFailed')} | {_parse('errorType', 'sessionId', 'step')}"
        " | stats count(*) as failures by errorType, step, sessionId"
        " | sort failures desc | limit 50",
    ),
    SavedQuery(
        "failed-requests",
        "requests that failed: exceptions answered with a 500, timeouts, crashes",
        ALL_FUNCTIONS,
        f"{_event('UnhandledException')}"
        " or @message like /Task timed out|Runtime exited|Runtime.ExitError/"
        f" | {_parse('handler', 'errorType', 'routeKey')}"
        " | stats count(*) as failures by handler, errorType, routeKey, bin(1m)"
        " | sort failures desc | limit 50",
    ),
    SavedQuery(
        "invocations-and-duration",
        "per function and minute: invocations, p90 and worst duration, memory used",
        ALL_FUNCTIONS,
        "filter @type = 'REPORT'"
        " | stats count(*) as invocations, pct(@duration, 90) as p90_ms,"
        " max(@duration) as worst_ms, max(@maxMemoryUsed / 1000 / 1000) as max_mb"
        " by @log, bin(1m) | sort worst_ms desc | limit 60",
    ),
    SavedQuery(
        "emf-lines-per-minute",
        "whether the functions still write EMF lines (the heartbeat's first check)",
        ALL_FUNCTIONS,
        "filter @message like '\"_aws\":' | stats count(*) as emf_lines by @log, bin(1m)"
        " | sort @timestamp desc | limit 60",
    ),
    SavedQuery(
        "rate-limited-connections",
        "the connections refused and closed for sending too fast",
        ALL_FUNCTIONS,
        f"filter ispresent({RATE_LIMIT_VIOLATIONS.name}.0) or "
        f"{_logged('ConnectionClosedForRateLimit')}"
        f" | stats count(*) as events by {CONNECTION_ID_PROPERTY}, MessageType"
        " | sort events desc | limit 20",
    ),
    SavedQuery(
        "listener-notification-failures",
        "notifications that did not reach listeners, by session and error type",
        (CONNECTION, SESSION_STATUS),
        f"{_event('ListenerNotificationFailed')} | {_parse('errorType', 'sessionId')}"
        " | stats count(*) as failures by sessionId, errorType"
        " | sort failures desc | limit 20",
    ),
    SavedQuery(
        "slow-control-messages",
        "the sessions whose control messages take longest to apply and broadcast",
        (CONNECTION,),
        "filter ispresent(ControlMessageLatency.0)"
        f" and not ispresent({SYNTHETIC_PROPERTY})"
        f" | stats count(*) as messages, pct(ControlMessageLatency.0, 95) as p95"
        f" by {SESSION_ID_PROPERTY} | sort p95 desc | limit 20",
    ),
    SavedQuery(
        "dynamodb-errors",
        "failed DynamoDB calls, by function, operation and error code",
        ALL_FUNCTIONS,
        f"{_event('DynamoDBError')} | {_parse('handler', 'operation', 'code')}"
        " | stats count(*) as errors by handler, operation, code, bin(1m)"
        " | sort errors desc | limit 50",
    ),
    SavedQuery(
        "api-errors-by-route",
        "requests API Gateway answered with an error, by route and integration status",
        (ACCESS_LOGS,),
        "filter status >= 400 or ispresent(integrationError)"
        " | stats count(*) as requests by routeKey, status, integrationStatus, error"
        " | sort requests desc | limit 50",
    ),
)

# What each alarm's runbook opens first: (severity, alarm key) -> rule and query keys.
DRILLDOWN: Mapping[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("Critical", "AudioLatencyP95"): (("SlowAudioBySession",), ("slow-audio-by-session",)),
    ("Warning", "AudioLatencyP95"): (("SlowAudioBySession",), ("slow-audio-by-session",)),
    ("Critical", "TranscribeStreamErrorRate"): ((), ("transcribe-stream-failures",)),
    ("Critical", "LambdaErrorRate"): ((), ("failed-requests",)),
    ("Critical", "Throttles"): ((), ("invocations-and-duration",)),
    ("Critical", "PlatformErrors"): ((), ("api-errors-by-route", "invocations-and-duration")),
    ("Critical", "DeliveryFailures"): ((), ()),
    ("Critical", "Unreachable"): ((), ("api-errors-by-route",)),
    ("Warning", "RunDuration"): ((), ("invocations-and-duration",)),
    ("Warning", "ControlLatencyP95"): ((), ("slow-control-messages",)),
    ("Warning", "RateLimitViolations"): (
        ("RateLimitedConnections",),
        ("rate-limited-connections",),
    ),
    ("Warning", "ConnectionsClosedForRateLimit"): (
        ("RateLimitedConnections",),
        ("rate-limited-connections",),
    ),
    ("Warning", "AudioBufferOverflows"): (
        ("DroppedAudioBySession",),
        ("dropped-audio-by-session",),
    ),
    ("Warning", "ListenerNotificationFailures"): (
        ("NotificationFailuresBySession",),
        ("listener-notification-failures",),
    ),
    ("Warning", "DynamoDBErrors"): ((), ("dynamodb-errors",)),
    ("Warning", "DurationNearTimeout"): ((), ("invocations-and-duration",)),
    ("Warning", "ConcurrencyNearLimit"): ((), ("invocations-and-duration",)),
    ("Warning", "Heartbeat"): ((), ("emf-lines-per-minute",)),
    ("Warning", "Throttles"): ((), ("dynamodb-errors",)),
    ("Warning", "SystemErrors"): ((), ("dynamodb-errors",)),
    ("Warning", "DeliveryFailures"): ((), ()),
}


def rule_name(prefix: str, rule: ContributorRule) -> str:
    return f"{prefix}-{rule.key}"


def query_name(prefix: str, query: SavedQuery) -> str:
    return f"{prefix}/{query.key}"


def drilldown_text(prefix: str, severity: str, key: str) -> str:
    """What a runbook says to open: "Drill down: Contributor Insights rule X; Logs Insights
    query Y." ("" when the alarm has nothing in the logs to open)."""
    rules, queries = DRILLDOWN.get((severity, key), ((), ()))
    parts = []
    if rules:
        parts.append("Contributor Insights rule " + ", ".join(f"{prefix}-{r}" for r in rules))
    if queries:
        parts.append("Logs Insights query " + ", ".join(f"{prefix}/{q}" for q in queries))
    return f" Drill down: {'; '.join(parts)}." if parts else ""
