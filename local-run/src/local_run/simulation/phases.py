"""The local run's phases, as data: what each simulates (its fault and how big), and which alarms it
is designed to fire (alarm keys: the alarm names without the ``<stack>-`` prefix, made by
`infra.alarm_vocabulary.alarm_name`). `local_run.simulation.scenario` runs them (their traffic in
`local_run.simulation.traffic`, their faults in `local_run.simulation.phase_faults`); infra's
failure catalog names the phase that proves each failure class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from audio_transcription.routes import SEND_AUDIO
from infra import failure_catalog as catalog
from infra.alarm_vocabulary import CANARY_SCOPE, STAGE_SCOPE, Severity, topic_scope

ABUSERS_PER_SERVICE = 11  # 11 x 10 violations > 100 in one minute; 11 closed > 10
LISTENERS_GONE_PER_MINUTE = 14  # 14 x 5 min = 70 notification failures > 50
DYNAMODB_FAULT_RATE = 0.3
LATENCY_SPIKE_SECONDS = 0.15  # per chunk handed to Transcribe: p95 > 100 ms
# A slow degradation: audio p95 between the warning (75 ms) and the critical (100 ms)
# threshold; every listener notification 160 ms slower, so that a control message to one
# listener alone is over the 150 ms warning: whether a broadcast's posts overlap, as deployed
# (the notifier posts to up to 8 listeners at once), or add up, as on the simulated timer
# (one timer per run: concurrent stalls are summed).
DEGRADED_TRANSCRIBE_SECONDS = 0.085
DEGRADED_NOTIFY_SECONDS = 0.16
# A hung dependency call: longer than the 29 s timeout of the functions behind the routes;
# session_status (55 s, scheduled) runs into its timeout with two hung posts.
HANG_SECONDS = 30.0
# A flash crowd per minute: (listeners joining, of whom ask for status, speakers x chunks).
# Over the functions' reserved concurrency (50, 10, 100) in the throttling phase, within 80 %
# of it in the healthy surge.
THROTTLING_CROWD = (60, 15, (18, 7))
SURGE_CROWD = (40, 8, (12, 5))
CORRUPT_STATE = "ARCHIVED"  # a session state this code does not know (a newer release's)
# Each request from outside waits this long before its function runs: the canary's five
# answered steps take 17.5 s (over its 15 s slow-run threshold), each under its 5 s timeout.
SLOW_FROM_OUTSIDE_SECONDS = 3.5
# The route a deploy lost in route-broken: its messages go to $default (answered 400).
DELETED_ROUTE = SEND_AUDIO


@dataclass(frozen=True)
class Phase:
    name: str
    description: str
    expected: frozenset[str]  # alarm keys (alarm names without the "<stack>-" prefix)
    min_minutes: int = 0  # at least this long, whatever --phase-minutes says
    subscribers_down: bool = False  # the alarm topics' subscribers reject every notification
    # Whether the canary's runs pass: not where the fault reaches every user, so the canary
    # too (`local_run.simulation.scenario_canary`).
    canary_passes: bool = True

    def minutes(self, phase_minutes: int) -> int:
        return max(phase_minutes, self.min_minutes)


def _keys(*keys: str) -> frozenset[str]:
    return frozenset(keys)


# Alarm keys and resource labels as infra's failure catalog names them (the one place).
CONNECTION = catalog.CONNECTION
STATUS_FN = catalog.SESSION_STATUS
AUDIO_FN = catalog.AUDIO_PROCESSOR
SM, AT = catalog.SM, catalog.AT
TABLE_SCOPES = catalog.TABLE_LABELS
DEGRADED = catalog.PAGE


def _critical(scope: str, key: str) -> str:
    return catalog.key(Severity.CRITICAL, scope, key)


def _warning(scope: str, key: str) -> str:
    return catalog.key(Severity.WARNING, scope, key)


# The order: a phase that pages follows one that does not (the composite must be OK again
# to page). The canary's success alarm pages on 2 failed runs of its last 3 (a run every 5
# minutes): between two phases whose fault fails the canary for one run lie at least two
# passing runs, and after a phase that pages through it (2 failed runs) at least two passing
# runs let it return to OK before the next one that pages (even evaluated only at the ends
# of its 5-minute periods).
PHASES: tuple[Phase, ...] = (
    Phase("baseline", "healthy traffic", _keys()),
    Phase(
        "transcribe-outage",
        "Transcribe fails every stream: audio piles up in the buffers",
        _keys(
            _critical(AT, "TranscribeStreamErrorRate"),
            _warning(AT, "AudioBufferOverflows"),
            DEGRADED,
        ),
    ),
    Phase(
        "dynamodb-errors",
        f"{DYNAMODB_FAULT_RATE:.0%} of DynamoDB calls answered 500 InternalServerError",
        _keys(
            _warning(SM, "DynamoDBErrors"),
            _warning(AT, "DynamoDBErrors"),
            *(_warning(t, "SystemErrors") for t in TABLE_SCOPES),
        ),
        canary_passes=False,
    ),
    Phase(
        "listeners-gone",
        f"{LISTENERS_GONE_PER_MINUTE} listeners a minute vanish without $disconnect (410)",
        _keys(_warning(SM, "ListenerNotificationFailures")),
    ),
    Phase(
        "audio-latency-spike",
        f"Transcribe takes {LATENCY_SPIKE_SECONDS * 1000:.0f} ms per chunk (simulated time)",
        _keys(_critical(AT, "AudioLatencyP95"), DEGRADED),
    ),
    Phase(
        "metrics-lost-session",
        "a session-management deploy dropped the instrumentation: connection and "
        "session_status run, their metrics do not arrive",
        _keys(_warning(CONNECTION, "Heartbeat"), _warning(STATUS_FN, "Heartbeat")),
    ),
    Phase(
        "alarm-delivery-failing",
        "Transcribe fails again while the alarm subscribers' HTTPS endpoints answer 503 and "
        "their e-mail bounces (a pager integration deleted): SNS counts each failed HTTPS "
        "attempt, and the delivery alarms of both topics fire (the e-mail failures count "
        "6 hours later, after the run)",
        _keys(
            _critical(AT, "TranscribeStreamErrorRate"),
            _warning(AT, "AudioBufferOverflows"),
            _warning(topic_scope(Severity.CRITICAL), "DeliveryFailures"),
            _critical(topic_scope(Severity.WARNING), "DeliveryFailures"),
            DEGRADED,
        ),
        # A failed notification is seen by its delivery alarm one 5-minute period later.
        min_minutes=10,
        subscribers_down=True,
    ),
    Phase(
        "dynamodb-throttling",
        f"{DYNAMODB_FAULT_RATE:.0%} of DynamoDB calls throttled (ThrottlingException)",
        _keys(
            _warning(SM, "DynamoDBErrors"),
            _warning(AT, "DynamoDBErrors"),
            *(_warning(t, "Throttles") for t in TABLE_SCOPES),
        ),
        canary_passes=False,
    ),
    Phase(
        "metrics-lost-audio",
        "audio_processor's EMF output is no longer extracted while it streams on",
        _keys(_warning(AUDIO_FN, "Heartbeat")),
    ),
    Phase(
        "handler-exceptions",
        f"both sessions' items carry a state this release does not know ({CORRUPT_STATE}): "
        "every handler reading them raises, the guard answers 500",
        _keys(
            *(_critical(f, "LambdaErrorRate") for f in (CONNECTION, STATUS_FN, AUDIO_FN)), DEGRADED
        ),
    ),
    Phase(
        "low-traffic",
        "a trickle of traffic (a chunk and a status query a minute) and one request that "
        "fails with a 500: pages nobody",
        _keys(),
    ),
    Phase(
        "lambda-throttling",
        "a flash crowd each minute over every function's reserved concurrency "
        f"({THROTTLING_CROWD[0]} joins, {THROTTLING_CROWD[1]} status queries, "
        f"{THROTTLING_CROWD[2][0] * THROTTLING_CROWD[2][1]} chunks at once)",
        _keys(
            *(_critical(f, "Throttles") for f in (CONNECTION, STATUS_FN, AUDIO_FN)),
            *(_warning(f, "ConcurrencyNearLimit") for f in (CONNECTION, STATUS_FN, AUDIO_FN)),
            _critical(STAGE_SCOPE, "PlatformErrors"),
            DEGRADED,
        ),
    ),
    Phase(
        "rate-limit-abuse",
        f"{ABUSERS_PER_SERVICE} clients per service flood status queries / audio, get "
        "refused and closed",
        _keys(
            _warning(SM, "RateLimitViolations"),
            _warning(AT, "RateLimitViolations"),
            _warning(SM, "ConnectionsClosedForRateLimit"),
            _warning(AT, "ConnectionsClosedForRateLimit"),
        ),
    ),
    Phase(
        "lambda-timeouts",
        f"the Management API and Transcribe hang ({HANG_SECONDS:.0f} s a call): broadcasts, "
        "scheduled updates and audio run into the functions' timeouts (their metrics get out "
        "through the flush before the deadline)",
        _keys(
            _critical(CONNECTION, "LambdaErrorRate"),
            _critical(AUDIO_FN, "LambdaErrorRate"),
            *(_warning(f, "DurationNearTimeout") for f in (CONNECTION, STATUS_FN, AUDIO_FN)),
            _critical(STAGE_SCOPE, "PlatformErrors"),
            DEGRADED,
        ),
        canary_passes=False,
    ),
    Phase(
        "slow-degradation",
        f"Transcribe {DEGRADED_TRANSCRIBE_SECONDS * 1000:.0f} ms per chunk, each listener "
        f"notification {DEGRADED_NOTIFY_SECONDS * 1000:.0f} ms slower, for 15 minutes: "
        "warnings only",
        _keys(_warning(AT, "AudioLatencyP95"), _warning(SM, "ControlLatencyP95")),
        min_minutes=15,  # 10-minute windows; whole 5-minute periods keep phases aligned
    ),
    # Not right after lambda-timeouts: PlatformErrors is in ALARM there, and an alarm that
    # never leaves ALARM cannot enter it again (nor can the composite page again).
    Phase(
        "apigw-integration-errors",
        "a deploy removed API Gateway's permission to invoke audio_processor: sendAudio "
        "fails before any handler runs",
        _keys(_critical(STAGE_SCOPE, "PlatformErrors"), DEGRADED),
        canary_passes=False,
    ),
    Phase(
        "healthy-surge",
        f"a flash crowd each minute within the concurrency limits ({SURGE_CROWD[0]} joins, "
        f"{SURGE_CROWD[1]} status queries, {SURGE_CROWD[2][0] * SURGE_CROWD[2][1]} chunks at "
        "once): fires nothing",
        _keys(),
    ),
    Phase(
        "endpoint-unreachable",
        "the stage accepts no new connection (every upgrade answered 503 before $connect): "
        "connected clients go on, nobody new gets in; only the canary sees it",
        _keys(_critical(CANARY_SCOPE, "Unreachable"), DEGRADED),
        min_minutes=10,
        canary_passes=False,
    ),
    Phase(
        "slow-from-outside",
        f"every request from outside waits {SLOW_FROM_OUTSIDE_SECONDS:g} s before its "
        "function runs (a long init, API Gateway): each answer arrives, the canary's runs "
        "take over 15 s; no function's Duration or timer includes it",
        _keys(_warning(CANARY_SCOPE, "RunDuration")),
        min_minutes=15,  # 3 slow runs in a row
    ),
    Phase(
        "route-broken",
        f"a deploy lost the {DELETED_ROUTE} route: audio goes to $default and is answered "
        "400, audio_processor is never invoked; no service alarm can see it",
        _keys(_critical(CANARY_SCOPE, "Unreachable"), DEGRADED),
        min_minutes=10,
        canary_passes=False,
    ),
    Phase(
        "garbled-chunks",
        "speakers also send oversize, non-base64 and odd-length chunks (4xx, dropped)",
        _keys(),
    ),
)
PHASE_NAMES = tuple(p.name for p in PHASES)


def phases_named(names: Sequence[str]) -> tuple[Phase, ...]:
    """The phases with these names, in the order given; raises KeyError for an unknown one."""
    by_name = {p.name: p for p in PHASES}
    return tuple(by_name[n] for n in names)
