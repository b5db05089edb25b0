"""The backtest: known series published with PutMetricData into the in-process emulator, read
back with GetMetricData and evaluated with the template's alarms, which watch the resources of
a CloudFormation stack created in the emulator (ListStackResources over HTTP).

The stack in moto holds the synthesized template's logical ids with names of the test's
choosing, so each expected name is one the test gave. moto's CloudFormation creates
DynamoDB tables, SNS topics and Lambda functions, but not AWS::ApiGatewayV2::Api (it lists the
resource without ids): the stack carries a log group under the API's logical id instead,
named like an API id (a Ref is the physical id whatever the type), and a test holds what the
backtest says when the real API resource is all there is.

moto answers GetMetricData for Sum/SampleCount/Average/Minimum/Maximum but computes no
percentiles, so the asserted alarms are count (Sum, Maximum) alarms."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from audio_transcription import metrics_spec as audio_spec
from infra.alarm_vocabulary import Severity
from infra.functions import Table
from infra.stack import WebSocketServiceStack
from local_run.cli import main
from local_run.simulation.backend import local_backend
from local_run.simulation.local_functions import EMULATOR_SINK_BUDGET_SECONDS
from shared_metrics import MetricsEmitter
from shared_metrics.sinks.cloudwatch import CloudWatchSink
from shared_metrics.testing.aws_emulator import unused_loopback_url

STACK = "ws-bt"
REGION = "us-east-1"
API_ID = "a1b2c3d4e5"  # what the stack in moto calls the WebSocket API
ALARM = "Warning-AudioTranscription-AudioBufferOverflows"  # Sum over 5 min > 10, 1 of 1

# Overflows per 5-minute period over one hour: two breaches in a row, then one more.
PER_PERIOD = [2, 2, 2, 20, 20, 2, 2, 2, 15, 2, 2, 2]


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def logical_id(stack: WebSocketServiceStack, construct: Any) -> str:
    return str(stack.resolve(construct.node.default_child.logical_id))


def deployed_names(stack: WebSocketServiceStack) -> dict[str, str]:
    """The synthesized template's logical ids (the same whatever the stack's name) -> the
    names the stack in moto gives those resources."""
    return {
        **{logical_id(stack, f): f"deployed-{label}-fn" for label, f in stack.functions.items()},
        **{logical_id(stack, t): f"deployed-{table.label}" for table, t in stack.tables.items()},
        **{logical_id(stack, t): f"deployed-{s.value}-topic" for s, t in stack.topics.items()},
        logical_id(stack, stack.api): API_ID,
    }


def deploy(
    url: str,
    stack: WebSocketServiceStack,
    only: Iterable[str] | None = None,
    real_api: bool = False,
) -> None:
    """Create stack STACK in moto: the resources (logical ids ``only``, default all) under
    `deployed_names`; the API as a stand-in log group unless ``real_api``."""
    names = deployed_names(stack)
    wanted = set(names if only is None else only)
    kinds = {
        **{logical_id(stack, f): "function" for f in stack.functions.values()},
        **{logical_id(stack, t): "table" for t in stack.tables.values()},
        **{logical_id(stack, t): "topic" for t in stack.topics.values()},
        logical_id(stack, stack.api): "api",
    }
    role = {"Fn::GetAtt": ["BacktestRole", "Arn"]}
    resources: dict[str, Any] = {
        "BacktestRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
        }
    }
    for logical, name in names.items():
        if logical not in wanted:
            continue
        kind = kinds[logical]
        if kind == "function":
            props: dict[str, Any] = {
                "FunctionName": name, "Runtime": "python3.13", "Handler": "index.handler",
                "Role": role, "Code": {"ZipFile": "def handler(event, context):\n    pass\n"},
            }
            resources[logical] = {"Type": "AWS::Lambda::Function", "Properties": props}
        elif kind == "table":
            props = {
                "TableName": name, "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            }
            resources[logical] = {"Type": "AWS::DynamoDB::Table", "Properties": props}
        elif kind == "topic":
            resources[logical] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": name}}
        elif real_api:
            props = {"Name": name, "ProtocolType": "WEBSOCKET"}
            resources[logical] = {"Type": "AWS::ApiGatewayV2::Api", "Properties": props}
        else:
            props = {"LogGroupName": name}
            resources[logical] = {"Type": "AWS::Logs::LogGroup", "Properties": props}
    client = boto3.session.Session().client("cloudformation", endpoint_url=url, region_name=REGION)
    client.create_stack(
        StackName=STACK, TemplateBody=json.dumps({"Resources": resources}),
        Capabilities=["CAPABILITY_IAM"],
    )


def put(
    url: str, namespace: str, name: str, dims: dict[str, str], at: list[float], value: float
) -> None:
    """One datum of ``value`` at each of the times ``at``, with PutMetricData."""
    client = boto3.session.Session().client("cloudwatch", endpoint_url=url, region_name=REGION)
    client.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                "Timestamp": datetime.fromtimestamp(t, UTC),
                "Value": value,
            }
            for t in at
        ],
    )


def rows_of(out: str, alarms: Iterable[str]) -> dict[str, list[str]]:
    """The report's rows of the ``alarms``: key -> [times in ALARM, minutes in ALARM]."""
    wanted = set(alarms)
    rows = (line.split() for line in out.splitlines())
    return {r[-1]: r[:-1] for r in rows if r and r[-1] in wanted}


