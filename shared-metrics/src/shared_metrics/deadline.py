"""`DeadlineWatch`: run an action when an invocation nears its deadline, unless it ended first.

One daemon thread per emitter, started by the first invocation and reused by every later one:
arming and disarming it costs a lock and a few assignments, where a thread (or a
`threading.Timer`) per invocation cost a thread start each time. _thread, not threading, so
the emitter's import stays small at cold start.
"""

from __future__ import annotations

from _thread import allocate_lock, start_new_thread
from time import monotonic

from shared_metrics import diagnostics

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


class DeadlineWatch:
    def __init__(self) -> None:
        self._lock = allocate_lock()
        # Held while the thread may sleep; released to wake it (a binary semaphore).
        self._wake = allocate_lock()
        self._wake.acquire()
        self._started = False
        self._generation = 0  # which arming is current; a disarmed one never fires
        self._deadline: float | None = None
        self._action: Callable[[], None] | None = None
        # When the sleeping thread wakes on its own; None: it sleeps until woken.
        self._sleeping_until: float | None = None

    def arm(self, delay: float, action: Callable[[], None]) -> int:
        """Run ``action`` in ``delay`` seconds unless `disarm` gets the returned token first."""
        deadline = monotonic() + delay
        with self._lock:
            self._generation += 1
            self._deadline, self._action = deadline, action
            if not self._started:
                self._started = True
                start_new_thread(self._run, ())
            elif self._sleeping_until is None or self._sleeping_until > deadline:
                self._poke()
            return self._generation

    def disarm(self, token: int) -> None:
        with self._lock:
            if token == self._generation:
                # Not woken: it wakes when it would have fired, finds nothing and sleeps on.
                self._deadline = self._action = None

    def _poke(self) -> None:
        try:
            self._wake.release()
        except RuntimeError:  # already released: it is waking anyway
            pass

    def _run(self) -> None:
        while True:
            action = None
            with self._lock:
                deadline = self._deadline
                wait = -1.0 if deadline is None else deadline - monotonic()
                if deadline is not None and wait <= 0:
                    action, self._deadline, self._action = self._action, None, None
                    wait = -1.0
                self._sleeping_until = None if wait < 0 else deadline
            if action is not None:
                try:
                    action()
                except Exception as exc:  # never let the metrics thread fail loudly
                    diagnostics.exception(f"metrics deadline flush failed: {exc}")
                continue
            self._wake.acquire(timeout=wait)
