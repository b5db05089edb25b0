"""Fixtures: DynamoDB on moto's server and a Management API stub (both on 127.0.0.1, real
HTTP), and session-management services whose metrics go to a memory sink."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from session_management.metrics import SessionMetrics
from session_management.metrics_spec import NAMESPACE
from session_management.services import SessionServices
from session_management.testing import fixtures
from session_management.testing.local_aws import LocalAws
from shared_metrics.sinks.memory import MemorySink
from shared_metrics.testing.hypothesis_profiles import register as register_hypothesis_profiles
from websocket_service.testing.fake_clock import FakeClock

local_aws = fixtures.local_aws
aws = fixtures.aws
clock = fixtures.clock
sink = fixtures.sink


@pytest.fixture
def metrics(sink: MemorySink) -> Iterator[SessionMetrics]:
    with fixtures.checked_emitter(NAMESPACE, sink) as emitter:
        yield SessionMetrics(emitter)


@pytest.fixture
def services(aws: LocalAws, metrics: SessionMetrics, clock: FakeClock) -> SessionServices:
    return fixtures.session_services(aws, metrics, clock)


# Hypothesis profiles, e.g. CI's --hypothesis-profile=loaded-machine.
register_hypothesis_profiles()
