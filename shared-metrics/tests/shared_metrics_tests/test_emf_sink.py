"""EMF output parsed back and checked against every rule of the specification."""

from __future__ import annotations

import io
import json
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared_metrics import MetricsEmitter, MetricSpec, Unit
from shared_metrics.sinks.emf import EmfSink
from shared_metrics.testing.emf_reader import EmfSpecViolation, parse_event, read_datapoints

NS = "AudioTranscription/WebSocket"


def emitter_on(stream: io.StringIO, **kwargs: object) -> MetricsEmitter:
    return MetricsEmitter(NS, EmfSink(stream), flush_at_exit=False, **kwargs)  # type: ignore[arg-type]


def test_one_event_carries_both_dimension_sets_and_properties() -> None:
    latency = MetricSpec("AudioProcessingLatency", Unit.MILLISECONDS, [[], ["SessionId"]])
    stream = io.StringIO()
    emitter = emitter_on(stream, clock=lambda: 1_800_000_012.5)
    emitter.record(latency, 12, {"SessionId": "abc"})
    emitter.record(latency, 15.5, {"SessionId": "abc"})
    emitter.set_property("RequestId", "req-1")
    emitter.flush()
    (line,) = stream.getvalue().splitlines()
    doc = parse_event(line)
    assert doc["_aws"]["Timestamp"] == 1_800_000_000 * 1000  # start of the minute, in ms
    (directive,) = doc["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": NS,
        "Dimensions": [[], ["SessionId"]],
        "Metrics": [{"Name": "AudioProcessingLatency", "Unit": "Milliseconds"}],
    }
    assert doc["SessionId"] == "abc" and doc["RequestId"] == "req-1"
    assert sorted(doc["AudioProcessingLatency"]) == [12, 15.5]


def test_small_groups_of_one_flush_share_an_event_unless_their_root_keys_clash() -> None:
    """The EMF specification allows several directives per event; dimension values and
    metric values are root keys, so two groups that need one key with different contents
    cannot share an event."""
    chunks = MetricSpec("AudioChunksReceived", Unit.COUNT, [[]])
    dropped = MetricSpec("AudioChunksDropped", Unit.COUNT, [[], ["Reason"]])
    invocations = MetricSpec("HandlerInvocations", Unit.COUNT, [["Handler"]])
    stream = io.StringIO()
    emitter = emitter_on(stream, clock=lambda: 1_800_000_012.5)
    emitter.record(chunks, 1)
    emitter.record(dropped, 1, {"Reason": "TooLarge"})
    emitter.record(invocations, 1, {"Handler": "audio_processor"})
    emitter.set_property("SessionId", "s-1")
    emitter.flush()
    (line,) = stream.getvalue().splitlines()
    doc = parse_event(line)
    assert sorted(
        (tuple(map(tuple, d["Dimensions"])), tuple(m["Name"] for m in d["Metrics"]))
        for d in doc["_aws"]["CloudWatchMetrics"]
    ) == [
        (((),), ("AudioChunksReceived",)),
        (((), ("Reason",)), ("AudioChunksDropped",)),
        ((("Handler",),), ("HandlerInvocations",)),
    ]
    assert (doc["Reason"], doc["Handler"]) == ("TooLarge", "audio_processor")
    assert doc["SessionId"] == "s-1"

    # The same metric under two reasons: two events (one root key, two values).
    emitter.record(dropped, 1, {"Reason": "TooLarge"})
    emitter.record(dropped, 1, {"Reason": "SessionEnded"})
    emitter.flush()
    later = [parse_event(x) for x in stream.getvalue().splitlines()[1:]]
    assert sorted(d["Reason"] for d in later) == ["SessionEnded", "TooLarge"]


