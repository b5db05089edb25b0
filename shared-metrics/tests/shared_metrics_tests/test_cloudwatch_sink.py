"""CloudWatchSink: packing to PutMetricData's limits, delivery, faults and failure accounting.

Network tests talk real HTTP on 127.0.0.1 to moto's server (`AwsEmulator`), optionally
through `FaultProxy`. moto does not enforce CloudWatch's limits and matches dimensions
loosely, so limits are judged by the properties below (and by botocore's own serializers),
never by moto, and data is read back per concrete dimension set only.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_metrics import MetricsEmitter, MetricSpec, Unit, limits
from shared_metrics.series import Series, SeriesBatch
from shared_metrics.sinks.base import PublishResult
from shared_metrics.sinks.cloudwatch import CloudWatchSink
from shared_metrics.testing.aws_emulator import EMULATOR_ENV, AwsEmulator, unused_loopback_url
from shared_metrics.testing.fault_proxy import FaultProxy

REGION = EMULATOR_ENV["AWS_DEFAULT_REGION"]
NOW = 1_800_000_000.0  # the sink's clock in the offline packing tests
OLDEST = NOW - limits.MAX_TIMESTAMP_AGE_SECONDS
NEWEST = NOW + limits.MAX_TIMESTAMP_FUTURE_SECONDS


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsEmulator]:
    with AwsEmulator() as emulator:
        yield emulator


@pytest.fixture
def emulator_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, so clients the sink creates never look for real ones."""
    for key, value in EMULATOR_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def cw(aws: AwsEmulator, emulator_env: None) -> Any:
    """A CloudWatch client on a freshly reset emulator."""
    aws.reset()
    return aws.client("cloudwatch")


def new_namespace() -> str:
    return f"Test/{uuid.uuid4().hex[:12]}"


def read_back(cw: Any, namespace: str, metric: str, dims: dict[str, str]) -> tuple[float, ...]:
    """(SampleCount, Sum, Minimum, Maximum) of one concrete dimension set, over all periods."""
    now = datetime.now(UTC)
    points = cw.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=now - timedelta(hours=3),
        EndTime=now + timedelta(hours=3),
        Period=60,
        Statistics=["SampleCount", "Sum", "Minimum", "Maximum"],
    )["Datapoints"]
    if not points:
        return (0.0, 0.0, math.nan, math.nan)
    return (
        sum(p["SampleCount"] for p in points),
        sum(p["Sum"] for p in points),
        min(p["Minimum"] for p in points),
        max(p["Maximum"] for p in points),
    )


def expected_stats(values: list[float]) -> tuple[float, ...]:
    # Test values are small multiples of 1/4: every sum is exact in any order.
    return (float(len(values)), float(sum(values)), min(values), max(values))


def flush_until_empty(emitter: MetricsEmitter, max_flushes: int = 40) -> int:
    for n in range(1, max_flushes + 1):
        emitter.flush()
        if emitter.stats().buffered == 0:
            return n
    raise AssertionError(f"still buffered after {max_flushes} flushes: {emitter.stats()}")


def assert_accounting(emitter: MetricsEmitter) -> None:
    s = emitter.stats()
    assert s.datapoints == s.delivered + s.dropped_total + s.buffered, s


def body_sizes(request: Any) -> tuple[int, int]:
    """(bytes on the wire, bytes once decompressed) of a prepared botocore request."""
    body = request.body
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):  # a file-like body
        body = body.read()
    encoding = request.headers.get("Content-Encoding", b"")
    if isinstance(encoding, bytes):
        encoding = encoding.decode()
    raw = gzip.decompress(body) if "gzip" in encoding else body
    return len(body), len(raw)


# -- 1. packing properties (offline) --------------------------------------------------------

_DIM_KEYS = [f"D{i}" for i in range(27)] + ["Session Id", 'Q"k', "a&b=c", "x\\y"]
# Characters that cost more than one byte in some wire encoding botocore may use: `"` and `\`
# (JSON escapes), control characters (JSON \u00XX), `&`, `=`, `%`, ` ` (query percent-encoding).
_FILL_CHARS = ["a", "Z", '"', "\\", "\x01", "\x1f", "&", "%", " ", "/"]


