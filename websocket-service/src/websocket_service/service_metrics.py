"""`ServiceMetrics`: what every WebSocket service's metrics emitter shares.

Each service extends it with its domain methods, its `NAMESPACE` and its `HANDLERS` (the
Handler values of LambdaErrors and HandlerInvocations, from its spec module). It wraps a
`shared_metrics.MetricsEmitter`, so nothing here raises into a handler: a rejected value is
counted and logged by the emitter, never thrown.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared_metrics import MetricsEmitter, MetricSpec, Timer, emitter_from_env
from websocket_service.specs import (
    CONNECTIONS_CLOSED_FOR_RATE_LIMIT,
    DYNAMODB_ERROR_CODES,
    DYNAMODB_ERRORS,
    DYNAMODB_OPERATIONS,
    ERROR_RESPONSES,
    HANDLER_INVOCATIONS,
    LAMBDA_ERROR_TYPES,
    LAMBDA_ERRORS,
    MESSAGE_TYPES,
    RATE_LIMIT_VIOLATIONS,
    closed,
)
from websocket_service.synthetic_traffic import (
    SYNTHETIC_PROPERTY,
    SYNTHETIC_VALUE,
    is_synthetic,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextlib import AbstractContextManager

# EMF log properties (searchable in Logs Insights, never metrics).
SESSION_ID_PROPERTY = "SessionId"
CONNECTION_ID_PROPERTY = "ConnectionId"


class ServiceMetrics:
    """Domain-named metrics for one service namespace; the base of each service's emitter.

    Without an emitter, one is configured from the environment (`METRICS_SINK`, default EMF
    to stdout) for the subclass's `NAMESPACE`; tests pass an emitter on a `MemorySink`.
    """

    NAMESPACE: str
    # The service's Lambda handlers (and Other): any other name is recorded as Other.
    HANDLERS: tuple[str, ...]

    def __init__(self, emitter: MetricsEmitter | None = None) -> None:
        self.emitter = emitter if emitter is not None else emitter_from_env(self.NAMESPACE)

    # -- per invocation ----------------------------------------------------------------------

    def invocation(self, context: object = None) -> AbstractContextManager[MetricsEmitter]:
        """``with metrics.invocation(context):`` flushes when the block ends, however it
        ends, and shortly before the Lambda context's deadline (a timeout keeps its metrics)."""
        return self.emitter.invocation(context)

    def flush(self) -> None:
        self.emitter.flush()

    def annotate(self, *, session_id: str | None = None, connection_id: str | None = None) -> None:
        """Attach the session/connection to this invocation's EMF events as log properties.

        Never a dimension: one custom metric per session would cost per session (and a client
        could mint them at will); a property is free and still searchable.
        """
        if session_id is not None:
            self.emitter.set_property(SESSION_ID_PROPERTY, session_id)
            # The canary's sessions are marked so the drill-down rules can leave them out;
            # other sessions get no property (no bytes on every EMF line). A request concerns
            # one session, so a mark never carries over to another session's events (and the
            # emitter drops every property at each flush, so not into the next invocation).
            if is_synthetic(session_id):
                self.emitter.set_property(SYNTHETIC_PROPERTY, SYNTHETIC_VALUE)
        if connection_id is not None:
            self.emitter.set_property(CONNECTION_ID_PROPERTY, connection_id)

    # -- errors and rate limits (every service) --------------------------------------------

    def emit_rate_limit_violation(self, message_type: str) -> None:
        self._count(RATE_LIMIT_VIOLATIONS, {"MessageType": closed(message_type, MESSAGE_TYPES)})

    def emit_connection_closed_for_rate_limit(self) -> None:
        self._count(CONNECTIONS_CLOSED_FOR_RATE_LIMIT)

    def emit_invocation(self, handler: str) -> None:
        """One invocation of ``handler``, counted whatever its outcome (the heartbeat)."""
        self._count(HANDLER_INVOCATIONS, {"Handler": closed(handler, self.HANDLERS)})

    def emit_error_response(self, handler: str) -> None:
        """A 4XX/5XX answer of ``handler`` to an API Gateway request."""
        self._count(ERROR_RESPONSES, {"Handler": closed(handler, self.HANDLERS)})

    def emit_lambda_error(self, handler: str, error_type: str) -> None:
        self._count(
            LAMBDA_ERRORS,
            {
                "Handler": closed(handler, self.HANDLERS),
                "ErrorType": closed(error_type, LAMBDA_ERROR_TYPES),
            },
        )

    def emit_dynamodb_error(self, operation: str, code: str) -> None:
        self._count(
            DYNAMODB_ERRORS,
            {
                "Operation": closed(operation, DYNAMODB_OPERATIONS),
                "ErrorCode": closed(code, DYNAMODB_ERROR_CODES),
            },
        )

    # -- helpers for subclasses --------------------------------------------------------------

    # Through the emitter's cache of bound series (its fast path): each (spec, dimensions)
    # is validated once; the dimension values come from closed sets, so it stays small.

    def _count(
        self, spec: MetricSpec, dimensions: Mapping[str, str] | None = None, amount: int = 1
    ) -> None:
        self.emitter.record(spec, amount, dimensions)

    def _record(
        self, spec: MetricSpec, value: float, dimensions: Mapping[str, str] | None = None
    ) -> None:
        self.emitter.record(spec, value, dimensions)

    def _timer(self, spec: MetricSpec, dimensions: Mapping[str, str] | None = None) -> Timer:
        return self.emitter.timer(spec, dimensions)