def test_high_resolution_is_declared_and_bucketed_per_second() -> None:
    spec = MetricSpec("Fast", Unit.COUNT, storage_resolution=1)
    stream = io.StringIO()
    now = [100.2]
    emitter = emitter_on(stream, clock=lambda: now[0])
    emitter.count(spec)
    now[0] = 101.7
    emitter.count(spec)
    emitter.flush()
    docs = [parse_event(line) for line in stream.getvalue().splitlines()]
    assert [d["_aws"]["Timestamp"] for d in docs] == [100_000, 101_000]
    assert docs[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["StorageResolution"] == 1


def test_limits_hold_for_many_metrics_values_and_long_dimensions() -> None:
    # 150 metrics x 250 distinct values, 1000-char dimension values: needs splitting on the
    # metric count, the value count and the 256 KB size all at once.
    specs = [MetricSpec(f"Metric{i:03d}", Unit.BYTES, [[], ["A", "B"]]) for i in range(150)]
    dims = {"A": "a" * 1000, "B": "b" * 1000}
    stream = io.StringIO()
    emitter = emitter_on(stream, flush_threshold=100_000, max_buffered_values=200_000)
    expected: Counter[float] = Counter()
    for spec in specs:
        for v in range(250):
            emitter.record(spec, v * 1.000001, dims)
            expected[v * 1.000001] += 1
    emitter.flush()
    lines = stream.getvalue().splitlines()
    assert len(lines) > 3
    points = read_datapoints(lines)  # raises on any violated rule
    assert len(points) == 300  # 150 metrics x 2 dimension sets
    for spec in specs:
        assert points[(NS, spec.name, ())] == expected_per_metric()
    assert emitter.stats().delivered == 150 * 250 * 2


def expected_per_metric() -> Counter[float]:
    return Counter({v * 1.000001: 1 for v in range(250)})


def test_repeated_value_is_expanded_because_emf_has_no_counts() -> None:
    spec = MetricSpec("Chunks")
    stream = io.StringIO()
    emitter = emitter_on(stream)
    for _ in range(250):
        emitter.count(spec)
    emitter.flush()
    lines = stream.getvalue().splitlines()
    assert [len(json.loads(line)["Chunks"]) for line in lines] == [100, 100, 50]
    assert read_datapoints(lines)[(NS, "Chunks", ())] == Counter({1: 250})


def test_oversized_properties_give_way_to_the_metric() -> None:
    spec = MetricSpec("Chunks")
    stream = io.StringIO()
    emitter = emitter_on(stream)
    emitter.set_property("Blob", "x" * 300_000)
    emitter.count(spec)
    emitter.flush()
    (line,) = stream.getvalue().splitlines()
    doc = parse_event(line)
    assert "Blob" not in doc and doc["Chunks"] == [1]


def test_write_failure_keeps_data_for_the_next_flush() -> None:
    class Broken(io.StringIO):
        def write(self, s: str) -> int:
            raise OSError("disk full")

    spec = MetricSpec("Chunks")
    sink = EmfSink(Broken())
    emitter = MetricsEmitter(NS, sink, flush_at_exit=False)
    emitter.count(spec)
    emitter.flush()
    assert emitter.stats().buffered == 1 and emitter.stats().publish_failures == 1
    good = io.StringIO()
    sink._stream = good
    emitter.flush()
    assert read_datapoints(good.getvalue().splitlines())[(NS, "Chunks", ())] == Counter({1: 1})


def test_a_sink_shared_by_two_namespaces_writes_each_its_own_directives() -> None:
    # The sink keeps each layout's directives as JSON; the namespace is part of the layout.
    spec = MetricSpec("HandlerInvocations", Unit.COUNT, [[], ["Handler"]])
    stream = io.StringIO()
    sink = EmfSink(stream)
    for namespace in ("SessionManagement/WebSocket", "AudioTranscription/WebSocket") * 2:
        emitter = MetricsEmitter(namespace, sink, flush_at_exit=False)
        emitter.count(spec, 1, {"Handler": "h"})
        emitter.flush()
    namespaces = [
        directive["Namespace"]
        for line in stream.getvalue().splitlines()
        for directive in parse_event(line)["_aws"]["CloudWatchMetrics"]
    ]
    assert namespaces == ["SessionManagement/WebSocket", "AudioTranscription/WebSocket"] * 2


def test_each_event_is_the_compact_json_of_its_document() -> None:
    # The event is assembled from the root's JSON and the directives' kept JSON: it must be
    # what encoding the whole document at once writes ("_aws" its last member).
    stream = io.StringIO()
    emitter = emitter_on(stream, clock=lambda: 1_800_000_012.5)
    specs = [MetricSpec(f"M{i}", Unit.MILLISECONDS, [[], ["SessionId"]]) for i in range(3)]
    for i in range(300):
        # Layouts that change with every flush: what is kept of them stays bounded.
        emitter.set_property("RequestId", f"r-{i}")
        for spec in specs[: 1 + i % 3]:
            emitter.record(spec, i / 7, {"SessionId": f"s-{i % 5}"})
        emitter.record(MetricSpec(f"Once{i}", Unit.COUNT), 1)
        emitter.flush()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 300
    for line in lines:
        doc = parse_event(line)
        assert list(doc)[-1] == "_aws"
        assert line == json.dumps(doc, separators=(",", ":"), allow_nan=False)
    assert len(emitter.sink._directives) <= 256  # type: ignore[attr-defined]


def test_a_property_that_came_to_contain_itself_is_dropped_as_before() -> None:
    # Checked when it is set; a mutable value changed afterwards cannot be encoded: its
    # group is dropped and counted, and the emitter carries on.
    context: dict[str, object] = {"user": "u-1"}
    stream = io.StringIO()
    emitter = emitter_on(stream)
    assert emitter.set_property("Context", context)
    context["self"] = context
    emitter.count(MetricSpec("Chunks"))
    result = emitter.flush()
    assert result is not None and [d.reason for d in result.discarded] == ["emf_encoding_error"]
    assert emitter.stats().dropped == {"emf_encoding_error": 1} and stream.getvalue() == ""
    emitter.count(MetricSpec("Chunks"))
    emitter.flush()
    assert parse_event(stream.getvalue().splitlines()[0])["Chunks"] == [1]


def test_reader_rejects_invalid_documents() -> None:
    # The checker itself must be able to fail, or the tests above prove nothing.
    good = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {"Namespace": "N", "Dimensions": [["D"]], "Metrics": [{"Name": "M"}]}
            ],
        },
        "D": "x",
        "M": [1],
    }
    parse_event(json.dumps(good))
    for mutate in (
        lambda d: d.update(M=[float("nan")]),
        lambda d: d.update(M=list(range(101))),
        lambda d: d.pop("D"),
        lambda d: d["_aws"].pop("Timestamp"),
        lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"].extend([{"Name": "M"}] * 100),
        lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].update(Unit="Parsecs"),
    ):
        doc = json.loads(json.dumps(good))
        mutate(doc)
        with pytest.raises((EmfSpecViolation, ValueError)):
            parse_event(json.dumps(doc))


