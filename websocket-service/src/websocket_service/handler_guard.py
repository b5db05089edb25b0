"""The skeleton and the guard of every Lambda handler of a WebSocket service.

`websocket_handler` is the skeleton: the API Gateway event parsed, its connection id on every
metric line of the invocation, the request answered by the service's ``route`` (an EventBridge
schedule by ``on_schedule`` instead, for a handler that has one), all inside the guard, and
built on the first invocation (`LazyHandler`).

Whatever the handler body does, the invocation ends with a response and a metrics flush:

| raised            | response                 | metric                                |
|-------------------|--------------------------|---------------------------------------|
| RequestError      | its 4xx                  | (the body counted what it refused)    |
| StoreError        | 503 StorageUnavailable   | DynamoDBErrors(Operation, ErrorCode)  |
| any other         | 500 InternalError        | LambdaErrors(Handler, ErrorType)      |

Every invocation also counts HandlerInvocations(Handler): the metrics pipeline's heartbeat
(an alarm compares it with AWS/Lambda Invocations). Every 4XX/5XX answer to an API Gateway
request (an event with a ``requestContext``) counts ErrorResponses(Handler): API Gateway
counts those answers as IntegrationError (or ClientError), and the stage's alarm subtracts
them to see what failed in API Gateway or Lambda.

Unexpected exceptions are logged as one JSON line with the traceback; the client only sees
a generic message (internals do not leak into responses).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Mapping

from websocket_service.dynamodb import StoreError
from websocket_service.events import RequestError, WebSocketRequest, error_response, parse_event
from websocket_service.service_metrics import ServiceMetrics
from websocket_service.structured_logging import log_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    LambdaHandler = Callable[[Any, Any], dict[str, Any]]
else:  # importable at run time too (annotations name it); the precise alias is for mypy
    LambdaHandler = Callable


def websocket_handler(
    name: str,
    metrics: ServiceMetrics,
    route: Callable[[WebSocketRequest], dict[str, Any]],
    on_schedule: Callable[[], dict[str, Any]] | None = None,
) -> LambdaHandler:
    """A guarded handler answering WebSocket requests with ``route`` (and, when given, an
    EventBridge schedule with ``on_schedule``)."""

    def body(event: Any, context: Any) -> dict[str, Any]:
        if on_schedule is not None and is_scheduled_event(event):
            return on_schedule()
        request = parse_event(event)
        metrics.annotate(connection_id=request.connection_id)
        return route(request)

    return guarded_handler(name, metrics, body)


def is_scheduled_event(event: object) -> bool:
    """An EventBridge schedule (rule or scheduler) rather than a WebSocket message."""
    return (
        isinstance(event, Mapping)
        and "requestContext" not in event
        and (event.get("detail-type") == "Scheduled Event" or event.get("source") == "aws.events")
    )


def guarded_handler(name: str, metrics: ServiceMetrics, body: LambdaHandler) -> LambdaHandler:
    """Wrap ``body`` so no exception escapes and metrics are flushed before every return."""

    def handler(event: Any, context: Any) -> dict[str, Any]:
        try:
            # Flushes when the block ends, however it ends, and before the context's deadline.
            with metrics.invocation(context):
                metrics.emit_invocation(name)
                response = _answer(name, metrics, body, event, context)
                if _is_error(response) and _through_api_gateway(event):
                    metrics.emit_error_response(name)
                return response
        except Exception as exc:  # only a failure of the guard itself (logging, flushing)
            log_unhandled(name, exc, event, context)
            return internal_error()

    handler.__name__ = handler.__qualname__ = f"{name}_handler"
    return handler


def _answer(
    name: str, metrics: ServiceMetrics, body: LambdaHandler, event: Any, context: Any
) -> dict[str, Any]:
    try:
        return body(event, context)
    except RequestError as exc:
        return exc.response()
    except StoreError as exc:
        metrics.emit_dynamodb_error(exc.operation, exc.code)
        log_json(
            logging.ERROR,
            "DynamoDBError",
            handler=name,
            operation=exc.operation,
            code=exc.code,
            error=str(exc),
            **_request_fields(event, context),
        )
        return error_response(
            503, "StorageUnavailable", "the session store is unavailable; retry later"
        )
    except Exception as exc:
        metrics.emit_lambda_error(name, type(exc).__name__)
        log_unhandled(name, exc, event, context)
        return internal_error()


def _is_error(response: Any) -> bool:
    status = response.get("statusCode") if isinstance(response, dict) else None
    return isinstance(status, int) and status >= 400


def _through_api_gateway(event: Any) -> bool:
    return isinstance(event, dict) and isinstance(event.get("requestContext"), dict)


class LazyHandler:
    """A module-level Lambda entry point that builds its handler on the first invocation.

    Building (boto3 clients, configuration) happens once per Lambda environment and is
    reused by warm invocations; tests build handlers with their own dependencies instead.
    If building fails, the invocation still gets a clean 500 and the next one retries.
    """

    def __init__(self, name: str, build: Callable[[], LambdaHandler]) -> None:
        self.name = name
        self._build = build
        self._handler: LambdaHandler | None = None
        self._lock = threading.Lock()

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        handler = self._handler
        if handler is None:
            try:
                with self._lock:
                    if self._handler is None:
                        self._handler = self._build()
                    handler = self._handler
            except Exception as exc:
                log_unhandled(self.name, exc, event, context, stage="init")
                return internal_error()
        return handler(event, context)

    def reset(self) -> None:
        """Forget the built handler: the next invocation reads the environment again."""
        with self._lock:
            self._handler = None


def internal_error() -> dict[str, Any]:
    return error_response(500, "InternalError", "internal error; the failure has been logged")


def log_unhandled(
    name: str, exc: BaseException, event: Any, context: Any, stage: str = "invoke"
) -> None:
    try:
        log_json(
            logging.ERROR,
            "UnhandledException",
            handler=name,
            stage=stage,
            errorType=type(exc).__name__,
            error=str(exc),
            traceback="".join(traceback.format_exception(exc)),
            **_request_fields(event, context),
        )
    except Exception:  # noqa: S110 - logging must not turn a 500 into a crash
        pass


def _request_fields(event: Any, context: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    request_id = getattr(context, "aws_request_id", None)
    if isinstance(request_id, str):
        fields["requestId"] = request_id
    request_context = event.get("requestContext") if isinstance(event, dict) else None
    if isinstance(request_context, dict):
        for key in ("routeKey", "connectionId"):
            value = request_context.get(key)
            if isinstance(value, str):
                fields[key] = value[:128]
    return fields
