"""The audio spec module: names, units and series as required; the common specs are the very
objects session management declares."""

from __future__ import annotations

import pytest

from audio_transcription import metrics_spec
from session_management import metrics_spec as session_spec
from shared_metrics import Unit
from websocket_service import specs as common_specs

REQUIRED = {
    "AudioChunksReceived": (Unit.COUNT, [()]),
    "AudioChunkSize": (Unit.BYTES, [()]),
    "AudioProcessingLatency": (Unit.MILLISECONDS, [()]),
    "AudioChunksDropped": (Unit.COUNT, [(), ("Reason",)]),
    "AudioBufferOverflows": (Unit.COUNT, [()]),
    "TranscribeStreamInitLatency": (Unit.MILLISECONDS, [()]),
    "TranscribeStreamErrors": (Unit.COUNT, [(), ("ErrorType",)]),
    "TranscribeStreamAttempts": (Unit.COUNT, [()]),
    "RateLimitViolations": (Unit.COUNT, [(), ("MessageType",)]),
    "ConnectionsClosedForRateLimit": (Unit.COUNT, [()]),
    "LambdaErrors": (Unit.COUNT, [(), ("Handler",), ("Handler", "ErrorType")]),
    # The heartbeat of each function's metrics pipeline.
    "HandlerInvocations": (Unit.COUNT, [(), ("Handler",)]),
    # What the stage's alarm subtracts from API Gateway's error counts.
    "ErrorResponses": (Unit.COUNT, [(), ("Handler",)]),
    "DynamoDBErrors": (Unit.COUNT, [(), ("Operation", "ErrorCode")]),
}
CLOSED_DIMENSIONS = {"Reason", "ErrorType", "MessageType", "Handler", "Operation", "ErrorCode"}


def test_namespace() -> None:
    assert metrics_spec.NAMESPACE == "AudioTranscription/WebSocket"


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_required_metric_is_declared_as_specified(name: str) -> None:
    specs = {spec.name: spec for spec in metrics_spec.SPECS}
    unit, sets = REQUIRED[name]
    assert specs[name].unit is unit
    assert list(specs[name].dimension_sets) == sets


def test_exactly_the_required_metrics() -> None:
    assert sorted(spec.name for spec in metrics_spec.SPECS) == sorted(REQUIRED)


def test_aggregate_series_and_closed_dimensions_only() -> None:
    for spec in metrics_spec.SPECS:
        assert () in spec.dimension_sets, spec.name
        assert spec.dimension_keys <= CLOSED_DIMENSIONS, spec.name


def test_common_specs_are_shared_not_copied() -> None:
    for spec in common_specs.COMMON_SPECS:
        assert spec in metrics_spec.SPECS and spec in session_spec.SPECS
    assert metrics_spec.RATE_LIMIT_VIOLATIONS is session_spec.RATE_LIMIT_VIOLATIONS


def test_alarmed_specs() -> None:
    assert {spec.name for spec in metrics_spec.ALARMED} == {
        "AudioProcessingLatency",
        "TranscribeStreamErrors",
        "TranscribeStreamAttempts",
        "AudioBufferOverflows",
        "RateLimitViolations",
        "DynamoDBErrors",
        "ConnectionsClosedForRateLimit",
    }
    assert set(metrics_spec.ALARMED) <= set(metrics_spec.SPECS)


@pytest.mark.parametrize(
    "allowed", [metrics_spec.DROP_REASONS, metrics_spec.TRANSCRIBE_ERROR_TYPES]
)
def test_closed_sets(allowed: tuple[str, ...]) -> None:
    assert "Other" in allowed and len(set(allowed)) == len(allowed)
    assert metrics_spec.closed("Anything a client sends", allowed) == "Other"


def test_the_handler_records_under_a_name_of_the_services_handlers() -> None:
    # Named outside HANDLERS, it would be recorded as Other, and its per-function error-rate
    # alarm (LambdaErrors by Handler) would see nothing.
    from audio_transcription.handlers import audio_processor

    assert {audio_processor.HANDLER_NAME} == set(metrics_spec.HANDLERS) - {common_specs.OTHER}
