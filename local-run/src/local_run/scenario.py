"""A simulated-clock scenario: the three real handlers, realistic WebSocket traffic, faults.

`run_scenario` runs against a `Backend`: by default moto's server in this process
(`AwsEmulator`, 127.0.0.1, see `local_backend`), or any endpoint (LocalStack) or AWS
itself. It starts the Management API stub, creates the tables, and builds the three
handlers exactly as Lambda would run them, except that:

- each function has its own emitter (as each runs in its own Lambda environments), which
  publishes through the real `CloudWatchSink` (PutMetricData) to the backend, with
  ``clock=`` the simulated clock: metric timestamps follow it. The handlers flush at the end
  of every invocation, as in Lambda; what they flush reaches CloudWatch only if the
  invocation did not time out and the phase has not broken the function's metrics
  (`local_run.platform_metrics.FunctionOutput`);
- DynamoDB calls run with botocore's retries off (their backoff sleeps would be wall
  time; the injected fault rate stands for what still fails after retries), and the
  DynamoDB phases inject 500s or throttling (`local_run.faults`: a `FaultProxy` on
  loopback in front of the emulator, in the client for other backends);
- the transcriber is in-process (`ScenarioTranscriber`): it can be down, slow or hang; the
  Management API stub can be slow or hang;
- timers (``shared_metrics.timing.perf_counter``) measure real elapsed time PLUS the
  simulated time injected inside processing (a slow Transcribe advances the simulated
  clock instead of sleeping; a hung call stalls only its own invocation), so latency
  spikes and timeouts cost no wall time.

The simulated run starts on a 5-minute boundary about ``lead_minutes`` before real now
(CloudWatch and moto take timestamps up to two weeks old, none in the future). Traffic is
simulated in 5-second ticks: two speakers stream 100 ms PCM16 16 kHz chunks (one chunk
per tick: sampled, not real time), three listeners per session ask for status each minute,
speakers send control messages, and the EventBridge schedule runs the periodic update.

Each phase lasts ``phase_minutes`` (5 by default, so a phase fills whole 5-minute alarm
periods) or its own minimum (the slow degradation needs 10-minute windows); `PHASES` says
which alarms each is designed to fire; infra's failure catalog names the phase that proves
each failure class.

What AWS's services would publish about the run (AWS/Lambda per FunctionName, AWS/ApiGateway
for the stage, AWS/DynamoDB per table) the scenario records itself (`ScenarioResult.platform`,
see `local_run.platform_metrics` for the model), since no client may publish to an ``AWS/``
namespace; a function's requests are throttled beyond its reserved concurrency when they
arrive at once (`_Driver.burst`), and time out past its timeout.

Against anything but the in-process emulator (`Backend.remote`), the run keeps to itself:
its tables have run-unique names and are deleted at the end, and its metrics go to
run-unique namespaces (``LocalRun/<run id>/AudioTranscription/WebSocket``), so that it
cannot trip a deployed stack's alarms or mix with an earlier run's data. The Management
API stays the loopback stub (the handlers' pushes to listeners need no real API).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from audio_transcription import metrics_spec as audio_spec
from audio_transcription.audio_buffer import SessionAudioBuffers
from audio_transcription.handlers import audio_processor
from audio_transcription.handlers.audio_processor import SEND_AUDIO
from audio_transcription.metrics import AudioMetrics
from audio_transcription.processing import AudioProcessor
from audio_transcription.services import AudioServices
from audio_transcription.testing.pcm import send_audio_body, tone
from audio_transcription.transcriber import InProcessTranscriber, TranscriptionError
from infra.functions import FUNCTIONS
from local_run.faults import ClientFaults, DynamoDBFaults, ProxyFaults
from local_run.phases import (
    ABUSERS_PER_SERVICE,
    AUDIO_FN,
    CONNECTION,
    CORRUPT_STATE,
    DEGRADED_NOTIFY_SECONDS,
    DEGRADED_TRANSCRIBE_SECONDS,
    DYNAMODB_FAULT_RATE,
    HANG_SECONDS,
    LATENCY_SPIKE_SECONDS,
    LISTENERS_GONE_PER_MINUTE,
    PHASES,
    STATUS_FN,
    SURGE_CROWD,
    THROTTLING_CROWD,
    Phase,
)
from local_run.platform_metrics import DynamoDBObserver, FunctionOutput, PlatformMetrics
from session_management import metrics_spec as session_spec
from session_management.handlers import connection, session_status
from session_management.handlers.session_status import GET_SESSION_STATUS
from session_management.metrics import SessionMetrics
from session_management.services import SessionServices
from session_management.store import SessionStore, TableNames
from session_management.testing.events import (
    connect_event,
    disconnect_event,
    message_event,
    scheduled_event,
    websocket_event,
)
from session_management.testing.management_api_stub import ManagementApiStub
from session_management.websocket_service.events import CONNECT
from session_management.websocket_service.management_api import ManagementApi, ManagementApiFactory
from session_management.websocket_service.rate_limit import RateLimiter, RateLimitPolicy
from shared_metrics import MetricsEmitter
from shared_metrics.sinks.cloudwatch import CloudWatchSink
from shared_metrics.testing.aws_emulator import EMULATOR_ENV, AwsEmulator
from shared_metrics.testing.fault_proxy import FaultProxy

TABLES = TableNames(
    sessions="local-sessions", connections="local-connections", rate_limits="local-rl"
)
REGION = EMULATOR_ENV["AWS_DEFAULT_REGION"]
# What the local API Gateway stage is called in the AWS/ApiGateway dimensions.
LOCAL_API_ID = "local-websocket-api"
LOCAL_STAGE = "prod"
SERVICE_NAMESPACES = (session_spec.NAMESPACE, audio_spec.NAMESPACE)


@dataclass(frozen=True)
class Backend:
    """Where the scenario's DynamoDB and CloudWatch calls go."""

    endpoint_url: str | None  # None: AWS's own regional endpoints
    region: str = REGION
    tables: TableNames = TABLES
    namespace_prefix: str = ""  # the services' metrics go to <prefix><namespace>
    emulator: bool = True  # the in-process emulator (faults through a FaultProxy)

    @classmethod
    def remote(cls, endpoint_url: str | None, region: str, run_id: str) -> Backend:
        """LocalStack (``endpoint_url``) or AWS (None): run-unique tables and namespaces."""
        prefix = f"local-run-{run_id}"
        return cls(
            endpoint_url,
            region,
            TableNames(f"{prefix}-sessions", f"{prefix}-connections", f"{prefix}-rate-limits"),
            namespace_prefix=f"LocalRun/{run_id}/",
            emulator=False,
        )

    def namespace(self, service_namespace: str) -> str:
        return self.namespace_prefix + service_namespace

    @property
    def description(self) -> str:
        if self.emulator:
            return f"in-process emulator at {self.endpoint_url}"
        where = self.endpoint_url or f"AWS {self.region}"
        return f"{where} (tables {self.tables.sessions} etc., namespaces {self.namespace_prefix}*)"

