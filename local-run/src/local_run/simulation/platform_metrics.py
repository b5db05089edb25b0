"""What AWS's own services would publish about a local run: AWS/Lambda, AWS/ApiGateway,
AWS/DynamoDB and CloudWatchSynthetics (the canary's runs: `local_run.simulation.scenario_canary`)
metrics, recorded by the scenario from what it sees (nobody may publish to an ``AWS/``
namespace, and the emulator publishes none), and the path from a function's output
to CloudWatch. Each rule cites its documentation in `local_run.fidelity`.

The model, per invocation the scenario makes:

- API Gateway (``ApiId, Stage``; "Monitoring WebSocket API execution with CloudWatch
  metrics"): ``ConnectCount`` per $connect request; ``MessageCount`` per message "sent to the
  WebSocket API, either from or to the client": each client message and each message the
  handlers post to a connection; ``IntegrationLatency`` per invoked request (the function's
  Duration). The error metrics: ``IntegrationError`` is "the number of requests that return a
  4XX/5XX response from the integration", so a handler's own 4xx/5xx answer counts there (a
  4xx has also been reported in ``ClientError``); ``ExecutionError`` is "errors that occurred
  when calling the integration". Where a function error (an exception escaping the handler,
  a timeout) and a request API Gateway could not hand to the function (throttled, permission
  gone) count, AWS does not say. The requests are recorded as outcomes, and
  `PlatformMetrics.api_store` turns them into metrics under an `ApiGatewayReading`:
  `DOCUMENTED` by default, and every other plausible reading in `READINGS` (the tests
  evaluate the alarms under each).
- Lambda (``FunctionName``): ``Invocations``, ``Errors`` (0 or 1), ``Duration`` (ms, what the
  handler's timers measure: simulated time spent inside it; a timed-out invocation counts its
  timeout), ``Throttles`` (throttled requests count "not as Invocations or Errors"),
  ``ConcurrentExecutions`` (the requests of one burst run at once; otherwise one at a time).
- DynamoDB (``TableName``; ``SystemErrors`` also by ``Operation``): from each call's outcome
  as the handlers' client sees it: throttling errors are ``ReadThrottleEvents`` or
  ``WriteThrottleEvents`` (by the operation) of each table the call names, a transaction's
  every table; 500s are ``SystemErrors``.

`FunctionOutput` stands between a function's metrics emitter and CloudWatch: what a function
flushes reaches CloudWatch unless the invocation had already timed out when it flushed
(Lambda stops the process at its timeout: the deadline flush before it gets through, the
flush at the end of a timed-out invocation does not), and not while the function's metrics
pipeline is broken: its instrumentation dropped by a deploy (nothing written), or its EMF
lines no longer extracted (written to the log group, no metrics). It also keeps the EMF
lines the function would have written to its log group (what Contributor Insights rules
read).
"""

from __future__ import annotations

import io
import itertools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.alarm_scopes import (
    API_GATEWAY_NAMESPACE,
    DYNAMODB_NAMESPACE,
    LAMBDA_NAMESPACE,
    SYNTHETICS_NAMESPACE,
)
from local_run.cloudwatch.metric_store import InMemoryMetricStore
from shared_metrics.series import SeriesBatch
from shared_metrics.sinks.base import MetricSink, PublishResult, total_datapoints
from shared_metrics.sinks.emf import EmfSink

# DynamoDB error codes that are throttling, and the operations that read.
THROTTLING_CODES = frozenset(
    {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"}
)
READ_OPERATIONS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})

INTEGRATION_ERROR = "IntegrationError"
CLIENT_ERROR = "ClientError"
EXECUTION_ERROR = "ExecutionError"

# What happened to one request API Gateway received.
ANSWERED = "answered"  # the handler returned a response (any status)
FUNCTION_ERROR = "function-error"  # the invocation failed: an exception escaped, a timeout
NOT_INVOKED = "not-invoked"  # throttled by Lambda, or API Gateway may not invoke the function


@dataclass(frozen=True)
class ApiGatewayReading:
    """Which AWS/ApiGateway metric counts each kind of failed request: AWS documents the first
    (``IntegrationError``: "requests that return a 4XX/5XX response from the integration"),
    a handler's 4xx was reported in ``ClientError``, and AWS says nothing of the other two."""

    handler_4xx: str  # INTEGRATION_ERROR (documented) or CLIENT_ERROR (reported)
    function_error: str  # INTEGRATION_ERROR or EXECUTION_ERROR: not documented
    not_invoked: str  # EXECUTION_ERROR or INTEGRATION_ERROR: not documented

    @property
    def name(self) -> str:
        return (
            f"handler 4xx in {self.handler_4xx}, function errors in {self.function_error}, "
            f"requests not invoked in {self.not_invoked}"
        )


DOCUMENTED = ApiGatewayReading(INTEGRATION_ERROR, INTEGRATION_ERROR, EXECUTION_ERROR)
READINGS = tuple(
    ApiGatewayReading(a, b, c)
    for a, b, c in itertools.product(
        (INTEGRATION_ERROR, CLIENT_ERROR),
        (INTEGRATION_ERROR, EXECUTION_ERROR),
        (EXECUTION_ERROR, INTEGRATION_ERROR),
    )
)