def _serializers() -> tuple[Any, dict[str, Any]]:
    import botocore.session
    from botocore.serialize import SERIALIZERS, create_serializer

    model = botocore.session.get_session().get_service_model("cloudwatch")
    operation = model.operation_model("PutMetricData")
    protocols = [p for p in ("json", "query", "smithy-rpc-v2-cbor") if p in SERIALIZERS]
    return operation, {p: create_serializer(p, include_validation=False) for p in protocols}


def encoded_sizes(namespace: str, metric_data: list[dict[str, Any]]) -> dict[str, int]:
    """Uncompressed PutMetricData body size in each protocol botocore may pick for CloudWatch."""
    from botocore.utils import percent_encode_sequence

    operation, serializers = _SERIALIZERS
    sizes = {}
    for protocol, serializer in serializers.items():
        request = serializer.serialize_to_request(
            {"Namespace": namespace, "MetricData": metric_data}, operation
        )
        body = request["body"]
        if isinstance(body, dict):  # awsquery: form-encoded later by botocore
            body = percent_encode_sequence(body)
        sizes[protocol] = len(body)
    return sizes


_SERIALIZERS = _serializers()


@st.composite
def dimension_value(draw: st.DrawFn, index: int) -> str:
    """Up to 1024 ASCII characters, not only whitespace, unique per `index`."""
    suffix = f"#{index}"
    style = draw(st.sampled_from(["short", "long", "text"]))
    if style == "text":
        text = draw(
            st.text(st.characters(min_codepoint=0, max_codepoint=127), min_size=1, max_size=40)
        )
        return (text + suffix)[-limits.MAX_DIMENSION_VALUE_LENGTH :]
    fill = draw(st.sampled_from(_FILL_CHARS))
    length = draw(st.integers(1, 8) if style == "short" else st.integers(900, 1024))
    return fill * max(0, length - len(suffix)) + suffix


def _values(rnd: random.Random, n: int, specials: list[float]) -> dict[float, int]:
    values: dict[float, int] = {}
    for special in specials[:n]:
        values[special] = values.get(special, 0) + rnd.randint(1, 5)
    while len(values) < n:
        kind = rnd.random()
        if kind < 0.5:
            v: float = rnd.uniform(-1e6, 1e6)
        elif kind < 0.7:
            v = rnd.randint(-(2**53), 2**53)  # ints as recorded; exactly representable
        elif kind < 0.85:
            v = rnd.uniform(-1.0, 1.0) * 10.0 ** rnd.randint(-300, 108)
        else:
            v = float(rnd.randint(0, 200)) / 4
        values[v] = rnd.choice([1, 1, 2, 7, 1000, 10**9])
    return values


class PackCase:
    """Batches for `_pack`, with a short repr (the full data can be megabytes)."""

    def __init__(self, batches: list[SeriesBatch], max_bytes: int, namespace: str) -> None:
        self.batches = batches
        self.max_bytes = max_bytes
        self.namespace = namespace

    def __repr__(self) -> str:
        specs = {b.series.spec for b in self.batches}
        longest = max((len(v) for b in self.batches for _, v in b.series.dimensions), default=0)
        return (
            f"PackCase({len(self.batches)} batches, specs={sorted(specs, key=repr)}, "
            f"distinct values={sum(len(b.values) for b in self.batches)}, "
            f"longest dimension value={longest}, timestamps="
            f"{sorted({b.timestamp - int(NOW) for b in self.batches})} (relative to NOW), "
            f"max_bytes={self.max_bytes}, namespace={self.namespace!r})"
        )


