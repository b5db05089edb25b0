"""The defaults websocket-service/README.md promises (its Configuration table), as literals."""

from __future__ import annotations

from websocket_service.rate_limit import RateLimitPolicy


def test_rate_limits_are_as_documented() -> None:
    # Windows of 10 s; per connection and window 20 control messages, 200 audio chunks,
    # 20 status queries; the connection closes after 10 violations within 300 s.
    policy = RateLimitPolicy.from_env({})
    assert policy.window_seconds == 10
    assert dict(policy.per_window) == {"control": 20, "status": 20, "audio": 200}
    assert policy.max_violations == 10
    assert policy.violation_window_seconds == 300
