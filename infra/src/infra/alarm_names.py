"""Alarm names: the one place they are made, and the scopes they name.

A name is ``<prefix>-<Severity>-<scope>-<key>``, the scope being a service, a function, the
WebSocket stage (`STAGE_SCOPE`), a table, an alarm topic (`topic_scope`) or the canary
(`CANARY_SCOPE`). The failure
catalog and the local run's phases name alarms through these functions too, so their keys
cannot drift from the names the stack deploys.
"""

from __future__ import annotations

from infra.alarm_definition import Severity

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
