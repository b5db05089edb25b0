"""Fixtures: the local WebSocket endpoint (local-run) in front of the three real handlers on
moto's server, the routes read from infra's synthesized stack."""

from __future__ import annotations

# Before aws_cdk: `infra` pins the Node.js jsii starts (see infra/__init__.py).
import infra  # noqa: F401

# isort: split

from collections.abc import Iterator

import pytest

from local_run.serve import endpoint_on
from local_run.simulation.backend import Backend, local_backend
from local_run.simulation.local_names import STACK_NAME
from local_run.simulation.scenario import aligned_start
from local_run.simulation.sim_clock import SimClock
from local_run.simulation.stack_alarms import synthesized_routes
from local_run.simulation.websocket_endpoint import WebSocketEndpoint
from local_run.simulation.websocket_routes import RouteTable
from shared_metrics.testing.hypothesis_profiles import register as register_hypothesis_profiles


@pytest.fixture(scope="session")
def routes() -> RouteTable:
    return synthesized_routes(STACK_NAME)


@pytest.fixture(scope="module")
def endpoint(routes: RouteTable) -> Iterator[WebSocketEndpoint]:
    with (
        local_backend(None) as url,
        endpoint_on(Backend(url), routes, SimClock(aligned_start(0))) as ep,
    ):
        yield ep


# Hypothesis profiles, e.g. CI's --hypothesis-profile=loaded-machine.
register_hypothesis_profiles()
