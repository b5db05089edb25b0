"""The DynamoDB side of every service's production wiring, configured by the environment.

Session management and audio transcription both check sessions and rate-limit their
clients; `sessions_from_env` gives them the store and the rate limiter on one DynamoDB
client (one connection pool per Lambda environment).
"""

from __future__ import annotations

from session_management.store import SessionStore, TableNames
from websocket_service.dynamodb import dynamodb_client
from websocket_service.rate_limit import RateLimiter, RateLimitPolicy


def sessions_from_env() -> tuple[SessionStore, RateLimiter]:
    """The store and the rate limiter on one DynamoDB client configured by the env."""
    client = dynamodb_client()
    tables = TableNames.from_env()
    return (
        SessionStore(client, tables),
        RateLimiter(client, tables.rate_limits, RateLimitPolicy.from_env()),
    )
