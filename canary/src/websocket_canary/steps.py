"""The steps of a canary run, in order, and how a run fails: `CanaryFailure` names the step
and says why, and that sentence is what the Synthetics run report and the log show.

The step names are part of the runbook (infra's canary alarm tells the on-call person what
each one means), so they are kept here, once.
"""

from __future__ import annotations

from dataclasses import dataclass

SPEAKER_CONNECT = "speaker-connect"  # the upgrade as speaker: the stage, $connect, DynamoDB
LISTENER_CONNECT = "listener-connect"  # the upgrade as listener of that session
CONTROL_ANSWER = "control-answer"  # setVolume answered by controlApplied
LISTENER_NOTIFIED = "listener-notified"  # the listener told of it (the Management API)
AUDIO_ANSWER = "audio-answer"  # sendAudio answered by audioAccepted/audioBuffered
END_ANSWER = "end-answer"  # endSession answered by controlApplied, state ENDED
LISTENER_ENDED = "listener-ended"  # the listener told the session ended
DISCONNECT = "disconnect"  # both close handshakes answered

STEPS = (
    SPEAKER_CONNECT,
    LISTENER_CONNECT,
    CONTROL_ANSWER,
    LISTENER_NOTIFIED,
    AUDIO_ANSWER,
    END_ANSWER,
    LISTENER_ENDED,
    DISCONNECT,
)


class CanaryFailure(Exception):
    """A step of the run did not get what the protocol promises."""

    def __init__(self, step: str, reason: str) -> None:
        if step not in STEPS:
            raise ValueError(f"not a canary step: {step!r}; steps: {', '.join(STEPS)}")
        super().__init__(f"step {step} failed: {reason}")
        self.step = step
        self.reason = reason


@dataclass(frozen=True)
class StepTiming:
    step: str
    seconds: float

    def __str__(self) -> str:
        return f"{self.step} {self.seconds * 1000:.0f} ms"
