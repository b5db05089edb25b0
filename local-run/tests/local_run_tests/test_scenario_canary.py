"""The canary as the local run runs it (`local_run.simulation.scenario_canary`): the real script
against the local WebSocket endpoint in front of the real handlers on moto, timed on the simulated
clock, with what Synthetics publishes per run (CloudWatch user guide, "CloudWatch metrics published
by canaries": SuccessPercent "The percentage of the runs of this canary that succeed and find no
failures", Duration "The duration in milliseconds of the canary run", dimension CanaryName).

Expected durations come from the canary's protocol (`websocket_canary.steps`): five of its
requests wait for a function (the speaker's and the listener's upgrade, setVolume,
sendAudio, endSession); the two $disconnects run after the connections are closed, and
nobody waits for them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.alarm_scopes import LAMBDA_NAMESPACE, SYNTHETICS_NAMESPACE
from infra.canary import canary_name
from local_run.cloudwatch.metric_store import MetricId, dimension_key
from local_run.serve import endpoint_on
from local_run.simulation.backend import Backend, local_backend
from local_run.simulation.local_names import STACK_NAME
from local_run.simulation.scenario import aligned_start
from local_run.simulation.scenario_canary import OFFSET_SECONDS, SCHEDULE_SECONDS, ScenarioCanary
from local_run.simulation.sim_clock import SimClock
from local_run.simulation.stack_alarms import synthesized_routes
from local_run.simulation.websocket_endpoint import WebSocketEndpoint
from websocket_service.events import DEFAULT, DISCONNECT
from websocket_service.management_api import ENDPOINT_ENV
from websocket_service.testing.management_api_stub import ManagementApiStub

WAITED_REQUESTS = 5  # speaker and listener upgrades, setVolume, sendAudio, endSession
STEP_TIMEOUT = 5.0  # the canary's default step timeout (websocket_canary.settings)
CANARY = {"CanaryName": canary_name(STACK_NAME)}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[WebSocketEndpoint]:
    routes = synthesized_routes(STACK_NAME)
    with (
        local_backend(None) as url,
        endpoint_on(Backend(url), routes, SimClock(aligned_start(0))) as ep,
    ):
        yield ep


@pytest.fixture
def canary(endpoint: WebSocketEndpoint) -> Iterator[ScenarioCanary]:
    functions = endpoint.functions
    yield ScenarioCanary(endpoint, functions.clock, functions.platform, STACK_NAME)
    faults = endpoint.faults
    faults.refuse_connections(False)
    faults.delay_from_outside(0.0)
    for key in list(faults.deleted):
        faults.delete_route(key, deleted=False)


def published(canary: ScenarioCanary, name: str) -> list[float]:
    store = canary.platform.store
    series = MetricId(SYNTHETICS_NAMESPACE, name, dimension_key(CANARY))
    return [v for _, dist in store.observations(series, 0, 2e10) for v in dist]


def test_a_healthy_run_passes_and_synthetics_publishes_100(canary: ScenarioCanary) -> None:
    before = len(published(canary, "SuccessPercent"))
    run = canary.run()
    assert run.passed, run.outcome
    assert published(canary, "SuccessPercent")[before:] == [100.0]
    assert published(canary, "Duration")[before:] == [run.duration_ms]


def test_a_refused_upgrade_fails_at_speaker_connect_and_publishes_0(
    canary: ScenarioCanary,
) -> None:
    canary.endpoint.faults.refuse_connections(True)
    before = len(published(canary, "SuccessPercent"))
    run = canary.run()
    assert not run.passed
    assert "speaker-connect" in run.outcome and "503" in run.outcome
    assert published(canary, "SuccessPercent")[before:] == [0.0]


def test_a_delay_in_front_of_the_functions_is_in_the_runs_duration_not_in_lambdas(
    canary: ScenarioCanary,
) -> None:
    delay = 3.5
    canary.endpoint.faults.delay_from_outside(delay)
    platform = canary.platform
    fn_durations = [
        m
        for m in platform.store.series()
        if (m.namespace, m.name) == (LAMBDA_NAMESPACE, "Duration")
    ]
    seen_before = {m: len(platform.store.observations(m, 0, 2e10)) for m in fn_durations}
    run = canary.run()
    assert run.passed, run.outcome
    assert run.duration_ms == pytest.approx(WAITED_REQUESTS * delay * 1000)
    # Lambda's Duration is the function's own time: none of the delay.
    for m in platform.store.series():
        if (m.namespace, m.name) == (LAMBDA_NAMESPACE, "Duration"):
            new = platform.store.observations(m, 0, 2e10)[seen_before.get(m, 0) :]
            assert all(v < delay * 1000 for _, dist in new for v in dist)


def test_a_step_over_its_timeout_in_simulated_time_fails_however_fast_the_machine(
    canary: ScenarioCanary,
) -> None:
    canary.endpoint.faults.delay_from_outside(STEP_TIMEOUT + 0.5)
    run = canary.run()
    assert not run.passed
    assert "speaker-connect" in run.outcome and "over the 5 s step timeout" in run.outcome


def test_a_deleted_route_sends_its_messages_to_default(canary: ScenarioCanary) -> None:
    endpoint = canary.endpoint
    endpoint.faults.delete_route("sendAudio")
    seen = len(list(endpoint.dispatches))
    run = canary.run()
    assert not run.passed and "audio-answer" in run.outcome
    new = list(endpoint.dispatches)[seen:]
    audio = [d for d in new if '"sendAudio"' in (d.event.get("body") or "")]
    assert [d.route_key for d in audio] == [DEFAULT]
    endpoint.faults.delete_route("sendAudio", deleted=False)
    assert canary.run().passed


def test_after_a_run_the_endpoint_is_idle_with_both_disconnects_done(
    canary: ScenarioCanary,
) -> None:
    endpoint = canary.endpoint
    seen = len(list(endpoint.dispatches))
    assert canary.run().passed
    new = list(endpoint.dispatches)[seen:]
    assert sum(d.route_key == DISCONNECT for d in new) == 2
    endpoint.wait_idle(0)  # raises TimeoutError if anything still runs


def test_the_handlers_posts_reach_the_canary_through_the_runs_one_management_api(
    canary: ScenarioCanary,
) -> None:
    # The scenario's handlers are given the stub's URL; the canary's listener is notified
    # only if the stub hands the endpoint's connections to the endpoint.
    endpoint = canary.endpoint
    functions = endpoint.functions
    with ManagementApiStub() as api, mock.patch.dict(os.environ, {ENDPOINT_ENV: api.endpoint_url}):
        kept: list[str] = []
        api.on_delivered = kept.append
        api.elsewhere = endpoint.connections_answer
        run = canary.run()
        assert run.passed, run.outcome
        assert kept == []  # the endpoint delivered them, not the stub
        api.elsewhere = None
        quick = ScenarioCanary(
            endpoint, functions.clock, functions.platform, STACK_NAME, real_wait=2.0
        )
        failed = quick.run()
    assert not failed.passed and "listener-notified" in failed.outcome
    assert kept  # the notification went to the stub, which has no such client


def test_history_runs_at_the_two_scheduled_times_before_the_start(
    canary: ScenarioCanary,
) -> None:
    clock = canary.clock
    t0 = clock.now - clock.now % SCHEDULE_SECONDS + SCHEDULE_SECONDS
    canary.runs.clear()
    canary.history(t0)
    assert [r.at for r in canary.runs] == [
        t0 - 2 * SCHEDULE_SECONDS + OFFSET_SECONDS,
        t0 - SCHEDULE_SECONDS + OFFSET_SECONDS,
    ]
    assert all(r.passed for r in canary.runs) and clock.now == t0


@given(st.integers(0, 10_000))
def test_a_run_is_due_35_seconds_into_every_5_minutes(tick: int) -> None:
    t0 = 1_700_000_100.0  # a 5-minute boundary
    t = t0 + 5 * tick
    assert ScenarioCanary.due(t0, t) == ((5 * tick) % 300 == 35)
