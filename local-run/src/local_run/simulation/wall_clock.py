"""A `SimClock` on this machine's time, for the functions behind the local WebSocket endpoint
(``cli.py serve``): real clients come and go in real time, so the handlers' wall time (metric
timestamps, rate-limit windows, session durations) is real time. The time spent inside an
invocation (`SimClock.timer`: the handlers' latency timers, Lambda's Duration) stays
simulated: only what a phase injects, never this machine's speed.
"""

from __future__ import annotations

import time

from local_run.simulation.sim_clock import SimClock


class WallClock(SimClock):
    """``now`` is ``time.time()`` (plus any offset a caller sets by assigning ``now``)."""

    def __init__(self) -> None:
        self._offset = 0.0
        super().__init__(time.time())

    @property
    def now(self) -> float:
        return time.time() + self._offset

    @now.setter
    def now(self, value: float) -> None:
        self._offset = value - time.time()