@st.composite
def packing_cases(draw: st.DrawFn) -> PackCase:
    shape = draw(st.sampled_from(["mixed", "many_series", "many_values"]))
    n_specs = 1 if shape == "many_series" else draw(st.integers(1, 3))
    rnd = random.Random(draw(st.integers(0, 2**32)))
    specials = draw(
        st.lists(
            st.floats(
                min_value=-limits.MAX_VALUE_MAGNITUDE,
                max_value=limits.MAX_VALUE_MAGNITUDE,
                allow_nan=False,
                allow_infinity=False,
            ),
            max_size=5,
        )
    )
    age, future = limits.MAX_TIMESTAMP_AGE_SECONDS, limits.MAX_TIMESTAMP_FUTURE_SECONDS
    offsets = st.integers(0, 5).flatmap(
        lambda kind: (
            st.sampled_from([-age - 1, future + 1, -15 * 24 * 3600, 3 * 3600])  # out of range
            if kind == 0
            else st.sampled_from([0, -60, -age, future])  # edges, in range
            if kind == 1
            else st.integers(-age, future)
        )
    )
    batches: list[SeriesBatch] = []
    for s in range(n_specs):
        n_sets = draw(st.integers(1, 2))
        sets: list[list[str]] = []
        for _ in range(n_sets):
            if shape == "many_series":  # small datums, one per series: the 1000 limit binds
                size = draw(st.integers(1, 2))
            else:
                size = draw(st.sampled_from([0, 1, 2, 3, limits.MAX_DIMENSIONS_PER_METRIC]))
            keys = draw(st.permutations(_DIM_KEYS))[:size]
            if all(frozenset(keys) != frozenset(other) for other in sets):
                sets.append(keys)
        name = f"M{s}" + draw(st.sampled_from(["", "/Latency", ' q"&=%', "x" * 240]))
        unit = draw(st.sampled_from(list(Unit)))
        spec = MetricSpec(name, unit, sets, storage_resolution=draw(st.sampled_from([1, 60])))
        keys_used = sorted(spec.dimension_keys)
        if shape == "many_series":
            n_series, n_values = draw(st.integers(600, 1300)), (1, 3)
        elif shape == "many_values":
            n_series, n_values = draw(st.integers(1, 12)), (140, 700)
        else:
            n_series, n_values = draw(st.integers(1, 10)), (1, 160)
        long_values = draw(st.booleans())
        series_list = []
        for i in range(n_series):
            if long_values and i < 40:
                dims = {k: draw(dimension_value(i)) for k in keys_used}
            else:
                # "mixed" repeats series content: sinks must merge equal series.
                n = i % 5 if shape == "mixed" else i
                dims = {k: f"v{n}-{j}" for j, k in enumerate(keys_used)}
            series_list.append(Series(spec, tuple(sorted(dims.items())), spec.dimension_sets))
        timestamps = [int(NOW) + draw(offsets) for _ in range(draw(st.integers(1, 2)))]
        for i, series in enumerate(series_list):
            ts = timestamps[i % len(timestamps)]
            values = _values(rnd, rnd.randint(*n_values), specials if i == 0 else [])
            batches.append(SeriesBatch(ts, series, values))
    max_bytes = draw(st.sampled_from([limits.MAX_REQUEST_BYTES, 200_000, 40_000]))
    namespace = draw(st.sampled_from(["Test/NS", 'Q"&=%' * 51]))  # short / 255 chars
    return PackCase(batches, max_bytes, namespace)


def _series_key(name: str, dims: list[tuple[str, str]], ts: int) -> tuple[Any, ...]:
    return (name, tuple(sorted(dims)), ts)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(packing_cases())
def test_pack_respects_limits_and_conserves_every_datapoint(case: PackCase) -> None:
    batches, max_bytes, namespace = case.batches, case.max_bytes, case.namespace
    sink = CloudWatchSink(max_request_bytes=max_bytes, now=lambda: NOW)
    result = PublishResult()
    requests = sink._pack(batches, result)

    expected: dict[tuple[Any, ...], Counter[float]] = {}
    expected_discarded = 0
    for ts, series, values in batches:
        if not OLDEST <= ts <= NEWEST:
            expected_discarded += sum(values.values()) * len(series.dimension_sets)
            continue
        for dimension_set in series.dimension_sets:
            key = _series_key(series.spec.name, list(series.project(dimension_set)), ts)
            counter = expected.setdefault(key, Counter())
            for value, count in values.items():
                counter[float(value)] += count

    sent: dict[tuple[Any, ...], Counter[float]] = {}
    sent_datapoints = 0
    for request in requests:
        assert 1 <= len(request.datums) <= limits.MAX_DATUMS_PER_REQUEST
        # A request only exceeds the byte limit when one datum alone is bigger than it.
        assert request.size <= max_bytes or len(request.datums) == 1
        assert request.size <= limits.MAX_REQUEST_BYTES
        bodies = [d.body for d in request.datums]
        for datum in request.datums:
            body = datum.body
            values, counts = body["Values"], body["Counts"]
            assert 1 <= len(values) <= limits.MAX_VALUES_PER_DATUM
            assert len(counts) == len(values)
            assert len(set(values)) == len(values), "a value listed twice in one datum"
            assert all(math.isfinite(v) and abs(v) <= limits.MAX_VALUE_MAGNITUDE for v in values)
            assert all(c >= 1 and float(c).is_integer() for c in counts)
            dims = body.get("Dimensions", [])
            assert len(dims) <= limits.MAX_DIMENSIONS_PER_METRIC
            ts = body["Timestamp"].timestamp()
            assert OLDEST <= ts <= NEWEST
            assert body["StorageResolution"] in limits.STORAGE_RESOLUTIONS
            key = _series_key(body["MetricName"], [(d["Name"], d["Value"]) for d in dims], int(ts))
            counter = sent.setdefault(key, Counter())
            for v, c in zip(values, counts, strict=True):
                counter[v] += int(c)
            # What goes back to the buffer if this datum is not delivered is the same data.
            assert datum.datapoints == sum(int(c) for c in counts)
            assert datum.leftover.datapoints == datum.datapoints
            assert {float(v): c for v, c in datum.leftover.values.items()} == dict(
                zip(values, (int(c) for c in counts), strict=True)
            )
            sent_datapoints += datum.datapoints
        # The size model must bound the real (uncompressed) body in every encoding.
        for protocol, size in encoded_sizes(namespace, bodies).items():
            assert size <= request.size, (protocol, size, request.size, len(bodies))

    assert sent == expected
    assert all(d.reason == "timestamp_out_of_range" for d in result.discarded)
    assert sum(d.datapoints for d in result.discarded) == expected_discarded
    in_range = sum(b.datapoints for b in batches if OLDEST <= b.timestamp <= NEWEST)
    assert sent_datapoints == in_range
    assert sent_datapoints + expected_discarded == sum(b.datapoints for b in batches)


