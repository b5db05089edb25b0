"""The messages the canary sends and what each answer must be, as the services document
them (session-management/README.md, audio-transcription/README.md):

- ``setVolume`` from the speaker: ``controlApplied`` with the volume, one listener, notified;
  the listener gets ``broadcastState`` with the same volume.
- ``sendAudio`` (raw PCM16 mono 16 kHz, base64): ``audioAccepted`` (200, forwarded to
  Transcribe) or ``audioBuffered`` (202, kept while Transcribe is failing: the service was
  reached and kept the audio; Transcribe has its own alarm) with the bytes received.
- ``endSession``: ``controlApplied`` in state ``ENDED``; the listener gets ``sessionEnded``.

A handler's refusal is ``{"error": <Code>, "message": ...}``; when API Gateway itself answers
(a route it cannot invoke, throttling) it is ``{"message": ..., "connectionId": ...}``. Either
is reported as what it is. The speaker also receives the scheduled ``sessionStatus`` push at
any time (every minute, to every live session's speaker): never an answer, it is skipped.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

from audio_transcription.routes import SEND_AUDIO
from session_management.routes import END_SESSION, SET_VOLUME

SAMPLE_RATE_HZ = 16_000  # what the audio route takes: PCM16 little-endian, mono, 16 kHz
CHUNK_SAMPLES = 1_600  # 100 ms, what a speaker sends at a time
PUSHED_TYPES = ("sessionStatus",)  # sent unasked, never an answer
AUDIO_ANSWERS = ("audioAccepted", "audioBuffered")
END_REASON = "endedBySpeaker"


class AnswerMismatch(ValueError):
    """An answer that is not the one the protocol promises (the message says how)."""


def tone(samples: int = CHUNK_SAMPLES, frequency_hz: float = 440.0) -> bytes:
    """A quiet sine tone as PCM16 little-endian samples: audio, not silence."""
    peak = 3_000
    return struct.pack(
        f"<{samples}h",
        *(
            int(peak * math.sin(2 * math.pi * frequency_hz * i / SAMPLE_RATE_HZ))
            for i in range(samples)
        ),
    )


def set_volume(volume: int) -> str:
    return json.dumps({"action": SET_VOLUME, "volume": volume})


def send_audio(session_id: str, pcm: bytes) -> str:
    encoded = base64.b64encode(pcm).decode("ascii")
    return json.dumps({"action": SEND_AUDIO, "sessionId": session_id, "audio": encoded})


def end_session() -> str:
    return json.dumps({"action": END_SESSION})


def parse(text: str | bytes) -> dict[str, Any]:
    """A message as JSON, or `AnswerMismatch` saying what arrived instead."""
    if isinstance(text, bytes):
        raise AnswerMismatch(f"a binary frame of {len(text)} bytes, not a JSON text message")
    try:
        value = json.loads(text)
    except ValueError:
        raise AnswerMismatch(f"not JSON: {_excerpt(text)}") from None
    if not isinstance(value, dict):
        raise AnswerMismatch(f"not a JSON object: {_excerpt(text)}")
    return value


def is_pushed(message: dict[str, Any]) -> bool:
    return message.get("type") in PUSHED_TYPES


def check_control_applied(
    answer: dict[str, Any], *, action: str, session_id: str, **expected: object
) -> None:
    """``controlApplied`` for ``action`` on ``session_id`` with the ``expected`` fields."""
    _check(answer, "controlApplied", action=action, sessionId=session_id, **expected)


def check_broadcast_state(answer: dict[str, Any], *, session_id: str, volume: int) -> None:
    _check(answer, "broadcastState", action=SET_VOLUME, sessionId=session_id, volume=volume)


def check_audio_answer(answer: dict[str, Any], *, session_id: str, size: int) -> str:
    """``audioAccepted`` or ``audioBuffered`` with the chunk's size; returns which."""
    kind = answer.get("type")
    if kind not in AUDIO_ANSWERS:
        raise AnswerMismatch(_unexpected(answer, " or ".join(AUDIO_ANSWERS)))
    _check(answer, str(kind), sessionId=session_id, bytes=size)
    return str(kind)


def check_session_ended(answer: dict[str, Any], *, session_id: str) -> None:
    _check(answer, "sessionEnded", sessionId=session_id, reason=END_REASON)


def _check(answer: dict[str, Any], kind: str, **expected: object) -> None:
    if answer.get("type") != kind:
        raise AnswerMismatch(_unexpected(answer, kind))
    wrong = [
        f"{name} {answer.get(name)!r} (expected {value!r})"
        for name, value in expected.items()
        # bool is an int: a JSON true must not pass for 1 listener
        if answer.get(name) != value or type(answer.get(name)) is not type(value)
    ]
    if wrong:
        raise AnswerMismatch(f"{kind} with {', '.join(wrong)}")


def _unexpected(answer: dict[str, Any], wanted: str) -> str:
    """What arrived instead of ``wanted``: a handler's error, API Gateway's, or other."""
    if "error" in answer:
        return (
            f"the handler refused: {answer.get('error')} ({answer.get('message', '')!s:.200}) "
            f"instead of {wanted}"
        )
    if "message" in answer and "type" not in answer:
        return f"API Gateway answered {answer['message']!r:.200} instead of {wanted}"
    return f"{_excerpt(json.dumps(answer))} instead of {wanted}"


def _excerpt(text: str, limit: int = 200) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
