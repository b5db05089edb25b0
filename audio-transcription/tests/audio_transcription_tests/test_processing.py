"""The processor between valid chunks and Transcribe: buffering, stream (re)opening and the
stream metrics, with an in-process transcriber that fails or stalls on demand."""

from __future__ import annotations

from audio_transcription.processing import AudioProcessor
from audio_transcription.testing.pcm import tone
from audio_transcription.transcriber import InProcessTranscriber
from shared_metrics.sinks.memory import MemorySink
from websocket_service.testing.metric_snapshot import counted, sample_counts

CHUNK = tone(1600)
BIG = tone(16384)  # 32 KiB: four fill the test buffer


def test_chunks_reach_one_stream_per_session(
    processor: AudioProcessor, transcriber: InProcessTranscriber, sink: MemorySink
) -> None:
    for _ in range(3):
        assert processor.process("s1", CHUNK).forwarded == 1
    processor.process("s2", CHUNK)
    processor.metrics.flush()  # a handler flushes at the end of each invocation
    assert transcriber.audio("s1") == CHUNK * 3
    assert transcriber.streams_started == 2
    assert counted(sink) == {("TranscribeStreamAttempts", ()): 2}
    assert sample_counts(sink) == {("TranscribeStreamInitLatency", ()): 2}


def test_failed_start_keeps_the_audio_for_the_next_attempt(
    processor: AudioProcessor, transcriber: InProcessTranscriber, sink: MemorySink
) -> None:
    transcriber.fail_next_start("ServiceUnavailable")
    result = processor.process("s1", CHUNK)
    assert (result.forwarded, result.pending, result.error_type) == (0, 1, "ServiceUnavailable")
    result = processor.process("s1", CHUNK)
    assert (result.forwarded, result.pending, result.error_type) == (2, 0, None)
    assert transcriber.audio("s1") == CHUNK * 2
    processor.metrics.flush()
    assert counted(sink) == {
        ("TranscribeStreamAttempts", ()): 2,
        ("TranscribeStreamErrors", ()): 1,
        ("TranscribeStreamErrors", (("ErrorType", "ServiceUnavailable"),)): 1,
    }


def test_failed_send_discards_the_stream(
    processor: AudioProcessor, transcriber: InProcessTranscriber, sink: MemorySink
) -> None:
    processor.process("s1", CHUNK)
    transcriber.fail_next_send("InternalFailure")
    assert processor.process("s1", CHUNK).error_type == "InternalFailure"
    assert processor.open_streams() == 0
    assert processor.process("s1", CHUNK).forwarded == 2  # reopened; nothing lost
    assert transcriber.streams_started == 2 and transcriber.streams_closed == 1
    processor.metrics.flush()
    totals = counted(sink)
    assert totals[("TranscribeStreamAttempts", ())] == 2
    assert totals[("TranscribeStreamErrors", (("ErrorType", "InternalFailure"),))] == 1


def test_outage_overflows_the_buffer_oldest_first(
    processor: AudioProcessor, transcriber: InProcessTranscriber, sink: MemorySink
) -> None:
    transcriber.fail_next_start("LimitExceeded", times=6)
    chunks = [bytes([i, 0]) * 16384 for i in range(6)]
    results = [processor.process("s1", chunk) for chunk in chunks]
    assert [r.pending for r in results] == [1, 2, 3, 4, 4, 4]
    processor.metrics.flush()
    assert counted(sink) == {
        ("TranscribeStreamAttempts", ()): 6,
        ("TranscribeStreamErrors", ()): 6,
        ("TranscribeStreamErrors", (("ErrorType", "LimitExceeded"),)): 6,
        ("AudioChunksDropped", ()): 2,
        ("AudioChunksDropped", (("Reason", "BufferFull"),)): 2,
        ("AudioBufferOverflows", ()): 2,
    }
    # When Transcribe is back, the newest audio goes out, in order (making room for the
    # new chunk evicted one more).
    assert processor.process("s1", CHUNK).forwarded == 4
    assert transcriber.audio("s1") == b"".join(chunks[3:]) + CHUNK


def test_unknown_error_types_are_other(
    processor: AudioProcessor, transcriber: InProcessTranscriber, sink: MemorySink
) -> None:
    transcriber.fail_next_start("SomethingBrandNew")
    processor.process("s1", CHUNK)
    processor.metrics.flush()
    assert counted(sink)[("TranscribeStreamErrors", (("ErrorType", "Other"),))] == 1


def test_slow_start_shows_in_init_latency(
    processor: AudioProcessor, transcriber: InProcessTranscriber, sink: MemorySink
) -> None:
    transcriber.start_delay_seconds = 0.05
    processor.process("s1", CHUNK)
    processor.metrics.flush()
    (latency,) = sink.samples("TranscribeStreamInitLatency")
    assert latency >= 50


def test_ending_a_session_closes_its_stream_and_drops_its_audio(
    processor: AudioProcessor, transcriber: InProcessTranscriber
) -> None:
    processor.process("s1", CHUNK)
    transcriber.fail_next_send()
    processor.process("s1", CHUNK)
    assert processor.end_session("s1") == 1
    assert processor.end_session("s1") == 0


def test_streams_are_bounded(processor: AudioProcessor, transcriber: InProcessTranscriber) -> None:
    processor.max_streams = 2
    for session_id in ("s1", "s2", "s3"):
        processor.process(session_id, CHUNK)
    assert processor.open_streams() == 2 and transcriber.streams_closed == 1
