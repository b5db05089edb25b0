"""The audio handler end to end, beside the session handlers as in the deployed API:
DynamoDB on moto's server, the Management API stub, an in-process transcriber."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from audio_transcription.handlers import audio_processor
from audio_transcription.services import AudioServices
from audio_transcription.testing.pcm import send_audio_body, tone
from audio_transcription.transcriber import InProcessTranscriber
from session_management.handlers import connection, session_status
from session_management.services import SessionServices
from session_management.testing.local_aws import SMALL_RATE_LIMITS, TABLES, LocalAws
from shared_metrics.sinks.memory import MemorySink
from shared_metrics.testing.emf_reader import read_datapoints
from websocket_service.handler_guard import LambdaHandler
from websocket_service.testing.events import (
    connect_event,
    message_event,
    response_body,
    websocket_event,
)
from websocket_service.testing.fake_clock import FakeClock
from websocket_service.testing.metric_snapshot import counted, sample_counts

CHUNK = tone(1600)  # 100 ms of audio
LISTENERS = ["listener-1", "listener-2"]
NS = "AudioTranscription/WebSocket"


@pytest.fixture
def audio(services: AudioServices) -> LambdaHandler:
    return audio_processor.build_handler(services)


@pytest.fixture
def control(session_services: SessionServices) -> LambdaHandler:
    return connection.build_handler(session_services)


@pytest.fixture
def session(control: LambdaHandler, sink: MemorySink, session_sink: MemorySink) -> str:
    assert control(connect_event("speaker-1", "s1", "speaker"), None)["statusCode"] == 200
    for listener in LISTENERS:
        assert control(connect_event(listener, "s1", "listener"), None)["statusCode"] == 200
    sink.clear()
    session_sink.clear()
    return "s1"


def send(audio: LambdaHandler, connection_id: str, body: object) -> dict[str, Any]:
    return audio(websocket_event("sendAudio", connection_id, body), None)


def accepted_chunk(size: int = len(CHUNK)) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        ("AudioChunksReceived", ()): 1,
        ("AudioChunkSize", ()): size,
    }


def dropped(reason: str, size: int | None = None) -> dict[Any, float]:
    expected: dict[Any, float] = {
        ("AudioChunksReceived", ()): 1,
        ("AudioChunksDropped", ()): 1,
        ("AudioChunksDropped", (("Reason", reason),)): 1,
    }
    if size is not None:
        expected[("AudioChunkSize", ())] = size
    return expected


# -- the happy path -------------------------------------------------------------------------


def test_first_chunk_opens_the_stream(
    audio: LambdaHandler,
    session: str,
    transcriber: InProcessTranscriber,
    sink: MemorySink,
) -> None:
    response = send(audio, "speaker-1", send_audio_body(session, CHUNK))
    assert response["statusCode"] == 200
    assert response_body(response) == {
        "type": "audioAccepted",
        "sessionId": "s1",
        "bytes": len(CHUNK),
        "forwarded": 1,
        "pending": 0,
    }
    assert transcriber.audio(session) == CHUNK
    assert counted(sink) == {**accepted_chunk(), ("TranscribeStreamAttempts", ()): 1}
    assert sample_counts(sink) == {
        ("AudioProcessingLatency", ()): 1,
        ("TranscribeStreamInitLatency", ()): 1,
    }
    assert sink.properties == [{"ConnectionId": "speaker-1", "SessionId": "s1"}]


def test_a_whole_session(
    audio: LambdaHandler,
    control: LambdaHandler,
    services: AudioServices,
    session_services: SessionServices,
    session: str,
    aws: LocalAws,
    transcriber: InProcessTranscriber,
    sink: MemorySink,
    session_sink: MemorySink,
    clock: FakeClock,
) -> None:
    status = session_status.build_handler(session_services)
    streamed = [tone(1600, frequency_hz=200 + 50 * i) for i in range(5)]
    for chunk in streamed[:3]:
        assert send(audio, "speaker-1", send_audio_body(session, chunk))["statusCode"] == 200

    # The speaker pauses: listeners hear of it, audio is refused until resumed.
    assert control(message_event("speaker-1", "pauseBroadcast"), None)["statusCode"] == 200
    paused = send(audio, "speaker-1", send_audio_body(session, CHUNK))
    assert (paused["statusCode"], response_body(paused)["error"]) == (409, "SessionPaused")
    assert control(message_event("speaker-1", "resumeBroadcast"), None)["statusCode"] == 200
    for chunk in streamed[3:]:
        assert send(audio, "speaker-1", send_audio_body(session, chunk))["statusCode"] == 200

    # A listener asks for the status.
    clock.advance(42)
    body = response_body(status(message_event("listener-2", "getSessionStatus"), None))
    assert (body["state"], body["listenerCount"], body["durationSeconds"]) == ("ACTIVE", 2, 42)

    # The speaker ends the session: later audio is refused, and the stream is closed.
    assert control(message_event("speaker-1", "endSession"), None)["statusCode"] == 200
    ended = send(audio, "speaker-1", send_audio_body(session, CHUNK))
    assert (ended["statusCode"], response_body(ended)["error"]) == (409, "SessionEnded")
    assert services.processor.open_streams() == 0

    assert transcriber.audio(session) == b"".join(streamed)
    for listener in LISTENERS:
        assert [m.get("action", m["type"]) for m in aws.api.messages(listener)] == [
            "pauseBroadcast",
            "resumeBroadcast",
            "sessionEnded",
        ]
    audio_totals = counted(sink)
    assert audio_totals[("AudioChunksReceived", ())] == 7
    assert audio_totals[("AudioChunkSize", ())] == sum(map(len, streamed)) + 2 * len(CHUNK)
    assert audio_totals[("AudioChunksDropped", (("Reason", "SessionPaused"),))] == 1
    assert audio_totals[("AudioChunksDropped", (("Reason", "SessionEnded"),))] == 1
    assert audio_totals[("TranscribeStreamAttempts", ())] == 1
    assert sample_counts(sink)[("AudioProcessingLatency", ())] == 7
    session_totals = counted(session_sink)
    assert session_totals[("ControlMessagesReceived", ())] == 3
    assert session_totals[("ListenersNotified", ())] == 6
    assert session_totals[("StatusQueriesReceived", ())] == 1


# -- bad input --------------------------------------------------------------------------------

B64_CHUNK = base64.b64encode(CHUNK).decode()


@pytest.mark.parametrize(
    ("body", "status", "code", "reason", "size"),
    [
        ("{oops", 400, "InvalidJson", "InvalidPayload", None),
        ("[]", 400, "InvalidPayload", "InvalidPayload", None),
        ({"action": "sendAudio", "audio": B64_CHUNK}, 400, "InvalidField", "InvalidPayload", None),
        ({"action": "sendAudio", "sessionId": "s1"}, 400, "MissingField", "InvalidPayload", None),
        (
            {"action": "sendAudio", "sessionId": "s1", "audio": {"pcm": 1}},
            400,
            "InvalidField",
            "InvalidPayload",
            None,
        ),
        (
            {"action": "stopAudio", "sessionId": "s1", "audio": B64_CHUNK},
            400,
            "UnknownAction",
            "InvalidPayload",
            None,
        ),
        (send_audio_body("s1", "%%%notbase64"), 400, "AudioNotDecodable", "NotDecodable", None),
        (send_audio_body("s1", b"\x01\x02\x03"), 400, "AudioMisaligned", "Misaligned", 3),
        (send_audio_body("s1", b"\x01"), 400, "AudioTooSmall", "TooSmall", 1),
        (send_audio_body("s1", bytes(40000)), 413, "AudioTooLarge", "TooLarge", None),
        (
            send_audio_body("s1", b"RIFF\x24\x08\x00\x00WAVEfmt " + CHUNK),
            415,
            "AudioNotPcm",
            "NotPcm",
            16 + len(CHUNK),
        ),
        (send_audio_body("nope", CHUNK), 404, "SessionNotFound", "SessionNotFound", len(CHUNK)),
    ],
)
def test_bad_audio_is_refused_and_counted(
    audio: LambdaHandler,
    session: str,
    transcriber: InProcessTranscriber,
    sink: MemorySink,
    body: object,
    status: int,
    code: str,
    reason: str,
    size: int | None,
) -> None:
    response = send(audio, "speaker-1", body)
    assert response["statusCode"] == status
    assert response_body(response)["error"] == code
    assert response_body(response)["message"]
    assert counted(sink) == dropped(reason, size)
    assert transcriber.streams_started == 0


def test_listeners_cannot_send_audio(
    audio: LambdaHandler, session: str, transcriber: InProcessTranscriber, sink: MemorySink
) -> None:
    response = send(audio, "listener-1", send_audio_body(session, CHUNK))
    assert (response["statusCode"], response_body(response)["error"]) == (403, "NotSpeaker")
    assert counted(sink) == dropped("NotSpeaker", len(CHUNK))
    assert transcriber.audio(session) == b""


def test_muted_broadcast_drops_audio(
    audio: LambdaHandler, control: LambdaHandler, session: str, sink: MemorySink
) -> None:
    control(message_event("speaker-1", "muteBroadcast"), None)
    response = send(audio, "speaker-1", send_audio_body(session, CHUNK))
    assert (response["statusCode"], response_body(response)["error"]) == (409, "SessionMuted")
    assert counted(sink) == dropped("SessionMuted", len(CHUNK))


# -- rate limiting --------------------------------------------------------------------------


def test_audio_flood_is_limited_then_closed(
    audio: LambdaHandler, session: str, aws: LocalAws, sink: MemorySink
) -> None:
    limit, max_violations = SMALL_RATE_LIMITS.limit("audio"), SMALL_RATE_LIMITS.max_violations
    statuses = [
        send(audio, "speaker-1", send_audio_body(session, CHUNK))["statusCode"]
        for _ in range(limit + max_violations)
    ]
    assert statuses == [200] * limit + [429] * max_violations
    assert aws.api.deleted == ["speaker-1"]
    totals = counted(sink)
    assert totals[("AudioChunksDropped", (("Reason", "RateLimited"),))] == max_violations
    assert totals[("RateLimitViolations", (("MessageType", "audio"),))] == max_violations
    assert totals[("ConnectionsClosedForRateLimit", ())] == 1
    assert totals[("AudioChunksReceived", ())] == limit + max_violations


# -- Transcribe failing or slow ------------------------------------------------------------------


def test_transcribe_outage_buffers_then_overflows(
    audio: LambdaHandler, session: str, transcriber: InProcessTranscriber, sink: MemorySink
) -> None:
    transcriber.fail_next_start("ServiceUnavailable", times=5)
    big = tone(16384)  # 32 KiB: the test buffer holds four
    responses = [send(audio, "speaker-1", send_audio_body(session, big)) for _ in range(5)]
    assert [r["statusCode"] for r in responses] == [202] * 5
    assert [response_body(r)["pending"] for r in responses] == [1, 2, 3, 4, 4]
    assert response_body(responses[0])["type"] == "audioBuffered"
    totals = counted(sink)
    assert totals[("TranscribeStreamErrors", (("ErrorType", "ServiceUnavailable"),))] == 5
    assert totals[("TranscribeStreamAttempts", ())] == 5
    assert totals[("AudioBufferOverflows", ())] == 1
    assert totals[("AudioChunksDropped", (("Reason", "BufferFull"),))] == 1

    # Transcribe recovers: the buffered audio and the new chunk go out, oldest first.
    response = send(audio, "speaker-1", send_audio_body(session, CHUNK))
    assert response_body(response)["forwarded"] == 4  # one more old chunk made room
    assert transcriber.audio(session).endswith(CHUNK)


def test_slow_transcribe_shows_in_latencies(
    audio: LambdaHandler, session: str, transcriber: InProcessTranscriber, sink: MemorySink
) -> None:
    transcriber.start_delay_seconds = 0.05
    transcriber.send_delay_seconds = 0.02
    send(audio, "speaker-1", send_audio_body(session, CHUNK))
    (init,) = sink.samples("TranscribeStreamInitLatency")
    (processing,) = sink.samples("AudioProcessingLatency")
    assert init >= 50 and processing >= init + 20


# -- failures ----------------------------------------------------------------------------------


def test_dynamodb_failure_is_counted(
    audio: LambdaHandler, session: str, aws: LocalAws, sink: MemorySink
) -> None:
    aws.dynamodb.delete_table(TableName=TABLES.sessions)
    response = send(audio, "speaker-1", send_audio_body(session, CHUNK))
    assert response["statusCode"] == 503
    dimensions = (("Operation", "GetItem"), ("ErrorCode", "ResourceNotFoundException"))
    assert counted(sink)[("DynamoDBErrors", dimensions)] == 1


def test_a_bug_is_a_clean_500(
    audio: LambdaHandler,
    services: AudioServices,
    session: str,
    sink: MemorySink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(session_id: str, chunk: bytes) -> None:
        raise TypeError("bug")

    monkeypatch.setattr(services.processor, "process", broken)
    response = send(audio, "speaker-1", send_audio_body(session, CHUNK))
    assert response["statusCode"] == 500
    dimensions = (("Handler", "audio_processor"), ("ErrorType", "TypeError"))
    assert counted(sink)[("LambdaErrors", dimensions)] == 1
    assert sample_counts(sink)[("AudioProcessingLatency", ())] == 1  # timed even when failing


# -- the Lambda entry point, configured by the environment, writing EMF ------------------------


def test_entry_point_writes_valid_emf(
    session: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METRICS_SINK", "emf")
    monkeypatch.setenv("TRANSCRIBER", "in-process")
    audio_processor.handler.reset()
    capsys.readouterr()
    try:
        event = websocket_event("sendAudio", "speaker-1", send_audio_body(session, CHUNK))
        assert audio_processor.handler(event, None)["statusCode"] == 200
        event = websocket_event("sendAudio", "speaker-1", send_audio_body(session, b"\1\2\3"))
        assert audio_processor.handler(event, None)["statusCode"] == 400
    finally:
        audio_processor.handler.reset()
    lines = [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    datapoints = read_datapoints(lines)  # checks each line against the EMF specification
    assert datapoints[(NS, "AudioChunksReceived", ())] == {1: 2}
    assert datapoints[(NS, "AudioChunkSize", ())] == {len(CHUNK): 1, 3: 1}
    assert datapoints[(NS, "AudioChunksDropped", (("Reason", "Misaligned"),))] == {1: 1}
    assert sum(datapoints[(NS, "AudioProcessingLatency", ())].values()) == 1
    assert all(key != "SessionId" for _, _, dims in datapoints for key, _ in dims)
    assert all('"SessionId":"s1"' in line for line in lines)  # a log property instead


# -- failure paths: a clear answer, never a crash --------------------------------------------------


def test_audio_still_buffered_when_the_session_ends_is_dropped_and_counted(
    audio: LambdaHandler,
    session: str,
    transcriber: InProcessTranscriber,
    aws: LocalAws,
    sink: MemorySink,
) -> None:
    transcriber.fail_next_start("ServiceUnavailable", times=2)
    pending = [send(audio, "speaker-1", send_audio_body(session, CHUNK)) for _ in range(2)]
    assert [response_body(r)["pending"] for r in pending] == [1, 2]
    assert aws.store().end_session(session) is not None
    sink.clear()
    response = send(audio, "speaker-1", send_audio_body(session, CHUNK))
    assert response["statusCode"] == 409
    assert response_body(response)["error"] == "SessionEnded"
    # The two waiting chunks and the new one will never be transcribed: all three counted.
    assert counted(sink)[("AudioChunksDropped", (("Reason", "SessionEnded"),))] == 3
    assert transcriber.audio(session) == b""
    # Nothing is left waiting for the ended session.
    response = send(audio, "speaker-1", send_audio_body(session, CHUNK))
    assert counted(sink)[("AudioChunksDropped", (("Reason", "SessionEnded"),))] == 4


def test_a_base64_encoded_body_is_decoded(
    audio: LambdaHandler, session: str, transcriber: InProcessTranscriber
) -> None:
    event = websocket_event("sendAudio", "speaker-1", send_audio_body(session, CHUNK))
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert audio(event, None)["statusCode"] == 200
    assert transcriber.audio(session) == CHUNK


def test_a_body_over_128_kib_is_refused(
    audio: LambdaHandler, session: str, transcriber: InProcessTranscriber
) -> None:
    body = send_audio_body(session, CHUNK)
    padded = {**body, "pad": "x" * (128 * 1024)}
    response = send(audio, "speaker-1", padded)
    assert response["statusCode"] == 413
    assert transcriber.audio(session) == b""
