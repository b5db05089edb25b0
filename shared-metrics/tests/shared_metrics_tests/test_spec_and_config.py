"""Specs are validated when declared; configuration comes from the environment."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_metrics import MetricsEmitter, MetricSpec, MetricSpecError, Unit, emitter_from_env
from shared_metrics.config import sink_from_env
from shared_metrics.sinks.cloudwatch import CloudWatchSink
from shared_metrics.sinks.emf import EmfSink
from shared_metrics.sinks.memory import MemorySink, NullSink


def test_a_good_spec() -> None:
    spec = MetricSpec("AudioChunksDropped", "Count", [["Reason"], []], "chunks dropped")
    assert spec.unit is Unit.COUNT
    assert spec.dimension_sets == (("Reason",), ())
    assert spec.dimension_keys == {"Reason"}
    with pytest.raises(AttributeError):
        spec.name = "Other"


@pytest.mark.parametrize(
    ("kwargs", "phrase"),
    [
        ({"name": ""}, "1..255 characters"),
        ({"name": "x" * 256}, "1..255 characters"),
        ({"name": "Latenz\u00e9"}, "printable ASCII"),
        ({"name": "_aws"}, "reserved"),
        ({"name": "M", "unit": "Parsecs"}, "unknown unit 'Parsecs'"),
        ({"name": "M", "dimension_sets": "SessionId"}, "got the string"),
        ({"name": "M", "dimension_sets": ["SessionId"]}, "write ['SessionId']"),
        ({"name": "M", "dimension_sets": []}, "at least one dimension set"),
        ({"name": "M", "dimension_sets": [["A", "A"]]}, "repeats a name"),
        ({"name": "M", "dimension_sets": [["A", "B"], ["B", "A"]]}, "declared twice"),
        ({"name": "M", "dimension_sets": [[f"D{i}" for i in range(31)]]}, "CloudWatch allows 30"),
        ({"name": "M", "dimension_sets": [[":D"]]}, "must not start with ':'"),
        ({"name": "M", "dimension_sets": [["M"]]}, "same name"),
        ({"name": "M", "storage_resolution": 5}, "1 or 60"),
        ({"name": "M", "storage_resolution": True}, "1 or 60"),
    ],
)
def test_bad_specs_fail_at_declaration(kwargs: dict[str, object], phrase: str) -> None:
    with pytest.raises(MetricSpecError, match=None) as info:
        MetricSpec(**kwargs)  # type: ignore[arg-type]
    assert phrase in str(info.value)


@given(st.text(max_size=300))
def test_any_name_is_either_valid_or_a_clear_error(name: str) -> None:
    valid = 1 <= len(name) <= 255 and name.isascii() and name.isprintable() and name.strip() != ""
    valid = valid and name != "_aws"
    try:
        MetricSpec(name)
    except MetricSpecError as exc:
        assert not valid, exc
        assert "metric name" in str(exc)
    else:
        assert valid


@pytest.mark.parametrize("namespace", ["", "AWS/Lambda", ":x", "x" * 256, "Espa\u00f1a"])
def test_bad_namespaces(namespace: str) -> None:
    with pytest.raises(MetricSpecError):
        MetricsEmitter(namespace, MemorySink(), flush_at_exit=False)


def test_default_dimensions_are_validated() -> None:
    with pytest.raises(MetricSpecError, match="string value"):
        MetricsEmitter("N", MemorySink(), {"Stage": 1}, flush_at_exit=False)  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("env", "kind"),
    [
        ({}, EmfSink),
        ({"METRICS_SINK": "emf"}, EmfSink),
        ({"METRICS_SINK": "CloudWatch"}, CloudWatchSink),
        ({"METRICS_SINK": "memory"}, MemorySink),
        ({"METRICS_SINK": "off"}, NullSink),
    ],
)
def test_sink_from_env(env: dict[str, str], kind: type) -> None:
    assert isinstance(sink_from_env(env), kind)


def test_cloudwatch_settings_from_env() -> None:
    sink = sink_from_env(
        {
            "METRICS_SINK": "cloudwatch",
            "METRICS_ENDPOINT_URL": "http://127.0.0.1:1",
            "METRICS_FLUSH_BUDGET_SECONDS": "0.5",
        }
    )
    assert isinstance(sink, CloudWatchSink)
    assert sink.endpoint_url == "http://127.0.0.1:1" and sink.budget_seconds == 0.5


def test_bad_configuration_is_logged_and_defaults_are_used(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="shared_metrics"):
        sink = sink_from_env({"METRICS_SINK": "kafka"})
        emitter = emitter_from_env(
            "Test/Env",
            environ={"METRICS_SINK": "memory", "METRICS_MAX_BUFFERED_VALUES": "lots"},
        )
    assert isinstance(sink, EmfSink)
    assert "METRICS_SINK='kafka' is not one of emf, cloudwatch, memory, off" in caplog.text
    assert "METRICS_MAX_BUFFERED_VALUES='lots' must be a positive number" in caplog.text
    assert isinstance(emitter.sink, MemorySink)
    emitter.close()


def test_emitter_from_env_namespace_and_strict() -> None:
    emitter = emitter_from_env(
        "Code/Namespace",
        environ={
            "METRICS_SINK": "off",
            "METRICS_NAMESPACE": "Env/Namespace",
            "METRICS_STRICT": "1",
        },
    )
    assert emitter.namespace == "Env/Namespace" and emitter.strict
    emitter.count(MetricSpec("X"))
    emitter.flush()
    assert emitter.stats().dropped == {"sink_off": 1}
    emitter.close()