def _event(namespace: str = "N", dimension_keys: int = 1, padding: int = 0) -> str:
    keys = [f"D{i}" for i in range(dimension_keys)]
    doc: dict[str, object] = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {"Namespace": namespace, "Dimensions": [keys], "Metrics": [{"Name": "M"}]}
            ],
        },
        "M": [1],
        **{k: "x" for k in keys},
    }
    if padding:
        doc["Padding"] = "p" * padding
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("line", "phrase"),
    [
        # The EMF specification's limits and CloudWatch's namespace rules (cloudwatch-facts).
        (_event(padding=256 * 1024), "> 256 KB"),
        (_event(dimension_keys=31), "31 keys > 30"),
        (_event(namespace=""), "Namespace invalid"),
        (_event(namespace="N" * 256), "Namespace invalid"),
        (_event(namespace="AWS/Lambda"), "must not start with AWS/"),
        (_event(namespace="Caf\u00e9"), "ASCII"),
        (_event(namespace=":Leading"), "must not start with ':'"),
    ],
    ids=[
        "event over 256 KB",
        "31 dimension keys",
        "empty namespace",
        "256-char namespace",
        "AWS/ namespace",
        "non-ASCII namespace",
        "leading colon",
    ],
)
def test_reader_rejects_what_cloudwatch_would(line: str, phrase: str) -> None:
    with pytest.raises(EmfSpecViolation, match=re.escape(phrase)):
        parse_event(line)


def test_reader_accepts_the_limits_themselves() -> None:
    parse_event(_event(dimension_keys=30))
    parse_event(_event(namespace="N" * 255))
    line = _event(padding=1)
    parse_event(_event(padding=256 * 1024 - len(line)))


names = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.tuples(
            st.integers(0, 4),
            st.floats(-1e12, 1e12, allow_nan=False) | st.integers(-(10**6), 10**6),
            st.sampled_from(["s1", "s2", "s" * 1024]),
        ),
        max_size=400,
    ),
)
def test_any_recording_round_trips_through_valid_emf(values: list[tuple[int, float, str]]) -> None:
    specs = [MetricSpec(f"M{i}", Unit.COUNT, [[], ["SessionId"]]) for i in range(5)]
    stream = io.StringIO()
    emitter = emitter_on(stream, flush_threshold=37)
    expected: dict[tuple[str, tuple[tuple[str, str], ...]], Counter[float]] = {}
    for index, value, session in values:
        assert emitter.record(specs[index], value, {"SessionId": session})
        for dims in ((), (("SessionId", session),)):
            expected.setdefault((specs[index].name, dims), Counter())[value] += 1
    emitter.flush()
    points = read_datapoints(stream.getvalue().splitlines())
    assert {(name, dims): c for (_, name, dims), c in points.items()} == expected
