"""The fidelity table (`local_run.fidelity`) holds: each behaviour has its AWS source and tests
that exist, every AWS metric the model publishes has a row, and the README shows the table as
it is."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from local_run.cloudwatch.alarm_model import MetricId
from local_run.cloudwatch.evaluator import AlarmState
from local_run.fidelity import BEHAVIOURS, MARK_END, MARK_START, generated
from local_run.simulation.notifications import SUBSCRIBERS, Notification, sns_metrics
from local_run.simulation.platform_metrics import (
    ANSWERED,
    FUNCTION_ERROR,
    NOT_INVOKED,
    READINGS,
    ApiRequest,
    PlatformMetrics,
)

ROOT = Path(__file__).resolve().parents[3]


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=lambda b: b.what[:60])
def test_every_behaviour_has_its_source(behaviour: object) -> None:
    from local_run.fidelity import Behaviour

    assert isinstance(behaviour, Behaviour)
    assert behaviour.url.startswith("https://docs.aws.amazon.com/"), behaviour.url
    # A quoted sentence, or, where AWS documents nothing, the readings the alarms hold under.
    assert behaviour.sentence or behaviour.readings, behaviour.what
    assert behaviour.tests, behaviour.what


def test_every_named_test_exists() -> None:
    seen: dict[Path, set[str]] = {}
    for behaviour in BEHAVIOURS:
        for node_id in behaviour.tests:
            file, _, name = node_id.partition("::")
            path = ROOT / file
            assert path.is_file(), f"{behaviour.what}: no test file {file}"
            functions = seen.setdefault(path, _test_functions(path))
            assert name in functions, f"{behaviour.what}: {file} has no {name}"


def test_every_modelling_symbol_exists() -> None:
    for behaviour in BEHAVIOURS:
        for dotted in behaviour.modelled_in.split(", "):
            parts = dotted.split(".")
            for split in range(len(parts), 0, -1):
                try:
                    target: object = importlib.import_module(".".join(parts[:split]))
                except ModuleNotFoundError:
                    continue
                for attr in parts[split:]:
                    target = getattr(target, attr)
                break
            else:
                pytest.fail(f"{behaviour.what}: cannot import {dotted}")


def _published() -> set[str]:
    """Every AWS metric the model can publish: each kind of request under every reading,
    a Lambda invocation, a throttle, a DynamoDB call of each outcome, SNS notifications."""
    platform = PlatformMetrics("api", "prod")
    for request in (
        ApiRequest(0.0, True, ANSWERED, 200, 1.0),
        ApiRequest(0.0, False, ANSWERED, 400, 1.0),
        ApiRequest(0.0, False, ANSWERED, 500, 1.0),
        ApiRequest(0.0, False, FUNCTION_ERROR, None, 1.0),
        ApiRequest(0.0, False, NOT_INVOKED),
    ):
        platform.api_request(request)
    platform.message_to_client(0.0)
    platform.invocation(0.0, "fn", 1.0, failed=True)
    platform.throttled(0.0, "fn", 1)
    platform.concurrency(0.0, "fn", 1)
    platform.dynamodb_call(0.0, "GetItem", ["t"], "ThrottlingException", 400)
    platform.dynamodb_call(0.0, "PutItem", ["t"], "ThrottlingException", 400)
    platform.dynamodb_call(0.0, "PutItem", ["t"], "InternalServerError", 500)
    platform.synthetics(0.0, "SuccessPercent", 100.0, {"CanaryName": "c"})
    platform.synthetics(0.0, "Duration", 1.0, {"CanaryName": "c"})
    stores = [platform.store, *(platform.api_store(r) for r in READINGS)]
    sent = (
        Notification(0.0, "a", AlarmState.ALARM, "topic", delivered=True),
        Notification(0.0, "a", AlarmState.OK, "topic", delivered=False),
    )
    stores.append(sns_metrics(sent, SUBSCRIBERS))
    series: set[MetricId] = {m for store in stores for m in store.series()}
    return {f"{m.namespace}/{m.name}" for m in series}


def test_every_metric_the_model_publishes_has_a_row_and_every_row_one_it_publishes() -> None:
    covered = {m for b in BEHAVIOURS for m in b.metrics}
    assert _published() == covered


def test_the_readme_shows_the_table_as_it_is() -> None:
    text = (ROOT / "local-run" / "README.md").read_text(encoding="utf-8")
    start, end = text.index(MARK_START), text.index(MARK_END) + len(MARK_END)
    assert text[start:end] == generated(), (
        "local-run/README.md is out of date: ./pants run local-run/src/local_run/fidelity.py "
        "prints the table"
    )
