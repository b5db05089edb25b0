"""Synthetic PCM16 mono 16 kHz audio and the sendAudio messages that carry it."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

from audio_transcription.audio_chunk import SAMPLE_RATE_HZ


def tone(samples: int, frequency_hz: float = 440.0, amplitude: float = 0.3) -> bytes:
    """A sine tone: ``samples`` little-endian signed 16-bit samples."""
    peak = int(32767 * amplitude)
    values = (
        int(peak * math.sin(2 * math.pi * frequency_hz * i / SAMPLE_RATE_HZ))
        for i in range(samples)
    )
    return struct.pack(f"<{samples}h", *values)


def send_audio_body(session_id: str, audio: bytes | str) -> dict[str, Any]:
    """A sendAudio message body; bytes are base64-encoded, a string is sent as is."""
    encoded = audio if isinstance(audio, str) else base64.b64encode(audio).decode()
    return {"action": "sendAudio", "sessionId": session_id, "audio": encoded}