@dataclass(frozen=True)
class ApiRequest:
    """One request API Gateway received, and what became of it."""

    timestamp: float
    connect: bool  # the $connect route (ConnectCount), else a client message (MessageCount)
    outcome: str  # ANSWERED, FUNCTION_ERROR or NOT_INVOKED
    status: int | None = None  # the handler's statusCode (ANSWERED)
    latency_ms: float | None = None  # request to response at the integration (invoked)

    def error_metric(self, reading: ApiGatewayReading) -> str | None:
        """The metric that counts this request as an error under ``reading``, if any."""
        if self.outcome == FUNCTION_ERROR:
            return reading.function_error
        if self.outcome == NOT_INVOKED:
            return reading.not_invoked
        if self.status is not None and 400 <= self.status < 500:
            return reading.handler_4xx
        if self.status is not None and self.status >= 500:
            return INTEGRATION_ERROR
        return None


class PlatformMetrics:
    """The AWS-namespace metrics of one run: Lambda and DynamoDB in an `InMemoryMetricStore`
    (`store`), API Gateway's built from the recorded requests under a reading (`api_store`)."""

    def __init__(self, api_id: str, stage: str) -> None:
        self.store = InMemoryMetricStore()
        self._api = {"ApiId": api_id, "Stage": stage}
        self._lock = threading.Lock()
        self.requests: list[ApiRequest] = []
        self.messages_to_clients: list[float] = []  # when each was delivered
        self._api_stores: dict[ApiGatewayReading, InMemoryMetricStore] = {}

    def _put(
        self, namespace: str, name: str, t: float, value: float, dims: Mapping[str, str]
    ) -> None:
        with self._lock:
            self.store.put(namespace, name, t, value, dims)

    # -- API Gateway -----------------------------------------------------------------------

    def api_request(self, request: ApiRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self._api_stores.clear()

    def message_to_client(self, t: float) -> None:
        with self._lock:
            self.messages_to_clients.append(t)
            self._api_stores.clear()

    def api_store(self, reading: ApiGatewayReading = DOCUMENTED) -> InMemoryMetricStore:
        """AWS/ApiGateway for the stage, as API Gateway would publish it under ``reading``."""
        with self._lock:
            cached = self._api_stores.get(reading)
            if cached is not None:
                return cached
            store = InMemoryMetricStore()
            for t in self.messages_to_clients:
                store.put(API_GATEWAY_NAMESPACE, "MessageCount", t, 1.0, self._api)
            for r in self.requests:
                count = "ConnectCount" if r.connect else "MessageCount"
                store.put(API_GATEWAY_NAMESPACE, count, r.timestamp, 1.0, self._api)
                error = r.error_metric(reading)
                if error is not None:
                    store.put(API_GATEWAY_NAMESPACE, error, r.timestamp, 1.0, self._api)
                if r.latency_ms is not None:
                    store.put(
                        API_GATEWAY_NAMESPACE,
                        "IntegrationLatency",
                        r.timestamp,
                        r.latency_ms,
                        self._api,
                    )
            self._api_stores[reading] = store
            return store

    # -- Lambda ----------------------------------------------------------------------------

    def invocation(self, t: float, function_name: str, duration_ms: float, failed: bool) -> None:
        dims = {"FunctionName": function_name}
        self._put(LAMBDA_NAMESPACE, "Invocations", t, 1.0, dims)
        self._put(LAMBDA_NAMESPACE, "Errors", t, 1.0 if failed else 0.0, dims)
        self._put(LAMBDA_NAMESPACE, "Duration", t, duration_ms, dims)

    def throttled(self, t: float, function_name: str, count: int) -> None:
        self._put(LAMBDA_NAMESPACE, "Throttles", t, float(count), {"FunctionName": function_name})

    def concurrency(self, t: float, function_name: str, running: int) -> None:
        self._put(
            LAMBDA_NAMESPACE,
            "ConcurrentExecutions",
            t,
            float(running),
            {"FunctionName": function_name},
        )

    # -- CloudWatch Synthetics (`local_run.simulation.scenario_canary`) ---------------------

    def synthetics(self, t: float, name: str, value: float, dims: Mapping[str, str]) -> None:
        self._put(SYNTHETICS_NAMESPACE, name, t, value, dims)

    # -- DynamoDB ----------------------------------------------------------------------------

    def dynamodb_call(
        self, t: float, operation: str, tables: Sequence[str], error_code: str | None, status: int
    ) -> None:
        if error_code in THROTTLING_CODES:
            name = "ReadThrottleEvents" if operation in READ_OPERATIONS else "WriteThrottleEvents"
            for table in tables:
                self._put(DYNAMODB_NAMESPACE, name, t, 1.0, {"TableName": table})
        elif status >= 500:
            for table in tables:
                self._put(
                    DYNAMODB_NAMESPACE,
                    "SystemErrors",
                    t,
                    1.0,
                    {"TableName": table, "Operation": operation},
                )


def _tables_of(params: Mapping[str, Any]) -> list[str]:
    """The tables a call names: its TableName, or every table of a transaction's items."""
    if "TableName" in params:
        return [str(params["TableName"])]
    names: list[str] = []
    for item in params.get("TransactItems", ()):
        for part in item.values():
            if isinstance(part, Mapping) and "TableName" in part:
                names.append(str(part["TableName"]))
    return sorted(set(names))


class DynamoDBObserver:
    """Records every call of a boto3 DynamoDB client as DynamoDB would count it: botocore's
    ``provide-client-params`` event names the tables, ``after-call`` gives the outcome."""

    def __init__(self, metrics: PlatformMetrics, clock: Any) -> None:
        self.metrics = metrics
        self.clock = clock

    def watch(self, client: Any) -> Any:
        events = client.meta.events
        events.register("provide-client-params.dynamodb.*", self._params)
        events.register("after-call.dynamodb.*", self._after_call)
        return client

    def _params(self, params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["local_run_tables"] = _tables_of(params)

    def _after_call(
        self,
        http_response: Any,
        parsed: Mapping[str, Any],
        model: Any,
        context: Mapping[str, Any],
        **_: Any,
    ) -> None:
        code = parsed.get("Error", {}).get("Code") if isinstance(parsed, Mapping) else None
        status = int(getattr(http_response, "status_code", 200))
        self.metrics.dynamodb_call(
            self.clock(), model.name, context.get("local_run_tables", ()), code, status
        )


class FunctionOutput(MetricSink):
    """A function's metrics sink as CloudWatch sees it (see the module docstring): holds
    what an invocation flushes until the scenario says how the invocation ended."""

    def __init__(
        self,
        inner: Any,
        timer: Callable[[], float],
        *,
        extraction_seconds: float = 0.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.inner = inner
        self.timer = timer  # the invocation's clock: when each flush happened
        # CloudWatch extracts EMF metrics from the log stream in the background, not one call
        # per invocation: with a positive window, what the invocations flushed within one
        # window of ``clock`` (the scenario's time) reaches ``inner`` in one publish (each
        # datapoint keeps its own timestamp, so the alarms see the same data). 0: each flush
        # at once.
        if extraction_seconds < 0:
            raise ValueError(f"extraction_seconds must be >= 0, got {extraction_seconds!r}")
        if extraction_seconds > 0 and clock is None:
            raise ValueError("an extraction window needs the clock it is measured on")
        self.extraction_seconds = extraction_seconds
        self.clock = clock
        self._extracted: dict[str, list[SeriesBatch]] = {}
        self._window: int | None = None
        self.name = f"lambda-output({inner.name})"
        self.preferred_batch_values = inner.preferred_batch_values
        self.instrumented = True  # False: a deploy dropped the instrumentation
        self.extracted = True  # False: EMF lines are written but yield no metrics
        # (when, namespace, batches, properties) of each flush of the running invocation
        self._held: list[tuple[float, str, list[SeriesBatch], dict[str, object]]] = []
        self.lost_datapoints = 0
        self._lines = io.StringIO()
        self._emf = EmfSink(self._lines)

    @property
    def broken(self) -> bool:
        return not (self.instrumented and self.extracted)

    def log_events(self) -> list[dict[str, Any]]:
        """The EMF events written to the function's log group so far, parsed."""
        return [json.loads(line) for line in self._lines.getvalue().splitlines() if line]

    def publish(
        self, namespace: str, batches: Sequence[SeriesBatch], properties: Mapping[str, object]
    ) -> PublishResult:
        self._held.append((self.timer(), namespace, list(batches), dict(properties)))
        return PublishResult(delivered=total_datapoints(batches))

    def completed(self) -> None:
        """The invocation returned: CloudWatch extracts its metrics (unless broken)."""
        self.killed(float("inf"))

    def killed(self, at: float) -> None:
        """The invocation timed out at timer time ``at``: Lambda stopped it there, so what it
        flushed until then (its deadline flush) got out, and what came later did not."""
        held, self._held = self._held, []
        for when, namespace, batches, properties in held:
            if when > at:
                self.lost_datapoints += total_datapoints(batches)
                continue
            if self.instrumented:
                self._emf.publish(namespace, batches, properties)
            if self.broken:
                self.lost_datapoints += total_datapoints(batches)
            else:
                self._extract(namespace, batches, properties)

    def _extract(
        self, namespace: str, batches: list[SeriesBatch], properties: Mapping[str, object]
    ) -> None:
        if self.extraction_seconds <= 0 or self.clock is None:
            self.inner.publish(namespace, batches, properties)
            return
        window = int(self.clock() // self.extraction_seconds)
        if self._window is not None and window != self._window:
            self.drain()
        self._window = window
        self._extracted.setdefault(namespace, []).extend(batches)

    def drain(self) -> None:
        """Hand what is held for extraction to ``inner`` now (the end of the run)."""
        pending, self._extracted, self._window = self._extracted, {}, None
        for namespace, batches in pending.items():
            self.inner.publish(namespace, batches, {})
