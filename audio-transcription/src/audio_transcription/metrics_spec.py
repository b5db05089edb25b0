"""Every metric of `AudioTranscription/WebSocket`: the single place its name, unit and series
are written. The emitter (`audio_transcription.metrics`), the alarms and the dashboard read it.

Dimension policy as in `session_management.metrics_spec`: the aggregate series always, plus
one low-cardinality dimension from a closed set where it helps; session ids only as EMF log
properties. The metrics every WebSocket service publishes are declared once in
`websocket_service.specs` and re-exported here; `HANDLERS` names this
service's handlers.
"""

from __future__ import annotations

from shared_metrics import MetricSpec, Unit
from websocket_service.specs import (
    COMMON_ALARMED,
    COMMON_SPECS,
    CONNECTIONS_CLOSED_FOR_RATE_LIMIT,
    DYNAMODB_ERRORS,
    LAMBDA_ERRORS,
    OTHER,
    RATE_LIMIT_VIOLATIONS,
    closed,
)

NAMESPACE = "AudioTranscription/WebSocket"

# The Lambda functions of this service (their handler modules), for LambdaErrors.
HANDLERS = ("audio_processor", OTHER)

# -- closed sets ----------------------------------------------------------------------------

# Why an audio chunk did not reach Transcribe.
DROP_REASONS = (
    "TooLarge",  # over 32 KiB decoded (Transcribe's limit per audio event)
    "TooSmall",  # under one sample
    "Misaligned",  # odd length: not whole 16-bit samples
    "NotDecodable",  # not base64
    "NotPcm",  # a container (WAV, Ogg, FLAC, MP3, MP4) instead of raw PCM
    "InvalidPayload",  # not JSON, or fields missing / of the wrong type
    "SessionNotFound",
    "NotSpeaker",
    "SessionPaused",
    "SessionMuted",
    "SessionEnded",
    "BufferFull",  # evicted from a full per-session buffer (oldest audio first)
    "RateLimited",
    OTHER,
)

# Why a Transcribe stream failed (the SDK's exception names without "Exception").
TRANSCRIBE_ERROR_TYPES = (
    "BadRequest",
    "LimitExceeded",
    "InternalFailure",
    "Conflict",
    "ServiceUnavailable",
    "Serialization",
    "Credentials",
    "Timeout",
    "Connection",
    OTHER,
)

# -- specs ------------------------------------------------------------------------------------

AUDIO_CHUNKS_RECEIVED = MetricSpec(
    "AudioChunksReceived",
    Unit.COUNT,
    [[]],
    "sendAudio messages received, dropped ones included.",
)
AUDIO_CHUNK_SIZE = MetricSpec(
    "AudioChunkSize",
    Unit.BYTES,
    [[]],
    "Decoded size of each received audio chunk.",
)
AUDIO_PROCESSING_LATENCY = MetricSpec(
    "AudioProcessingLatency",
    Unit.MILLISECONDS,
    [[]],
    "Time from a valid chunk to its hand-off: session checks, buffering and forwarding to "
    "Transcribe (raw values: p50/p95/p99 are computable).",
)
AUDIO_CHUNKS_DROPPED = MetricSpec(
    "AudioChunksDropped",
    Unit.COUNT,
    [[], ["Reason"]],
    "Audio chunks that never reached Transcribe, by reason.",
)
AUDIO_BUFFER_OVERFLOWS = MetricSpec(
    "AudioBufferOverflows",
    Unit.COUNT,
    [[]],
    "Chunks that found their session's buffer full (older audio was evicted for them).",
)
TRANSCRIBE_STREAM_INIT_LATENCY = MetricSpec(
    "TranscribeStreamInitLatency",
    Unit.MILLISECONDS,
    [[]],
    "Time to open a Transcribe streaming session, failed attempts included.",
)
TRANSCRIBE_STREAM_ATTEMPTS = MetricSpec(
    "TranscribeStreamAttempts",
    Unit.COUNT,
    [[]],
    "Transcribe streams opened or attempted: the denominator of the stream error rate.",
)
TRANSCRIBE_STREAM_ERRORS = MetricSpec(
    "TranscribeStreamErrors",
    Unit.COUNT,
    [[], ["ErrorType"]],
    "Transcribe streams that failed, at start or while streaming (at most one per attempt).",
)

SPECS = (
    AUDIO_CHUNKS_RECEIVED,
    AUDIO_CHUNK_SIZE,
    AUDIO_PROCESSING_LATENCY,
    AUDIO_CHUNKS_DROPPED,
    AUDIO_BUFFER_OVERFLOWS,
    TRANSCRIBE_STREAM_INIT_LATENCY,
    TRANSCRIBE_STREAM_ATTEMPTS,
    TRANSCRIBE_STREAM_ERRORS,
    *COMMON_SPECS,
)

# The specs the CloudWatch alarms watch (on their aggregate series).
ALARMED = (
    AUDIO_PROCESSING_LATENCY,
    TRANSCRIBE_STREAM_ERRORS,
    TRANSCRIBE_STREAM_ATTEMPTS,
    AUDIO_BUFFER_OVERFLOWS,
    *COMMON_ALARMED,
)

__all__ = [
    "ALARMED",
    "AUDIO_BUFFER_OVERFLOWS",
    "AUDIO_CHUNKS_DROPPED",
    "AUDIO_CHUNKS_RECEIVED",
    "AUDIO_CHUNK_SIZE",
    "AUDIO_PROCESSING_LATENCY",
    "CONNECTIONS_CLOSED_FOR_RATE_LIMIT",
    "DROP_REASONS",
    "DYNAMODB_ERRORS",
    "LAMBDA_ERRORS",
    "HANDLERS",
    "NAMESPACE",
    "RATE_LIMIT_VIOLATIONS",
    "SPECS",
    "TRANSCRIBE_ERROR_TYPES",
    "TRANSCRIBE_STREAM_ATTEMPTS",
    "TRANSCRIBE_STREAM_ERRORS",
    "TRANSCRIBE_STREAM_INIT_LATENCY",
    "closed",
]
