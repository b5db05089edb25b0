"""DynamoDB calls as every service makes them: a fail-fast client, errors translated.

The boto3 client honours ``AWS_ENDPOINT_URL`` (boto3 >= 1.28), so the same code talks to
DynamoDB or to a local emulator by configuration. `call_dynamodb` turns a failed call into
`StoreError` with the operation and error code (which the handlers count as DynamoDBErrors
and answer with a 503), and a failed condition into `ConditionFailed`, which callers turn
into a domain outcome ("the session already exists"), never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The TTL attribute of every table (epoch seconds): items expire on their own.
TTL_ATTRIBUTE = "expiresAt"

# A client that fails fast: a Lambda has seconds, not minutes. botocore retries throttling
# and transient errors itself (standard mode) before a call counts as failed.
_CONNECT_TIMEOUT_SECONDS = 2
_READ_TIMEOUT_SECONDS = 3
_MAX_ATTEMPTS = 3


class StoreError(Exception):
    """A DynamoDB call failed (after botocore's retries)."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"DynamoDB {operation} failed ({code}): {message}")
        self.operation = operation
        self.code = code


class ConditionFailed(Exception):
    """A condition expression was false: the caller turns it into a domain outcome."""


def dynamodb_client() -> Any:
    """A DynamoDB client configured by the environment (region, AWS_ENDPOINT_URL)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "dynamodb",
        config=Config(
            connect_timeout=_CONNECT_TIMEOUT_SECONDS,
            read_timeout=_READ_TIMEOUT_SECONDS,
            retries={"mode": "standard", "max_attempts": _MAX_ATTEMPTS},
        ),
    )


def call_dynamodb(operation: str, call: Callable[..., Any], **kwargs: Any) -> Any:
    """Make one DynamoDB call; failures become `StoreError` (or `ConditionFailed`)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed(operation) from exc
        if code == "TransactionCanceledException" and _only_conditions_failed(exc.response):
            raise ConditionFailed(operation) from exc
        raise StoreError(operation, code, str(error.get("Message", exc))) from exc
    except BotoCoreError as exc:  # no response at all: timeouts, connection refused
        raise StoreError(operation, type(exc).__name__, str(exc)) from exc


def _only_conditions_failed(response: Mapping[str, Any]) -> bool:
    reasons = response.get("CancellationReasons") or []
    codes = {r.get("Code") for r in reasons if isinstance(r, dict)} - {"None", None}
    if codes:
        return codes == {"ConditionalCheckFailed"}
    # Some implementations only say so in the message.
    return "ConditionalCheckFailed" in str(response.get("Error", {}).get("Message", ""))
