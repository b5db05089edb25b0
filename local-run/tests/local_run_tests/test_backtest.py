"""The backtest: a known series published through the real PutMetricData sink into the
in-process emulator, read back with GetMetricData and evaluated with the template's alarms.

moto answers GetMetricData for Sum/SampleCount/Average/Minimum/Maximum but computes no
percentiles, so the asserted alarm is a count (Sum) alarm."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

import pytest

from audio_transcription import metrics_spec as audio_spec
from local_run.backend import local_backend
from local_run.cli import main
from shared_metrics import MetricsEmitter
from shared_metrics.sinks.cloudwatch import CloudWatchSink
from shared_metrics.testing.aws_emulator import unused_loopback_url

STACK = "ws-bt"
ALARM = "Warning-AudioTranscription-AudioBufferOverflows"  # Sum over 5 min > 10, 1 of 1

# Overflows per 5-minute period over one hour: two breaches in a row, then one more.
PER_PERIOD = [2, 2, 2, 20, 20, 2, 2, 2, 15, 2, 2, 2]


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_backtest_counts_the_entries_into_alarm_and_the_minutes_in_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    t0 = math.floor((time.time() - 2 * 3600) / 300) * 300
    now = [float(t0)]
    with local_backend() as url:
        emitter = MetricsEmitter(
            audio_spec.NAMESPACE, CloudWatchSink(endpoint_url=url, region_name="us-east-1"),
            strict=True, clock=lambda: now[0], flush_at_exit=False,
        )
        for k, count in enumerate(PER_PERIOD):
            now[0] = t0 + k * 300 + 30
            emitter.count(audio_spec.AUDIO_BUFFER_OVERFLOWS, count)
        result = emitter.flush()
        assert result is not None and result.delivered == len(PER_PERIOD)
        code = main([
            "backtest", "--endpoint-url", url, "--region", "us-east-1", "--stack-name", STACK,
            "--start", iso(t0), "--end", iso(t0 + 3600), "--alarm", ALARM,
        ])
    out = capsys.readouterr().out
    assert code == 0
    rows = [line.split() for line in out.splitlines() if line.strip().endswith(ALARM)]
    assert rows == [["2", "15", ALARM]]  # ALARM at +20 min for 10 min, at +45 min for 5


def test_an_unknown_alarm_exits_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with local_backend() as url:
        code = main([
            "backtest", "--endpoint-url", url, "--region", "us-east-1", "--stack-name", STACK,
            "--days", "1", "--alarm", "NoSuch",
        ])
    assert code == 2
    assert "unknown alarm(s) NoSuch" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--start", "2026-11-20T10:00:00Z", "--end", "2026-11-20T09:00:00Z"], "inverted window"),
        (["--start", "2026-11-20T10:00:00Z", "--end", "2026-11-20T10:00:00Z"], "empty or"),
        (["--days", "0"], "empty window"),
        ([], "give a window"),
        (["--start", "yesterday"], "not an ISO 8601 time"),
        (["--days", "1", "--endpoint-url", "__UNREACHABLE__"], "is unreachable"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [unused_loopback_url() if a == "__UNREACHABLE__" else a for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main(["backtest", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
