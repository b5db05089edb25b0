"""Metrics every WebSocket service publishes, declared once and shared by their spec modules.

A `MetricSpec` carries no namespace (the emitter does), so each service publishes these same
specs under its own namespace. The closed sets below are the only values their dimensions can
take: `closed` maps anything else to ``Other``, so a client cannot create new metrics (each
dimension value is a billed custom metric). The Handler values are each service's own: its
spec module declares them (`HANDLERS`), its `ServiceMetrics` subclass records with them.
"""

from __future__ import annotations

from shared_metrics import MetricSpec, Unit
from websocket_service.message_types import AUDIO, CONTROL, STATUS

OTHER = "Other"


def closed(value: object, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``, else ``"Other"``: a dimension from a closed set."""
    return value if isinstance(value, str) and value in allowed else OTHER


# -- closed sets ----------------------------------------------------------------------------

# Kinds of client message a per-connection rate limit applies to.
MESSAGE_TYPES = (CONTROL, AUDIO, STATUS, OTHER)

# Exception class names worth telling apart in LambdaErrors; any other class is "Other".
LAMBDA_ERROR_TYPES = (
    "AttributeError",
    "ClientError",
    "ConnectTimeoutError",
    "EndpointConnectionError",
    "KeyError",
    "MemoryError",
    "ParamValidationError",
    "ReadTimeoutError",
    "RuntimeError",
    "TimeoutError",
    "TypeError",
    "ValueError",
    OTHER,
)

# The DynamoDB operations the services call.
DYNAMODB_OPERATIONS = (
    "DeleteItem",
    "GetItem",
    "PutItem",
    "Query",
    "Scan",
    "TransactWriteItems",
    "UpdateItem",
    OTHER,
)

# DynamoDB error codes (and botocore's transport errors, which have no code) worth alarming
# on separately. Conditional-check failures are not errors here: the store turns them into
# domain outcomes ("session already exists").
DYNAMODB_ERROR_CODES = (
    "AccessDeniedException",
    "ConnectTimeoutError",
    "EndpointConnectionError",
    "InternalServerError",
    "ItemCollectionSizeLimitExceededException",
    "ProvisionedThroughputExceededException",
    "ReadTimeoutError",
    "RequestLimitExceeded",
    "ResourceNotFoundException",
    "ServiceUnavailable",
    "ThrottlingException",
    "TransactionCanceledException",
    "TransactionConflictException",
    "ValidationException",
    OTHER,
)

# -- specs ------------------------------------------------------------------------------------

RATE_LIMIT_VIOLATIONS = MetricSpec(
    "RateLimitViolations",
    Unit.COUNT,
    [[], ["MessageType"]],
    "Client messages refused because their connection exceeded its per-window limit.",
)
CONNECTIONS_CLOSED_FOR_RATE_LIMIT = MetricSpec(
    "ConnectionsClosedForRateLimit",
    Unit.COUNT,
    [[]],
    "Connections the service closed after repeated rate-limit violations.",
)
LAMBDA_ERRORS = MetricSpec(
    "LambdaErrors",
    Unit.COUNT,
    # [Handler]: what each function's error-rate alarm adds to AWS/Lambda Errors (an alarm
    # reads one exact dimension set, and SEARCH is not allowed in alarms).
    [[], ["Handler"], ["Handler", "ErrorType"]],
    "Unhandled exceptions, answered with a 500 (ErrorType: the exception class).",
)
HANDLER_INVOCATIONS = MetricSpec(
    "HandlerInvocations",
    Unit.COUNT,
    [[], ["Handler"]],
    "Invocations the handler guard saw, whatever their outcome: the heartbeat of each "
    "function's metrics pipeline (compared with AWS/Lambda Invocations).",
)
ERROR_RESPONSES = MetricSpec(
    "ErrorResponses",
    Unit.COUNT,
    # [Handler]: the stage's alarm subtracts each handler's count from what API Gateway counts
    # as IntegrationError or ClientError (it documents the integration's 4XX/5XX there).
    [[], ["Handler"]],
    "Responses with a 4XX/5XX status a handler returned to API Gateway (WebSocket requests "
    "only): API Gateway's error counts less these are the requests that failed in API "
    "Gateway or Lambda, not by a handler's own answer.",
)
DYNAMODB_ERRORS = MetricSpec(
    "DynamoDBErrors",
    Unit.COUNT,
    [[], ["Operation", "ErrorCode"]],
    "Failed DynamoDB calls (after botocore's retries), by operation and error code.",
)

COMMON_SPECS = (
    RATE_LIMIT_VIOLATIONS,
    CONNECTIONS_CLOSED_FOR_RATE_LIMIT,
    LAMBDA_ERRORS,
    HANDLER_INVOCATIONS,
    ERROR_RESPONSES,
    DYNAMODB_ERRORS,
)
# Of the common specs, those the alarms watch (each service's ALARMED adds its own).
COMMON_ALARMED = (RATE_LIMIT_VIOLATIONS, CONNECTIONS_CLOSED_FOR_RATE_LIMIT, DYNAMODB_ERRORS)