TICK_SECONDS = 5
TICKS_PER_MINUTE = 60 // TICK_SECONDS

# Limits sized for the simulated traffic: normal clients stay under them, abusers do not.
POLICY = RateLimitPolicy(
    window_seconds=60,
    per_window={"control": 20, "audio": 8, "status": 3},
    max_violations=10,
    violation_window_seconds=300,
)
CHUNK = tone(1600)  # 100 ms of PCM16 mono at 16 kHz
OVERSIZE_CHUNK = tone(20_000)  # 40,000 bytes: over the 32 KiB limit (413 TooLarge)
BUFFER_BYTES = 4 * len(CHUNK)  # per session: Transcribe down for 4 chunks -> overflows

def log_group_name(function_name: str) -> str:
    """The log group of a local function (Lambda's default name for a function's logs)."""
    return f"/aws/lambda/{function_name}"


def function_name(stack_name: str, label: str) -> str:
    """The FunctionName a function gets locally (and the backtest's default for a stack)."""
    return f"{stack_name}-{label}"


# -- the simulated clock and a controllable Transcribe --------------------------------------


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


# -- the run ----------------------------------------------------------------------------------


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


def admin_store(backend: Backend) -> SessionStore:
    """A store on the backend's tables, with botocore's default retries (table setup)."""
    import boto3

    client = boto3.session.Session().client(
        "dynamodb", endpoint_url=backend.endpoint_url, region_name=backend.region
    )
    return SessionStore(client, backend.tables)


SPECS_BY_LABEL = {f.label: f for f in FUNCTIONS}


