"""The reachability canary in the local run: the canary's own script
(`websocket_canary.check.run_check`) run against the local WebSocket endpoint at the stack's
schedule, and what CloudWatch Synthetics publishes about each run.

The endpoint (`local_run.simulation.websocket_endpoint`) stands in front of the same functions the
scenario's traffic invokes, on the same simulated clock, DynamoDB faults and Management API,
so a phase's faults reach the canary as they reach users. A run takes its turn between two
of the scenario's ticks: the scenario waits until the run is over and the endpoint idle (its
$disconnects done), so what the run does to the tables, the metrics and the fault rolls
comes in the same order on every machine. The run is timed in simulated time: what its
requests waited for the functions (`WebSocketEndpoint.waited_seconds`: each invocation's
simulated time and any delay in front of it; no network time is simulated), so its
Duration and every step's timeout do not depend on the machine either.

Synthetics publishes per run (CloudWatch user guide, "CloudWatch metrics published by
canaries"), dimension CanaryName: ``SuccessPercent`` "The percentage of the runs of this
canary that succeed and find no failures" (one run: 100 or 0) and ``Duration`` "The
duration in milliseconds of the canary run". They are recorded at the run's end.

The canary has run before the scenario starts (the stack was deployed earlier): `history`
runs it at its two scheduled times before the first phase, without which the success alarm,
which treats missing data as breaching, would start in ALARM.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.canary import DEFAULT_SCHEDULE, canary_name
from local_run.simulation.platform_metrics import PlatformMetrics
from local_run.simulation.sim_clock import SimClock
from local_run.simulation.websocket_endpoint import WebSocketEndpoint
from websocket_canary.check import run_check
from websocket_canary.settings import DEFAULT_STEP_TIMEOUT_SECONDS, CanarySettings
from websocket_canary.steps import CanaryFailure

SCHEDULE_SECONDS = DEFAULT_SCHEDULE.total_seconds()
# Where in its 5 minutes a run starts (Synthetics picks it; any second works, the alarms
# count runs per period): on the scenario's 5-second tick grid.
OFFSET_SECONDS = 35.0
HISTORY_RUNS = 2
# Real time a wait or the endpoint's wind-down may take: only a hang on a very busy machine
# gets near it (the verdict is on the simulated clock).
REAL_WAIT_SECONDS = 120.0


@dataclass(frozen=True)
class CanaryRun:
    at: float  # when it started (simulated epoch seconds)
    passed: bool
    duration_ms: float  # simulated
    outcome: str  # the run's summary, or the failure that names the step


class ScenarioCanary:
    """Runs the canary at its schedule against ``endpoint``; ``runs`` is what happened."""

    def __init__(
        self,
        endpoint: WebSocketEndpoint,
        clock: SimClock,
        platform: PlatformMetrics,
        stack_name: str,
        *,
        step_timeout: float = DEFAULT_STEP_TIMEOUT_SECONDS,
        real_wait: float = REAL_WAIT_SECONDS,
    ) -> None:
        self.endpoint = endpoint
        self.clock = clock
        self.platform = platform
        self.dimensions = {"CanaryName": canary_name(stack_name)}
        self.settings = CanarySettings(endpoint.url, step_timeout)
        self.real_wait = real_wait
        self.runs: list[CanaryRun] = []

    def _waited(self) -> float:
        return self.endpoint.waited_seconds

    @staticmethod
    def due(t0: float, t: float) -> bool:
        """Whether a run starts at ``t`` (``t0``: a 5-minute boundary)."""
        return (t - t0) % SCHEDULE_SECONDS == OFFSET_SECONDS

    def history(self, t0: float) -> None:
        """The runs at the schedule's last times before ``t0``; the clock back at ``t0``."""
        for k in range(HISTORY_RUNS, 0, -1):
            self.clock.now = t0 - k * SCHEDULE_SECONDS + OFFSET_SECONDS
            self.run()
        self.clock.now = t0

    def run(self) -> CanaryRun:
        start, began = self.clock(), self._waited()
        try:
            result = run_check(self.settings, clock=self._waited, wait_seconds=self.real_wait)
            passed, outcome = True, result.summary()
        except CanaryFailure as failure:
            passed, outcome = False, str(failure)
        finally:
            self.endpoint.wait_idle(self.real_wait)
        run = CanaryRun(start, passed, (self._waited() - began) * 1000, outcome)
        self.runs.append(run)
        end = self.clock()
        self.platform.synthetics(end, "SuccessPercent", 100.0 if passed else 0.0, self.dimensions)
        self.platform.synthetics(end, "Duration", run.duration_ms, self.dimensions)
        return run
