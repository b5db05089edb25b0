"""The scenario's Amazon Transcribe: in process, and down, slow or hung when a phase says.

`ScenarioTranscriber` wraps `InProcessTranscriber`: while ``down`` every start and send fails
as a Transcribe outage would; ``delay_seconds`` per chunk is simulated time spent in the call
(`SimClock.spend`), ``hang_seconds`` a call that hangs within its invocation
(`SimClock.stall`).
"""

from __future__ import annotations

from typing import Any

from audio_transcription.transcriber import InProcessTranscriber, TranscriptionError
from local_run.simulation.sim_clock import SimClock


class ScenarioTranscriber:
    """An `InProcessTranscriber` that can be down (every start/send fails) or slow."""

    def __init__(self, clock: SimClock) -> None:
        self.inner = InProcessTranscriber()
        self.clock = clock
        self.down = False
        self.delay_seconds = 0.0
        self.hang_seconds = 0.0

    def start_stream(self, session_id: str) -> _ScenarioStream:
        if self.down:
            raise TranscriptionError("ServiceUnavailable", "simulated Transcribe outage")
        return _ScenarioStream(self, self.inner.start_stream(session_id))


class _ScenarioStream:
    def __init__(self, owner: ScenarioTranscriber, inner: Any) -> None:
        self._owner = owner
        self._inner = inner

    def send_audio(self, chunk: bytes) -> None:
        if self._owner.down:
            self._inner.close()
            raise TranscriptionError("ServiceUnavailable", "simulated Transcribe outage")
        if self._owner.delay_seconds:
            self._owner.clock.spend(self._owner.delay_seconds)
        if self._owner.hang_seconds:
            self._owner.clock.stall(self._owner.hang_seconds)
        self._inner.send_audio(chunk)

    def close(self) -> None:
        self._inner.close()
