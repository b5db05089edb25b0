"""The simulated WebSocket traffic of a local run, tick by tick.

Traffic is simulated in 5-second ticks: two speakers stream 100 ms PCM16 16 kHz chunks (a chunk
every other tick: sampled, not real time), three listeners per session ask for status each minute,
speakers send control messages, and the EventBridge schedule runs the periodic update. Some phases
add their own traffic: abusers flooding status queries and audio, garbled chunks, listeners leaving
without a $disconnect, flash crowds, a trickle of traffic with a single failing request. Every
request goes through `local_run.simulation.local_functions.LocalFunctions.invoke` (or ``burst``:
requests at one instant).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from audio_transcription.routes import SEND_AUDIO
from audio_transcription.testing.pcm import send_audio_body, tone
from infra.functions import FUNCTIONS
from local_run.simulation.local_functions import CHUNK, POLICY, LocalFunctions
from local_run.simulation.phases import (
    ABUSERS_PER_SERVICE,
    AUDIO_FN,
    CONNECTION,
    CORRUPT_STATE,
    LISTENERS_GONE_PER_MINUTE,
    STATUS_FN,
    SURGE_CROWD,
    THROTTLING_CROWD,
)
from session_management.routes import GET_SESSION_STATUS
from session_management.store import SessionStore
from websocket_service.events import DEFAULT
from websocket_service.testing.events import (
    connect_event,
    disconnect_event,
    message_event,
    scheduled_event,
    websocket_event,
)
from websocket_service.testing.management_api_stub import ManagementApiStub

TICK_SECONDS = 5
DEFAULT_FN = next(f.label for f in FUNCTIONS if DEFAULT in f.routes)  # the $default route's
TICKS_PER_MINUTE = 60 // TICK_SECONDS
OVERSIZE_CHUNK = tone(20_000)  # 40,000 bytes: over the 32 KiB limit (413 TooLarge)


class Traffic:
    """The clients: two sessions with a speaker and three listeners each, and whoever a
    phase adds (abusers, leaving listeners, flash crowds)."""

    def __init__(
        self, functions: LocalFunctions, api: ManagementApiStub, admin: SessionStore
    ) -> None:
        self.functions = functions
        self.api = api
        self.admin = admin
        self.speakers = {"speaker-a": "sess-a", "speaker-b": "sess-b"}
        self.listeners: dict[str, list[str]] = {
            s: [f"{s}-listener-{i}" for i in range(3)] for s in self.speakers.values()
        }
        self.crowd_speakers: list[tuple[str, str]] = []
        # Routes a deploy lost: their messages go where API Gateway then sends them.
        self.deleted_routes: set[str] = set()
        self.stored_states: dict[str, dict[str, Any]] = {}
        self._serial = 0

    # -- requests ----------------------------------------------------------------------------

    def connect(self, connection_id: str, session_id: str, role: str) -> int:
        return self.functions.invoke(CONNECTION, connect_event(connection_id, session_id, role))

    def control(self, connection_id: str, action: str, **fields: object) -> int:
        return self.functions.invoke(CONNECTION, message_event(connection_id, action, **fields))

    def status(self, connection_id: str) -> int:
        return self.functions.invoke(STATUS_FN, message_event(connection_id, GET_SESSION_STATUS))

    def audio(self, connection_id: str, session_id: str, chunk: bytes | str) -> int:
        return self.raw_audio(connection_id, send_audio_body(session_id, chunk))

    def raw_audio(self, connection_id: str, body: str | dict[str, Any]) -> int:
        if SEND_AUDIO in self.deleted_routes:
            # No route with this key: API Gateway selects $default (the developer guide's
            # route selection, as `local_run.simulation.websocket_routes.RouteTable.select` has it).
            return self.functions.invoke(DEFAULT_FN, websocket_event(DEFAULT, connection_id, body))
        return self.functions.invoke(AUDIO_FN, websocket_event(SEND_AUDIO, connection_id, body))

    def closed(self, connection_id: str) -> None:
        """API Gateway sends $disconnect after a connection is closed."""
        self.functions.invoke(CONNECTION, disconnect_event(connection_id))

    def new_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}-{self._serial}"

    # -- traffic ----------------------------------------------------------------------------

    def setup(self) -> None:
        for speaker, session_id in self.speakers.items():
            self.connect(speaker, session_id, "speaker")
            for listener in self.listeners[session_id]:
                self.connect(listener, session_id, "listener")

    def tick(self, phase: str, minute: int, tick: int) -> None:
        if phase == "low-traffic":
            self.trickle(minute, tick)
            return
        if tick == 0:
            self.functions.invoke(STATUS_FN, scheduled_event())
            for listeners in self.listeners.values():
                for listener in listeners:
                    self.status(listener)
            self.control("speaker-a", "setVolume", volume=60 + minute % 20)
        if phase == "listeners-gone" and tick == 0:
            for _ in range(LISTENERS_GONE_PER_MINUTE):
                listener = self.new_id("leaver")
                self.connect(listener, "sess-a", "listener")
                self.api.gone.add(listener)  # left without a $disconnect
        if tick == TICKS_PER_MINUTE // 2:
            if phase in ("dynamodb-errors", "dynamodb-throttling"):
                self.control("speaker-b", "setVolume", volume=70)  # a half-applied pause
            else:  # must not stick
                self.control("speaker-b", "pauseBroadcast")
                self.control("speaker-b", "resumeBroadcast")
            self.control("speaker-a", "setVolume", volume=55)
        if tick % 2 == 0:  # a chunk every 10 s per speaker (sampled, not real time)
            for speaker, session_id in self.speakers.items():
                self.audio(speaker, session_id, CHUNK)
        if phase == "garbled-chunks":
            if tick == 3:
                self.audio("speaker-a", "sess-a", OVERSIZE_CHUNK)
            elif tick == 7 and minute % 2:
                self.audio("speaker-a", "sess-a", "%%% not base64 %%%")
            elif tick == 7:
                self.audio("speaker-a", "sess-a", CHUNK[:-1])  # odd length: misaligned
            elif tick == 5:
                self.raw_audio("speaker-b", "{not json")
        if phase == "rate-limit-abuse" and minute == 0 and tick == 1:
            self.abuse()
        if tick == 1 and phase == "lambda-throttling":
            self.flash_crowd(*THROTTLING_CROWD)
        if tick == 1 and phase == "healthy-surge":
            self.flash_crowd(*SURGE_CROWD)

    def trickle(self, minute: int, tick: int) -> None:
        """Low traffic: the schedule, one chunk and one status query a minute, and once a
        single request that fails (its session item unreadable for that moment)."""
        if tick == 0:
            self.functions.invoke(STATUS_FN, scheduled_event())
            self.audio("speaker-a", "sess-a", CHUNK)
            self.status(self.listeners["sess-a"][0])
        if minute == 1 and tick == 3:
            self.corrupt_sessions(["sess-b"])
            self.control("speaker-b", "setVolume", volume=65)  # answered 500
            self.restore_sessions()

    def abuse(self) -> None:
        for _ in range(ABUSERS_PER_SERVICE):
            flooder = self.new_id("status-flooder")
            self.connect(flooder, "sess-a", "listener")
            for _ in range(POLICY.limit("status") + POLICY.max_violations + 2):
                self.status(flooder)
                if flooder in self.api.deleted:
                    self.closed(flooder)
                    break
        for _ in range(ABUSERS_PER_SERVICE):
            flooder = self.new_id("audio-flooder")
            session_id = self.new_id("abuse-session")
            self.connect(flooder, session_id, "speaker")
            for _ in range(POLICY.limit("audio") + POLICY.max_violations + 2):
                self.audio(flooder, session_id, CHUNK)
                if flooder in self.api.deleted:
                    self.closed(flooder)
                    break

    def flash_crowd(self, joins: int, queries: int, audio: tuple[int, int]) -> None:
        """At one instant: ``joins`` listeners connect to sess-a, ``queries`` of them ask
        for the status, and crowd speakers send ``audio`` = (speakers, chunks each); the
        listeners leave again right after."""
        listeners = [self.new_id("crowd-listener") for _ in range(joins)]
        ran = self.functions.burst(
            CONNECTION, [connect_event(c, "sess-a", "listener") for c in listeners]
        )
        joined = listeners[:ran]
        self.functions.burst(
            STATUS_FN, [message_event(c, GET_SESSION_STATUS) for c in joined[:queries]]
        )
        speakers, chunks = audio
        while len(self.crowd_speakers) < speakers:
            speaker, session_id = self.new_id("crowd-speaker"), self.new_id("crowd-session")
            self.connect(speaker, session_id, "speaker")
            self.crowd_speakers.append((speaker, session_id))
        self.functions.burst(
            AUDIO_FN,
            [
                _audio_event(speaker, session_id, CHUNK)
                for speaker, session_id in self.crowd_speakers[:speakers]
                for _ in range(chunks)
            ],
        )
        for listener in joined:
            self.closed(listener)

    # -- session items a release cannot read ------------------------------------------------

    def corrupt_sessions(self, session_ids: Sequence[str]) -> None:
        """Overwrite the sessions' state with one this release cannot parse."""
        for session_id in session_ids:
            self.stored_states[session_id] = self._set_state(session_id, {"S": CORRUPT_STATE})

    def restore_sessions(self) -> None:
        for session_id, state in self.stored_states.items():
            self._set_state(session_id, state)
        self.stored_states.clear()

    def _set_state(self, session_id: str, state: dict[str, Any]) -> dict[str, Any]:
        response = self.admin.client.update_item(
            TableName=self.admin.tables.sessions,
            Key={"sessionId": {"S": session_id}},
            UpdateExpression="SET #state = :state",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":state": state},
            ReturnValues="UPDATED_OLD",
        )
        old: dict[str, Any] = response["Attributes"]["state"]
        return old


def _audio_event(connection_id: str, session_id: str, chunk: bytes | str) -> dict[str, Any]:
    return websocket_event(SEND_AUDIO, connection_id, send_audio_body(session_id, chunk))
