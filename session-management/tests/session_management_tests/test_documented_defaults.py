"""The defaults session-management/README.md and audio-transcription/README.md promise
(their Configuration tables), as literals."""

from __future__ import annotations

from session_management.store import TableNames
from websocket_service.rate_limit import RateLimitPolicy


def test_rate_limits_are_as_documented() -> None:
    # "20 control / 20 status per 10 s, close after 10 violations in 5 min"; audio's README:
    # "200 per 10 s".
    policy = RateLimitPolicy.from_env({})
    assert policy.window_seconds == 10
    assert dict(policy.per_window) == {"control": 20, "status": 20, "audio": 200}
    assert policy.max_violations == 10
    assert policy.violation_window_seconds == 300


def test_table_names_are_as_documented() -> None:
    assert TableNames.from_env({}) == TableNames("ws-sessions", "ws-connections", "ws-rate-limits")
