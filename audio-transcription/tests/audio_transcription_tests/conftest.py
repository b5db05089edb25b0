"""Fixtures: DynamoDB on moto's server and a Management API stub (127.0.0.1, real HTTP), an
in-process transcriber, and audio services whose metrics go to a memory sink. The session
handlers run beside them (their own namespace and sink), as in the deployed API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from audio_transcription.audio_buffer import SessionAudioBuffers
from audio_transcription.metrics import AudioMetrics
from audio_transcription.metrics_spec import NAMESPACE
from audio_transcription.processing import AudioProcessor
from audio_transcription.services import AudioServices
from audio_transcription.transcriber import InProcessTranscriber
from session_management import metrics_spec as session_spec
from session_management.metrics import SessionMetrics
from session_management.services import SessionServices
from session_management.testing.fake_clock import FakeClock
from session_management.testing.local_aws import SMALL_RATE_LIMITS, LocalAws
from shared_metrics import MetricsEmitter
from shared_metrics.sinks.memory import MemorySink

# Four 32 KiB chunks fill a session's buffer.
BUFFER_BYTES = 128 * 1024


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        yield local


@pytest.fixture
def aws(local_aws: LocalAws) -> LocalAws:
    local_aws.reset()
    return local_aws


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def metrics(sink: MemorySink) -> Iterator[AudioMetrics]:
    emitter = MetricsEmitter(NAMESPACE, sink, flush_at_exit=False)
    yield AudioMetrics(emitter)
    assert emitter.stats().rejected == {}  # every recorded value fit its spec


@pytest.fixture
def transcriber() -> InProcessTranscriber:
    return InProcessTranscriber()


@pytest.fixture
def processor(transcriber: InProcessTranscriber, metrics: AudioMetrics) -> AudioProcessor:
    return AudioProcessor(transcriber, metrics, SessionAudioBuffers(BUFFER_BYTES, max_sessions=4))


@pytest.fixture
def services(
    aws: LocalAws, metrics: AudioMetrics, processor: AudioProcessor, clock: FakeClock
) -> AudioServices:
    return AudioServices(
        store=aws.store(clock),
        rate_limiter=aws.rate_limiter(SMALL_RATE_LIMITS, clock),
        metrics=metrics,
        processor=processor,
        clock=clock,
    )


@pytest.fixture
def session_sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def session_services(aws: LocalAws, session_sink: MemorySink, clock: FakeClock) -> SessionServices:
    emitter = MetricsEmitter(session_spec.NAMESPACE, session_sink, flush_at_exit=False)
    return SessionServices(
        store=aws.store(clock),
        rate_limiter=aws.rate_limiter(SMALL_RATE_LIMITS, clock),
        metrics=SessionMetrics(emitter),
        clock=clock,
    )