def test_pack_cuts_requests_at_1000_datums() -> None:
    spec = MetricSpec("Requests", Unit.COUNT, [["SessionId"]])
    batches = [
        SeriesBatch(int(NOW), Series(spec, (("SessionId", f"s{i}"),), spec.dimension_sets), {1: 1})
        for i in range(2_500)
    ]
    requests = CloudWatchSink(now=lambda: NOW)._pack(batches, PublishResult())
    assert [len(r.datums) for r in requests] == [1000, 1000, 500]
    assert sum(r.datapoints for r in requests) == 2_500


def test_pack_discards_only_out_of_range_timestamps() -> None:
    spec = MetricSpec("Latency", Unit.MILLISECONDS, [[], ["SessionId"]])
    series = Series(spec, (("SessionId", "s1"),), spec.dimension_sets)
    old = SeriesBatch(int(OLDEST) - 60, series, {1.0: 3, 2.0: 4})
    future = SeriesBatch(int(NEWEST) + 60, series, {5.0: 1})
    fresh = SeriesBatch(int(NOW) - 120, series, {7.0: 2})
    result = PublishResult()
    requests = CloudWatchSink(now=lambda: NOW)._pack([old, fresh, future], result)
    assert [(d.reason, d.datapoints) for d in result.discarded] == [
        ("timestamp_out_of_range", 14),
        ("timestamp_out_of_range", 2),
    ]
    (request,) = requests
    assert request.datapoints == 4
    assert {d.body["Timestamp"].timestamp() for d in request.datums} == {NOW - 120}


# -- 2. real wire size ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fill", "compression"),
    [("a", True), ('"\\', False)],
    ids=["plain-gzip", "escaped-uncompressed"],
)
def test_every_request_body_fits_one_megabyte(
    cw: Any, aws: AwsEmulator, fill: str, compression: bool
) -> None:
    import boto3
    from botocore.config import Config

    # botocore gzips bodies >= 10 KiB unless told not to (AWS_DISABLE_REQUEST_COMPRESSION or
    # this option): the size model must hold for the uncompressed body.
    client = boto3.session.Session().client(
        "cloudwatch",
        endpoint_url=aws.endpoint_url,
        region_name=REGION,
        config=Config(disable_request_compression=not compression),
    )
    sizes: list[tuple[int, int]] = []

    def capture(request: Any, **_: Any) -> None:
        sizes.append(body_sizes(request))

    client.meta.events.register("before-send.cloudwatch.PutMetricData", capture)
    sink = CloudWatchSink(client=client)
    keys = [f"Key{i:02d}" for i in range(limits.MAX_DIMENSIONS_PER_METRIC)]
    spec = MetricSpec("Latency", Unit.MILLISECONDS, [keys])
    namespace = new_namespace()
    emitter = MetricsEmitter(
        namespace, sink, max_buffered_values=50_000, flush_threshold=50_000, flush_at_exit=False
    )
    rnd = random.Random(2)
    n_series, n_values = 30, 1000
    for s in range(n_series):
        dims = {k: (fill * 1024)[: 1024 - 8] + f"{s:04d}{k[-2:]}.." for k in keys}
        for _ in range(n_values):
            assert emitter.record(spec, rnd.random() * 1000, dims)
    flush_until_empty(emitter)

    assert len(sizes) > 1, "a batch this big needs several requests"
    for wire, raw in sizes:
        assert wire <= limits.MAX_REQUEST_BYTES, sizes
        assert raw <= limits.MAX_REQUEST_BYTES, sizes
    stats = emitter.stats()
    assert stats.delivered == stats.datapoints == n_series * n_values
    assert stats.dropped == {}
    assert sink.requests_sent == len(sizes)
    s0 = {k: (fill * 1024)[: 1024 - 8] + f"0000{k[-2:]}.." for k in keys}
    assert read_back(cw, namespace, "Latency", s0)[0] == n_values


