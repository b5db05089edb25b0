"""The simulated clock of a local run.

The scenario's wall time is simulated (`SimClock.now`: metric timestamps and the rate
limiter's windows follow it); the handlers' latency timers read `SimClock.timer`: real
elapsed time (unless ``real_latency`` is off) PLUS the simulated time injected inside
processing. A slow dependency advances the clock instead of sleeping (`spend`), a hung call
stalls only its own invocation (`stall`), so latency spikes and timeouts cost no wall time.
"""

from __future__ import annotations

import time


class SimClock:
    """Simulated wall time; ``injected`` is the simulated time spent inside processing."""

    def __init__(self, start: float, real_latency: bool = True) -> None:
        self.now = start
        self.injected = 0.0
        # False: timers see only simulated time, so latency alarms do not depend on how
        # fast this machine is (tests); True: real processing time counts too (the CLI).
        self.real_latency = real_latency

    def __call__(self) -> float:
        return self.now

    def timer(self) -> float:
        """What the handlers' latency timers read."""
        real = time.perf_counter() if self.real_latency else 0.0
        return real + self.injected

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def spend(self, seconds: float) -> None:
        """Time spent inside processing: moves the clock and every running timer."""
        self.now += seconds
        self.injected += seconds

    def stall(self, seconds: float) -> None:
        """A call that hangs inside one invocation: its timers (and its Duration) see the
        time, the rest of the traffic does not wait (it would run concurrently)."""
        self.injected += seconds
