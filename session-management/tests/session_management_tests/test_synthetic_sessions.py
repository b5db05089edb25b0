"""The canary's sessions are marked in the EMF events, every other session is not: the
drill-down rules leave out events with the mark (infra.drilldown), so a real session must
never carry it, not even in the invocation after a canary's in the same environment. The
mark is set in `ServiceMetrics.annotate`, which every service's emitter inherits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from session_management.handlers import connection
from session_management.metrics import SessionMetrics
from session_management.metrics_spec import NAMESPACE
from session_management.services import SessionServices
from session_management.session_ids import SESSION_ID_PATTERN
from session_management.testing import fixtures
from session_management.testing.local_aws import LocalAws
from shared_metrics.sinks.memory import MemorySink
from websocket_service.synthetic_traffic import (
    SYNTHETIC_PROPERTY,
    SYNTHETIC_SESSION_PREFIX,
    SYNTHETIC_VALUE,
    is_synthetic,
)
from websocket_service.testing.events import connect_event, disconnect_event, message_event

CANARY = f"{SYNTHETIC_SESSION_PREFIX}0123456789abcdef"


def test_the_canarys_prefix_is_a_valid_session_id_and_case_sensitive() -> None:
    assert SESSION_ID_PATTERN.fullmatch(CANARY)  # the handlers treat it as any client's
    assert is_synthetic(CANARY)
    for other in ("s1", "Canary-1", "my-canary-1", "canary", "canary_1"):
        assert not is_synthetic(other), other


def test_a_canary_session_is_marked_and_the_next_real_one_is_not(
    services: SessionServices, aws: LocalAws, sink: MemorySink
) -> None:
    handler = connection.build_handler(services)
    steps = [
        connect_event("c-speaker", CANARY, "speaker"),
        connect_event("r-speaker", "real-1", "speaker"),
        message_event("c-speaker", "setVolume", volume=30),
        message_event("r-speaker", "setVolume", volume=30),
        disconnect_event("c-speaker"),
        disconnect_event("r-speaker"),
    ]
    for event in steps:
        assert handler(event, None)["statusCode"] == 200
    marked = [p.get(SYNTHETIC_PROPERTY) for p in sink.properties]
    sessions = [p.get("SessionId") for p in sink.properties]
    assert sessions == [CANARY, "real-1"] * 3
    assert marked == [SYNTHETIC_VALUE, None] * 3


@given(session_id=st.from_regex(SESSION_ID_PATTERN, fullmatch=True))
def test_exactly_the_canarys_sessions_are_marked(session_id: str) -> None:
    sink = MemorySink()
    with fixtures.checked_emitter(NAMESPACE, sink) as emitter:
        metrics = SessionMetrics(emitter)
        metrics.emit_status_query_received(session_id)
        metrics.flush()
    (properties,) = sink.properties
    assert properties["SessionId"] == session_id
    expected = session_id.startswith("canary-")
    assert (properties.get(SYNTHETIC_PROPERTY) == SYNTHETIC_VALUE) is expected
    assert (SYNTHETIC_PROPERTY in properties) is expected


@pytest.mark.parametrize("session_id", [None, CANARY])
def test_without_a_session_nothing_is_marked(session_id: str | None) -> None:
    sink = MemorySink()
    with fixtures.checked_emitter(NAMESPACE, sink) as emitter:
        metrics = SessionMetrics(emitter)
        metrics.annotate(connection_id="c1")  # a connection alone says nothing of a session
        metrics.emit_status_query_received(session_id)
        metrics.flush()
    (properties,) = sink.properties
    assert (SYNTHETIC_PROPERTY in properties) is (session_id is not None)
