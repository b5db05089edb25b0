"""The ``sendAudio`` message: ``{"action": "sendAudio", "sessionId": ..., "audio": <base64>}``.

The audio is raw PCM: signed 16-bit little-endian samples, mono, 16 kHz (what the stream
to Transcribe is opened with; raw PCM carries no header that could say otherwise). What
can be checked is checked: base64, size limits, whole samples, and that it is not a
container file (WAV, Ogg, FLAC, MP3, MP4) sent by mistake.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

from session_management.session_ids import SESSION_ID_PATTERN
from websocket_service.events import RequestError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SAMPLE_RATE_HZ = 16_000
BYTES_PER_SAMPLE = 2  # PCM16
MEDIA_ENCODING = "pcm"
# Transcribe streaming takes at most 32 KiB per audio event (~1 s of PCM16 16 kHz mono).
MAX_CHUNK_BYTES = 32 * 1024
MIN_CHUNK_BYTES = BYTES_PER_SAMPLE
# Longest base64 text that can decode to MAX_CHUNK_BYTES: longer text is refused unread.
MAX_ENCODED_CHARS = 4 * -(-MAX_CHUNK_BYTES // 3)

# Signatures of container formats, (offset, bytes) that must all match: at least 32 bits
# each, so raw PCM that happens to start like one is rarer than one chunk in 4 billion.
_CONTAINER_SIGNATURES: tuple[tuple[str, tuple[tuple[int, bytes], ...]], ...] = (
    ("WAV", ((0, b"RIFF"), (8, b"WAVE"))),
    ("Ogg", ((0, b"OggS\x00"),)),
    ("FLAC", ((0, b"fLaC"),)),
    ("MP3", ((0, b"ID3\x03\x00"),)),
    ("MP3", ((0, b"ID3\x04\x00"),)),
    ("MP4", ((4, b"ftyp"),)),
)


class ChunkRejected(Exception):
    """The message is not a usable audio chunk: ``reason`` is from DROP_REASONS."""

    def __init__(
        self,
        reason: str,
        status: int,
        code: str,
        message: str,
        *,
        session_id: str | None = None,
        size: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status
        self.code = code
        self.message = message
        self.session_id = session_id
        self.size = size

    def request_error(self) -> RequestError:
        return RequestError(self.status, self.code, self.message)


@dataclass(frozen=True)
class AudioMessage:
    session_id: str
    audio: bytes


def parse_send_audio(body: Mapping[str, Any]) -> AudioMessage:
    """Validate a sendAudio body; raises `ChunkRejected` saying what is wrong."""
    session_id = body.get("sessionId")
    if not isinstance(session_id, str) or not SESSION_ID_PATTERN.fullmatch(session_id):
        raise ChunkRejected(
            "InvalidPayload",
            400,
            "InvalidField",
            "sessionId is required: 1..64 characters of A-Z, a-z, 0-9, '_' or '-'",
        )
    audio = body.get("audio")
    if not isinstance(audio, str):
        raise ChunkRejected(
            "InvalidPayload",
            400,
            "MissingField" if audio is None else "InvalidField",
            "field 'audio' is required: base64 of PCM16 mono 16 kHz audio",
            session_id=session_id,
        )
    if len(audio) > MAX_ENCODED_CHARS:
        raise ChunkRejected(
            "TooLarge",
            413,
            "AudioTooLarge",
            f"audio chunks are limited to {MAX_CHUNK_BYTES} bytes decoded",
            session_id=session_id,
        )
    try:
        chunk = base64.b64decode(audio, validate=True)
    except (binascii.Error, ValueError):
        raise ChunkRejected(
            "NotDecodable",
            400,
            "AudioNotDecodable",
            "field 'audio' is not valid base64",
            session_id=session_id,
        ) from None
    return AudioMessage(session_id, _check_pcm(chunk, session_id))


def _check_pcm(chunk: bytes, session_id: str) -> bytes:
    size = len(chunk)
    if size > MAX_CHUNK_BYTES:
        raise ChunkRejected(
            "TooLarge",
            413,
            "AudioTooLarge",
            f"audio chunks are limited to {MAX_CHUNK_BYTES} bytes decoded, got {size}",
            session_id=session_id,
            size=size,
        )
    if size < MIN_CHUNK_BYTES:
        raise ChunkRejected(
            "TooSmall",
            400,
            "AudioTooSmall",
            f"an audio chunk holds at least one {BYTES_PER_SAMPLE}-byte sample, got {size} bytes",
            session_id=session_id,
            size=size,
        )
    for name, signature in _CONTAINER_SIGNATURES:
        if all(chunk[at : at + len(magic)] == magic for at, magic in signature):
            raise ChunkRejected(
                "NotPcm",
                415,
                "AudioNotPcm",
                f"the audio looks like a {name} file; send raw PCM16 mono 16 kHz samples",
                session_id=session_id,
                size=size,
            )
    if size % BYTES_PER_SAMPLE:
        raise ChunkRejected(
            "Misaligned",
            400,
            "AudioMisaligned",
            f"PCM16 audio has whole {BYTES_PER_SAMPLE}-byte samples; got {size} bytes",
            session_id=session_id,
            size=size,
        )
    return chunk
