"""The simulated clock of a local run.

The scenario's wall time is simulated (`SimClock.now`: metric timestamps and the rate
limiter's windows follow it), and so is the time inside an invocation: the handlers' latency
timers and Lambda's Duration read `SimClock.timer`, the simulated time spent inside
processing, never this machine's real elapsed time. A slow dependency advances the clock
instead of sleeping (`spend`), a hung call stalls only its own invocation (`stall`), so
latency spikes and timeouts cost no wall time, and no alarm decision depends on how fast or
busy the machine is.

Deadlines (`SimDeadlineWatch`, given to each function's metrics emitter) are on the same
timer: when a `spend` or `stall` crosses an armed deadline, its action (the emitter's early
flush) runs at that point, inside the call that takes the time, as the emitter's watch thread
would run while a deployed handler is blocked in a hung call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from shared_metrics.deadline import DeadlineWatch


class SimClock:
    """Simulated wall time; ``injected`` is the simulated time spent inside processing."""

    def __init__(self, start: float) -> None:
        self.now = start
        self.injected = 0.0
        # Broadcasts post to listeners from several threads; each stall is added whole.
        self._lock = threading.RLock()
        self._deadlines: dict[int, tuple[float, Callable[[], None]]] = {}
        self._tokens = 0

    def __call__(self) -> float:
        return self.now

    def timer(self) -> float:
        """What the handlers' latency timers read: simulated processing time only."""
        return self.injected

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def spend(self, seconds: float) -> None:
        """Time spent inside processing: moves the clock and every running timer."""
        with self._lock:
            self.now += seconds
            self._pass_time(seconds)

    def stall(self, seconds: float) -> None:
        """A call that hangs inside one invocation: its timers (and its Duration) see the
        time, the rest of the traffic does not wait (it would run concurrently)."""
        with self._lock:
            self._pass_time(seconds)

    def _pass_time(self, seconds: float) -> None:
        target = self.injected + seconds
        while True:
            due = [
                (deadline, token)
                for token, (deadline, _) in self._deadlines.items()
                if deadline <= target
            ]
            if not due:
                break
            deadline, token = min(due)
            _, action = self._deadlines.pop(token)
            self.injected = max(self.injected, deadline)
            action()
        self.injected = target

    # -- deadlines on the timer ------------------------------------------------------------

    def arm(self, delay: float, action: Callable[[], None]) -> int:
        with self._lock:
            if delay <= 0:
                action()
                return 0
            self._tokens += 1
            self._deadlines[self._tokens] = (self.injected + delay, action)
            return self._tokens

    def disarm(self, token: int) -> None:
        with self._lock:
            self._deadlines.pop(token, None)


class SimDeadlineWatch(DeadlineWatch):
    """A metrics emitter's deadline watch on the simulated timer (see the module docstring):
    the same arm/disarm contract as `DeadlineWatch`, without its thread."""

    def __init__(self, clock: SimClock) -> None:
        super().__init__()
        self._clock = clock
        self._armed: int | None = None

    def arm(self, delay: float, action: Callable[[], None]) -> int:
        # One deadline per emitter, as the real watch: a new arming replaces the last.
        if self._armed is not None:
            self._clock.disarm(self._armed)
        self._armed = self._clock.arm(delay, action)
        return self._armed

    def disarm(self, token: int) -> None:
        if token == self._armed:
            self._clock.disarm(token)
            self._armed = None
