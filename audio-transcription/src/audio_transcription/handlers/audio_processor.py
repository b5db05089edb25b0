"""Lambda: the speaker's audio, ``sendAudio`` route.

Message: ``{"action": "sendAudio", "sessionId": "...", "audio": "<base64 PCM16 mono 16 kHz>"}``

| outcome                                   | status | AudioChunksDropped Reason        |
|-------------------------------------------|--------|----------------------------------|
| forwarded to Transcribe                   | 200    | -                                |
| buffered (Transcribe failing or slow)     | 202    | BufferFull for evicted old audio |
| not JSON / fields missing or wrong type   | 400    | InvalidPayload                   |
| not base64 / < 2 bytes / odd length       | 400    | NotDecodable / TooSmall / Misaligned |
| > 32 KiB decoded                          | 413    | TooLarge                         |
| a WAV/Ogg/FLAC/MP3/MP4 file               | 415    | NotPcm                           |
| unknown session / not its speaker         | 404/403| SessionNotFound / NotSpeaker     |
| session paused, muted or ended            | 409    | SessionPaused / SessionMuted / SessionEnded |
| over the per-connection rate limit        | 429    | RateLimited                      |

Every message counts in AudioChunksReceived (and, once decoded, AudioChunkSize).
"""

from __future__ import annotations

from audio_transcription.audio_chunk import AudioMessage, ChunkRejected, parse_send_audio
from audio_transcription.routes import SEND_AUDIO
from audio_transcription.services import AudioServices
from session_management.session_model import SessionState
from websocket_service.events import (
    RequestError,
    WebSocketRequest,
    respond,
)
from websocket_service.handler_guard import LazyHandler, websocket_handler
from websocket_service.message_types import AUDIO
from websocket_service.rate_limit import enforce_rate_limit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from websocket_service.handler_guard import LambdaHandler

HANDLER_NAME = "audio_processor"


def build_handler(services: AudioServices) -> LambdaHandler:
    return websocket_handler(
        HANDLER_NAME, services.metrics, lambda request: _send_audio(services, request)
    )


# The Lambda entry point (audio_processor.handler); services are built on the first invocation.
handler = LazyHandler(HANDLER_NAME, lambda: build_handler(AudioServices.from_env()))


def _send_audio(services: AudioServices, request: WebSocketRequest) -> dict[str, Any]:
    metrics = services.metrics
    parsed = _read_message(request)
    if isinstance(parsed, AudioMessage):
        metrics.emit_audio_chunk_received(parsed.session_id, len(parsed.audio))
    else:
        metrics.emit_audio_chunk_received(parsed.session_id, parsed.size)
    # Invalid chunks count against the limit too: abuse should not be free because it is
    # malformed.
    if not enforce_rate_limit(
        services.rate_limiter,
        metrics,
        services.connection_closer(request),
        request.connection_id,
        AUDIO,
    ):
        metrics.emit_audio_chunk_dropped(parsed.session_id, "RateLimited")
        raise RequestError(429, "RateLimited", "too many audio chunks; slow down")
    if isinstance(parsed, ChunkRejected):
        metrics.emit_audio_chunk_dropped(parsed.session_id, parsed.reason)
        raise parsed.request_error()
    with metrics.time_audio_processing():
        return _process(services, request, parsed)


def _read_message(request: WebSocketRequest) -> AudioMessage | ChunkRejected:
    try:
        body = request.json_body()
        if body.get("action", SEND_AUDIO) != SEND_AUDIO:
            raise RequestError(400, "UnknownAction", "this route only takes action 'sendAudio'")
        return parse_send_audio(body)
    except RequestError as exc:
        return ChunkRejected("InvalidPayload", exc.status, exc.code, exc.message)
    except ChunkRejected as exc:
        return exc


def _process(
    services: AudioServices, request: WebSocketRequest, message: AudioMessage
) -> dict[str, Any]:
    metrics = services.metrics
    session_id = message.session_id
    session = services.store.get_session(session_id)
    if session is None:
        raise _dropped(services, session_id, "SessionNotFound", 404, "no such session")
    if session.speaker_connection_id != request.connection_id:
        raise _dropped(
            services, session_id, "NotSpeaker", 403, "only the session's speaker may send audio"
        )
    if session.ended:
        # Audio still waiting for an ended session will never be transcribed.
        leftover = services.processor.end_session(session_id)
        if leftover:
            metrics.emit_audio_chunk_dropped(session_id, "SessionEnded", leftover)
        raise _dropped(services, session_id, "SessionEnded", 409, "the session has ended")
    if session.state is SessionState.PAUSED:
        raise _dropped(services, session_id, "SessionPaused", 409, "the broadcast is paused")
    if session.muted:
        raise _dropped(services, session_id, "SessionMuted", 409, "the broadcast is muted")

    result = services.processor.process(session_id, message.audio)
    accepted = result.error_type is None
    return respond(
        200 if accepted else 202,
        {
            "type": "audioAccepted" if accepted else "audioBuffered",
            "sessionId": session_id,
            "bytes": len(message.audio),
            "forwarded": result.forwarded,
            "pending": result.pending,
        },
    )


def _dropped(
    services: AudioServices, session_id: str, reason: str, status: int, message: str
) -> RequestError:
    services.metrics.emit_audio_chunk_dropped(session_id, reason)
    return RequestError(status, reason, message)
