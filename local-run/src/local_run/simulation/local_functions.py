"""The three functions of a local run, built as Lambda would run them, and invoked as API
Gateway and Lambda would invoke them.

`LocalFunctions` builds the real handlers (connection, session_status, audio_processor) on
the backend's tables, exactly as in Lambda, except that:

- each function has its own emitter (as each runs in its own Lambda environments), which
  publishes through the real `CloudWatchSink` (PutMetricData) to the backend, with ``clock=`` the
  simulated clock: metric timestamps follow it. Every invocation gets a Lambda context
  (`local_run.simulation.lambda_context`: request id, function name, memory, the remaining time of
  its timeout on the simulated timer), so the handlers flush at the end of every invocation and, as
  deployed, shortly before its deadline (the emitters' deadline watch is on the simulated timer:
  `local_run.simulation.sim_clock.SimDeadlineWatch`); what they flush reaches CloudWatch if it was
  flushed before the invocation timed out and the phase has not broken the function's metrics
  (`local_run.simulation.platform_metrics.FunctionOutput`);
- DynamoDB calls run with botocore's retries off (their backoff sleeps would be wall
  time; the injected fault rate stands for what still fails after retries), and the
  DynamoDB phases inject 500s or throttling (`local_run.simulation.faults`: a `FaultProxy` on
  loopback in front of the emulator, in the client for other backends);
- the transcriber is in-process (`local_run.simulation.scenario_transcriber`): it can be down,
  slow or hang;
- timers (the emitters' ``timer_clock``, `SimClock.timer`) measure the simulated time spent
  inside processing, never this machine's speed (`local_run.simulation.sim_clock`);
- the PutMetricData sink has a budget of minutes, not Lambda's seconds: the emulator shares
  this machine's CPU with the run, and a busy or slowed machine must not lose datapoints;
- the Management API clients keep the handlers' retries but wait minutes of real time
  instead of the handlers' fail-fast timeouts (`local_management_apis`).

`LocalFunctions.invoke` is one request through API Gateway and Lambda, with what both
services record about it (`local_run.simulation.platform_metrics.PlatformMetrics`): a function's
requests are throttled beyond its reserved concurrency when they arrive at once (`burst`),
and time out past its timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from audio_transcription.audio_buffer import SessionAudioBuffers
from audio_transcription.handlers import audio_processor
from audio_transcription.metrics import AudioMetrics
from audio_transcription.processing import AudioProcessor
from audio_transcription.services import AudioServices
from audio_transcription.testing.pcm import tone
from infra.functions import FUNCTIONS
from local_run.simulation.backend import Backend
from local_run.simulation.faults import ClientFaults, DynamoDBFaults, ProxyFaults
from local_run.simulation.lambda_context import LocalLambdaContext, request_id
from local_run.simulation.local_names import function_name, log_group_name
from local_run.simulation.phases import AUDIO_FN, CONNECTION, STATUS_FN
from local_run.simulation.platform_metrics import (
    ANSWERED,
    FUNCTION_ERROR,
    NOT_INVOKED,
    ApiRequest,
    DynamoDBObserver,
    FunctionOutput,
    PlatformMetrics,
)
from local_run.simulation.scenario_transcriber import ScenarioTranscriber
from local_run.simulation.sim_clock import SimClock, SimDeadlineWatch
from session_management.handlers import connection, session_status
from session_management.metrics import SessionMetrics
from session_management.services import SessionServices
from session_management.store import SessionStore
from shared_metrics import MetricsEmitter
from shared_metrics.sinks.cloudwatch import CloudWatchSink
from shared_metrics.testing.fault_proxy import FaultProxy
from websocket_service.events import CONNECT
from websocket_service.management_api import ManagementApi, ManagementApiFactory
from websocket_service.rate_limit import RateLimiter, RateLimitPolicy

SPECS_BY_LABEL = {f.label: f for f in FUNCTIONS}

# Limits sized for the simulated traffic: normal clients stay under them, abusers do not.
POLICY = RateLimitPolicy(
    window_seconds=60,
    per_window={"control": 20, "audio": 8, "status": 3},
    max_violations=10,
    violation_window_seconds=300,
)
# PutMetricData's time budget: a flush to the emulator may wait for the CPU the run shares.
EMULATOR_SINK_BUDGET_SECONDS = 120.0
# The Management API clients' real-time timeouts (`local_management_apis`).
LOCAL_MANAGEMENT_API_TIMEOUT_SECONDS = 120.0
CHUNK = tone(1600)  # 100 ms of PCM16 mono at 16 kHz: what a speaker sends
BUFFER_BYTES = 4 * len(CHUNK)  # per session: Transcribe down for 4 chunks -> overflows


def local_management_apis() -> ManagementApiFactory:
    """The handlers' Management API clients for a local run: their retry policy, with real
    timeouts that no load reaches.

    The Management API stand-in answers at once and takes its delays on the simulated clock
    (a slow or hung API stalls the invocation's timer). A real timeout could only fire because
    this machine is busy, and botocore would then send the request again: its simulated delay
    paid twice and the listener told twice, so a status or a latency alarm would depend on the
    load. How long a call takes is the simulated clock's to say.
    """
    return ManagementApiFactory(
        lambda url: ManagementApi.for_endpoint(
            url,
            connect_timeout=LOCAL_MANAGEMENT_API_TIMEOUT_SECONDS,
            read_timeout=LOCAL_MANAGEMENT_API_TIMEOUT_SECONDS,
        )
    )


class LocalFunctions:
    """The three functions on a backend (see the module docstring), with what their
    invocations came to: counts by HTTP status, and the faults they run into."""

    def __init__(
        self,
        clock: SimClock,
        backend: Backend,
        proxy: FaultProxy | None,
        stack_name: str,
        platform: PlatformMetrics,
        seed: int,
        extraction_seconds: float = 0.0,
    ) -> None:
        """``extraction_seconds``: see `FunctionOutput` (the scenario's 60 s: one
        PutMetricData per function and simulated minute instead of one per invocation)."""
        import boto3
        from botocore.config import Config

        self.clock = clock
        self.platform = platform
        session = boto3.session.Session()
        # total_max_attempts, not max_attempts: botocore's max_attempts counts RETRIES, so
        # max_attempts=1 retried every fault once, after a backoff sleep of up to 1 s of
        # real wall time, which the handlers' latency timers measured.
        no_retries = Config(retries={"mode": "standard", "total_max_attempts": 1})
        observer = DynamoDBObserver(self.platform, clock)

        def dynamodb(endpoint_url: str | None) -> Any:
            return observer.watch(
                session.client(
                    "dynamodb",
                    endpoint_url=endpoint_url,
                    region_name=backend.region,
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
                CloudWatchSink(
                    endpoint_url=backend.endpoint_url,
                    region_name=backend.region,
                    budget_seconds=EMULATOR_SINK_BUDGET_SECONDS,
                ),
                clock.timer,
                extraction_seconds=extraction_seconds,
                clock=clock,
            )
            for label in labels
        }
        self.emitters = {
            label: MetricsEmitter(
                backend.namespace(SPECS_BY_LABEL[label].service.namespace),
                self.outputs[label],
                clock=clock,
                # Timers, and the deadline flush, on the simulated invocation time.
                timer_clock=clock.timer,
                flush_at_exit=False,
                deadline_watch=SimDeadlineWatch(clock),
            )
            for label in labels
        }
        apis = local_management_apis()
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
        self.function_names = {label: function_name(stack_name, label) for label in self.handlers}
        self.region = backend.region
        self.revoked: set[str] = set()  # functions API Gateway may no longer invoke
        self.invocations = 0
        self.statuses: dict[int, int] = {}  # HTTP status -> count

    # -- invoking ---------------------------------------------------------------------------

    def invoke(self, label: str, event: dict[str, Any], running: int = 1) -> int:
        """One request to a function, through API Gateway (WebSocket events) and Lambda, with
        what both services record (`local_run.simulation.platform_metrics`); its HTTP status."""
        return self.call(label, event, running)[0]

    def call(
        self, label: str, event: dict[str, Any], running: int = 1
    ) -> tuple[int, dict[str, Any] | None]:
        """`invoke`, with the handler's response too (None when the function did not answer:
        not invoked, failed or timed out): what API Gateway sends on to a client."""
        t = self.clock()
        fn = self.function_names[label]
        spec = SPECS_BY_LABEL[label]
        request_context = event.get("requestContext")
        connect = isinstance(request_context, dict) and request_context.get("routeKey") == CONNECT
        websocket = isinstance(request_context, dict)
        if websocket and label in self.revoked:
            self.platform.api_request(ApiRequest(t, connect, NOT_INVOKED))
            return self._count(500), None
        started = self.clock.timer()
        timeout_s = spec.timeout.total_seconds()
        context = LocalLambdaContext(
            function_name=fn,
            memory_limit_in_mb=spec.memory_mb,
            aws_request_id=request_id(self.invocations + 1),
            log_group_name=log_group_name(fn),
            region=self.region,
            timeout_seconds=timeout_s,
            clock=self.clock,
            started=started,
        )
        failed = False
        response: dict[str, Any] | None = None
        try:
            response = self.handlers[label](event, context)
            status = int(response["statusCode"])
        except Exception:  # escaped the handler: a function error (the guard prevents it)
            failed, status, response = True, 502, None
        duration_ms = (self.clock.timer() - started) * 1000
        timeout_ms = timeout_s * 1000
        if duration_ms > timeout_ms:  # "Task timed out": Lambda stops the invocation
            failed, status, duration_ms, response = True, 504, timeout_ms, None
            self.outputs[label].killed(started + timeout_s)
        else:
            self.outputs[label].completed()
        self.platform.invocation(t, fn, duration_ms, failed)
        self.platform.concurrency(t, fn, running)
        if websocket:
            outcome = FUNCTION_ERROR if failed else ANSWERED
            self.platform.api_request(
                ApiRequest(t, connect, outcome, None if failed else status, duration_ms)
            )
        return self._count(status), response

    def burst(self, label: str, events: Sequence[dict[str, Any]]) -> int:
        """Requests arriving at once: Lambda runs as many as the function's reserved
        concurrency allows and throttles the rest (they never reach the function). Returns
        how many ran (the first ones)."""
        limit = SPECS_BY_LABEL[label].reserved_concurrency
        admitted, throttled = events[:limit], events[limit:]
        if throttled:
            t = self.clock()
            self.platform.throttled(t, self.function_names[label], len(throttled))
            for event in throttled:
                connect = event["requestContext"].get("routeKey") == CONNECT
                self.platform.api_request(ApiRequest(t, connect, NOT_INVOKED))
                self._count(429)
        for event in admitted:
            self.invoke(label, event, running=len(admitted))
        return len(admitted)

    def _count(self, status: int) -> int:
        self.invocations += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        return status

    def finish(self) -> dict[str, list[dict[str, Any]]]:
        """The last flush of every function; log group -> the EMF events written there."""
        log_events: dict[str, list[dict[str, Any]]] = {}
        for label, emitter in self.emitters.items():
            emitter.flush()
            self.outputs[label].completed()
            self.outputs[label].drain()
            group = log_group_name(self.function_names[label])
            log_events[group] = self.outputs[label].log_events()
        return log_events
