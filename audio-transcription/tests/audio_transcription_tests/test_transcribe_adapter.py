"""The amazon-transcribe adapter, on the real SDK (and awscrt), without AWS: endpoints on
127.0.0.1 that refuse, stall or do not speak HTTP/2 must become TranscriptionErrors of the
closed set within the adapter's time bound, and SDK exceptions map to error types."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from amazon_transcribe import exceptions as sdk

from audio_transcription.metrics_spec import TRANSCRIBE_ERROR_TYPES, closed
from audio_transcription.services import transcriber_from_env
from audio_transcription.transcribe_adapter import AmazonTranscribeStreaming, error_type_of
from audio_transcription.transcriber import TranscriptionError
from shared_metrics.testing.aws_emulator import unused_loopback_url
from websocket_service.testing.management_api_stub import ManagementApiStub


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK signs requests; fake credentials keep awscrt from looking elsewhere.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.mark.parametrize(
    ("exc", "error_type"),
    [
        (sdk.BadRequestException("x"), "BadRequest"),
        (sdk.LimitExceededException("x"), "LimitExceeded"),
        (sdk.InternalFailureException("x"), "InternalFailure"),
        (sdk.ConflictException("x"), "Conflict"),
        (sdk.ServiceUnavailableException("x"), "ServiceUnavailable"),
        (sdk.SerializationException("x"), "Serialization"),
        (sdk.CredentialsException("x"), "Credentials"),
        (sdk.HTTPException("x"), "Connection"),
        (sdk.UnknownServiceException(418, "Teapot", "x"), "Other"),
        (TimeoutError(), "Timeout"),
    ],
)
def test_sdk_exceptions_map_to_error_types(exc: Exception, error_type: str) -> None:
    assert error_type_of(exc) == error_type
    assert closed(error_type, TRANSCRIBE_ERROR_TYPES) == error_type


def test_refused_connection() -> None:
    adapter = AmazonTranscribeStreaming("us-east-1", endpoint_url=unused_loopback_url())
    with pytest.raises(TranscriptionError) as raised:
        adapter.start_stream("s1")
    assert raised.value.error_type == "Connection"


def test_endpoint_without_http2() -> None:
    # An HTTP/1.1 server: the SDK insists on HTTP/2 for event streams.
    with ManagementApiStub() as http1:
        adapter = AmazonTranscribeStreaming("us-east-1", endpoint_url=http1.endpoint_url)
        with pytest.raises(TranscriptionError) as raised:
            adapter.start_stream("s1")
    assert raised.value.error_type == "Connection"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: a stalled Transcribe."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.getsockname()[1]}"  # the TLS handshake never ends
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_stalled_endpoint_times_out(silent_server: str) -> None:
    adapter = AmazonTranscribeStreaming(
        "us-east-1", endpoint_url=silent_server, timeout_seconds=0.5
    )
    # The server accepts and never answers: only the adapter's own timeout ends the wait.
    with pytest.raises(TranscriptionError) as raised:
        adapter.start_stream("s1")
    assert raised.value.error_type == "Timeout"


def test_environment_selects_the_transcriber() -> None:
    assert isinstance(transcriber_from_env({"AWS_REGION": "eu-west-1"}), AmazonTranscribeStreaming)
    adapter = transcriber_from_env({"AWS_REGION": "eu-west-1", "TRANSCRIBE_LANGUAGE_CODE": "de-DE"})
    assert isinstance(adapter, AmazonTranscribeStreaming)
    assert (adapter.region, adapter.settings.language_code) == ("eu-west-1", "de-DE")
    assert type(transcriber_from_env({"TRANSCRIBER": "in-process"})).__name__ == (
        "InProcessTranscriber"
    )
