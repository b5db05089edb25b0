"""Validating sendAudio bodies: every bad chunk has a reason from the closed set."""

from __future__ import annotations

import base64

import pytest
from hypothesis import find, given
from hypothesis import strategies as st

from audio_transcription.audio_chunk import (
    MAX_CHUNK_BYTES,
    MAX_ENCODED_CHARS,
    ChunkRejected,
    parse_send_audio,
)
from audio_transcription.metrics_spec import DROP_REASONS
from audio_transcription.testing.pcm import send_audio_body, tone


def test_a_pcm_chunk_is_accepted() -> None:
    audio = tone(1600)  # 100 ms
    message = parse_send_audio(send_audio_body("s1", audio))
    assert (message.session_id, message.audio) == ("s1", audio)


def test_limits_are_inclusive() -> None:
    assert len(parse_send_audio(send_audio_body("s1", b"\0" * MAX_CHUNK_BYTES)).audio) == 32768
    assert parse_send_audio(send_audio_body("s1", b"\1\0")).audio == b"\1\0"


@pytest.mark.parametrize(
    ("body", "reason", "status"),
    [
        ({"audio": "AAAA"}, "InvalidPayload", 400),
        ({"sessionId": "s 1", "audio": "AAAA"}, "InvalidPayload", 400),
        ({"sessionId": "s1"}, "InvalidPayload", 400),
        ({"sessionId": "s1", "audio": 1234}, "InvalidPayload", 400),
        ({"sessionId": "s1", "audio": ["AAAA"]}, "InvalidPayload", 400),
        ({"sessionId": "s1", "audio": "not base64!"}, "NotDecodable", 400),
        ({"sessionId": "s1", "audio": "AAA"}, "NotDecodable", 400),  # bad padding
        ({"sessionId": "s1", "audio": ""}, "TooSmall", 400),
        (send_audio_body("s1", b"\1"), "TooSmall", 400),
        (send_audio_body("s1", b"\1\2\3"), "Misaligned", 400),
        (send_audio_body("s1", b"\0" * (MAX_CHUNK_BYTES + 2)), "TooLarge", 413),
        ({"sessionId": "s1", "audio": "A" * (MAX_ENCODED_CHARS + 4)}, "TooLarge", 413),
        (send_audio_body("s1", b"RIFF\x24\x08\0\0WAVEfmt " + bytes(20)), "NotPcm", 415),
        (send_audio_body("s1", b"OggS\0\2" + bytes(20)), "NotPcm", 415),
        (send_audio_body("s1", b"fLaC" + bytes(20)), "NotPcm", 415),
        (send_audio_body("s1", b"ID3\4\0" + bytes(21)), "NotPcm", 415),
        (send_audio_body("s1", b"\0\0\0\x20ftypisom" + bytes(20)), "NotPcm", 415),
    ],
)
def test_bad_chunks_say_why(body: dict[str, object], reason: str, status: int) -> None:
    with pytest.raises(ChunkRejected) as raised:
        parse_send_audio(body)
    assert (raised.value.reason, raised.value.status) == (reason, status)
    assert raised.value.request_error().message


def test_rejections_keep_what_is_known() -> None:
    with pytest.raises(ChunkRejected) as raised:
        parse_send_audio(send_audio_body("s1", b"\1\2\3"))
    assert (raised.value.session_id, raised.value.size) == ("s1", 3)


def _accepted(body: dict[str, object]) -> bool:
    try:
        parse_send_audio(body)
    except ChunkRejected:
        return False
    return True


# Both sides: valid PCM16 (even lengths, base64) as well as what is not.
chunks = st.one_of(
    st.binary(max_size=MAX_CHUNK_BYTES + 64),
    st.binary(min_size=1, max_size=400).map(lambda b: b * 2),  # even length: valid PCM16
)
audio_texts = st.one_of(
    st.text(max_size=64),
    st.binary(min_size=1, max_size=40).map(lambda b: base64.b64encode(b * 2).decode()),
)


@pytest.mark.parametrize("valid", [True, False])
def test_the_strategies_produce_valid_and_invalid_chunks(valid: bool) -> None:
    # Otherwise the properties below could pass while checking one side only.
    find(chunks, lambda a: _accepted(send_audio_body("s1", a)) is valid)
    find(audio_texts, lambda t: _accepted({"sessionId": "s1", "audio": t}) is valid)


@given(chunks)
def test_any_bytes_are_accepted_or_rejected_with_a_known_reason(audio: bytes) -> None:
    try:
        message = parse_send_audio(send_audio_body("s1", audio))
    except ChunkRejected as exc:
        assert exc.reason in DROP_REASONS and exc.size == len(audio)
    else:
        assert message.audio == audio
        assert len(audio) % 2 == 0 and 2 <= len(audio) <= MAX_CHUNK_BYTES


@given(audio_texts)
def test_any_text_is_accepted_or_rejected_with_a_known_reason(text: str) -> None:
    try:
        message = parse_send_audio({"sessionId": "s1", "audio": text})
    except ChunkRejected as exc:
        assert exc.reason in DROP_REASONS
    else:
        assert base64.b64decode(text) == message.audio
