"""The canary's settings (refused with a message naming the setting) and its connection's
bounded waits, on a scripted connection: scheduled pushes skipped, timeouts, closes and what
each kind of connect error says."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.frames import Close
from websockets.http11 import Response

from websocket_canary import connection as connection_module
from websocket_canary.connection import CanaryConnection, _connect_error
from websocket_canary.settings import (
    ENDPOINT_ENV,
    STEP_TIMEOUT_ENV,
    CanarySettings,
    SettingError,
)
from websocket_canary.steps import STEPS, CanaryFailure

URL = "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod"


def test_settings_from_the_environment() -> None:
    settings = CanarySettings.from_env({ENDPOINT_ENV: f" {URL} ", STEP_TIMEOUT_ENV: "2.5"})
    assert (settings.url, settings.step_timeout) == (URL, 2.5)
    assert CanarySettings.from_env({ENDPOINT_ENV: URL}).step_timeout == 5.0
    assert settings.client_url("canary-1", "listener") == f"{URL}?sessionId=canary-1&role=listener"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, f"{ENDPOINT_ENV} is not set"),
        ({ENDPOINT_ENV: "https://example.com/prod"}, "must be a ws:// or wss:// URL"),
        ({ENDPOINT_ENV: "wss:///prod"}, "must be a ws:// or wss:// URL"),
        ({ENDPOINT_ENV: f"{URL}?sessionId=x"}, "no query or fragment"),
        ({ENDPOINT_ENV: URL, STEP_TIMEOUT_ENV: "soon"}, "must be a number of seconds"),
        ({ENDPOINT_ENV: URL, STEP_TIMEOUT_ENV: "0"}, r"in \(0, 6\]"),
        ({ENDPOINT_ENV: URL, STEP_TIMEOUT_ENV: "nan"}, r"in \(0, 6\]"),
        ({ENDPOINT_ENV: URL, STEP_TIMEOUT_ENV: "6.5"}, r"in \(0, 6\]"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(env: dict[str, str], says: str) -> None:
    with pytest.raises(SettingError, match=says):
        CanarySettings.from_env(env)


def test_the_step_timeouts_fit_in_the_canarys_run_timeout() -> None:
    # 7 waits at the largest step timeout and 2 closes at theirs stay under 60 s (infra.canary).
    from websocket_canary.settings import CLOSE_TIMEOUT_SECONDS, MAX_STEP_TIMEOUT_SECONDS

    waits = len(STEPS) - 1
    assert waits * MAX_STEP_TIMEOUT_SECONDS + 2 * CLOSE_TIMEOUT_SECONDS < 60


def test_a_failure_names_a_known_step() -> None:
    assert str(CanaryFailure("audio-answer", "why")) == "step audio-answer failed: why"
    with pytest.raises(ValueError, match="not a canary step"):
        CanaryFailure("lunch", "why")


class _Scripted:
    """What ``recv`` returns (or raises) next, in order."""

    def __init__(self, *script: Any) -> None:
        self.script: Iterator[Any] = iter(script)
        self.timeouts: list[float] = []

    def recv(self, timeout: float) -> Any:
        self.timeouts.append(timeout)
        item = next(self.script)
        if isinstance(item, BaseException):
            raise item
        return item


def _connection(*script: Any) -> tuple[CanaryConnection, _Scripted]:
    ws = _Scripted(*script)
    return CanaryConnection(ws, "speaker"), ws  # type: ignore[arg-type]


def test_scheduled_pushes_are_skipped_within_the_same_deadline() -> None:
    push = '{"type": "sessionStatus", "sessionId": "canary-1"}'
    connection, ws = _connection(push, push, '{"type": "controlApplied"}')
    assert connection.answer(step="control-answer", timeout=5) == {"type": "controlApplied"}
    assert connection.pushed == 2
    assert all(0 < t <= 5 for t in ws.timeouts) and len(ws.timeouts) == 3


def test_pushes_never_extend_the_steps_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each wait gets what is left of the step's timeout: with a push every 2 s and a 5 s
    step, the third wait may last 1 s, and the answer after it is too late."""
    clock = [0.0]
    monkeypatch.setattr(connection_module.time, "monotonic", lambda: clock[0])
    push = '{"type": "sessionStatus"}'

    class Slow(_Scripted):
        def recv(self, timeout: float) -> Any:
            if timeout < 2:  # the push would come after the deadline
                clock[0] += timeout
                raise TimeoutError
            clock[0] += 2
            return super().recv(timeout)

    ws = Slow(push, push, push, '{"type": "controlApplied"}')
    connection = CanaryConnection(ws, "speaker")  # type: ignore[arg-type]
    with pytest.raises(CanaryFailure, match=r"no answer within 5 s \(2 status pushes skipped\)"):
        connection.answer(step="control-answer", timeout=5)
    assert ws.timeouts == [5, 3]


