"""pytest fixtures both services' tests use: DynamoDB on moto's server and a Management API
stub (127.0.0.1, real HTTP) once per session, emptied per test, a fake clock, a memory sink,
and session-management services on them. A conftest takes them over by assignment
(``aws = fixtures.aws``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from session_management.metrics import SessionMetrics
from session_management.services import SessionServices
from session_management.testing.local_aws import SMALL_RATE_LIMITS, LocalAws
from shared_metrics import MetricsEmitter
from shared_metrics.sinks.memory import MemorySink
from websocket_service.testing.fake_clock import FakeClock


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        yield local


@pytest.fixture
def aws(local_aws: LocalAws) -> LocalAws:
    local_aws.reset()
    return local_aws


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@contextlib.contextmanager
def checked_emitter(namespace: str, sink: MemorySink) -> Iterator[MetricsEmitter]:
    """An emitter on ``sink``; on exit, asserts that every value recorded fit its spec."""
    emitter = MetricsEmitter(namespace, sink, flush_at_exit=False)
    yield emitter
    assert emitter.stats().rejected == {}


def session_services(aws: LocalAws, metrics: SessionMetrics, clock: FakeClock) -> SessionServices:
    """Session-management services on the local AWS, with small rate limits."""
    return SessionServices(
        store=aws.store(clock),
        rate_limiter=aws.rate_limiter(SMALL_RATE_LIMITS, clock),
        metrics=metrics,
        clock=clock,
    )
