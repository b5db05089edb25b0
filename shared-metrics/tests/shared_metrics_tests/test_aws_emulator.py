"""The in-process emulator stops, and frees its port, also when its server loop can no longer be
woken: once in a CI run its trigger's pipe was already closed when a test's emulator stopped
("OSError: [Errno 9] Bad file descriptor"), and the test failed in its teardown."""

from __future__ import annotations

import os
import socket
import urllib.parse

from shared_metrics.testing.aws_emulator import AwsEmulator


def _accepts(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=2):
            return True
    except OSError:
        return False


def test_stop_ends_the_server_and_frees_its_port() -> None:
    emulator = AwsEmulator().start()
    emulator.reset()  # it answers
    emulator.stop()
    assert not emulator._thread.is_alive()
    assert not _accepts(emulator.endpoint_url)


def test_stop_still_stops_when_the_trigger_pipe_is_already_closed() -> None:
    emulator = AwsEmulator().start()
    emulator.reset()
    os.close(emulator._server.trigger.trigger)  # the state the CI run met: nothing to wake
    emulator.stop()
    assert not emulator._thread.is_alive()
    assert not _accepts(emulator.endpoint_url)
