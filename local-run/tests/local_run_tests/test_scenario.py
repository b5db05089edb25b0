"""End to end: a short scenario on the in-process emulator, alarms from the synthesized
template, evaluated on the datums read back from moto; and the CLI's bad arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.functions import FUNCTIONS
from local_run.cli import alarm_key, fired_by_phase, main, synthesized_alarms
from local_run.evaluator import evaluate
from local_run.metric_source import MotoBackendSource, RoutedStore
from local_run.plot import alarm_series, write_plot
from local_run.scenario import (
    LAMBDA_NAMESPACE,
    PHASES,
    local_backend,
    phases_named,
    run_scenario,
)
from shared_metrics.testing.aws_emulator import unused_loopback_url

STACK = "ws-e2e"


def test_a_short_scenario_fires_the_alarms_of_its_fault_phase(tmp_path: Path) -> None:
    # dynamodb-errors also guards against loopback artifacts inflating latency there
    # (botocore retry sleeps, the 40 ms delayed-ACK stall): AudioLatencyP95 must stay quiet.
    phases = phases_named(["baseline", "transcribe-outage", "dynamodb-errors"])
    with local_backend() as url:
        # Simulated latency only: which alarms fire must not depend on this machine's speed.
        result = run_scenario(url, phases, phase_minutes=5, stack_name=STACK, real_latency=False)
        services = MotoBackendSource().read(result.start, result.end + 3600)
    store = RoutedStore(services, {LAMBDA_NAMESPACE: result.lambda_metrics})
    alarms = synthesized_alarms(STACK, result.function_names)
    evaluation = evaluate(alarms, store, result.start, result.end)
    fired = fired_by_phase(evaluation, result, STACK)
    assert fired == {
        "baseline": set(),
        "transcribe-outage": {
            "Critical-AudioTranscription-TranscribeStreamErrorRate",
            "Warning-AudioTranscription-AudioBufferOverflows",
            "Critical-Service-ServiceDegraded",
        },
        "dynamodb-errors": {
            "Warning-SessionManagement-DynamoDBErrors",
            "Warning-AudioTranscription-DynamoDBErrors",
        },
    }
    assert fired["transcribe-outage"] == set(phases[1].expected)
    assert fired["dynamodb-errors"] == set(phases[2].expected)

    # The plot: a PNG of every alarm's datapoints, computed by the evaluator's functions.
    png = write_plot(
        tmp_path / "report.png", alarms, store, result.start, result.end,
        phases=[(s.phase.name, s.start, s.end) for s in result.spans], evaluation=evaluation,
    )
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000
    errors = next(a for a in alarms.metric_alarms if a.name.endswith("TranscribeStreamErrorRate"))
    series = dict(alarm_series(errors, store, result.start, result.end))
    outage = result.spans[1]
    assert max(v or 0 for t, v in series.items() if outage.start <= t < outage.end) > 5
    assert all((v or 0) <= 5 for t, v in series.items() if t < outage.start)


def test_every_alarm_a_phase_expects_is_in_the_template() -> None:
    # The e2e test above runs three phases; a renamed alarm would show in the others only as
    # DIFFERS in a manual run.
    alarms = synthesized_alarms(STACK, {f.label: f.label for f in FUNCTIONS})
    keys = {alarm_key(a.name, STACK) for a in alarms.all_alarms()}
    for phase in PHASES:
        assert phase.expected <= keys, (phase.name, sorted(phase.expected - keys))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--phases", "baseline,meteor-strike"], "unknown phase(s) meteor-strike"),
        (["--phase-minutes", "0"], "empty window"),
        (["--phases", ","], "empty window"),
        (["--endpoint-url", "__UNREACHABLE__"], "is unreachable"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [unused_loopback_url() if a == "__UNREACHABLE__" else a for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unknown_alarm_exits_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--phases", "baseline", "--phase-minutes", "1", "--no-progress", "--alarm", "NoSuch"]
    )
    assert code == 2
    assert "unknown alarm(s) NoSuch" in capsys.readouterr().err
