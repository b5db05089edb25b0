"""`Transcriber` on Amazon Transcribe streaming, through the `amazon-transcribe` SDK.

The SDK is asyncio-based (HTTP/2 over awscrt); a Lambda handler is synchronous. This
adapter runs one event loop in a daemon thread per Lambda environment and hands it work
with `asyncio.run_coroutine_threadsafe`, waiting at most ``timeout_seconds`` for each step,
so a slow Transcribe costs the invocation a bounded time and becomes a `Timeout` error.

Streams outlive invocations in a warm environment (the loop thread is frozen with it in
between); Transcribe ends a stream after ~15 s without audio, which the next send reports
as an error, after which the caller opens a new stream. Transcripts are read from each
stream's output in the loop and handed to ``on_transcript``.

The SDK (and awscrt, its native core) is imported on first use only, so importing this
module is free for functions and tests that never open a stream.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from audio_transcription.transcriber import (
    StreamSettings,
    TranscriptCallback,
    TranscriptionError,
    TranscriptionStream,
)

T = TypeVar("T")

# SDK/awscrt exception class names that are not "<ErrorType>Exception".
_ERROR_TYPES_BY_CLASS = {
    "AwsCrtError": "Connection",
    "HTTPException": "Connection",
    "CredentialsException": "Credentials",
    "TimeoutError": "Timeout",
    "UnknownServiceException": "Other",
}


def error_type_of(exc: BaseException) -> str:
    """The ErrorType dimension value for an SDK exception (closed set; see metrics_spec)."""
    name = type(exc).__name__
    mapped = _ERROR_TYPES_BY_CLASS.get(name)
    if mapped is not None:
        return mapped
    # BadRequestException -> BadRequest, LimitExceededException -> LimitExceeded, ...
    return name.removesuffix("Exception")


class AmazonTranscribeStreaming:
    """Opens one Transcribe streaming session per speaker session."""

    def __init__(
        self,
        region: str,
        settings: StreamSettings | None = None,
        *,
        on_transcript: TranscriptCallback | None = None,
        endpoint_url: str | None = None,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.region = region
        self.settings = settings or StreamSettings()
        self.on_transcript = on_transcript
        self.endpoint_url = endpoint_url
        self.timeout_seconds = timeout_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self._lock = threading.Lock()

    def start_stream(self, session_id: str) -> TranscriptionStream:
        async def start() -> _SdkStream:
            stream = await self._sdk_client().start_stream_transcription(
                language_code=self.settings.language_code,
                media_sample_rate_hz=self.settings.sample_rate_hz,
                media_encoding=self.settings.media_encoding,
            )
            sdk_stream = _SdkStream(self, session_id, stream)
            sdk_stream.start_reading()
            return sdk_stream

        return self.run(start())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the adapter's loop; SDK failures become `TranscriptionError`."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._event_loop())
        try:
            return future.result(self.timeout_seconds)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TranscriptionError(
                "Timeout", f"Transcribe did not answer within {self.timeout_seconds} s"
            ) from None
        except TranscriptionError:
            raise
        except Exception as exc:
            raise TranscriptionError(error_type_of(exc), str(exc) or type(exc).__name__) from exc

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="transcribe-loop", daemon=True
                ).start()
                self._loop = loop
            return self._loop

    def _sdk_client(self) -> Any:
        # Runs on the loop thread (one at a time): the SDK wraps awscrt futures for asyncio.
        if self._client is None:
            from amazon_transcribe.client import TranscribeStreamingClient
            from amazon_transcribe.endpoints import StaticEndpointResolver

            resolver = StaticEndpointResolver(self.endpoint_url) if self.endpoint_url else None
            self._client = TranscribeStreamingClient(region=self.region, endpoint_resolver=resolver)
        return self._client


class _SdkStream:
    """One open StartStreamTranscription event stream."""

    def __init__(self, owner: AmazonTranscribeStreaming, session_id: str, stream: Any) -> None:
        self._owner = owner
        self._session_id = session_id
        self._stream = stream
        self._reader: asyncio.Task[None] | None = None
        self._failure: TranscriptionError | None = None
        self._closed = False

    def start_reading(self) -> None:
        """Consume the transcript events (runs on the loop; the SDK needs them read)."""
        self._reader = asyncio.get_running_loop().create_task(self._read_transcripts())

    async def _read_transcripts(self) -> None:
        from amazon_transcribe.model import TranscriptEvent

        try:
            async for event in self._stream.output_stream:
                if not isinstance(event, TranscriptEvent):
                    continue
                callback = self._owner.on_transcript
                for result in event.transcript.results:
                    if callback is not None and result.alternatives:
                        callback(
                            self._session_id,
                            result.alternatives[0].transcript,
                            bool(result.is_partial),
                        )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the stream failed on the service side
            self._failure = TranscriptionError(error_type_of(exc), str(exc) or repr(exc))

    def send_audio(self, chunk: bytes) -> None:
        if self._closed:
            raise TranscriptionError("Other", "the stream is closed")
        if self._failure is not None:  # reported once; the caller then opens a new stream
            failure = self._failure
            self._abandon()
            raise failure
        try:
            self._owner.run(self._stream.input_stream.send_audio_event(audio_chunk=chunk))
        except TranscriptionError:
            self._abandon()
            raise

    def close(self) -> None:
        """End the audio stream properly (Transcribe then finalizes the transcript)."""
        if self._closed:
            return
        try:
            self._owner.run(self._stream.input_stream.end_stream())
        except TranscriptionError:  # noqa: S110 - the stream is being let go anyway
            pass
        self._abandon()

    def _abandon(self) -> None:
        # A failed stream is not ended politely: that would only wait for another timeout.
        self._closed = True
        reader = self._reader
        if reader is not None and not reader.done():
            reader.get_loop().call_soon_threadsafe(reader.cancel)
