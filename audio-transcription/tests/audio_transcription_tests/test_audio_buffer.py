"""Bounded per-session buffers: oldest audio goes first, limits always hold."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audio_transcription.audio_buffer import SessionAudioBuffers


def test_full_buffer_evicts_the_oldest_chunks() -> None:
    buffers = SessionAudioBuffers(max_bytes_per_session=10, max_sessions=2)
    assert buffers.append("s1", b"aaaa").pending_chunks == 1
    assert buffers.append("s1", b"bbbb").evicted_chunks == 0
    result = buffers.append("s1", b"cccc")
    assert (result.evicted_chunks, result.overflowed, result.pending_chunks) == (1, True, 2)
    assert buffers.pending("s1") == [b"bbbb", b"cccc"]


def test_consume_removes_what_was_sent() -> None:
    buffers = SessionAudioBuffers(100, 2)
    for chunk in (b"a", b"bb", b"ccc"):
        buffers.append("s1", chunk)
    buffers.consume("s1", 2)
    assert buffers.pending("s1") == [b"ccc"] and buffers.buffered_bytes("s1") == 3
    assert buffers.discard("s1") == 1 and buffers.pending("s1") == []


def test_least_recently_used_session_is_evicted() -> None:
    buffers = SessionAudioBuffers(100, max_sessions=2)
    buffers.append("s1", b"x")
    buffers.append("s2", b"y")
    buffers.append("s1", b"z")  # s1 is now the most recently used
    result = buffers.append("s3", b"w")
    assert result.evicted_idle_chunks == 1
    assert buffers.pending("s2") == [] and buffers.pending("s1") == [b"x", b"z"]
    assert len(buffers) == 2


def test_limits_and_config() -> None:
    with pytest.raises(ValueError):
        SessionAudioBuffers(0)
    with pytest.raises(ValueError):
        SessionAudioBuffers(4).append("s1", b"12345")
    configured = SessionAudioBuffers.from_env(
        {"AUDIO_BUFFER_MAX_BYTES": "10", "AUDIO_BUFFER_MAX_SESSIONS": "x"}
    )
    # Never below one maximal chunk; bad values fall back to the default.
    assert configured.max_bytes_per_session == 32 * 1024
    assert configured.max_sessions == 32


@given(
    st.lists(
        st.tuples(st.sampled_from(["s1", "s2", "s3"]), st.binary(min_size=1, max_size=40)),
        max_size=60,
    )
)
def test_bounds_hold_and_order_is_kept(appends: list[tuple[str, bytes]]) -> None:
    buffers = SessionAudioBuffers(max_bytes_per_session=64, max_sessions=2)
    sent: dict[str, list[bytes]] = {}
    lost = 0
    for session_id, chunk in appends:
        result = buffers.append(session_id, chunk)
        lost += result.evicted_chunks + result.evicted_idle_chunks
        sent.setdefault(session_id, []).append(chunk)
        assert buffers.buffered_bytes(session_id) <= 64
        assert len(buffers) <= 2
        # What is left of a session is the newest part of what it sent, in order.
        pending = buffers.pending(session_id)
        assert pending == sent[session_id][len(sent[session_id]) - len(pending) :]
    held = sum(len(buffers.pending(s)) for s in ("s1", "s2", "s3"))
    assert held + lost == len(appends)
