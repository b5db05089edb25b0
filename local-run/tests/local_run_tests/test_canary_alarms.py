"""The canary's alarms, read from infra's synthesized template and driven through the
evaluator (CloudWatch's semantics: evaluated every minute over sliding periods, the
evaluation range, missing data), with run histories that must fire them and histories that
must not. The expectations come from the alarm table's rules: the success alarm pages when
2 of the canary's last 3 runs fail, or when it stops running (missing data breaches); the
duration alarm warns when 3 runs in a row average over 15 s.

Then the other direction: the canary's own traffic must not fire the service's alarms. Every
canary session's first (only) audio chunk waits for a Transcribe stream to open, so its
latency is no user's. CloudWatch does not consult missing data while an evaluation range
holds N real datapoints, so gaps between runs do not protect a sustained window: at a
schedule of 5 minutes or more, runs that were the worst case for every sustained service
alarm (10 s latencies, a failing Transcribe stream) fire none of them, even if CloudWatch
read twice N periods; at 3 minutes they fire them, and at 4 they would with a range of 2N:
why infra refuses schedules under 5 minutes.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audio_transcription import metrics_spec as audio
from infra.alarm_scopes import SYNTHETICS_NAMESPACE
from infra.canary import MIN_SCHEDULE, canary_name
from infra.functions import FUNCTIONS
from local_run.cloudwatch.alarm_model import MetricAlarm, TemplateAlarms
from local_run.cloudwatch.evaluator import AlarmState, evaluate, evaluate_alarm
from local_run.cloudwatch.metric_statistics import aligned
from local_run.cloudwatch.metric_store import InMemoryMetricStore
from local_run.simulation.stack_alarms import synthesized_alarms
from session_management import metrics_spec as session

STACK = "ws-canary"
CANARY = {"CanaryName": canary_name(STACK)}
UNREACHABLE = f"{STACK}-Critical-Canary-Unreachable"
RUN_DURATION = f"{STACK}-Warning-Canary-RunDuration"
DEGRADED = f"{STACK}-Critical-Service-ServiceDegraded"
T0 = aligned(1_700_000_000, 300) + 300
RUN = 300  # the default schedule: a run every 5 minutes
OFFSET = 37  # seconds into its 5 minutes a run reports (Synthetics picks the phase)


@pytest.fixture(scope="module")
def alarms() -> TemplateAlarms:
    return synthesized_alarms(STACK, {f.label: f"{STACK}-{f.label}" for f in FUNCTIONS})


def _alarm(alarms: TemplateAlarms, name: str) -> MetricAlarm:
    alarm = alarms.by_name(name)
    assert isinstance(alarm, MetricAlarm)
    return alarm


HISTORY = 6  # passing runs before T0: the canary has been running for half an hour


def runs(
    outcomes: str,
    durations_ms: list[float] | None = None,
    *,
    every: int = RUN,
    history: int = HISTORY,
) -> InMemoryMetricStore:
    """One run per ``every`` seconds from T0 on: ``outcomes`` is a string of ``p`` (passed)
    and ``f`` (failed), after ``history`` passing runs before T0; a run publishes
    SuccessPercent 100 or 0 and its Duration, as Synthetics does."""
    store = InMemoryMetricStore()
    outcomes = "p" * history + outcomes
    durations_ms = [1_200.0] * history + durations_ms if durations_ms else None
    for i, outcome in enumerate(outcomes):
        t = T0 + (i - history) * every + OFFSET
        store.put(
            SYNTHETICS_NAMESPACE, "SuccessPercent", t, 100.0 if outcome == "p" else 0.0, CANARY
        )
        duration = durations_ms[i] if durations_ms else 1_200.0
        store.put(SYNTHETICS_NAMESPACE, "Duration", t, duration, CANARY)
    return store


def _changes(
    alarm: MetricAlarm, store: InMemoryMetricStore, minutes: int
) -> list[tuple[AlarmState, float]]:
    """(new state, minutes after T0) of each change."""
    return [
        (c.new, (c.timestamp - T0) / 60)
        for c in evaluate_alarm(alarm, store, T0, T0 + minutes * 60)
    ]


def _fires(alarm: MetricAlarm, store: InMemoryMetricStore, minutes: int) -> bool:
    return any(new is AlarmState.ALARM for new, _ in _changes(alarm, store, minutes))


# -- the success alarm ---------------------------------------------------------------------------


def test_a_healthy_canary_never_alarms(alarms: TemplateAlarms) -> None:
    alarm = _alarm(alarms, UNREACHABLE)
    assert _changes(alarm, runs("p" * 30), 30 * 5) == [(AlarmState.OK, 1)]


def test_a_new_canary_is_in_alarm_until_its_second_run_reports(alarms: TemplateAlarms) -> None:
    """What the runbook warns of: right after a stack is created, no run has reported yet,
    and missing data breaches; the first deployment of a stack pages once, briefly."""
    changes = _changes(_alarm(alarms, UNREACHABLE), runs("p" * 6, history=0), 30)
    # The second run reports at minute 5.6, in the period read at the end of minute 6.
    assert changes == [(AlarmState.ALARM, 1), (AlarmState.OK, 6)]


@pytest.mark.parametrize(
    ("outcomes", "fires"),
    [
        ("pppppfpppppp", False),  # one failed run: a transient, nobody is paged
        ("pppppfpfpppp", True),  # 2 of 3 runs failed
        ("pppppffppppp", True),  # 2 in a row
        ("pppfppfppfpp", False),  # every third run fails: never 2 of any 3
        ("ffffffffffff", True),
    ],
)
def test_it_pages_when_2_of_the_last_3_runs_failed(
    alarms: TemplateAlarms, outcomes: str, fires: bool
) -> None:
    assert _fires(_alarm(alarms, UNREACHABLE), runs(outcomes), len(outcomes) * 5) is fires


def test_the_page_comes_with_the_second_failed_run_and_ends_with_the_passing_ones(
    alarms: TemplateAlarms,
) -> None:
    changes = _changes(_alarm(alarms, UNREACHABLE), runs("ppppffpppppp"), 60)
    # Runs report at minute 5k + 0.6; the second failure (run 5, minute 25.6) is in the
    # period read at the end of minute 26.
    assert changes[:2] == [(AlarmState.OK, 1), (AlarmState.ALARM, 26)]
    # OK again once 2 of the last 3 periods hold passing runs: run 6 (minute 30.6) and
    # run 7 (minute 35.6), read at the end of minute 36.
    assert changes[2:] == [(AlarmState.OK, 36)]


def test_a_canary_that_stops_running_pages(alarms: TemplateAlarms) -> None:
    alarm = _alarm(alarms, UNREACHABLE)
    changes = _changes(alarm, runs("pppppp"), 90)  # 6 runs, then nothing for an hour
    assert [new for new, _ in changes] == [AlarmState.OK, AlarmState.ALARM]
    # The last run reports at minute 25.6. Each evaluation reads 5 periods (25 minutes);
    # while 3 hold runs, missing ones are not consulted; with 2 real (passing) datapoints, the
    # missing third counts as breaching: 1 of 3, OK; with 1, two missing: 2 of 3, ALARM. The
    # run before the last (minute 20.6) leaves the 25 minutes read at the end of minute 46.
    assert changes[1][1] == 46


def test_a_run_that_reports_late_does_not_breach(alarms: TemplateAlarms) -> None:
    """Runs drift by seconds: a 5-minute period may hold no run, the next two."""
    store = runs("p" * 12)
    late = T0 + 12 * RUN + OFFSET + 250  # the 13th run, 250 s late, then on schedule again
    for t in (late, late + RUN - 240, late + 2 * RUN - 240):
        store.put(SYNTHETICS_NAMESPACE, "SuccessPercent", t, 100.0, CANARY)
    assert not _fires(_alarm(alarms, UNREACHABLE), store, 80)


@settings(max_examples=60, deadline=None)
@given(outcomes=st.text(alphabet="pf", min_size=3, max_size=14))
def test_it_fires_exactly_when_some_3_consecutive_runs_hold_2_failures(
    alarms: TemplateAlarms, outcomes: str
) -> None:
    expected = any(outcomes[i : i + 3].count("f") >= 2 for i in range(len(outcomes) - 2))
    alarm = _alarm(alarms, UNREACHABLE)
    # Evaluated until the last run's period is read, before missing data could count.
    assert _fires(alarm, runs(outcomes), len(outcomes) * 5 + 1) is expected


def test_the_page_goes_through_the_composite(alarms: TemplateAlarms) -> None:
    result = evaluate(alarms, runs("ppppffpppp"), T0, T0 + 50 * 60)
    assert UNREACHABLE in result.fired() and DEGRADED in result.fired()


# -- the duration alarm --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("durations_s", "fires"),
    [
        ([1, 1, 1, 1, 16, 16, 16, 1, 1], True),  # 3 slow runs in a row
        ([1, 1, 1, 1, 16, 16, 1, 16, 16], False),  # never 3 in a row
        ([1, 1, 1, 1, 15, 15, 15, 1, 1], False),  # at the threshold, not over it
    ],
)
def test_it_warns_when_3_runs_in_a_row_average_over_15_s(
    alarms: TemplateAlarms, durations_s: list[int], fires: bool
) -> None:
    store = runs("p" * len(durations_s), [s * 1000.0 for s in durations_s])
    assert _fires(_alarm(alarms, RUN_DURATION), store, len(durations_s) * 5) is fires


def test_a_canary_that_stops_is_the_success_alarms_not_the_duration_alarms(
    alarms: TemplateAlarms,
) -> None:
    assert not _fires(_alarm(alarms, RUN_DURATION), runs("pp"), 60)


# -- the canary's own traffic and the service's alarms -------------------------------------------

SUSTAINED_SERVICE_ALARMS = (
    f"{STACK}-Critical-AudioTranscription-AudioLatencyP95",
    f"{STACK}-Warning-AudioTranscription-AudioLatencyP95",
    f"{STACK}-Warning-SessionManagement-ControlLatencyP95",
    f"{STACK}-Critical-AudioTranscription-TranscribeStreamErrorRate",
)


def canary_traffic(every: int, second: int, hours: int = 3) -> InMemoryMetricStore:
    """Only the canary, every ``every`` seconds from ``second`` seconds into a minute, each
    run the worst case for the service's sustained alarms and lasting up to a minute: its
    control messages and audio chunk 10 s slow, its Transcribe stream failing; its samples
    land in the minute it starts and in the next."""
    store = runs("p" * (hours * 3600 // every), every=every, history=30 * 60 // every)
    slow = {10_000.0: 1.0}
    t = T0 + second
    while t < T0 + hours * 3600:
        for at in (t, t + 59):  # the run's first and last second
            store.put(audio.NAMESPACE, audio.AUDIO_PROCESSING_LATENCY.name, at, slow)
            store.put(audio.NAMESPACE, audio.TRANSCRIBE_STREAM_ATTEMPTS.name, at, 1.0)
            store.put(audio.NAMESPACE, audio.TRANSCRIBE_STREAM_ERRORS.name, at, 1.0)
            store.put(session.NAMESPACE, session.CONTROL_MESSAGE_LATENCY.name, at, slow)
        t += every
    return store


def _fires_with_range(alarm: MetricAlarm, store: InMemoryMetricStore, span: int) -> bool:
    changes = evaluate_alarm(alarm, store, T0, T0 + 180 * 60, evaluation_range=span)
    return any(c.new is AlarmState.ALARM for c in changes)


@settings(max_examples=12, deadline=None)
@given(minutes=st.integers(int(MIN_SCHEDULE.total_seconds() // 60), 60), second=st.integers(0, 59))
def test_at_5_minutes_or_more_the_canary_alone_fires_no_service_alarm(
    alarms: TemplateAlarms, minutes: int, second: int
) -> None:
    store = canary_traffic(minutes * 60, second)
    for name in SUSTAINED_SERVICE_ALARMS:
        alarm = _alarm(alarms, name)
        for span in (alarm.evaluation_periods + 2, 2 * alarm.evaluation_periods):
            assert not _fires_with_range(alarm, store, span), (name, minutes, second, span)


def test_at_3_minutes_runs_straddling_minutes_fill_the_windows(alarms: TemplateAlarms) -> None:
    store = canary_traffic(180, 1)
    for name in SUSTAINED_SERVICE_ALARMS[::3]:  # the 5-minute windows
        alarm = _alarm(alarms, name)
        assert _fires_with_range(alarm, store, alarm.evaluation_periods + 2), name


def test_at_4_minutes_a_longer_evaluation_range_would_be_filled(alarms: TemplateAlarms) -> None:
    store = canary_traffic(240, 1)
    alarm = _alarm(alarms, SUSTAINED_SERVICE_ALARMS[0])
    assert not _fires_with_range(alarm, store, alarm.evaluation_periods + 2)
    assert _fires_with_range(alarm, store, 2 * alarm.evaluation_periods)
