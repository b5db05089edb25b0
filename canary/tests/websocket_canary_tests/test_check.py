"""The canary against the local WebSocket endpoint (API Gateway's documented behaviour in
front of the three real handlers on moto): it passes when the service works, and when the
endpoint refuses connections or a route cannot be invoked it fails at the step that route
serves, saying what API Gateway answered. What the service must have done is read from the
endpoint's record of what each function was asked (the dispatches), never from the canary.
"""

from __future__ import annotations

import dataclasses
import socket
from typing import Any

import pytest

from local_run.serve import endpoint_on
from local_run.simulation.backend import Backend, local_backend
from local_run.simulation.dispatch_log import Dispatch
from local_run.simulation.scenario import aligned_start
from local_run.simulation.sim_clock import SimClock
from local_run.simulation.websocket_endpoint import WebSocketEndpoint
from local_run.simulation.websocket_routes import RouteTable
from websocket_canary.check import CheckResult, run_check
from websocket_canary.protocol import CHUNK_SAMPLES
from websocket_canary.settings import CanarySettings
from websocket_canary.steps import (
    AUDIO_ANSWER,
    CONTROL_ANSWER,
    END_ANSWER,
    SPEAKER_CONNECT,
    STEPS,
    CanaryFailure,
)
from websocket_service.events import CONNECT, DISCONNECT
from websocket_service.synthetic_traffic import SYNTHETIC_SESSION_PREFIX

# The step timeout, on the endpoint's simulated clock (what the requests waited for the
# functions), so no verdict here depends on how busy the machine is.
STEP_TIMEOUT = 6.0
# Real time a wait for an answer may take: only an answer that never comes waits this long.
REAL_WAIT = 4.0  # not the step timeout, so a test can tell which one a wait used


def _check(ep: WebSocketEndpoint, **kwargs: Any) -> CheckResult:
    return run_check(
        CanarySettings(ep.url, STEP_TIMEOUT),
        clock=lambda: ep.waited_seconds,
        wait_seconds=REAL_WAIT,
        **kwargs,
    )


def _failure(ep: WebSocketEndpoint) -> CanaryFailure:
    with pytest.raises(CanaryFailure) as failed:
        _check(ep)
    return failed.value


def _refused(url: str) -> CanaryFailure:
    # No function is reached: the upgrade is answered at once, on the real clock.
    with pytest.raises(CanaryFailure) as failed:
        run_check(CanarySettings(url, STEP_TIMEOUT))
    return failed.value


def test_a_working_service_passes_every_step_with_a_session_of_the_canarys_own(
    endpoint: WebSocketEndpoint,
) -> None:
    lines: list[str] = []
    result = _check(endpoint, log=lines.append)
    assert [t.step for t in result.timings] == list(STEPS)
    assert len(lines) == len(STEPS)
    sid = result.session_id
    assert sid.startswith(SYNTHETIC_SESSION_PREFIX) and result.audio == "audioAccepted"
    # The audio reached the transcriber: 100 ms of PCM16, whole.
    assert len(endpoint.functions.transcriber.inner.audio(sid)) == 2 * CHUNK_SAMPLES

    connects = [
        d
        for d in endpoint.dispatches
        if d.route_key == CONNECT
        and (d.event.get("queryStringParameters") or {}).get("sessionId") == sid
    ]
    assert sorted(d.event["queryStringParameters"]["role"] for d in connects) == [
        "listener",
        "speaker",
    ]
    assert all(d.status == 200 for d in connects)
    ids = {d.connection_id for d in connects}
    for connection_id in ids:  # both clients closed: API Gateway ran $disconnect for each

        def disconnected(d: Dispatch, c: str = connection_id) -> bool:
            return d.route_key == DISCONNECT and d.connection_id == c

        endpoint.dispatches.wait_for(disconnected, 60)
    asked = [d.route_key for d in endpoint.dispatches if d.connection_id in ids]
    assert [r for r in asked if r not in (CONNECT, DISCONNECT)] == [
        "setVolume",
        "sendAudio",
        "endSession",
    ]


def test_two_runs_use_two_sessions(endpoint: WebSocketEndpoint) -> None:
    first, second = _check(endpoint), _check(endpoint)
    assert first.session_id != second.session_id


def test_an_endpoint_refusing_connections_fails_the_speakers_upgrade(
    endpoint: WebSocketEndpoint,
) -> None:
    endpoint.faults.refuse_connections(True)
    try:
        failure = _failure(endpoint)
    finally:
        endpoint.faults.refuse_connections(False)
    assert failure.step == SPEAKER_CONNECT
    assert "HTTP 503" in failure.reason and failure.reason.startswith("speaker: ")


@pytest.mark.parametrize(
    ("route", "step", "answered"),
    [
        (CONNECT, SPEAKER_CONNECT, "HTTP 500"),
        ("setVolume", CONTROL_ANSWER, "API Gateway answered 'Internal server error'"),
        ("sendAudio", AUDIO_ANSWER, "API Gateway answered 'Internal server error'"),
        ("endSession", END_ANSWER, "API Gateway answered 'Internal server error'"),
    ],
)
def test_a_broken_route_fails_the_step_it_serves(
    endpoint: WebSocketEndpoint, route: str, step: str, answered: str
) -> None:
    endpoint.faults.break_route(route)
    try:
        failure = _failure(endpoint)
    finally:
        endpoint.faults.break_route(route, broken=False)
    assert failure.step == step
    assert answered in failure.reason, failure.reason
    assert str(failure).startswith(f"step {step} failed: ")


def test_a_route_that_answers_nothing_fails_at_the_step_it_serves(routes: RouteTable) -> None:
    # A route without a route response: API Gateway sends the client nothing back, so the
    # step ends when the real wait does (the step timeout on the simulated clock is for a
    # late answer: test_scenario_canary).
    one_way = dataclasses.replace(routes.routes["sendAudio"], two_way=False)
    table = dataclasses.replace(routes, routes={**routes.routes, one_way.key: one_way})
    with (
        local_backend(None) as url,
        endpoint_on(Backend(url), table, SimClock(aligned_start(0))) as other,
    ):
        failure = _failure(other)
    assert failure.step == AUDIO_ANSWER
    assert failure.reason == f"speaker: no answer within {REAL_WAIT:g} s"


def test_a_listener_the_handlers_cannot_reach_fails_the_control_answer(
    endpoint: WebSocketEndpoint, routes: RouteTable
) -> None:
    # The same functions behind a second endpoint: they still post to the first one's
    # @connections, which does not know this listener (410): it is never told.
    with WebSocketEndpoint(endpoint.functions, routes) as other:
        failure = _failure(other)
    assert failure.step == CONTROL_ANSWER
    assert failure.reason == "speaker: controlApplied with listenersNotified 0 (expected 1)"


def test_nothing_listening_is_a_refused_connection() -> None:
    with socket.socket() as s:  # a port nothing listens on once this socket closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    failure = _refused(f"ws://127.0.0.1:{port}/prod")
    assert failure.step == SPEAKER_CONNECT
    assert "refused" in failure.reason


def test_a_wrong_stage_is_the_upgrade_refused(endpoint: WebSocketEndpoint) -> None:
    # A deleted stage: API Gateway answers the upgrade itself (403 here).
    failure = _refused(endpoint.url.rsplit("/", 1)[0] + "/gone")
    assert failure.step == SPEAKER_CONNECT and "HTTP 403" in failure.reason