class _Driver:
    def __init__(
        self,
        clock: SimClock,
        backend: Backend,
        api: ManagementApiStub,
        proxy: FaultProxy | None,
        stack_name: str,
        result: ScenarioResult,
        seed: int,
        admin: SessionStore,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.clock = clock
        self.api = api
        self.result = result
        self.admin = admin
        self.platform = result.platform
        session = boto3.session.Session()
        # total_max_attempts, not max_attempts: botocore's max_attempts counts RETRIES, so
        # max_attempts=1 retried every fault once, after a backoff sleep of up to 1 s of
        # real wall time, which the handlers' latency timers measured.
        no_retries = Config(retries={"mode": "standard", "total_max_attempts": 1})
        observer = DynamoDBObserver(self.platform, clock)

        def dynamodb(endpoint_url: str | None) -> Any:
            return observer.watch(
                session.client(
                    "dynamodb", endpoint_url=endpoint_url, region_name=backend.region,
                    config=no_retries,
                )
            )

        self.faults: DynamoDBFaults = (
            ProxyFaults(proxy, dynamodb(backend.endpoint_url), dynamodb(proxy.endpoint_url))
            if proxy is not None
            else ClientFaults(dynamodb(backend.endpoint_url), seed=seed)
        )
        faulty = self.faults.client
        labels = (CONNECTION, STATUS_FN, AUDIO_FN)
        # One emitter per function (each runs in its own Lambda environments), behind what
        # stands between a function's output and CloudWatch.
        self.outputs = {
            label: FunctionOutput(
                CloudWatchSink(endpoint_url=backend.endpoint_url, region_name=backend.region)
            )
            for label in labels
        }
        self.emitters = {
            label: MetricsEmitter(
                backend.namespace(SPECS_BY_LABEL[label].service.namespace),
                self.outputs[label],
                clock=clock,
                # Timers measure real time plus the simulated time spent meanwhile.
                timer_clock=clock.timer,
                flush_at_exit=False,
            )
            for label in labels
        }
        apis = ManagementApiFactory(ManagementApi.for_endpoint)
        store = SessionStore(faulty, backend.tables, clock)
        limiter = RateLimiter(faulty, backend.tables.rate_limits, POLICY, clock)
        self.transcriber = ScenarioTranscriber(clock)
        audio_metrics = AudioMetrics(self.emitters[AUDIO_FN])

        def session_services(label: str) -> SessionServices:
            return SessionServices(
                store=store,
                rate_limiter=limiter,
                metrics=SessionMetrics(self.emitters[label]),
                management_apis=apis,
                clock=clock,
            )

        audio_services = AudioServices(
            store=store,
            rate_limiter=limiter,
            metrics=audio_metrics,
            processor=AudioProcessor(
                self.transcriber, audio_metrics, SessionAudioBuffers(BUFFER_BYTES, 64)
            ),
            management_apis=apis,
            clock=clock,
        )
        self.handlers: dict[str, Callable[[Any, Any], Any]] = {
            CONNECTION: connection.build_handler(session_services(CONNECTION)),
            STATUS_FN: session_status.build_handler(session_services(STATUS_FN)),
            AUDIO_FN: audio_processor.build_handler(audio_services),
        }
        result.function_names.update(
            {label: function_name(stack_name, label) for label in self.handlers}
        )
        self.speakers = {"speaker-a": "sess-a", "speaker-b": "sess-b"}
        self.listeners: dict[str, list[str]] = {
            s: [f"{s}-listener-{i}" for i in range(3)] for s in self.speakers.values()
        }
        self.crowd_speakers: list[tuple[str, str]] = []
        self.revoked: set[str] = set()  # functions API Gateway may no longer invoke
        self.stored_states: dict[str, dict[str, Any]] = {}
        self._serial = 0

    # -- invoking ---------------------------------------------------------------------------

    def invoke(self, label: str, event: dict[str, Any], running: int = 1) -> int:
        """One request to a function, through API Gateway (WebSocket events) and Lambda, with
        what both services record (`local_run.platform_metrics`)."""
        t = self.clock()
        fn = self.result.function_names[label]
        spec = SPECS_BY_LABEL[label]
        context = event.get("requestContext")
        websocket = isinstance(context, dict)
        if isinstance(context, dict):
            route = context.get("routeKey")
            self.platform.api(t, "ConnectCount" if route == CONNECT else "MessageCount")
            if label in self.revoked:
                self.platform.api(t, "ExecutionError")
                return self._count(500)
        started = self.clock.timer()
        failed = False
        try:
            status = int(self.handlers[label](event, None)["statusCode"])
        except Exception:  # escaped the handler: a function error (the guard prevents it)
            failed, status = True, 502
        duration_ms = (self.clock.timer() - started) * 1000
        timeout_ms = spec.timeout.total_seconds() * 1000
        if duration_ms > timeout_ms:  # "Task timed out": Lambda stops the invocation
            failed, status, duration_ms = True, 504, timeout_ms
            self.outputs[label].killed()
        else:
            self.outputs[label].completed()
        self.platform.invocation(t, fn, duration_ms, failed)
        self.platform.concurrency(t, fn, running)
        if failed and websocket:
            self.platform.api(t, "IntegrationError")
        return self._count(status)

    def burst(self, label: str, events: Sequence[dict[str, Any]]) -> int:
        """Requests arriving at once: Lambda runs as many as the function's reserved
        concurrency allows and throttles the rest (API Gateway: ExecutionError). Returns how
        many ran (the first ones)."""
        limit = SPECS_BY_LABEL[label].reserved_concurrency
        admitted, throttled = events[:limit], events[limit:]
        if throttled:
            t = self.clock()
            self.platform.throttled(t, self.result.function_names[label], len(throttled))
            for event in throttled:
                route = event["requestContext"].get("routeKey")
                self.platform.api(t, "ConnectCount" if route == CONNECT else "MessageCount")
                self.platform.api(t, "ExecutionError")
                self._count(429)
        for event in admitted:
            self.invoke(label, event, running=len(admitted))
        return len(admitted)

    def _count(self, status: int) -> int:
        self.result.invocations += 1
        self.result.statuses[status] = self.result.statuses.get(status, 0) + 1
        return status

    def connect(self, connection_id: str, session_id: str, role: str) -> int:
        return self.invoke(CONNECTION, connect_event(connection_id, session_id, role))

    def control(self, connection_id: str, action: str, **fields: object) -> int:
        return self.invoke(CONNECTION, message_event(connection_id, action, **fields))

    def status(self, connection_id: str) -> int:
        return self.invoke(STATUS_FN, message_event(connection_id, GET_SESSION_STATUS))

    def audio(self, connection_id: str, session_id: str, chunk: bytes | str) -> int:
        return self.invoke(AUDIO_FN, _audio_event(connection_id, session_id, chunk))

    def raw_audio(self, connection_id: str, body: str) -> int:
        return self.invoke(AUDIO_FN, websocket_event(SEND_AUDIO, connection_id, body))

    def closed(self, connection_id: str) -> None:
        """API Gateway sends $disconnect after a connection is closed."""
        self.invoke(CONNECTION, disconnect_event(connection_id))

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
            self.invoke(STATUS_FN, scheduled_event())
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
            self.invoke(STATUS_FN, scheduled_event())
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
        ran = self.burst(
            CONNECTION, [connect_event(c, "sess-a", "listener") for c in listeners]
        )
        joined = listeners[:ran]
        self.burst(STATUS_FN, [message_event(c, GET_SESSION_STATUS) for c in joined[:queries]])
        speakers, chunks = audio
        while len(self.crowd_speakers) < speakers:
            speaker, session_id = self.new_id("crowd-speaker"), self.new_id("crowd-session")
            self.connect(speaker, session_id, "speaker")
            self.crowd_speakers.append((speaker, session_id))
        self.burst(
            AUDIO_FN,
            [
                _audio_event(speaker, session_id, CHUNK)
                for speaker, session_id in self.crowd_speakers[:speakers]
                for _ in range(chunks)
            ],
        )
        for listener in joined:
            self.closed(listener)

    # -- faults ------------------------------------------------------------------------------

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

    def enter(self, phase: str) -> None:
        if self.stored_states:
            self.restore_sessions()
        if phase == "handler-exceptions":
            self.corrupt_sessions(list(self.speakers.values()))
        self.transcriber.down = phase in ("transcribe-outage", "alarm-delivery-failing")
        self.transcriber.delay_seconds = {
            "audio-latency-spike": LATENCY_SPIKE_SECONDS,
            "slow-degradation": DEGRADED_TRANSCRIBE_SECONDS,
        }.get(phase, 0.0)
        hang = HANG_SECONDS if phase == "lambda-timeouts" else 0.0
        self.transcriber.hang_seconds = hang
        notify_stall = hang or (DEGRADED_NOTIFY_SECONDS if phase == "slow-degradation" else 0.0)
        self.api.on_request = (lambda: self.clock.stall(notify_stall)) if notify_stall else None
        rate = DYNAMODB_FAULT_RATE
        self.faults.set(
            server_error=rate if phase == "dynamodb-errors" else 0.0,
            throttle=rate if phase == "dynamodb-throttling" else 0.0,
        )
        self.revoked = {AUDIO_FN} if phase == "apigw-integration-errors" else set()
        for label, output in self.outputs.items():
            # A session-management deploy without instrumentation; audio's EMF lines no
            # longer extracted (still in its log group).
            output.instrumented = not (
                phase == "metrics-lost-session" and label in (CONNECTION, STATUS_FN)
            )
            output.extracted = not (phase == "metrics-lost-audio" and label == AUDIO_FN)
        if phase not in ("lambda-throttling", "healthy-surge"):
            for speaker, _ in self.crowd_speakers:
                self.closed(speaker)
            self.crowd_speakers.clear()

    def finish(self) -> None:
        self.enter("baseline")
        for label, emitter in self.emitters.items():
            emitter.flush()
            self.outputs[label].completed()
            group = log_group_name(self.result.function_names[label])
            self.result.log_events[group] = self.outputs[label].log_events()


def _audio_event(connection_id: str, session_id: str, chunk: bytes | str) -> dict[str, Any]:
    return websocket_event(SEND_AUDIO, connection_id, send_audio_body(session_id, chunk))


@contextlib.contextmanager
def local_backend(endpoint_url: str | None = None) -> Iterator[str]:
    """The emulator in this process (default), or ``endpoint_url`` as is."""
    if endpoint_url:
        yield endpoint_url
        return
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines
    emulator = AwsEmulator()
    emulator.start()
    try:
        emulator.reset()  # moto's backends are per process: start clean
        yield emulator.endpoint_url
    finally:
        emulator.stop()


def run_scenario(
    backend: Backend | str,
    phases: Sequence[Phase] = PHASES,
    *,
    phase_minutes: int = 5,
    start: float | None = None,
    stack_name: str = "ws-local",
    seed: int = 7,
    on_tick: Callable[[str], None] | None = None,
    real_latency: bool = True,
) -> ScenarioResult:
    """Drive the handlers against ``backend`` (a `Backend`, or the URL of the in-process
    emulator) through ``phases``.

    ``on_tick(phase name)`` is called after every simulated 5-second tick (progress).
    """
    if isinstance(backend, str):
        backend = Backend(backend)
    if phase_minutes < 1:
        raise ValueError(f"phase_minutes must be at least 1, got {phase_minutes}")
    if not phases:
        raise ValueError("no phases to run")
    total_minutes = sum(p.minutes(phase_minutes) for p in phases)
    t0 = aligned_start(total_minutes + 5) if start is None else start
    clock = SimClock(t0, real_latency)
    result = ScenarioResult(
        t0, t0, [], {}, PlatformMetrics(LOCAL_API_ID, LOCAL_STAGE), backend=backend
    )
    wall = time.perf_counter()
    # The emulator's server threads and this driver hand off on every request: a short
    # switch interval cuts the wait for the GIL (about 2x faster here).
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    with contextlib.ExitStack() as stack:
        api = stack.enter_context(ManagementApiStub())
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
            driver = _Driver(clock, backend, api, proxy, stack_name, result, seed, tables)
            driver.setup()
            phase_start = t0
            for phase in phases:
                # Phases start on the tick grid, whatever time processing spent.
                clock.now = max(clock.now, phase_start)
                driver.enter(phase.name)
                minutes = phase.minutes(phase_minutes)
                for minute in range(minutes):
                    for tick in range(TICKS_PER_MINUTE):
                        clock.now = max(clock.now, phase_start + minute * 60 + tick * TICK_SECONDS)
                        driver.tick(phase.name, minute, tick)
                        if on_tick is not None:
                            on_tick(phase.name)
                result.spans.append(PhaseSpan(phase, phase_start, phase_start + minutes * 60))
                phase_start += minutes * 60
            driver.finish()
            result.injected_faults = driver.faults.injected
        finally:
            sys.setswitchinterval(switch_interval)
    result.end = result.spans[-1].end
    result.wall_seconds = time.perf_counter() - wall
    return result


def _delete_tables(store: SessionStore) -> None:
    try:
        store.delete_tables()
    except Exception as exc:  # the run's outcome matters more; say what is left behind
        print(
            f"local-run: warning: could not delete the run's tables "
            f"({store.tables.sessions}, ...): {exc}",
            file=sys.stderr,
        )
