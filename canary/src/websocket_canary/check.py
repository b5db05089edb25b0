"""`run_check`: one canary run against the WebSocket API, the steps of `websocket_canary.steps`
in order, each within its timeout; both connections are closed whatever happens.

Each step is timed on ``clock`` and fails when it took longer than the step timeout. In
Synthetics that is this machine's monotonic clock, and the waits themselves end at the
timeout. Where the service's time is simulated (the local run: its handlers and any delay in
front of them advance a simulated clock, not the real one), ``clock`` is that simulated time,
so the verdict and the run's duration do not depend on how fast the machine is, and
``wait_seconds`` only bounds how long a real wait may take there.

A session of its own (``canary-<16 hex>``, `SYNTHETIC_SESSION_PREFIX`), a volume of its own
(so a stale notification cannot pass for this run's), one listener: the speaker's answers
must say one listener was notified, and the listener must say so too.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from websocket_canary import protocol
from websocket_canary.connection import CanaryConnection
from websocket_canary.settings import CanarySettings
from websocket_canary.steps import (
    AUDIO_ANSWER,
    CONTROL_ANSWER,
    DISCONNECT,
    END_ANSWER,
    LISTENER_CONNECT,
    LISTENER_ENDED,
    LISTENER_NOTIFIED,
    SPEAKER_CONNECT,
    CanaryFailure,
    StepTiming,
)
from websocket_service.synthetic_traffic import SYNTHETIC_SESSION_PREFIX

Log = Callable[[str], None]


@dataclass(frozen=True)
class CheckResult:
    session_id: str
    timings: tuple[StepTiming, ...]
    audio: str  # audioAccepted, or audioBuffered while Transcribe is failing

    def summary(self) -> str:
        steps = ", ".join(str(t) for t in self.timings)
        return f"WebSocket API reachable: session {self.session_id}, {self.audio}; {steps}"


def new_session_id() -> str:
    return f"{SYNTHETIC_SESSION_PREFIX}{secrets.token_hex(8)}"


def run_check(
    settings: CanarySettings,
    *,
    log: Log = lambda line: None,
    session_id: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    wait_seconds: float | None = None,
) -> CheckResult:
    """Run every step; raises `CanaryFailure` at the first that does not get its answer, or
    gets it later than the step timeout on ``clock``."""
    wait = settings.step_timeout if wait_seconds is None else wait_seconds
    if not wait > 0:
        raise ValueError(f"wait_seconds must be positive, got {wait_seconds!r}")
    run = _Run(settings, log, session_id or new_session_id(), clock, wait)
    try:
        return run.steps()
    finally:
        run.close_all()


class _Run:
    def __init__(
        self,
        settings: CanarySettings,
        log: Log,
        session_id: str,
        clock: Callable[[], float],
        wait: float,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.wait = wait
        self.log = log
        self.session_id = session_id
        self.volume = 1 + secrets.randbelow(99)  # 1..99
        self.timings: list[StepTiming] = []
        self.open: list[CanaryConnection] = []

    def steps(self) -> CheckResult:
        sid = self.session_id
        with self.step(SPEAKER_CONNECT):
            speaker = self.connect("speaker", SPEAKER_CONNECT)
        with self.step(LISTENER_CONNECT):
            listener = self.connect("listener", LISTENER_CONNECT)

        with self.step(CONTROL_ANSWER):
            speaker.send(protocol.set_volume(self.volume), step=CONTROL_ANSWER)
            self.expect(
                speaker,
                CONTROL_ANSWER,
                protocol.check_control_applied,
                action="setVolume",
                session_id=sid,
                volume=self.volume,
                listeners=1,
                listenersNotified=1,
            )
        with self.step(LISTENER_NOTIFIED):
            self.expect(
                listener,
                LISTENER_NOTIFIED,
                protocol.check_broadcast_state,
                session_id=sid,
                volume=self.volume,
            )

        pcm = protocol.tone()
        with self.step(AUDIO_ANSWER):
            speaker.send(protocol.send_audio(sid, pcm), step=AUDIO_ANSWER)
            audio = self.expect(
                speaker, AUDIO_ANSWER, protocol.check_audio_answer, session_id=sid, size=len(pcm)
            )

        with self.step(END_ANSWER):
            speaker.send(protocol.end_session(), step=END_ANSWER)
            self.expect(
                speaker,
                END_ANSWER,
                protocol.check_control_applied,
                action="endSession",
                session_id=sid,
                state="ENDED",
                listeners=1,
                listenersNotified=1,
            )
        with self.step(LISTENER_ENDED):
            self.expect(listener, LISTENER_ENDED, protocol.check_session_ended, session_id=sid)

        with self.step(DISCONNECT):
            # The listener first: the session has ended, so the speaker's $disconnect tells
            # nobody, and no notification can meet a listener that is already gone.
            for connection in (listener, speaker):
                self.open.remove(connection)
                problem = connection.close()
                if problem is not None:
                    raise CanaryFailure(DISCONNECT, problem)
        return CheckResult(sid, tuple(self.timings), str(audio))

    def connect(self, role: str, step: str) -> CanaryConnection:
        url = self.settings.client_url(self.session_id, role)
        connection = CanaryConnection.open(url, role, step=step, timeout=self.wait)
        self.open.append(connection)
        return connection

    def expect(
        self,
        connection: CanaryConnection,
        step: str,
        check: Callable[..., object],
        **expected: object,
    ) -> object:
        answer = connection.answer(step=step, timeout=self.wait)
        try:
            return check(answer, **expected)
        except protocol.AnswerMismatch as exc:
            raise CanaryFailure(step, f"{connection.role}: {exc}") from None

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = self.clock()
        yield
        timing = StepTiming(name, self.clock() - start)
        if timing.seconds > self.settings.step_timeout:
            raise CanaryFailure(
                name,
                f"answered after {timing.seconds:.1f} s, over the "
                f"{self.settings.step_timeout:g} s step timeout",
            )
        self.timings.append(timing)
        self.log(f"step {timing}: ok")

    def close_all(self) -> None:
        # After a failure: close whatever is still open, without another verdict.
        for connection in reversed(self.open):
            connection.close()
        self.open.clear()