class _Closing:
    """A connection whose close handshake the server answers, or not, or that fails."""

    def __init__(self, answered: bool, fails: bool = False) -> None:
        self.protocol = type("P", (), {"close_rcvd": Close(1000, "") if answered else None})()
        self.fails = fails

    def close(self) -> None:
        if self.fails:
            raise OSError("connection reset")


def test_an_unanswered_or_failed_close_is_what_the_disconnect_step_reports() -> None:
    def close(ws: _Closing) -> str | None:
        return CanaryConnection(ws, "listener").close()  # type: ignore[arg-type]

    assert close(_Closing(answered=True)) is None
    assert close(_Closing(answered=False)) == (
        "listener: the server did not answer the close handshake"
    )
    assert close(_Closing(answered=True, fails=True)) == (
        "listener: closing failed: OSError: connection reset"
    )


def test_no_answer_in_time_says_how_long_and_what_was_skipped() -> None:
    connection, _ = _connection('{"type": "sessionStatus"}', TimeoutError())
    with pytest.raises(CanaryFailure) as failed:
        connection.answer(step="audio-answer", timeout=2)
    assert failed.value.step == "audio-answer"
    assert failed.value.reason == "speaker: no answer within 2 s (1 status pushes skipped)"


def test_a_close_by_the_server_says_its_code_and_reason() -> None:
    closed = ConnectionClosedError(Close(1001, "Going away"), None)
    connection, _ = _connection(closed)
    with pytest.raises(CanaryFailure, match=r"closed the connection \(1001 'Going away'\)"):
        connection.answer(step="end-answer", timeout=2)
    connection, _ = _connection(ConnectionClosedError(None, None))
    with pytest.raises(CanaryFailure, match="lost \\(no close frame\\)"):
        connection.answer(step="end-answer", timeout=2)


def test_a_binary_frame_is_not_an_answer() -> None:
    connection, _ = _connection(b"\x01\x02\x03")
    with pytest.raises(CanaryFailure, match="binary frame of 3 bytes"):
        connection.answer(step="control-answer", timeout=2)


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (
            InvalidStatus(Response(403, "Forbidden", Headers(), b'{"message":"Forbidden"}')),
            'refused with HTTP 403 Forbidden: \'{"message":"Forbidden"}\'',
        ),
        (InvalidStatus(Response(502, "Bad Gateway", Headers(), b"")), "HTTP 502 Bad Gateway"),
        (TimeoutError(), "no upgrade within 3 s"),
        (ssl.SSLCertVerificationError("certificate has expired"), "TLS failed"),
        (socket.gaierror(-2, "Name or service not known"), "does not resolve"),
        (ConnectionRefusedError(111, "refused"), "connection was refused"),
        (OSError(101, "Network is unreachable"), "network error"),
    ],
)
def test_each_connect_error_says_what_it_is(error: BaseException, says: str) -> None:
    assert says in _connect_error(error, 3)
