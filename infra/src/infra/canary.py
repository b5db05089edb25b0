"""`WebSocketCanary`: the CloudWatch Synthetics canary that reaches the WebSocket API from
outside, as a speaker and a listener (the script: canary/src/websocket_canary), with its
artifacts bucket and its own least-privilege role.

Runtime: ``syn-python-selenium-14.0`` (CloudWatch user guide, "Runtime versions using Python
and Selenium Webdriver": "syn-python-selenium-14.0 ... Major dependencies: Python 3.12,
Selenium 4.32.0, Chromium version 153.0.8010.36"), the newest Python runtime; the "Runtime
versions support policy" page's deprecation table lists syn-python-selenium-5.1 and older
only. aws-cdk-lib 2.275 names runtimes up to SYNTHETICS_PYTHON_SELENIUM_7_0, so it is named
by its string. The script runs on Python 3.12 there (`RUNTIME_PYTHON`), not the
repository's 3.13: its zip is pure Python and its tests run it on 3.12.

Code: ``./pants package ::`` writes the zip (pants-plugins/synthetics_canary) to
`CANARY_ZIP` under dist/; its handler is ``canary_entry.handler`` in ``python/`` ("the ZIP
file must contain your main canary .py file within a python folder", "Writing a Python canary
script"). Synthesis-only users get `placeholder_code`: a script that fails every run, saying
it is a placeholder.

The role has what "Required roles and permissions for canaries" lists for a basic canary,
scoped down: objects under this canary's prefix of its bucket, the bucket's location, its
own log groups (``/aws/lambda/cwsyn-<name>-*``), ListAllMyBuckets, and PutMetricData only to
the CloudWatchSynthetics namespace. (No X-Ray: active tracing is for Node.js runtimes.)
"""

from __future__ import annotations

import functools
import re
import tempfile
from datetime import timedelta
from pathlib import Path

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_synthetics as synthetics
from constructs import Construct

from infra.alarm_scopes import SYNTHETICS_NAMESPACE, MonitoredCanary
from infra.alarm_vocabulary import CANARY_SCHEDULE
from websocket_canary.settings import DEFAULT_STEP_TIMEOUT_SECONDS, ENDPOINT_ENV, STEP_TIMEOUT_ENV

RUNTIME_NAME = "syn-python-selenium-14.0"
RUNTIME = synthetics.Runtime(RUNTIME_NAME, synthetics.RuntimeFamily.PYTHON)
RUNTIME_PYTHON = (3, 12)  # the runtime's "Major dependencies: Python 3.12"

# pants-plugins/synthetics_canary: ENTRY_MODULE re-exports the script's handler.
HANDLER = "canary_entry.handler"
CANARY_ZIP = "canary.src.websocket_canary/websocket_canary.zip"  # under dist/

DEFAULT_SCHEDULE = CANARY_SCHEDULE
# At least 5 minutes between runs. Every canary session's one audio chunk waits for a
# Transcribe stream to open (a latency no busy session's p95 sees), and a run (under
# RUN_TIMEOUT) touches at most two adjacent minutes. CloudWatch does not consult missing
# data while an evaluation range holds N real datapoints (the most recent real ones decide),
# so gaps between runs do not protect a sustained 1-minute window: its range must hold
# fewer than N minutes with canary traffic. At 5 minutes, any 10 consecutive minutes hold at
# most 4 such minutes: the canary alone cannot fill the 5- and 10-minute windows of the
# service's alarms even if CloudWatch read twice N periods (the local run's evaluator reads
# N + 2). At 3 minutes, 7 minutes can hold 5 (local-run test_canary_alarms shows it firing).
MIN_SCHEDULE = timedelta(minutes=5)
MAX_SCHEDULE = timedelta(hours=1)
RUN_TIMEOUT = Duration.seconds(60)
RETENTION = Duration.days(30)  # run data in Synthetics, and the artifacts in the bucket
ARTIFACTS_PREFIX = "canary"
# CloudFormation's pattern for AWS::Synthetics::Canary Name.
_NAME = re.compile(r"[0-9a-z_\-]{1,255}")

PLACEHOLDER = (
    "def handler(event, context):\n"
    "    raise RuntimeError('placeholder canary code (synthesis only): deploy the zip "
    "./pants package :: writes to dist/" + CANARY_ZIP + "')\n"
)


