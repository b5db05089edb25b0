"""A simulated-clock scenario: the three real handlers, realistic WebSocket traffic, faults.

`run_scenario` runs against a `Backend` (`local_run.simulation.backend`: by default moto's server in
this process, or any endpoint (LocalStack) or AWS itself). It starts the Management API
stub (on every backend: the handlers' pushes to listeners need no real API; it can be slow
or hang), creates the tables, builds the three functions as Lambda would run them
(`local_run.simulation.local_functions`) and drives them with the simulated traffic
(`local_run.simulation.traffic`) through the phases, switching on each phase's faults as it starts
(`local_run.simulation.phase_faults`).

The simulated run starts on a 5-minute boundary about ``lead_minutes`` before real now
(CloudWatch and moto take timestamps up to two weeks old, none in the future). The simulated
clock (`local_run.simulation.sim_clock`) moves in 5-second ticks, and every phase starts on the tick
grid, whatever time processing spent.

Each phase lasts ``phase_minutes`` (5 by default, so a phase fills whole 5-minute alarm
periods) or its own minimum (the slow degradation needs 10-minute windows); `PHASES` says
which alarms each is designed to fire; infra's failure catalog names the phase that proves
each failure class.

The reachability canary runs at its schedule through a real WebSocket endpoint in front of the same
functions (`local_run.simulation.scenario_canary`, `local_run.simulation.websocket_endpoint`): the
handlers' posts to the canary's connections reach it through the one Management API stand-in
(`ManagementApiStub.elsewhere`). Its routes are the synthesized stack's (``routes``: by default a
synth, in the CLI the one running beside the scenario).

What AWS's services would publish about the run (AWS/Lambda per FunctionName, AWS/ApiGateway for the
stage, AWS/DynamoDB per table) the scenario records itself (`ScenarioResult.platform`, see
`local_run.simulation.platform_metrics` for the model), since no client may publish to an ``AWS/``
namespace.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from local_run.simulation.backend import Backend, admin_store
from local_run.simulation.local_functions import LocalFunctions
from local_run.simulation.local_names import LOCAL_API_ID, LOCAL_STAGE, STACK_NAME
from local_run.simulation.phase_faults import enter_phase
from local_run.simulation.phases import PHASES, Phase
from local_run.simulation.platform_metrics import PlatformMetrics
from local_run.simulation.scenario_canary import CanaryRun, ScenarioCanary
from local_run.simulation.sim_clock import SimClock
from local_run.simulation.traffic import TICK_SECONDS, TICKS_PER_MINUTE, Traffic
from local_run.simulation.websocket_endpoint import WebSocketEndpoint
from local_run.simulation.websocket_routes import RouteTable
from session_management.store import SessionStore
from shared_metrics.testing.aws_emulator import EMULATOR_ENV
from shared_metrics.testing.fault_proxy import FaultProxy
from websocket_service.testing.management_api_stub import ManagementApiStub

# CloudWatch turns the functions' EMF lines into metrics in the background: the run hands
# each function's datapoints of a simulated minute to CloudWatch in one PutMetricData (each
# with its own timestamp), not one call per invocation (a quarter of the run's API calls).
EXTRACTION_SECONDS = 60.0


@dataclass
class PhaseSpan:
    phase: Phase
    start: float
    end: float


@dataclass
class ScenarioResult:
    start: float
    end: float
    spans: list[PhaseSpan]
    function_names: dict[str, str]  # function label -> FunctionName used locally
    platform: PlatformMetrics  # what AWS/Lambda, AWS/ApiGateway, AWS/DynamoDB would publish
    # log group -> the EMF events the function wrote there (what Contributor Insights reads)
    log_events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    backend: Backend = field(default_factory=lambda: Backend(None))
    invocations: int = 0
    statuses: dict[int, int] = field(default_factory=dict)  # HTTP status -> count
    injected_faults: int = 0  # DynamoDB calls answered with an injected error
    canary_runs: list[CanaryRun] = field(default_factory=list)  # the history's first
    wall_seconds: float = 0.0

    def phase_at(self, timestamp: float) -> str | None:
        span = self.span_at(timestamp)
        return span.phase.name if span is not None else None

    def span_at(self, timestamp: float) -> PhaseSpan | None:
        for span in self.spans:
            if span.start <= timestamp < span.end:
                return span
        return None


def aligned_start(lead_minutes: int, now: float | None = None) -> float:
    """A 5-minute boundary ``lead_minutes`` (or a little more) before ``now``."""
    now = time.time() if now is None else now
    return math.floor((now - lead_minutes * 60) / 300) * 300


def run_scenario(
    backend: Backend | str,
    phases: Sequence[Phase] = PHASES,
    *,
    phase_minutes: int = 5,
    start: float | None = None,
    stack_name: str = STACK_NAME,
    seed: int = 7,
    on_tick: Callable[[str], None] | None = None,
    routes: Callable[[], RouteTable] | None = None,
) -> ScenarioResult:
    """Drive the handlers against ``backend`` (a `Backend`, or the URL of the in-process
    emulator) through ``phases``.

    ``on_tick(phase name)`` is called after every simulated 5-second tick (progress).
    ``routes`` gives the WebSocket API's routes (called once, before the canary's first
    run); by default they are read from the stack synthesized for ``stack_name``.
    """
    if isinstance(backend, str):
        backend = Backend(backend)
    if phase_minutes < 1:
        raise ValueError(f"phase_minutes must be at least 1, got {phase_minutes}")
    if not phases:
        raise ValueError("no phases to run")
    total_minutes = sum(p.minutes(phase_minutes) for p in phases)
    t0 = aligned_start(total_minutes + 5) if start is None else start
    clock = SimClock(t0)
    result = ScenarioResult(
        t0, t0, [], {}, PlatformMetrics(LOCAL_API_ID, LOCAL_STAGE), backend=backend
    )
    wall = time.perf_counter()
    # The emulator's server threads and this thread hand off on every request: a short
    # switch interval cuts the wait for the GIL (about 2x faster here).
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    with contextlib.ExitStack() as stack:
        api = stack.enter_context(ManagementApiStub())
        # Each message the handlers deliver to a client is one of API Gateway's MessageCount.
        api.on_delivered = lambda _connection_id: result.platform.message_to_client(clock())
        proxy = None
        if backend.emulator:
            assert backend.endpoint_url is not None, "the emulator has an endpoint URL"
            proxy = stack.enter_context(FaultProxy(backend.endpoint_url, seed=seed))
            # Credentials only for the emulator: anywhere else they are the user's own.
            for key, value in EMULATOR_ENV.items():
                os.environ.setdefault(key, value)
        # What the Lambda runtime and the stack give the functions: their Region (clients
        # the handlers build themselves, e.g. the Management API's, need it) and the API.
        stack.enter_context(
            mock.patch.dict(
                os.environ,
                {
                    "APIGW_MANAGEMENT_ENDPOINT": api.endpoint_url,
                    "AWS_REGION": backend.region,
                    "AWS_DEFAULT_REGION": backend.region,
                },
            )
        )
        tables = admin_store(backend)
        try:
            tables.create_tables()
            if not backend.emulator:
                stack.callback(_delete_tables, tables)
            functions = LocalFunctions(
                clock, backend, proxy, stack_name, result.platform, seed, EXTRACTION_SECONDS
            )
            result.function_names.update(functions.function_names)
            endpoint = stack.enter_context(
                WebSocketEndpoint(
                    functions, routes() if routes else _synthesized_routes(stack_name)
                )
            )
            api.elsewhere = endpoint.connections_answer
            canary = ScenarioCanary(endpoint, clock, result.platform, stack_name)
            canary.history(t0)
            traffic = Traffic(functions, api, tables)
            traffic.setup()
            phase_start = t0
            for phase in phases:
                # Phases start on the tick grid, whatever time processing spent.
                clock.now = max(clock.now, phase_start)
                enter_phase(phase.name, functions, traffic, api, endpoint)
                minutes = phase.minutes(phase_minutes)
                for minute in range(minutes):
                    for tick in range(TICKS_PER_MINUTE):
                        at = phase_start + minute * 60 + tick * TICK_SECONDS
                        clock.now = max(clock.now, at)
                        traffic.tick(phase.name, minute, tick)
                        if canary.due(t0, at):
                            canary.run()
                        if on_tick is not None:
                            on_tick(phase.name)
                result.spans.append(PhaseSpan(phase, phase_start, phase_start + minutes * 60))
                phase_start += minutes * 60
            enter_phase("baseline", functions, traffic, api, endpoint)
            result.canary_runs.extend(canary.runs)
            result.log_events.update(functions.finish())
            result.invocations = functions.invocations
            result.statuses.update(functions.statuses)
            result.injected_faults = functions.faults.injected
        finally:
            sys.setswitchinterval(switch_interval)
    result.end = result.spans[-1].end
    result.wall_seconds = time.perf_counter() - wall
    return result


def _synthesized_routes(stack_name: str) -> RouteTable:
    from local_run.simulation.stack_alarms import (
        synthesized_routes,  # the CDK synth: only when needed
    )

    return synthesized_routes(stack_name)


def _delete_tables(store: SessionStore) -> None:
    try:
        store.delete_tables()
    except Exception as exc:  # the run's outcome matters more; say what is left behind
        print(
            f"local-run: warning: could not delete the run's tables "
            f"({store.tables.sessions}, ...): {exc}",
            file=sys.stderr,
        )
