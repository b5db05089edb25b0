"""The DynamoDB store and the shared rate limiter, against moto's server over HTTP."""

from __future__ import annotations

import pytest

from session_management.session_model import JoinOutcome, Role, SessionState
from session_management.store import TableNames
from session_management.testing.local_aws import TABLES, LocalAws
from websocket_service.dynamodb import StoreError, dynamodb_client
from websocket_service.rate_limit import RateLimiter, RateLimitPolicy
from websocket_service.testing.fake_clock import FakeClock


def test_session_lifecycle(aws: LocalAws, clock: FakeClock) -> None:
    store = aws.store(clock)
    assert store.create_session("s1", "speaker-1")
    assert not store.create_session("s1", "speaker-2")  # ids are not reused

    session = store.get_session("s1")
    assert session is not None
    assert (session.state, session.muted, session.volume) == (SessionState.ACTIVE, False, 100)
    assert session.speaker_connection_id == "speaker-1"
    assert session.created_at == clock.now
    speaker = store.get_connection("speaker-1")
    assert speaker is not None and speaker.role is Role.SPEAKER and speaker.session_id == "s1"

    assert store.join_session("s1", "listener-1") is JoinOutcome.JOINED
    assert store.join_session("s1", "listener-2") is JoinOutcome.JOINED
    assert store.join_session("nope", "listener-3") is JoinOutcome.SESSION_NOT_FOUND
    assert store.get_connection("listener-3") is None
    assert sorted(store.listener_connection_ids("s1")) == ["listener-1", "listener-2"]
    assert store.count_listeners("s1") == 2

    updated = store.update_session("s1", state=SessionState.PAUSED, muted=True, volume=7)
    assert updated is not None
    assert (updated.state, updated.muted, updated.volume) == (SessionState.PAUSED, True, 7)

    clock.advance(90)
    ended = store.end_session("s1")
    assert ended is not None and ended.ended and ended.ended_at == clock.now
    assert store.end_session("s1") is None  # already ended
    assert store.update_session("s1", muted=False) is None
    assert store.update_session("missing", muted=False) is None
    assert store.join_session("s1", "listener-4") is JoinOutcome.SESSION_ENDED

    removed = store.remove_connection("listener-1")
    assert removed is not None and removed.role is Role.LISTENER
    assert store.remove_connection("listener-1") is None
    assert store.listener_connection_ids("s1") == ["listener-2"]


def test_live_sessions_skip_ended_ones(aws: LocalAws) -> None:
    store = aws.store()
    for i in range(5):
        store.create_session(f"s{i}", f"c{i}")
    store.end_session("s3")
    assert sorted(s.session_id for s in store.live_sessions()) == ["s0", "s1", "s2", "s4"]


def test_items_carry_a_ttl(aws: LocalAws, clock: FakeClock) -> None:
    store = aws.store(clock)
    store.create_session("s1", "c1")
    item = aws.dynamodb.get_item(TableName=TABLES.connections, Key={"connectionId": {"S": "c1"}})
    assert int(item["Item"]["expiresAt"]["N"]) > clock.now


def test_failures_carry_operation_and_code(aws: LocalAws) -> None:
    store = aws.store()
    aws.dynamodb.delete_table(TableName=TABLES.sessions)
    with pytest.raises(StoreError) as raised:
        store.get_session("s1")
    assert (raised.value.operation, raised.value.code) == ("GetItem", "ResourceNotFoundException")


def test_unreachable_dynamodb_is_a_store_error(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared_metrics.testing.aws_emulator import unused_loopback_url

    monkeypatch.setenv("AWS_ENDPOINT_URL", unused_loopback_url())
    from session_management.store import SessionStore

    store = SessionStore(dynamodb_client(), TABLES)
    with pytest.raises(StoreError) as raised:
        store.get_session("s1")
    assert raised.value.code == "EndpointConnectionError"


def test_table_names_from_env() -> None:
    names = TableNames.from_env({"SESSIONS_TABLE": "a", "CONNECTIONS_TABLE": "b"})
    assert names == TableNames(sessions="a", connections="b", rate_limits="ws-rate-limits")


# -- rate limiter ---------------------------------------------------------------------------

POLICY = RateLimitPolicy(
    window_seconds=10,
    per_window={"control": 3, "audio": 5, "status": 3},
    max_violations=2,
    violation_window_seconds=60,
)


def test_fixed_window_counts_per_connection_and_type(aws: LocalAws, clock: FakeClock) -> None:
    limiter = aws.rate_limiter(POLICY, clock)
    decisions = [limiter.check("c1", "control") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].count == 4 and decisions[-1].violations == 1
    assert not decisions[-1].close_connection
    # Other connections and other message types have their own counters.
    assert limiter.check("c2", "control").allowed
    assert limiter.check("c1", "audio").allowed
    # The second violation reaches max_violations: close.
    assert limiter.check("c1", "control").close_connection
    # A new window starts from zero.
    clock.advance(POLICY.window_seconds)
    fresh = limiter.check("c1", "control")
    assert fresh.allowed and fresh.count == 1


def test_counters_are_shared_between_instances(aws: LocalAws, clock: FakeClock) -> None:
    # Two Lambda environments: separate clients, one table.
    first = RateLimiter(dynamodb_client(), TABLES.rate_limits, POLICY, clock)
    second = RateLimiter(dynamodb_client(), TABLES.rate_limits, POLICY, clock)
    assert first.check("c1", "status").count == 1
    assert second.check("c1", "status").count == 2
    assert first.check("c1", "status").count == 3
    assert not second.check("c1", "status").allowed


def test_counter_items_expire_after_their_window(aws: LocalAws, clock: FakeClock) -> None:
    limiter = aws.rate_limiter(POLICY, clock)
    limiter.check("c1", "control")
    items = aws.dynamodb.scan(TableName=TABLES.rate_limits)["Items"]
    assert len(items) == 1
    expires = int(items[0]["expiresAt"]["N"])
    assert clock.now < expires <= clock.now + 3 * POLICY.window_seconds


def test_policy_from_env_ignores_bad_values() -> None:
    policy = RateLimitPolicy.from_env(
        {"RATE_LIMIT_CONTROL_PER_WINDOW": "7", "RATE_LIMIT_WINDOW_SECONDS": "-1"}
    )
    assert policy.limit("control") == 7
    assert policy.window_seconds == RateLimitPolicy().window_seconds
