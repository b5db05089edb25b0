"""The defaults audio-transcription/README.md promises (its Configuration table), as
literals."""

from __future__ import annotations

from audio_transcription.audio_buffer import SessionAudioBuffers
from audio_transcription.services import transcriber_from_env
from audio_transcription.transcriber import InProcessTranscriber


def test_buffers_hold_256_kib_per_session_for_32_sessions() -> None:
    buffers = SessionAudioBuffers.from_env({})
    assert buffers.max_bytes_per_session == 256 * 1024
    assert buffers.max_sessions == 32


def test_streams_are_en_us() -> None:
    transcriber = transcriber_from_env({"TRANSCRIBER": "in-process"})
    assert isinstance(transcriber, InProcessTranscriber)
    assert transcriber.settings.language_code == "en-US"
