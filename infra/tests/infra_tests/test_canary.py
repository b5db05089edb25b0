"""The reachability canary as synthesized: runtime, handler, schedule, where it connects, its
artifacts bucket (encrypted, TLS only, private, expiring) and its role (what "Required roles
and permissions for canaries" lists, scoped to this canary); and the schedule and URL as
settings of the app, its alarms' periods following the schedule."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra import app, canary
from infra.functions import FUNCTIONS, inline_code
from infra.stack import WebSocketServiceStack
from infra_tests.cfn import as_list, of_type, statements, text, watched_metrics
from infra_tests.conftest import STACK_NAME
from websocket_canary.settings import ENDPOINT_ENV, STEP_TIMEOUT_ENV

Resources = Mapping[str, Mapping[str, Any]]


def _one(resources: Resources, kind: str) -> tuple[str, Mapping[str, Any]]:
    ((logical_id, props),) = of_type(resources, kind).items()
    return logical_id, props


def test_the_canary_runs_the_script_on_the_newest_python_runtime_every_5_minutes(
    resources: Resources,
) -> None:
    _, c = _one(resources, "AWS::Synthetics::Canary")
    assert c["Name"] == f"{STACK_NAME}-ws"
    assert c["RuntimeVersion"] == "syn-python-selenium-14.0"
    assert c["Code"]["Handler"] == "canary_entry.handler"
    assert c["Schedule"] == {"Expression": "rate(5 minutes)", "DurationInSeconds": "0"}
    assert c["StartCanaryAfterCreation"] is True
    assert c["RunConfig"]["TimeoutInSeconds"] == 60
    assert (c["SuccessRetentionPeriod"], c["FailureRetentionPeriod"]) == (30, 30)
    assert c["ProvisionedResourceCleanup"] == "AUTOMATIC"
    env = c["RunConfig"]["EnvironmentVariables"]
    (api,) = of_type(resources, "AWS::ApiGatewayV2::Api")
    assert text(env[ENDPOINT_ENV]) == (
        "wss://${" + api + "}.execute-api.${AWS::Region}.${AWS::URLSuffix}/prod"
    )
    assert env[STEP_TIMEOUT_ENV] == "5"


def test_its_artifacts_bucket_is_encrypted_private_tls_only_and_expires(
    resources: Resources,
) -> None:
    bucket_id, bucket = _one(resources, "AWS::S3::Bucket")
    _, c = _one(resources, "AWS::Synthetics::Canary")
    assert text(c["ArtifactS3Location"]) == "s3://${" + bucket_id + "}/canary"
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["LifecycleConfiguration"]["Rules"] == [
        {"ExpirationInDays": 30, "Status": "Enabled"}
    ]
    _, policy = _one(resources, "AWS::S3::BucketPolicy")
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements(policy["PolicyDocument"])
    )


def test_its_role_may_do_only_what_a_canary_needs(resources: Resources) -> None:
    _, c = _one(resources, "AWS::Synthetics::Canary")
    role_id = text(c["ExecutionRoleArn"]).removeprefix("${").removesuffix(".Arn}")
    role = of_type(resources, "AWS::IAM::Role")[role_id]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    assert "ManagedPolicyArns" not in role
    (document,) = (
        p["PolicyDocument"]
        for p in of_type(resources, "AWS::IAM::Policy").values()
        if p["Roles"] == [{"Ref": role_id}]
    )
    bucket_id, _ = _one(resources, "AWS::S3::Bucket")
    granted: dict[str, set[str]] = {}
    for s in statements(document):
        assert s["Effect"] == "Allow"
        for action in as_list(s["Action"]):
            granted.setdefault(action, set()).update(text(r) for r in as_list(s["Resource"]))
        if as_list(s["Action"]) == ["cloudwatch:PutMetricData"]:
            assert s["Condition"] == {
                "StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}
            }
    logs = (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
        f"/aws/lambda/cwsyn-{STACK_NAME}-ws-*"
    )
    objects = "${" + bucket_id + ".Arn}/canary/*"
    assert granted == {
        "s3:PutObject": {objects},
        "s3:GetObject": {objects},
        "s3:GetBucketLocation": {"${" + bucket_id + ".Arn}"},
        "logs:CreateLogGroup": {logs},
        "logs:CreateLogStream": {logs},
        "logs:PutLogEvents": {logs},
        "s3:ListAllMyBuckets": {"*"},
        "cloudwatch:PutMetricData": {"*"},
    }


@pytest.mark.parametrize("minutes", [4, 61, 0])
def test_a_schedule_outside_5_to_60_minutes_is_refused(minutes: int) -> None:
    with pytest.raises(ValueError, match="every 5..60 minutes"):
        canary.schedule_of(minutes)


def test_a_schedule_of_part_minutes_is_refused() -> None:
    with pytest.raises(ValueError, match="whole minutes"):
        WebSocketServiceStack(
            cdk.App(), "ws-odd", code=inline_code(), canary_schedule=timedelta(seconds=330)
        )


def test_canary_names_are_what_synthetics_accepts() -> None:
    assert canary.canary_name("WS-Prod") == "ws-prod-ws"
    with pytest.raises(ValueError, match="1..255 of a-z"):
        canary.canary_name("x" * 253)


def _dist(root: Path) -> Path:
    """Empty zips where `./pants package ::` writes the functions' and the canary's."""
    for path in [*(f.zip_path for f in FUNCTIONS), canary.CANARY_ZIP]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(root / path, "w"):
            pass
    return root


def test_without_the_canary_zip_the_app_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = _dist(tmp_path / "dist")
    (dist / canary.CANARY_ZIP).unlink()
    monkeypatch.setenv("INFRA_LAMBDA_DIST", str(dist))
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "cdk.out"))
    assert app.main() == 2
    err = capsys.readouterr().err
    assert canary.CANARY_ZIP in err and "./pants package ::" in err


def test_the_schedule_and_url_settings_reach_the_canary_and_its_alarms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRA_LAMBDA_DIST", str(_dist(tmp_path / "dist")))
    monkeypatch.setenv("INFRA_CANARY_SCHEDULE_MINUTES", "10")
    monkeypatch.setenv("INFRA_CANARY_URL", "wss://live.example.com/prod")
    stack = app.build(cdk.App(outdir=str(tmp_path / "cdk.out")))
    resources = Template.from_stack(stack).to_json()["Resources"]
    _, c = _one(resources, "AWS::Synthetics::Canary")
    assert c["Schedule"]["Expression"] == "rate(10 minutes)"
    assert c["RunConfig"]["EnvironmentVariables"][ENDPOINT_ENV] == "wss://live.example.com/prod"
    assert "S3Key" in c["Code"]  # the zip from dist/, not the placeholder directory
    periods = {
        props["AlarmName"]: {m.period for m in watched_metrics(props)}
        for props in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if "-Canary-" in props["AlarmName"]
    }
    assert periods == {
        "ws-transcription-Critical-Canary-Unreachable": {600},
        "ws-transcription-Warning-Canary-RunDuration": {600},
    }
