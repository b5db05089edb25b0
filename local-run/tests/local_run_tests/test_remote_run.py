"""The run on another endpoint (``--endpoint-url``, as for LocalStack; ``--aws`` takes the same
path with AWS's own endpoints): a separately started emulator stands in for it, reached over
HTTP on 127.0.0.1. The run must use its own tables (deleted at the end) and namespaces there,
inject the DynamoDB faults in the client, read the metrics back with GetMetricData, and say
which statistics the endpoint could not give."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from audio_transcription import metrics_spec as audio_spec
from local_run.cli import main
from local_run.cloudwatch.alarm_model import MetricId, MetricStat
from local_run.cloudwatch.metric_source import GetMetricDataSource, PeriodStatistics, read_settled
from local_run.simulation.faults import ClientFaults, DynamoDBFaults, ProxyFaults
from local_run.simulation.local_functions import EMULATOR_SINK_BUDGET_SECONDS
from shared_metrics import MetricsEmitter
from shared_metrics.sinks.cloudwatch import CloudWatchSink
from shared_metrics.testing.aws_emulator import EMULATOR_ENV, AwsEmulator
from shared_metrics.testing.fault_proxy import FaultProxy

REGION = EMULATOR_ENV["AWS_DEFAULT_REGION"]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[AwsEmulator]:
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto's tracebacks on pNN
    with pytest.MonkeyPatch.context() as mp:
        for key, value in EMULATOR_ENV.items():
            mp.setenv(key, value)
        with AwsEmulator() as aws:
            yield aws


def test_a_run_on_an_endpoint_keeps_to_itself_and_reads_back_with_getmetricdata(
    endpoint: AwsEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint.reset()
    # The Region only from --region, as for a LocalStack user without an AWS configuration:
    # the handlers' own clients (the Management API's) must get it as in Lambda.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    plot = tmp_path / "remote.png"
    code = main([
        "--endpoint-url", endpoint.endpoint_url, "--region", REGION,
        "--phases", "baseline,rate-limit-abuse,dynamodb-errors",
        "--no-progress", "--plot", str(plot), "--readback-wait", "5",
        "--log", str(tmp_path / "handlers.log"),
    ])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "result: every phase fired exactly its alarms" in out
    statuses = next(line for line in out.splitlines() if line.startswith("scenario:"))
    assert "500:" not in statuses  # no handler failed (e.g. for want of a Region)
    assert "t+  15 min      OK -> ALARM  [dynamodb-errors]" in out
    faults = next(line for line in out.splitlines() if "DynamoDB faults injected" in line)
    assert int(faults.split("; ")[-1].split()[0]) > 0

    # Its tables are gone, and every metric went to the run's own namespaces.
    dynamodb: Any = endpoint.client("dynamodb")
    cloudwatch: Any = endpoint.client("cloudwatch")
    assert dynamodb.list_tables()["TableNames"] == []
    namespaces = {m["Namespace"] for m in cloudwatch.list_metrics()["Metrics"]}
    assert len(namespaces) == 2
    assert all(ns.startswith("LocalRun/") for ns in namespaces)
    assert {ns.split("/", 2)[2] for ns in namespaces} == {
        "AudioTranscription/WebSocket", "SessionManagement/WebSocket",
    }

    # moto computes no percentiles: the report says so instead of hiding it.
    missing = next(line for line in out.splitlines() if line.startswith("no datapoints read"))
    assert "AudioProcessingLatency[] p95" in missing
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The handlers' structured warnings went to the log file, not the terminal.
    log = (tmp_path / "handlers.log").read_text()
    assert '"event": "ConnectionClosedForRateLimit"' in log
    assert f"handler log: {tmp_path / 'handlers.log'}" in out


def test_getmetricdata_isolates_the_statistics_the_endpoint_fails_on(
    endpoint: AwsEmulator,
) -> None:
    endpoint.reset()
    t0 = int(time.time() - 3600) // 300 * 300
    now = [float(t0)]
    # The emulator shares this machine's CPU: a busy machine must not time the flush out.
    sink = CloudWatchSink(
        endpoint_url=endpoint.endpoint_url,
        region_name=REGION,
        budget_seconds=EMULATOR_SINK_BUDGET_SECONDS,
    )
    emitter = MetricsEmitter(
        audio_spec.NAMESPACE, sink, strict=True, clock=lambda: now[0], flush_at_exit=False,
    )
    for k in range(3):
        now[0] = t0 + k * 60 + 5
        emitter.count(audio_spec.AUDIO_BUFFER_OVERFLOWS, k + 1)
    emitter.flush()
    metric = MetricId(audio_spec.NAMESPACE, audio_spec.AUDIO_BUFFER_OVERFLOWS.name)
    total, p95 = MetricStat(metric, 300, "Sum"), MetricStat(metric, 300, "p95")
    source = GetMetricDataSource(endpoint.client("cloudwatch"))
    store = source.read_stats([total, p95], t0, t0 + 600)
    # moto answers 500 to a percentile query over data it holds; the Sum still arrives.
    assert store.period_statistic(total, t0) == 6
    assert set(source.failed) == {p95}
    assert "500" in source.failed[p95] or "InternalError" in source.failed[p95]


class _Scripted:
    """A source whose reads return the given snapshots in turn (data still arriving)."""

    def __init__(self, counts: list[float]) -> None:
        self.counts = counts
        self.reads = 0

    def read_stats(self, stats: Any, start: float, end: float) -> PeriodStatistics:
        store = PeriodStatistics()
        value = self.counts[min(self.reads, len(self.counts) - 1)]
        self.reads += 1
        for stat in stats:
            store.put(stat, start, value)
        return store


STAT = MetricStat(MetricId("N", "M"), 60, "Sum")


@pytest.mark.parametrize(
    ("counts", "wait", "reads", "settled"),
    [
        ([1, 1], 10, 2, True),  # LocalStack: everything there at once
        ([1, 2, 3, 3], 10, 4, True),  # AWS: datapoints still arriving for a while
        ([1, 2, 3, 4, 5], 3, 4, False),  # out of patience: the last read, flagged
        ([1], 0, 1, False),  # no waiting at all: one read
    ],
)
def test_read_settled_reads_until_two_reads_agree(
    counts: list[float], wait: float, reads: int, settled: bool
) -> None:
    clock = [0.0]
    source = _Scripted(counts)

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    store, agreed = read_settled(
        source, [STAT], 0, 60, wait=wait, interval=1, sleep=sleep, monotonic=lambda: clock[0]
    )
    assert (source.reads, agreed) == (reads, settled)
    assert store.period_statistic(STAT, 0) == counts[min(reads, len(counts)) - 1]


@pytest.mark.parametrize("how", ["client", "proxy"])
def test_faults_raise_what_dynamodb_would(endpoint: AwsEmulator, how: str) -> None:
    # Both ways (in the client for remote runs, the loopback proxy for the emulator) answer
    # with DynamoDB's own error codes, so ErrorCode is the same whichever backend ran.
    endpoint.reset()
    with contextlib.ExitStack() as stack:
        faults: DynamoDBFaults
        if how == "client":
            faults = ClientFaults(endpoint.client("dynamodb"), seed=1)
        else:
            proxy = stack.enter_context(FaultProxy(endpoint.endpoint_url, seed=1))
            proxied = boto3.session.Session().client(
                "dynamodb", endpoint_url=proxy.endpoint_url, region_name=REGION
            )
            faults = ProxyFaults(proxy, endpoint.client("dynamodb"), proxied)
        assert faults.client.list_tables()["TableNames"] == []
        for rates, code, status in [
            ({"server_error": 1.0, "throttle": 0.0}, "InternalServerError", 500),
            ({"server_error": 0.0, "throttle": 1.0}, "ThrottlingException", 400),
        ]:
            faults.set(**rates)
            with pytest.raises(ClientError) as error:
                faults.client.list_tables()
            assert error.value.response["Error"]["Code"] == code
            assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
        faults.set(server_error=0.0, throttle=0.0)
        assert faults.client.list_tables()["TableNames"] == []
        assert faults.injected >= 2  # botocore may retry an injected fault like a real one
        with pytest.raises(ValueError, match="add up to at most 1"):
            faults.set(server_error=0.6, throttle=0.6)


# Environment variables through which botocore finds credentials besides the keys themselves.
CREDENTIAL_PROVIDER_VARIABLES = (
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
)


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--aws"], {"AWS_DEFAULT_REGION": None}, "no AWS region"),
        (["--aws", "--region", "eu-west-1"], {"AWS_ACCESS_KEY_ID": None}, "no AWS credentials"),
        (["--region", "eu-west-1"], {}, "go with --endpoint-url or --aws"),
        (["--aws", "--endpoint-url", "http://127.0.0.1:1"], {}, "not allowed with"),
        (["--aws", "--region", "eu-west-1", "--readback-wait", "-1"], {}, "must be >= 0"),
    ],
)
def test_bad_remote_arguments_exit_non_zero_with_a_clear_message(
    argv: list[str],
    env: dict[str, str | None],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # No credentials or region from this machine's files, nor from an instance role.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for key, value in EMULATOR_ENV.items():
        monkeypatch.setenv(key, value)
    for key, setting in env.items():
        if setting is None:
            monkeypatch.delenv(key, raising=False)
            if key == "AWS_ACCESS_KEY_ID":
                monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
                monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # Nor from a container's or a web identity's credential provider (ECS, EKS, CodeBuild set
    # these; botocore would fetch credentials through them).
    for key in CREDENTIAL_PROVIDER_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
