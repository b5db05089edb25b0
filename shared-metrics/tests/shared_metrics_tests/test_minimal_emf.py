"""The benchmark's byte floor (shared-metrics/benchmarks/minimal_emf.py): the smallest valid
EMF document for an invocation's datapoints and properties.

The expected documents and their byte counts are written and counted by hand from the CloudWatch
user guide's "Specification: Embedded metric format"; the properties check that every minimum
is valid EMF carrying exactly the datapoints asked for, and that no EMF the library writes is
smaller.
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from minimal_emf import (
    NeedsMoreThanOneEvent,
    minimal_bytes,
    minimal_document,
    minimal_json,
    minimal_number,
)

from shared_metrics import MetricsEmitter, MetricSpec, Unit
from shared_metrics.sinks.emf import EmfSink
from shared_metrics.testing.emf_reader import parse_event, read_datapoints


def series(
    name: str,
    values: list[list[Any]],
    unit: str = "None",
    sets: list[list[str]] | None = None,
    dimensions: dict[str, str] | None = None,
    namespace: str = "N",
    resolution: int = 60,
) -> dict[str, Any]:
    return {
        "namespace": namespace,
        "name": name,
        "unit": unit,
        "resolution": resolution,
        "dimension_sets": sets if sets is not None else [[]],
        "dimensions": dimensions or {},
        "values": values,
    }


def test_the_specifications_own_example_without_its_whitespace() -> None:
    # The page's "valid example of embedded metric format", compacted.
    invocation = {
        "properties": {"requestId": "989ffbf8-9ace-4817-a57c-e4dd734019ee"},
        "series": [
            series(
                "time",
                [[100, 1]],
                unit="Milliseconds",
                sets=[["functionVersion"]],
                dimensions={"functionVersion": "$LATEST"},
                namespace="lambda-function-metrics",
            )
        ],
    }
    expected = (
        '{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":'
        '"lambda-function-metrics","Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time",'
        '"Unit":"Milliseconds"}]}]},"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee",'
        '"functionVersion":"$LATEST","time":100}'
    )
    assert minimal_document(invocation, 1574109732004) == expected
    # Counted by hand: {"_aws": 8, {"Timestamp":<13 digits>, 27, "CloudWatchMetrics":[ 21,
    # {"Namespace":"lambda-function-metrics", 39, "Dimensions":[["functionVersion"]], 35,
    # "Metrics":[{"Name":"time","Unit":"Milliseconds"}]}]}, 53, "requestId":"<36>", 51,
    # "functionVersion":"$LATEST", 28, "time":100} 11; and the newline.
    assert minimal_bytes(invocation, 1574109732004) == 273 + 1


def test_defaults_are_left_out_and_a_single_value_is_a_number() -> None:
    invocation = {
        "properties": {},
        "series": [
            series("A", [[1.0, 2]]),  # Unit None and resolution 60: both the defaults
            series("B", [[1_000_000, 1]], unit="Count", resolution=1),
        ],
    }
    assert minimal_document(invocation, 1_700_000_000_000) == (
        '{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"N",'
        '"Dimensions":[[]],"Metrics":[{"Name":"A"},{"Name":"B","Unit":"Count",'
        '"StorageResolution":1}]}]},"A":[1,1],"B":1e6}'
    )


def test_a_long_dimension_set_is_written_once_when_a_short_definition_can_be_repeated() -> None:
    # A goes to [One] and [Two], B to [One], [Two] and [Z]. One directive per list of sets
    # writes [One] and [Two] twice (2 x 27 bytes); listing B beside A and again alone under
    # [Z] writes {"Name":"B"}, twice (13 bytes): 41 bytes less.
    one, two = "LongDimensionNumberOne", "LongDimensionNumberTwo"
    invocation = {
        "properties": {},
        "series": [
            series("A", [[1, 1]], sets=[[one], [two]], dimensions={one: "x", two: "y"}),
            series(
                "B", [[2, 1]], sets=[[one], [two], ["Z"]], dimensions={one: "x", two: "y", "Z": "z"}
            ),
        ],
    }
    expected = (
        '{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":'
        '[["LongDimensionNumberOne"],["LongDimensionNumberTwo"]],"Metrics":[{"Name":"A"},'
        '{"Name":"B"}]},{"Namespace":"N","Dimensions":[["Z"]],"Metrics":[{"Name":"B"}]}]},'
        '"LongDimensionNumberOne":"x","LongDimensionNumberTwo":"y","A":1,"Z":"z","B":2}'
    )
    assert minimal_document(invocation, 1_700_000_000_000) == expected
    # By hand: 56 up to the first directive, 17 + 69 + 39 for it, 17 + 21 + 28 for the
    # second (closing _aws), then 29 + 29 + 6 + 8 + 6 for the root members; and the newline.
    assert minimal_bytes(invocation, 1_700_000_000_000) == 325 + 1


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (100.0, "100"),
        (3200, "3200"),  # 32e2 is no shorter: the plain spelling is kept
        (1_000_000, "1e6"),
        (1e-5, "1e-5"),
        (1.5e-7, "15e-8"),
        (-2.5, "-2.5"),
        (0.018557000203145435, "0.018557000203145435"),
        (1.2345678901234568e20, "12345678901234568e4"),
        (0.0, "0"),
        (2**60, "1152921504606847e3"),  # beyond 2^53: the double it becomes
    ],
)
def test_numbers_in_their_shortest_spelling(value: float, text: str) -> None:
    assert minimal_number(value) == text


def test_strings_keep_only_the_escapes_json_requires() -> None:
    assert minimal_json("café") == '"café"' and len(minimal_json("café").encode()) == 7
    assert minimal_json('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    assert minimal_json("\ud800") == '"\\ud800"'  # a lone surrogate has no UTF-8 form


def test_what_one_event_cannot_carry_is_refused_with_the_reason() -> None:
    too_many = {"properties": {}, "series": [series("A", [[1.5, 101]])]}
    with pytest.raises(NeedsMoreThanOneEvent, match="101 values"):
        minimal_document(too_many, 0)
    clash = {
        "properties": {"Handler": "other"},
        "series": [series("A", [[1, 1]], sets=[["Handler"]], dimensions={"Handler": "h"})],
    }
    with pytest.raises(NeedsMoreThanOneEvent, match="'Handler' is needed twice"):
        minimal_document(clash, 0)
    with pytest.raises(ValueError, match="no number"):
        minimal_number(math.nan)
    with pytest.raises(TypeError):
        minimal_number(True)


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**70), 2**70))
def test_a_shortest_number_reads_back_as_the_same_double(value: float) -> None:
    text = minimal_number(value)
    assert float(json.loads(text)) == float(value)
    assert len(text) <= len(json.dumps(float(value) if abs(value) > 2**53 else value))


KEYS = ("Handler", "Reason", "SessionId")


@st.composite
def invocations(draw: st.DrawFn) -> dict[str, Any]:
    dimensions = {k: draw(st.sampled_from(["a", "bb", "c-c"])) for k in KEYS}
    names = draw(
        st.lists(st.sampled_from(["Latency", "Count", "Size", "Drops"]), min_size=1, unique=True)
    )
    all_sets = [[], *[[k] for k in KEYS], list(KEYS[:2])]
    drawn = []
    for name in names:
        sets = draw(st.lists(st.sampled_from(all_sets), min_size=1, max_size=3, unique_by=tuple))
        used = {k for s in sets for k in s}
        values = draw(
            st.lists(
                st.tuples(
                    st.integers(0, 10**7) | st.floats(0, 1e9, allow_nan=False), st.integers(1, 3)
                ),
                min_size=1,
                max_size=4,
                unique_by=lambda vc: vc[0],
            )
        )
        unit = draw(st.sampled_from(["None", "Count", "Milliseconds"]))
        drawn.append(
            series(
                name,
                [list(v) for v in values],
                unit,
                sets,
                {k: dimensions[k] for k in sorted(used)},
            )
        )
    properties = draw(st.dictionaries(st.sampled_from(["RequestId", "Note"]), st.text(max_size=5)))
    return {"properties": properties, "series": drawn}


def expected_datapoints(invocation: dict[str, Any]) -> dict[Any, Counter[float]]:
    out: dict[Any, Counter[float]] = {}
    for s in invocation["series"]:
        for dimension_set in s["dimension_sets"]:
            key = (s["namespace"], s["name"], tuple((k, s["dimensions"][k]) for k in dimension_set))
            for value, count in s["values"]:
                out.setdefault(key, Counter())[value] += count
    return out


def library_output(invocation: dict[str, Any], clock: float) -> str:
    stream = io.StringIO()
    emitter = MetricsEmitter(
        "N", EmfSink(stream), flush_at_exit=False, strict=True, clock=lambda: clock
    )
    for s in invocation["series"]:
        spec = MetricSpec(s["name"], Unit(s["unit"]), s["dimension_sets"])
        for value, count in s["values"]:
            for _ in range(count):
                emitter.record(spec, value, s["dimensions"])
    for key, value in invocation["properties"].items():
        emitter.set_property(key, value)
    emitter.flush()
    return stream.getvalue()


@given(invocations())
def test_the_minimum_is_valid_emf_with_the_same_datapoints_and_no_writer_is_smaller(
    invocation: dict[str, Any],
) -> None:
    document = minimal_document(invocation, 1_800_000_000_000)
    assert parse_event(document)["_aws"]["Timestamp"] == 1_800_000_000_000
    got = read_datapoints([document])
    assert {k: Counter({float(v): c for v, c in vs.items()}) for k, vs in got.items()} == {
        k: Counter({float(v): c for v, c in vs.items()})
        for k, vs in expected_datapoints(invocation).items()
    }
    assert {k: v for k, v in json.loads(document).items() if k in invocation["properties"]} == (
        invocation["properties"]
    )
    written = library_output(invocation, 1_800_000_000.0)
    assert minimal_bytes(invocation, 1_800_000_000_000) <= len(written.encode())