# -- 3. delivery ----------------------------------------------------------------------------


def test_emitter_delivers_exact_values_per_session(cw: Any, aws: AwsEmulator) -> None:
    latency = MetricSpec("Latency", Unit.MILLISECONDS, [[], ["SessionId"]])
    chunks = MetricSpec("Chunks", Unit.COUNT, [[], ["SessionId"]])
    namespace = new_namespace()
    sink = CloudWatchSink(endpoint_url=aws.endpoint_url, region_name=REGION)
    emitter = MetricsEmitter(namespace, sink, flush_at_exit=False)
    recorded: dict[tuple[str, str], list[float]] = {}
    for s, session in enumerate(["alpha", "beta", "gamma"]):
        lat = [0.25 * (i % 37) + s for i in range(200)]  # repeats: Counts > 1
        cnt = [float(1 + (i % 3)) for i in range(20 + s)]
        for v in lat:
            assert emitter.record(latency, v, {"SessionId": session})
        for v in cnt:
            assert emitter.count(chunks, v, {"SessionId": session})
        recorded[("Latency", session)] = lat
        recorded[("Chunks", session)] = cnt
    result = emitter.flush()
    assert result is not None and result.failures == 0

    for (metric, session), values in recorded.items():
        assert read_back(cw, namespace, metric, {"SessionId": session}) == expected_stats(values)
    stats = emitter.stats()
    samples = sum(len(v) for v in recorded.values())
    assert stats.accepted == samples
    assert stats.datapoints == stats.delivered == 2 * samples
    assert stats.dropped == {} and stats.buffered == 0 and stats.publish_failures == 0
    listed = {
        (m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"]))
        for page in cw.get_paginator("list_metrics").paginate(Namespace=namespace)
        for m in page["Metrics"]
    }
    assert ("Latency", ()) in listed, "the aggregate series (no dimensions) was not published"
    assert ("Chunks", (("SessionId", "beta"),)) in listed


def test_old_timestamps_are_dropped_and_the_rest_delivered(cw: Any, aws: AwsEmulator) -> None:
    spec = MetricSpec("Latency", Unit.MILLISECONDS, [[], ["SessionId"]])
    namespace = new_namespace()
    clock = {"now": time.time() - 15 * 24 * 3600}
    sink = CloudWatchSink(endpoint_url=aws.endpoint_url, region_name=REGION)
    emitter = MetricsEmitter(namespace, sink, clock=lambda: clock["now"], flush_at_exit=False)
    for i in range(7):
        emitter.record(spec, float(i), {"SessionId": "old"})
    clock["now"] = time.time()
    fresh = [1.5, 2.5, 2.5, 9.0]
    for v in fresh:
        emitter.record(spec, v, {"SessionId": "new"})
    emitter.flush()
    stats = emitter.stats()
    assert stats.dropped == {"timestamp_out_of_range": 7 * 2}
    assert stats.delivered == len(fresh) * 2
    assert stats.buffered == 0
    assert_accounting(emitter)
    assert read_back(cw, namespace, "Latency", {"SessionId": "new"}) == expected_stats(fresh)
    assert read_back(cw, namespace, "Latency", {"SessionId": "old"})[0] == 0


# -- 4. faults ------------------------------------------------------------------------------


def test_throttling_and_server_errors_lose_and_duplicate_nothing(cw: Any, aws: AwsEmulator) -> None:
    spec = MetricSpec("Latency", Unit.MILLISECONDS, [[], ["SessionId"]])
    namespace = new_namespace()
    with FaultProxy(aws.endpoint_url, throttle=0.3, server_error=0.1, seed=11) as proxy:
        sink = CloudWatchSink(
            endpoint_url=proxy.endpoint_url,
            region_name=REGION,
            budget_seconds=8.0,  # read timeout 2 s: a slow emulator must not cause a retry
            base_delay=0.005,
            max_delay=0.05,
            rng=random.Random(5).random,
        )
        emitter = MetricsEmitter(namespace, sink, flush_threshold=300, flush_at_exit=False)
        recorded: dict[str, list[float]] = {f"s{k}": [] for k in range(5)}
        for i in range(5_000):
            session = f"s{i % 5}"
            value = 0.25 * ((i * 7) % 900)
            assert emitter.record(spec, value, {"SessionId": session})
            recorded[session].append(value)
            if i % 250 == 249:
                # Many small flushes, as invocations make them: each one a chance of a fault.
                emitter.flush()
        flush_until_empty(emitter)
        counts = dict(proxy.counts)

    stats = emitter.stats()
    assert stats.dropped == {}
    assert stats.delivered == stats.datapoints == 10_000
    assert stats.publish_failures > 0
    assert counts["throttled"] > 0 and counts["server_error"] > 0, counts
    assert stats.publish_failures == counts["throttled"] + counts["server_error"]
    assert counts["forwarded"] == sink.requests_sent >= 5, "a request reached moto twice"
    for session, values in recorded.items():
        assert read_back(cw, namespace, "Latency", {"SessionId": session}) == expected_stats(values)


# -- 5. endpoint down -----------------------------------------------------------------------


def test_endpoint_down_bounds_memory_time_and_accounting(emulator_env: None) -> None:
    budget = 0.5
    cap = 2_000
    # The sink's own clock for its budget, stepping 10 ms at each reading and moved by its
    # backoff sleeps: the budget is checked on it, not on this machine's wall time (which a
    # loaded CI machine makes noisy).
    clock = {"t": 1_000.0}

    def monotonic() -> float:
        clock["t"] += 0.01
        return clock["t"]

    def sleep(seconds: float) -> None:
        clock["t"] += seconds

    sink = CloudWatchSink(
        endpoint_url=unused_loopback_url(),
        region_name=REGION,
        budget_seconds=budget,
        base_delay=0.01,
        max_delay=0.05,
        monotonic=monotonic,
        sleep=sleep,
    )
    emitter = MetricsEmitter(
        "Test/Down", sink, max_buffered_values=cap, flush_threshold=500, flush_at_exit=False
    )
    spec = MetricSpec("Latency", Unit.MILLISECONDS, [[], ["SessionId"]])
    durations = []
    for rnd in range(6):
        for i in range(1_000):
            emitter.record(spec, float(rnd * 1_000 + i), {"SessionId": f"s{i % 4}"})
            assert emitter.buffered_values <= cap
        start = clock["t"]
        result = emitter.flush()
        durations.append(clock["t"] - start)
        assert result is not None and result.delivered == 0 and result.failures > 0
        assert emitter.buffered_values <= cap
        assert_accounting(emitter)
    # No attempt starts once the budget is spent: a flush ends within it, plus the reading
    # that found it spent.
    assert max(durations) <= budget + 0.02, durations
    stats = emitter.stats()
    assert stats.datapoints == 6_000 * 2
    assert stats.delivered == 0
    assert stats.dropped.get("buffer_full", 0) > 0
    assert set(stats.dropped) == {"buffer_full"}
    assert stats.datapoints == stats.delivered + stats.dropped_total + stats.buffered


# -- 6. non-retryable errors ----------------------------------------------------------------


def test_rejected_request_is_discarded_once_and_counted(cw: Any, aws: AwsEmulator) -> None:
    good = MetricSpec("Latency", Unit.MILLISECONDS, [[], ["SessionId"]])
    poison = MetricSpec("PoisonMetric", Unit.COUNT, [[], ["SessionId"]])
    namespace = new_namespace()
    with FaultProxy(aws.endpoint_url, reject_marker=b"PoisonMetric") as proxy:
        # max_request_bytes=1: every datum travels alone, so a rejection hits only its own.
        sink = CloudWatchSink(
            endpoint_url=proxy.endpoint_url, region_name=REGION, max_request_bytes=1
        )
        emitter = MetricsEmitter(namespace, sink, flush_at_exit=False)
        good_values = {"a": [1.0, 2.0, 2.0], "b": [4.5]}
        for session, values in good_values.items():
            for v in values:
                emitter.record(good, v, {"SessionId": session})
            for v in (1.0, 2.0, 3.0):
                emitter.count(poison, v, {"SessionId": session})
        result = emitter.flush()
        assert result is not None
        # Poison datums: the aggregate and one per session, each rejected exactly once.
        assert proxy.counts["rejected"] == 3
        assert proxy.counts["forwarded"] == 3
        assert emitter.flush() is None  # nothing kept for a retry
        assert proxy.counts["rejected"] == 3

    stats = emitter.stats()
    assert stats.dropped == {"rejected_by_cloudwatch": 6 * 2}
    assert stats.delivered == 4 * 2
    assert stats.buffered == 0
    assert stats.publish_failures == 3
    assert_accounting(emitter)
    for session, values in good_values.items():
        assert read_back(cw, namespace, "Latency", {"SessionId": session}) == expected_stats(values)


def test_invalid_datum_rejected_by_the_emulator_is_discarded(cw: Any, aws: AwsEmulator) -> None:
    """A real 400 from moto (it rejects NaN) for a batch that bypassed the emitter's checks."""
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        "cloudwatch",
        endpoint_url=aws.endpoint_url,
        region_name=REGION,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    attempts: list[int] = []
    client.meta.events.register(
        "before-send.cloudwatch.PutMetricData", lambda **_: attempts.append(1)
    )
    spec = MetricSpec("Latency", Unit.MILLISECONDS, [["SessionId"]])
    ts = int(time.time()) // 60 * 60
    bad = SeriesBatch(ts, Series(spec, (("SessionId", "bad"),), spec.dimension_sets), {math.nan: 4})
    ok = SeriesBatch(ts, Series(spec, (("SessionId", "ok"),), spec.dimension_sets), {3.0: 2})
    namespace = new_namespace()
    sink = CloudWatchSink(client=client, max_request_bytes=1)
    result = sink.publish(namespace, [bad, ok], {})
    assert [(d.reason, d.datapoints) for d in result.discarded] == [("rejected_by_cloudwatch", 4)]
    assert result.delivered == 2 and result.undelivered == [] and result.failures == 1
    assert len(attempts) == 2
    assert read_back(cw, namespace, "Latency", {"SessionId": "ok"}) == (2.0, 6.0, 3.0, 3.0)


# -- 7. lazy boto3 import -------------------------------------------------------------------

_LAZY_SCRIPT = """
import json, sys
from shared_metrics import MetricSpec, MetricsEmitter, Unit
from shared_metrics.sinks.cloudwatch import CloudWatchSink

def aws_modules():
    return sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))

sink = CloudWatchSink(endpoint_url=sys.argv[1], region_name="us-east-1", budget_seconds=0.3)
emitter = MetricsEmitter("Lazy/Test", sink, flush_threshold=10_000, flush_at_exit=False)
spec = MetricSpec("Latency", Unit.MILLISECONDS, [[], ["SessionId"]])
for i in range(500):
    emitter.record(spec, float(i), {"SessionId": "s%d" % (i % 3)})
before = aws_modules()
emitter.flush()
print(json.dumps({"before": before, "after": "boto3" in sys.modules,
                  "accepted": emitter.stats().accepted}))
"""


def test_boto3_is_imported_only_at_the_first_flush() -> None:
    env = {
        **os.environ,
        **EMULATOR_ENV,
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    proc = subprocess.run(
        [sys.executable, "-c", _LAZY_SCRIPT, unused_loopback_url()],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["before"] == [], report
    assert report["after"] is True
    assert report["accepted"] == 500


def test_integers_that_round_to_one_double_become_one_value() -> None:
    # 2**60 and 2**60 + 1 are distinct ints but one double: sending both would repeat a value
    # in one datum's Values. They must merge, with their counts added.
    series = Series(MetricSpec("Big"), (), ((),))
    batch = SeriesBatch(int(time.time()) // 60 * 60, series, {2**60: 1, 2**60 + 1: 2})
    result = PublishResult()
    (request,) = CloudWatchSink(region_name="us-east-1")._pack([batch], result)
    (datum,) = request.datums
    assert datum.body["Values"] == [float(2**60)]
    assert datum.body["Counts"] == [3.0]
    assert datum.datapoints == 3