def window_start() -> float:
    return math.floor((time.time() - 2 * 3600) / 300) * 300


def test_backtest_counts_the_entries_into_alarm_and_the_minutes_in_it(
    capsys: pytest.CaptureFixture[str], stack: WebSocketServiceStack
) -> None:
    t0 = window_start()
    now = [float(t0)]
    with local_backend() as url:
        deploy(url, stack)
        emitter = MetricsEmitter(
            audio_spec.NAMESPACE, CloudWatchSink(
                endpoint_url=url, region_name="us-east-1",
                budget_seconds=EMULATOR_SINK_BUDGET_SECONDS,
            ),
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


def minutes(t0: float, first: int, last: int) -> list[float]:
    """A timestamp inside each minute ``first..last`` after ``t0``."""
    return [t0 + m * 60 + 30 for m in range(first, last + 1)]


def test_the_alarms_watch_the_deployed_stacks_physical_names(
    capsys: pytest.CaptureFixture[str], stack: WebSocketServiceStack
) -> None:
    names = deployed_names(stack)
    connection = names[logical_id(stack, stack.functions["connection"])]
    sessions = names[logical_id(stack, stack.tables[Table.SESSIONS])]
    sessions_key = f"Warning-{Table.SESSIONS.label}-Throttles"
    critical_topic = names[logical_id(stack, stack.topics[Severity.CRITICAL])]
    t0 = window_start()
    expected = {
        # Sum > 0 in 5 of 5 minutes, breaching minutes 10..19: ALARM from +15 min while the
        # evaluation range (N + 2 = 7 minutes) holds 5 real breaching datapoints: to +23.
        "Critical-connection-Throttles": ["1", "8"],
        # Under the name a local run would give it: not the deployed function's, not read.
        "Critical-session_status-Throttles": ["0", "0"],
        # > 0 in 3 of 5 minutes, breaching 30..33, missing data ignored (AWS/DynamoDB):
        # ALARM at +33 until 3 of the last 5 real datapoints no longer breach, +37.
        sessions_key: ["1", "4"],
        # Sum > 0 over 5 minutes, 1 of 1, the failures filled with 0: the period 40..45 ->
        # ALARM at +45; the next period is a real 0: OK at +50.
        "Warning-CriticalAlarmsTopic-DeliveryFailures": ["1", "5"],
        # 5 of 5 minutes: breaching 50..54 -> ALARM at +55 until +56.
        "Critical-WebSocketApi-PlatformErrors": ["1", "1"],
    }
    with local_backend() as url:
        deploy(url, stack)
        put(url, "AWS/Lambda", "Throttles", {"FunctionName": connection}, minutes(t0, 10, 19), 1)
        put(url, "AWS/Lambda", "Throttles", {"FunctionName": f"{STACK}-session_status"},
            minutes(t0, 10, 19), 1)
        put(url, "AWS/DynamoDB", "ReadThrottleEvents", {"TableName": sessions},
            minutes(t0, 30, 33), 1)
        put(url, "AWS/SNS", "NumberOfNotificationsFailed", {"TopicName": critical_topic},
            minutes(t0, 41, 41), 2)
        put(url, "AWS/ApiGateway", "ExecutionError", {"ApiId": API_ID, "Stage": "prod"},
            minutes(t0, 50, 54), 1)
        code = main([
            "backtest", "--endpoint-url", url, "--region", REGION, "--stack-name", STACK,
            "--start", iso(t0), "--end", iso(t0 + 3600),
            *(a for key in expected for a in ("--alarm", key)),
        ])
    out = capsys.readouterr().out
    assert code == 0
    assert rows_of(out, expected) == expected
    topics = {logical_id(stack, t) for t in stack.topics.values()}
    for logical, name in names.items():
        token = f"{{GetAtt:{logical}.TopicName}}" if logical in topics else f"{{Ref:{logical}}}"
        assert f"    {token} = {name}\n" in out


@pytest.mark.filterwarnings("ignore:Tried to parse AWS..ApiGatewayV2..Api:UserWarning")
def test_a_stack_without_a_resource_the_alarms_watch_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], stack: WebSocketServiceStack
) -> None:
    api = logical_id(stack, stack.api)
    tables = {logical_id(stack, t) for t in stack.tables.values()}
    with local_backend() as url:
        deploy(url, stack, real_api=True)  # moto's CloudFormation does not create it
        code = main(["backtest", "--endpoint-url", url, "--region", REGION, "--stack-name", STACK,
                     "--days", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"error: stack {STACK} has no resource with the logical id(s) {api} that" in err
    assert "Traceback" not in err

    with local_backend() as url:
        deploy(url, stack, only=tables)
        code = main(["backtest", "--endpoint-url", url, "--region", REGION, "--stack-name", STACK,
                     "--days", "1"])
    err = capsys.readouterr().err
    assert code == 2
    missing = sorted(set(deployed_names(stack)) - tables)
    assert f"logical id(s) {', '.join(missing)} that the alarms watch" in err


def test_a_stack_that_does_not_exist_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    with local_backend() as url:
        code = main(["backtest", "--endpoint-url", url, "--region", REGION,
                     "--stack-name", "ws-nowhere", "--days", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"local-run backtest: error: stack ws-nowhere does not exist ({url};" in err
    assert "Traceback" not in err


def test_without_the_lookup_the_local_names_and_given_function_names_are_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    alarms = ["Critical-connection-Throttles", "Critical-audio_processor-Throttles"]
    t0 = window_start()
    with local_backend() as url:  # no stack at all
        put(url, "AWS/Lambda", "Throttles", {"FunctionName": f"{STACK}-connection"},
            minutes(t0, 10, 19), 1)
        put(url, "AWS/Lambda", "Throttles", {"FunctionName": "given-audio-fn"},
            minutes(t0, 10, 19), 1)
        code = main([
            "backtest", "--endpoint-url", url, "--region", REGION, "--stack-name", STACK,
            "--start", iso(t0), "--end", iso(t0 + 3600), "--no-stack-lookup",
            "--function-name", "audio_processor=given-audio-fn",
            *(a for key in alarms for a in ("--alarm", key)),
        ])
    out = capsys.readouterr().out
    assert code == 0
    assert rows_of(out, alarms) == {
        "Critical-connection-Throttles": ["1", "8"],
        "Critical-audio_processor-Throttles": ["1", "8"],
    }


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
        (["--days", "1", "--function-name", "connection=f"], "goes with --no-stack-lookup only"),
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
