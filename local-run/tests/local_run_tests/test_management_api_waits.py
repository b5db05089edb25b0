"""The local run's Management API clients: how long a post takes is the simulated clock's to
say, never this machine's load.

The stand-in (`ManagementApiStub`) answers over real HTTP on 127.0.0.1 and takes a slow API's
delay on the simulated clock. Here one answer comes late in real time, later than the handlers'
own read timeout, as on a machine too busy to schedule the stand-in's thread: the post must
still be sent once, its simulated delay paid once, the listener told once.
"""

from __future__ import annotations

import threading
import time

import pytest

from local_run.simulation.local_functions import local_management_apis
from local_run.simulation.sim_clock import SimClock
from shared_metrics.testing.aws_emulator import EMULATOR_ENV
from websocket_service.management_api import ManagementApi
from websocket_service.testing.management_api_stub import ManagementApiStub

NOTIFY_STALL = 0.06  # a slow Management API: simulated seconds per request


@pytest.fixture(autouse=True)
def _emulator_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in EMULATOR_ENV.items():
        monkeypatch.setenv(key, value)


def test_a_post_answered_late_in_real_time_is_sent_once_and_its_delay_paid_once() -> None:
    clock = SimClock(start=1_700_000_000.0)
    requests: list[float] = []
    lock = threading.Lock()
    with ManagementApiStub() as stub:
        # Later than the handlers' own client waits for an answer: that client gives up and
        # sends the request again (what a busy machine did to the run's statuses).
        late = ManagementApi.for_endpoint(stub.endpoint_url).client.meta.config.read_timeout + 1

        def slow_api() -> None:
            clock.stall(NOTIFY_STALL)
            with lock:
                requests.append(clock.timer())
                first = len(requests) == 1
            if first:
                time.sleep(late)

        stub.on_request = slow_api
        api = local_management_apis()(stub.endpoint_url)
        api.post("listener-1", {"type": "broadcastState"})

        assert len(requests) == 1
        assert clock.timer() == NOTIFY_STALL
        assert stub.messages("listener-1") == [{"type": "broadcastState"}]


def test_the_local_clients_keep_the_handlers_retries() -> None:
    """Throttling is still retried as the handlers retry it: only the real waits differ."""
    with ManagementApiStub() as stub:
        handlers = ManagementApi.for_endpoint(stub.endpoint_url).client.meta.config.retries
        local = local_management_apis()(stub.endpoint_url).client.meta.config.retries
    assert local == handlers
