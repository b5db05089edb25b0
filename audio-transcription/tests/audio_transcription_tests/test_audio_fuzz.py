"""Hypothesis-generated sendAudio events: the handler always answers with a clean 2xx/4xx,
every message is counted once, and every drop has a reason from the closed set."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as event_stat
from hypothesis import strategies as st

from audio_transcription.handlers import audio_processor
from audio_transcription.metrics_spec import DROP_REASONS
from audio_transcription.services import AudioServices
from session_management.testing.local_aws import LocalAws
from shared_metrics.sinks.memory import MemorySink
from websocket_service.rate_limit import RateLimitPolicy
from websocket_service.testing.metric_snapshot import counted

GENEROUS = RateLimitPolicy(per_window={"control": 10**9, "audio": 10**9, "status": 10**9})

audio_fields = st.one_of(
    st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode()),
    st.sampled_from([b"RIFF\0\0\0\0WAVEfmt ", b"OggS\0\2", b"\1"]).map(
        lambda b: base64.b64encode(b + bytes(30)).decode()
    ),
    st.text(max_size=40),
    st.integers(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)
pcm = st.binary(min_size=1, max_size=200).map(lambda b: base64.b64encode(b * 2).decode())
bodies = st.one_of(
    st.fixed_dictionaries(
        {"action": st.just("sendAudio"), "sessionId": st.sampled_from(["s1", "s2"]), "audio": pcm}
    ).map(json.dumps),
    st.fixed_dictionaries(
        {"action": st.just("sendAudio"), "audio": audio_fields},
        optional={"sessionId": st.one_of(st.sampled_from(["s1", "s2"]), st.text(max_size=70))},
    ).map(json.dumps),
    st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3).map(json.dumps),
    st.text(max_size=60),
)
events = st.fixed_dictionaries(
    {
        "requestContext": st.fixed_dictionaries(
            {
                "routeKey": st.just("sendAudio"),
                "connectionId": st.sampled_from(["speaker-1", "listener-1", "stranger"]),
            }
        ),
        "body": bodies,
    }
)


@pytest.fixture
def fuzz_services(aws: LocalAws, services: AudioServices) -> AudioServices:
    services.rate_limiter.policy = GENEROUS
    assert services.store.create_session("s1", "speaker-1")
    services.store.join_session("s1", "listener-1")
    return services


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(event=events)
def test_any_send_audio_event_gets_a_clean_answer(
    fuzz_services: AudioServices, sink: MemorySink, event: dict[str, Any]
) -> None:
    handler = audio_processor.build_handler(fuzz_services)
    sink.clear()
    response = handler(event, None)
    event_stat(f"status {response['statusCode']}")
    assert 200 <= response["statusCode"] < 500, response
    json.loads(response["body"])
    totals = counted(sink)
    assert totals[("AudioChunksReceived", ())] == 1
    drops = {
        dims[0][1]: n for (name, dims), n in totals.items() if name == "AudioChunksDropped" and dims
    }
    assert set(drops) <= set(DROP_REASONS)
    if response["statusCode"] >= 400:
        assert sum(drops.values()) >= 1  # every refusal says why
    assert ("LambdaErrors", ()) not in totals
