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
from session_management.testing import fixtures
from session_management.testing.local_aws import SMALL_RATE_LIMITS, LocalAws
from shared_metrics.sinks.memory import MemorySink
from shared_metrics.testing.hypothesis_profiles import register as register_hypothesis_profiles
from websocket_service.testing.fake_clock import FakeClock

local_aws = fixtures.local_aws
aws = fixtures.aws
clock = fixtures.clock
sink = fixtures.sink

# Four 32 KiB chunks fill a session's buffer.
BUFFER_BYTES = 128 * 1024


@pytest.fixture
def metrics(sink: MemorySink) -> Iterator[AudioMetrics]:
    with fixtures.checked_emitter(NAMESPACE, sink) as emitter:
        yield AudioMetrics(emitter)


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
def session_services(
    aws: LocalAws, session_sink: MemorySink, clock: FakeClock
) -> Iterator[SessionServices]:
    with fixtures.checked_emitter(session_spec.NAMESPACE, session_sink) as emitter:
        yield fixtures.session_services(aws, SessionMetrics(emitter), clock)


# Hypothesis profiles, e.g. CI's --hypothesis-profile=loaded-machine.
register_hypothesis_profiles()
