"""Everything the services talk to, on 127.0.0.1: DynamoDB (moto's server) with the tables
created, and a Management API stub. Sets the environment the code under test reads.

    with LocalAws() as local:
        local.reset()              # empty tables, no recorded messages
        store = local.store()      # a SessionStore on the emulator
        local.api.messages("c1")   # what connection c1 received
"""

from __future__ import annotations

from typing import Any
from unittest import mock

from session_management.store import SessionStore, TableNames
from shared_metrics.testing.aws_emulator import AwsEmulator
from shared_metrics.testing.lifecycle import StartStop
from websocket_service.dynamodb import dynamodb_client
from websocket_service.rate_limit import RateLimiter, RateLimitPolicy
from websocket_service.testing.management_api_stub import ManagementApiStub

TABLES = TableNames(sessions="test-sessions", connections="test-connections", rate_limits="test-rl")

# Small limits, so abuse is reached in a few messages.
SMALL_RATE_LIMITS = RateLimitPolicy(
    window_seconds=60,
    per_window={"control": 5, "audio": 8, "status": 5},
    max_violations=3,
    violation_window_seconds=300,
)


class LocalAws(StartStop):
    def __init__(self) -> None:
        self.emulator = AwsEmulator()
        self.api = ManagementApiStub()
        self._env: Any = None
        self._client: Any = None

    def start(self) -> LocalAws:
        self.emulator.start()
        self.api.start()
        self._env = mock.patch.dict(
            "os.environ",
            {
                "AWS_ENDPOINT_URL": self.emulator.endpoint_url,
                "APIGW_MANAGEMENT_ENDPOINT": self.api.endpoint_url,
                "SESSIONS_TABLE": TABLES.sessions,
                "CONNECTIONS_TABLE": TABLES.connections,
                "RATE_LIMIT_TABLE": TABLES.rate_limits,
            },
        )
        self._env.start()
        self._client = dynamodb_client()
        # moto's backends are per process, shared by every server in it: start clean.
        self.reset()
        return self

    def stop(self) -> None:
        self.api.stop()
        self.emulator.stop()
        if self._env is not None:
            self._env.stop()
            self._env = None

    def reset(self) -> None:
        """Empty tables and a stub with no messages, over the emulator's own API."""
        self.emulator.reset()
        self.api.clear()
        self.store().create_tables()

    @property
    def dynamodb(self) -> Any:
        return self._client

    def store(self, clock: Any = None) -> SessionStore:
        if clock is None:
            return SessionStore(self._client, TABLES)
        return SessionStore(self._client, TABLES, clock)

    def rate_limiter(self, policy: RateLimitPolicy | None = None, clock: Any = None) -> RateLimiter:
        if clock is None:
            return RateLimiter(self._client, TABLES.rate_limits, policy)
        return RateLimiter(self._client, TABLES.rate_limits, policy, clock)
