"""What AWS's own services would publish about a local run: AWS/Lambda, AWS/ApiGateway and
AWS/DynamoDB metrics, recorded by the scenario from what it sees (nobody may publish to an
``AWS/`` namespace, and the emulator publishes none), and the path from a function's output
to CloudWatch.

The model, per invocation the scenario makes:

- API Gateway (``ApiId, Stage``): ``ConnectCount`` per $connect, ``MessageCount`` per client
  message; ``ExecutionError`` when API Gateway cannot call the integration (the function is
  throttled, or its invoke permission is gone); ``IntegrationError`` when the integration
  answers with an error: a function error (an exception escaping the handler, a timeout).
  A handler's own 4xx/5xx response is a successful Invoke for API Gateway and counts in
  neither (the handlers count those themselves). This reading of the API Gateway metric
  definitions is this model's assumption: it is not checkable without AWS.
- Lambda (``FunctionName``): ``Invocations``, ``Errors`` (0 or 1), ``Duration`` (ms, what the
  handler's timers measure: real time plus simulated time spent inside it; a timed-out
  invocation counts its timeout), ``Throttles``, ``ConcurrentExecutions`` (the requests of one
  burst run at once; otherwise one at a time).
- DynamoDB (``TableName``; ``SystemErrors`` also by ``Operation``): from each call's outcome
  as the handlers' client sees it: throttling errors are ``ReadThrottleEvents`` or
  ``WriteThrottleEvents`` of each table the call names, 500s are ``SystemErrors``.

`FunctionOutput` stands between a function's metrics emitter and CloudWatch: what a function
flushes reaches CloudWatch when its invocation completes, not when it times out (Lambda
stops the process first), and not while the function's metrics pipeline is broken: its
instrumentation dropped by a deploy (nothing written), or its EMF lines no longer extracted
(written to the log group, no metrics). It also keeps the EMF lines the function would have
written to its log group (what Contributor Insights rules read).
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from infra.alarm_resources import API_GATEWAY_NAMESPACE, DYNAMODB_NAMESPACE, LAMBDA_NAMESPACE
from local_run.metric_store import InMemoryMetricStore
from shared_metrics.series import SeriesBatch
from shared_metrics.sinks.base import MetricSink, PublishResult, total_datapoints
from shared_metrics.sinks.emf import EmfSink

# DynamoDB error codes that are throttling, and the operations that read.
THROTTLING_CODES = frozenset(
    {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"}
)
READ_OPERATIONS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})


class PlatformMetrics:
    """The AWS-namespace metrics of one run, in an `InMemoryMetricStore`."""

    def __init__(self, api_id: str, stage: str) -> None:
        self.store = InMemoryMetricStore()
        self._api = {"ApiId": api_id, "Stage": stage}
        self._lock = threading.Lock()

    def _put(
        self, namespace: str, name: str, t: float, value: float, dims: Mapping[str, str]
    ) -> None:
        with self._lock:
            self.store.put(namespace, name, t, value, dims)

    # -- API Gateway -----------------------------------------------------------------------

    def api(self, t: float, metric: str, count: float = 1.0) -> None:
        self._put(API_GATEWAY_NAMESPACE, metric, t, count, self._api)

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

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = f"lambda-output({inner.name})"
        self.preferred_batch_values = inner.preferred_batch_values
        self.instrumented = True  # False: a deploy dropped the instrumentation
        self.extracted = True  # False: EMF lines are written but yield no metrics
        self._held: list[tuple[str, list[SeriesBatch], dict[str, object]]] = []
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
        self._held.append((namespace, list(batches), dict(properties)))
        return PublishResult(delivered=total_datapoints(batches))

    def completed(self) -> None:
        """The invocation returned: CloudWatch extracts its metrics (unless broken)."""
        held, self._held = self._held, []
        for namespace, batches, properties in held:
            if self.instrumented:
                self._emf.publish(namespace, batches, properties)
            if self.broken:
                self.lost_datapoints += total_datapoints(batches)
            else:
                self.inner.publish(namespace, batches, properties)

    def killed(self) -> None:
        """The invocation timed out: Lambda stopped it before its output was complete."""
        held, self._held = self._held, []
        self.lost_datapoints += sum(total_datapoints(b) for _, b, _ in held)
