"""The canary's sessions stay out of the drill-down that ranks sessions: EMF lines written by the
services' real emitters (the EMF sink, the annotate that marks a canary session) for a canary
session and a user's, both as bad as can be, evaluated by the Contributor Insights rules as
synthesized (local_run.cloudwatch.contributor_insights). The session rules rank the user alone;
the rule by connection keeps the canary (on purpose: see infra.drilldown.NOT_SYNTHETIC)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from audio_transcription.metrics import AudioMetrics
from audio_transcription.metrics_spec import AUDIO_PROCESSING_LATENCY
from audio_transcription.metrics_spec import NAMESPACE as AUDIO_NAMESPACE
from infra.functions import FUNCTIONS
from local_run.cloudwatch.contributor_insights import Rule, top_contributors
from local_run.simulation.local_names import function_name, log_group_name
from local_run.simulation.stack_alarms import synthesized_rules
from session_management.metrics import SessionMetrics
from session_management.metrics_spec import NAMESPACE as SESSION_NAMESPACE
from shared_metrics import MetricsEmitter
from shared_metrics.sinks.emf import EmfSink
from websocket_service.synthetic_traffic import SYNTHETIC_SESSION_PREFIX

STACK = "ws-drill"
CANARY = f"{SYNTHETIC_SESSION_PREFIX}00000000000000aa"
USER = "user-session-1"
NAMES = {f.label: function_name(STACK, f.label) for f in FUNCTIONS}


@pytest.fixture(scope="module")
def rules() -> dict[str, Rule]:
    return {r.name.removeprefix(f"{STACK}-"): r for r in synthesized_rules(STACK, NAMES)}


def _lines(namespace: str, write: Any) -> list[dict[str, Any]]:
    """The EMF events one invocation per session writes through the real sink."""
    out = io.StringIO()
    emitter = MetricsEmitter(namespace, EmfSink(out), flush_at_exit=False)
    for session_id, connection_id in ((CANARY, "c-canary"), (USER, "c-user")):
        metrics = (AudioMetrics if namespace == AUDIO_NAMESPACE else SessionMetrics)(emitter)
        metrics.annotate(connection_id=connection_id)
        write(metrics, session_id)
        emitter.flush()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _ranked(rule: Rule, events: list[dict[str, Any]], label: str) -> set[str]:
    group = log_group_name(NAMES[label])
    return {c.keys[0] for c in top_contributors(rule, [(group, e) for e in events])}


def test_slow_and_dropped_audio_rank_the_user_not_the_canary(rules: dict[str, Rule]) -> None:
    def slow_and_dropped(metrics: AudioMetrics, session_id: str) -> None:
        metrics.emit_audio_chunk_received(session_id, 3200)
        # A 900 ms chunk (what the processing timer records): over SlowAudioBySession's 100 ms.
        metrics.emitter.record(AUDIO_PROCESSING_LATENCY, 900.0)
        metrics.emit_audio_chunk_dropped(session_id, "SessionPaused")

    events = _lines(AUDIO_NAMESPACE, slow_and_dropped)
    assert {e["SessionId"] for e in events} == {CANARY, USER}  # both wrote what the rules read
    assert _ranked(rules["SlowAudioBySession"], events, "audio_processor") == {USER}
    assert _ranked(rules["DroppedAudioBySession"], events, "audio_processor") == {USER}


def test_failed_notifications_rank_the_user_not_the_canary(rules: dict[str, Rule]) -> None:
    def failed(metrics: SessionMetrics, session_id: str) -> None:
        metrics.emit_control_message_received(session_id, "setVolume")
        metrics.emit_listener_notification_failed("Gone")

    events = _lines(SESSION_NAMESPACE, failed)
    assert _ranked(rules["NotificationFailuresBySession"], events, "connection") == {USER}


def test_rate_limited_connections_keep_the_canary(rules: dict[str, Rule]) -> None:
    def limited(metrics: SessionMetrics, session_id: str) -> None:
        metrics.emit_control_message_received(session_id, "setVolume")
        metrics.emit_rate_limit_violation("control")

    events = _lines(SESSION_NAMESPACE, limited)
    assert _ranked(rules["RateLimitedConnections"], events, "connection") == {"c-canary", "c-user"}
