"""The metric mix each real handler invocation emits, for the benchmark's realistic workload.

    ./pants run local-run/src/local_run/handler_workload.py

runs the three real handlers through a healthy session (DynamoDB on moto's server and the
Management API stub, both on 127.0.0.1, as in the services' tests): a speaker and three
listeners connect, the speaker streams 5 s of audio in 100 ms chunks and pauses and resumes,
listeners ask for the status, the scheduled update runs, the speaker ends the session and
everyone disconnects. Each invocation ends with one flush, so what the sink receives per
publish is exactly one invocation's metrics; they are written to
shared-metrics/benchmarks/handler_workload.json, which the benchmark replays through every
contender. A test (local-run/tests/local_run_tests/test_handler_workload.py) checks that the
committed file is what the handlers emit today, timer values aside.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from audio_transcription import metrics_spec as audio_spec
from audio_transcription.audio_buffer import SessionAudioBuffers
from audio_transcription.handlers import audio_processor
from audio_transcription.metrics import AudioMetrics
from audio_transcription.processing import AudioProcessor
from audio_transcription.services import AudioServices
from audio_transcription.testing.pcm import send_audio_body, tone
from audio_transcription.transcriber import InProcessTranscriber
from session_management import metrics_spec as session_spec
from session_management.handlers import connection, session_status
from session_management.metrics import SessionMetrics
from session_management.services import SessionServices
from session_management.testing.local_aws import LocalAws
from shared_metrics import MetricsEmitter
from shared_metrics.series import SeriesBatch
from shared_metrics.sinks.base import MetricSink, PublishResult, total_datapoints
from websocket_service.management_api import ManagementApi, ManagementApiFactory
from websocket_service.testing.events import (
    connect_event,
    disconnect_event,
    message_event,
    scheduled_event,
    websocket_event,
)
from websocket_service.testing.fake_clock import FakeClock

WORKLOAD_PATH = Path("shared-metrics/benchmarks/handler_workload.json")
CHUNK = tone(1600)  # 100 ms of PCM16 at 16 kHz
AUDIO_CHUNKS = 50
LISTENERS = 3

# One invocation: the properties it set and each series it recorded, as
# {"name", "unit", "resolution", "dimension_sets", "dimensions", "values": [[value, count]]}.
Invocation = dict[str, Any]


class CapturingSink(MetricSink):
    """Keeps each publish (one invocation's flush) as plain data; delivers everything."""

    name = "capture"
    preferred_batch_values = 10_000

    def __init__(self) -> None:
        self.label = ""
        self.invocations: dict[str, list[Invocation]] = {}

    def publish(
        self, namespace: str, batches: Sequence[SeriesBatch], properties: Mapping[str, object]
    ) -> PublishResult:
        series = [
            {
                "namespace": namespace,
                "name": s.spec.name,
                "unit": s.spec.unit.value,
                "resolution": s.spec.storage_resolution,
                "dimension_sets": [list(d) for d in s.dimension_sets],
                "dimensions": dict(s.dimensions),
                "values": [[value, count] for value, count in values.items()],
            }
            for _, s, values in batches
        ]
        invocation = {"properties": dict(properties), "series": series}
        self.invocations.setdefault(self.label, []).append(invocation)
        return PublishResult(delivered=total_datapoints(batches))


def capture() -> dict[str, list[Invocation]]:
    """Run the healthy session; return each function's invocations, in order."""
    sink = CapturingSink()
    clock = FakeClock()
    with LocalAws() as aws:
        apis = ManagementApiFactory(ManagementApi.for_endpoint)
        session_metrics = SessionMetrics(
            MetricsEmitter(session_spec.NAMESPACE, sink, flush_at_exit=False)
        )
        audio_metrics = AudioMetrics(
            MetricsEmitter(audio_spec.NAMESPACE, sink, flush_at_exit=False)
        )
        sessions = SessionServices(
            store=aws.store(clock),
            rate_limiter=aws.rate_limiter(clock=clock),
            metrics=session_metrics,
            management_apis=apis,
            clock=clock,
        )
        audio = AudioServices(
            store=aws.store(clock),
            rate_limiter=aws.rate_limiter(clock=clock),
            metrics=audio_metrics,
            processor=AudioProcessor(
                InProcessTranscriber(), audio_metrics, SessionAudioBuffers(256 * 1024, 32)
            ),
            management_apis=apis,
            clock=clock,
        )
        handlers = {
            connection.HANDLER_NAME: connection.build_handler(sessions),
            session_status.HANDLER_NAME: session_status.build_handler(sessions),
            audio_processor.HANDLER_NAME: audio_processor.build_handler(audio),
        }

        def invoke(label: str, event: dict[str, Any]) -> None:
            sink.label = label
            status = handlers[label](event, None)["statusCode"]
            if status >= 400:
                raise RuntimeError(f"{label} answered {status} in the healthy session")

        listeners = [f"listener-{i}" for i in range(LISTENERS)]
        invoke(connection.HANDLER_NAME, connect_event("speaker", "s1", "speaker"))
        for listener in listeners:
            invoke(connection.HANDLER_NAME, connect_event(listener, "s1", "listener"))
        for i in range(AUDIO_CHUNKS):
            body = send_audio_body("s1", CHUNK)
            invoke(audio_processor.HANDLER_NAME, websocket_event("sendAudio", "speaker", body))
            clock.advance(0.1)
            if i == AUDIO_CHUNKS // 2:
                invoke(connection.HANDLER_NAME, message_event("speaker", "pauseBroadcast"))
                invoke(connection.HANDLER_NAME, message_event("speaker", "resumeBroadcast"))
                for listener in listeners:
                    invoke(
                        session_status.HANDLER_NAME, message_event(listener, "getSessionStatus")
                    )
        invoke(session_status.HANDLER_NAME, scheduled_event())
        invoke(connection.HANDLER_NAME, message_event("speaker", "endSession"))
        for connection_id in [*listeners, "speaker"]:
            invoke(connection.HANDLER_NAME, disconnect_event(connection_id))
    return sink.invocations


def main() -> int:
    invocations = capture()
    WORKLOAD_PATH.write_text(json.dumps(invocations, indent=1, sort_keys=True) + "\n")
    for label, calls in invocations.items():
        samples = sum(c for i in calls for s in i["series"] for _, c in s["values"])
        print(f"{label}: {len(calls)} invocations, {samples} samples")
    print(f"wrote {WORKLOAD_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
