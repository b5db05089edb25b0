"""The Synthetics entry point: a run passes by returning and fails by raising (CloudWatch user
guide, "Writing a Python canary script": ``raise Exception("Failed basicCanary check.")``);
its lines go to ``aws_synthetics.common.synthetics_logger`` inside Synthetics (a stand-in
module here, with the functions "Library functions available for Python canary scripts using
Selenium" documents) and to `logging` outside it."""

from __future__ import annotations

import importlib
import logging
import sys
import types
from collections.abc import Iterator

import pytest

from local_run.simulation.websocket_endpoint import WebSocketEndpoint
from websocket_canary import handler as canary_handler
from websocket_canary.settings import ENDPOINT_ENV, SettingError
from websocket_canary.steps import STEPS, CanaryFailure


class _SyntheticsLogger:
    """The documented calls: info(message, *args) and error(message, *args)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, message: str, *args: object) -> None:
        self.lines.append(("INFO", message % args if args else message))

    def error(self, message: str, *args: object) -> None:
        self.lines.append(("ERROR", message % args if args else message))


@pytest.fixture
def synthetics_logger() -> Iterator[_SyntheticsLogger]:
    logger = _SyntheticsLogger()
    package, common = types.ModuleType("aws_synthetics"), types.ModuleType("aws_synthetics.common")
    common.synthetics_logger = logger  # type: ignore[attr-defined]
    package.common = common  # type: ignore[attr-defined]
    sys.modules.update({"aws_synthetics": package, "aws_synthetics.common": common})
    try:
        importlib.reload(canary_handler)
        yield logger
    finally:
        del sys.modules["aws_synthetics"], sys.modules["aws_synthetics.common"]
        importlib.reload(canary_handler)


def test_inside_synthetics_a_run_logs_each_step_and_returns_the_summary(
    endpoint: WebSocketEndpoint,
    synthetics_logger: _SyntheticsLogger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENDPOINT_ENV, endpoint.url)
    summary = canary_handler.handler({}, None)
    assert summary.startswith("WebSocket API reachable: session canary-")
    infos = [line for level, line in synthetics_logger.lines if level == "INFO"]
    assert infos[0] == f"WebSocket canary: {endpoint.url} (each step within 5 s)"
    assert [line.split()[1] for line in infos[1:-1]] == list(STEPS)
    assert infos[-1] == summary


def test_inside_synthetics_a_failed_run_raises_and_logs_why(
    endpoint: WebSocketEndpoint,
    synthetics_logger: _SyntheticsLogger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENDPOINT_ENV, endpoint.url)
    endpoint.faults.break_route("sendAudio")
    try:
        with pytest.raises(CanaryFailure) as failed:
            canary_handler.handler({}, None)
    finally:
        endpoint.faults.break_route("sendAudio", broken=False)
    assert failed.value.step == "audio-answer"
    assert synthetics_logger.lines[-1] == ("ERROR", str(failed.value))


def test_outside_synthetics_it_logs_through_logging(
    endpoint: WebSocketEndpoint, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert canary_handler.synthetics_logger is None  # no aws_synthetics on this machine
    monkeypatch.setenv(ENDPOINT_ENV, endpoint.url)
    with caplog.at_level(logging.INFO, logger="websocket_canary.handler"):
        summary = canary_handler.handler({}, None)
    assert caplog.messages[-1] == summary


def test_without_an_endpoint_the_run_fails_saying_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    with pytest.raises(SettingError, match=f"{ENDPOINT_ENV} is not set"):
        canary_handler.handler({}, None)


def test_from_a_terminal_the_exit_status_says_how_it_went(
    endpoint: WebSocketEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    from websocket_canary.__main__ import main

    assert main([endpoint.url]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("WebSocket API reachable")
    endpoint.faults.refuse_connections(True)
    try:
        assert main([endpoint.url, "--step-timeout", "2"]) == 1
    finally:
        endpoint.faults.refuse_connections(False)
    assert capsys.readouterr().err.startswith("FAILED: step speaker-connect failed: speaker:")
    with pytest.raises(SystemExit) as bad:
        main(["https://example.com/prod"])
    assert bad.value.code == 2
    assert "must be a ws:// or wss:// URL" in capsys.readouterr().err
