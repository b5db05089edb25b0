"""Fixtures: DynamoDB on moto's server and a Management API stub (both on 127.0.0.1, real
HTTP), and session-management services whose metrics go to a memory sink."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from session_management.metrics import SessionMetrics
from session_management.metrics_spec import NAMESPACE
from session_management.services import SessionServices
from session_management.testing.fake_clock import FakeClock
from session_management.testing.local_aws import SMALL_RATE_LIMITS, LocalAws
from shared_metrics import MetricsEmitter
from shared_metrics.sinks.memory import MemorySink


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        yield local


@pytest.fixture
def aws(local_aws: LocalAws) -> LocalAws:
    local_aws.reset()
    return local_aws


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def metrics(sink: MemorySink) -> Iterator[SessionMetrics]:
    emitter = MetricsEmitter(NAMESPACE, sink, flush_at_exit=False)
    yield SessionMetrics(emitter)
    # Every value the handlers recorded was valid for its spec.
    assert emitter.stats().rejected == {}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(aws: LocalAws, metrics: SessionMetrics, clock: FakeClock) -> SessionServices:
    return SessionServices(
        store=aws.store(clock),
        rate_limiter=aws.rate_limiter(SMALL_RATE_LIMITS, clock),
        metrics=metrics,
        clock=clock,
    )
