"""What the canary sends and accepts, against the services' own contract: the answers are
written as the services' READMEs document them (session-management/README.md: controlApplied,
broadcastState, sessionEnded; audio-transcription/README.md: audioAccepted, audioBuffered),
and the audio the canary sends is checked by the audio service's own parser."""

from __future__ import annotations

import base64
import json
import re
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audio_transcription.audio_chunk import parse_send_audio
from session_management.routes import END_SESSION, SET_VOLUME
from websocket_canary import protocol
from websocket_canary.protocol import AnswerMismatch

SID = "canary-0123456789abcdef"

CONTROL_APPLIED = {  # the connection handler's answer to setVolume 40 with one listener
    "type": "controlApplied",
    "action": "setVolume",
    "sessionId": SID,
    "state": "ACTIVE",
    "muted": False,
    "volume": 40,
    "listeners": 1,
    "listenersNotified": 1,
}


def _control(answer: dict[str, Any]) -> None:
    protocol.check_control_applied(
        answer, action="setVolume", session_id=SID, volume=40, listeners=1, listenersNotified=1
    )


def test_the_documented_control_answer_passes() -> None:
    _control(dict(CONTROL_APPLIED))


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("volume", 41, "volume 41 (expected 40)"),
        ("sessionId", "canary-other", "sessionId 'canary-other'"),
        ("listenersNotified", 0, "listenersNotified 0 (expected 1)"),
        ("listeners", True, "listeners True (expected 1)"),  # a JSON true is not 1 listener
        ("action", "muteBroadcast", "action 'muteBroadcast'"),
    ],
)
def test_a_control_answer_with_a_wrong_field_says_which(field: str, value: Any, says: str) -> None:
    with pytest.raises(AnswerMismatch, match="^" + re.escape(f"controlApplied with {says}")):
        _control({**CONTROL_APPLIED, field: value})


def test_refusals_say_who_refused() -> None:
    handler = {"error": "NotSpeaker", "message": "only the session's speaker may send control"}
    with pytest.raises(AnswerMismatch, match="^the handler refused: NotSpeaker \\(only the"):
        _control(handler)
    gateway = {"message": "Forbidden", "connectionId": "c1", "requestId": "r1"}
    with pytest.raises(AnswerMismatch, match="^API Gateway answered 'Forbidden' instead of"):
        _control(gateway)
    with pytest.raises(AnswerMismatch, match="instead of controlApplied$"):
        _control({"type": "broadcastState"})


def test_the_listeners_notifications() -> None:
    heard = {
        "type": "broadcastState",
        "action": "setVolume",
        "sessionId": SID,
        "state": "ACTIVE",
        "muted": False,
        "volume": 40,
    }
    protocol.check_broadcast_state(heard, session_id=SID, volume=40)
    with pytest.raises(AnswerMismatch, match="volume 39"):
        protocol.check_broadcast_state({**heard, "volume": 39}, session_id=SID, volume=40)
    ended = {"type": "sessionEnded", "sessionId": SID, "reason": "endedBySpeaker"}
    protocol.check_session_ended(ended, session_id=SID)
    with pytest.raises(AnswerMismatch, match="reason 'speakerDisconnected'"):
        protocol.check_session_ended({**ended, "reason": "speakerDisconnected"}, session_id=SID)


@pytest.mark.parametrize("kind", ["audioAccepted", "audioBuffered"])
def test_both_audio_answers_mean_the_service_kept_the_chunk(kind: str) -> None:
    answer = {"type": kind, "sessionId": SID, "bytes": 3200, "forwarded": 1, "pending": 0}
    assert protocol.check_audio_answer(answer, session_id=SID, size=3200) == kind
    with pytest.raises(AnswerMismatch, match="bytes 3199"):
        protocol.check_audio_answer({**answer, "bytes": 3199}, session_id=SID, size=3200)


def test_an_audio_refusal_is_not_an_answer() -> None:
    paused = {"error": "SessionPaused", "message": "the broadcast is paused"}
    with pytest.raises(AnswerMismatch, match="SessionPaused.*audioAccepted or audioBuffered"):
        protocol.check_audio_answer(paused, session_id=SID, size=3200)


def test_the_audio_is_what_the_audio_route_takes() -> None:
    pcm = protocol.tone()
    assert len(pcm) == 3200  # 100 ms: 1,600 samples of 2 bytes at 16 kHz
    samples = struct.unpack("<1600h", pcm)
    assert max(samples) > 0 > min(samples)  # audio, not silence
    body = json.loads(protocol.send_audio(SID, pcm))
    assert body["action"] == "sendAudio"
    message = parse_send_audio(body)  # the service's own validation
    assert (message.session_id, message.audio) == (SID, pcm)
    assert base64.b64decode(body["audio"]) == pcm


def test_the_control_messages_name_the_services_routes() -> None:
    assert json.loads(protocol.set_volume(7)) == {"action": SET_VOLUME, "volume": 7}
    assert json.loads(protocol.end_session()) == {"action": END_SESSION}


@pytest.mark.parametrize(
    ("text", "says"),
    [(b"\x00\x01", "binary frame of 2 bytes"), ("hello", "not JSON"), ("[1]", "not a JSON object")],
)
def test_parse_refuses_what_is_not_a_json_object(text: str | bytes, says: str) -> None:
    assert protocol.parse('{"type": "x"}') == {"type": "x"}
    with pytest.raises(AnswerMismatch, match=says):
        protocol.parse(text)


def test_status_pushes_are_never_answers() -> None:
    assert protocol.is_pushed({"type": "sessionStatus", "sessionId": SID})
    assert not protocol.is_pushed(dict(CONTROL_APPLIED))


_values = st.one_of(st.integers(-5, 105), st.booleans(), st.none(), st.text(max_size=8))


@given(changes=st.dictionaries(st.sampled_from(sorted(CONTROL_APPLIED)), _values, max_size=4))
def test_a_control_answer_passes_exactly_when_every_checked_field_is_as_expected(
    changes: dict[str, Any],
) -> None:
    answer = {**CONTROL_APPLIED, **changes}
    checked = ("type", "action", "sessionId", "volume", "listeners", "listenersNotified")
    expected_ok = all(
        # JSON's true/false are not the numbers 1/0 (the values drawn hold no floats)
        answer[f] == CONTROL_APPLIED[f]
        and isinstance(answer[f], bool) == isinstance(CONTROL_APPLIED[f], bool)
        for f in checked
    )
    try:
        _control(answer)
    except AnswerMismatch:
        assert not expected_ok
    else:
        assert expected_ok