def canary_name(stack_name: str) -> str:
    """``<stack>-ws`` in lowercase (canary names are lowercase letters, digits, - and _)."""
    name = f"{stack_name}-ws".lower()
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"canary name {name!r} (from stack {stack_name!r}) must be 1..255 of a-z, 0-9, "
            "'-' or '_'"
        )
    return name


def schedule_of(minutes: int) -> timedelta:
    """A schedule in whole minutes, refused outside MIN_SCHEDULE..MAX_SCHEDULE."""
    schedule = timedelta(minutes=minutes)
    if not MIN_SCHEDULE <= schedule <= MAX_SCHEDULE:
        raise ValueError(
            f"the canary runs every 5..60 minutes, got {minutes}: more often, its traffic "
            "alone could fill the service's 5-minute latency windows"
        )
    return schedule


def code_from_dist(dist: str | Path) -> synthetics.Code:
    """The canary's zip as ``./pants package ::`` wrote it; `FileNotFoundError` if absent."""
    path = Path(dist) / CANARY_ZIP
    if not path.is_file():
        raise FileNotFoundError(path)
    return synthetics.Code.from_asset(str(path))


@functools.cache
def _placeholder_dir() -> str:
    root = Path(tempfile.mkdtemp(prefix="canary-placeholder-"))
    module = root / "python" / (HANDLER.split(".")[0] + ".py")
    module.parent.mkdir()
    module.write_text(PLACEHOLDER, encoding="utf-8")
    return str(root)


def placeholder_code() -> synthetics.Code:
    """A directory asset with the real handler's file name (CDK checks ``python/<file>.py``
    exists), whose every run fails: what tests and the local run synthesize with."""
    return synthetics.Code.from_asset(_placeholder_dir())


class WebSocketCanary(Construct):
    """The canary at ``url`` every ``schedule``, its bucket and role; `monitored` is what its
    alarms read (name and schedule)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        url: str,
        code: synthetics.Code,
        schedule: timedelta = DEFAULT_SCHEDULE,
        step_timeout: float = DEFAULT_STEP_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(scope, construct_id)
        minutes = int(schedule.total_seconds()) // 60
        if schedule != timedelta(minutes=minutes):
            raise ValueError(f"the canary's schedule is whole minutes, got {schedule}")
        schedule_of(minutes)
        self.monitored = MonitoredCanary(name, schedule)
        self.bucket = s3.Bucket(
            self,
            "Artifacts",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=RETENTION)],
            # Run logs of an incident outlive a deleted stack; they expire on their own.
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = self._role(name)
        self.canary = synthetics.Canary(
            self,
            "Canary",
            canary_name=name,
            runtime=RUNTIME,
            test=synthetics.Test.custom(code=code, handler=HANDLER),
            schedule=synthetics.Schedule.rate(Duration.minutes(minutes)),
            artifacts_bucket_location=synthetics.ArtifactsBucketLocation(
                bucket=self.bucket, prefix=ARTIFACTS_PREFIX
            ),
            role=self.role,
            timeout=RUN_TIMEOUT,
            environment_variables={ENDPOINT_ENV: url, STEP_TIMEOUT_ENV: f"{step_timeout:g}"},
            success_retention_period=RETENTION,
            failure_retention_period=RETENTION,
            start_after_creation=True,
            # Deleting the canary deletes the Lambda function and layers Synthetics made.
            provisioned_resource_cleanup=True,
        )

    def _role(self, name: str) -> iam.Role:
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the Synthetics canary {name} (the WebSocket API from outside).",
        )
        statements = [
            (
                ["s3:PutObject", "s3:GetObject"],
                [self.bucket.arn_for_objects(f"{ARTIFACTS_PREFIX}/*")],
            ),
            (["s3:GetBucketLocation"], [self.bucket.bucket_arn]),
            (
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                [
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"/aws/lambda/cwsyn-{name}-*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            ),
            # ListAllMyBuckets has no resource narrower than *.
            (["s3:ListAllMyBuckets"], ["*"]),
        ]
        for actions, resources in statements:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData has no resource type
                conditions={"StringEquals": {"cloudwatch:namespace": SYNTHETICS_NAMESPACE}},
            )
        )
        return role
