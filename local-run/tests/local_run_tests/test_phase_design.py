"""The phases' faults against the thresholds of the alarms they are designed for, read from
infra's alarm table: each latency fault is over (or under) its threshold by itself, so the
phase fires what it must whatever the reading of the simulated timer, where the stalls of a
broadcast's concurrent posts add up; deployed, the notifier's posts overlap."""

from __future__ import annotations

from infra.alarm_table import ALARMS, CRITICAL, WARNING
from infra.alarm_vocabulary import Severity
from infra.functions import FUNCTIONS
from local_run.simulation.phases import (
    AUDIO_FN,
    CONNECTION,
    DEGRADED_NOTIFY_SECONDS,
    DEGRADED_TRANSCRIBE_SECONDS,
    HANG_SECONDS,
    LATENCY_SPIKE_SECONDS,
    STATUS_FN,
)


def _threshold_ms(key: str, severity: Severity) -> float:
    (alarm,) = (a for a in ALARMS if a.key == key and a.severity is severity)
    return float(alarm.threshold)


def test_slow_degradation_one_slow_notification_is_over_the_control_warning() -> None:
    # A control message to a single listener: one post, nothing to overlap or add.
    assert DEGRADED_NOTIFY_SECONDS * 1000 > _threshold_ms("ControlLatencyP95", WARNING)


def test_slow_degradation_audio_is_between_the_warning_and_the_critical() -> None:
    ms = DEGRADED_TRANSCRIBE_SECONDS * 1000
    warning, critical = (_threshold_ms("AudioLatencyP95", s) for s in (WARNING, CRITICAL))
    assert warning < ms < critical


def test_audio_latency_spike_is_over_the_critical() -> None:
    assert LATENCY_SPIKE_SECONDS * 1000 > _threshold_ms("AudioLatencyP95", CRITICAL)


def test_one_hung_call_outlasts_the_websocket_functions_timeout() -> None:
    # The functions behind API Gateway's routes; session_status (scheduled) outlasts one hung
    # post and runs into its timeout with two.
    timeouts = {f.label: f.timeout.total_seconds() for f in FUNCTIONS}
    assert HANG_SECONDS > timeouts[CONNECTION]
    assert HANG_SECONDS > timeouts[AUDIO_FN]
    assert 2 * HANG_SECONDS > timeouts[STATUS_FN] > HANG_SECONDS
