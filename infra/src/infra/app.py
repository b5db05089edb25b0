"""Synthesizes the service stack to ``cdk.out/``: ``./pants run infra/src/infra/app.py``.

Build the Lambda zips first (``./pants package ::``). Settings, from the environment (or the
CDK context, ``cdk -c key=value``, when the CDK CLI runs this app):

| environment variable | context key | meaning                                | default          |
|----------------------|-------------|----------------------------------------|------------------|
| INFRA_LAMBDA_DIST    | lambdaDist  | directory holding the Pants zips       | dist             |
| INFRA_STACK_NAME     | stackName   | stack name, prefix of alarms/dashboard | ws-transcription |
| INFRA_STAGE          | stage       | API Gateway stage name                 | prod             |
| INFRA_METRICS_SINK   | metricsSink | METRICS_SINK of the functions          | emf              |
| INFRA_ACCOUNT_CONCURRENCY | accountConcurrency | the account's Lambda concurrency quota | 1000 |
| INFRA_CANARY_SCHEDULE_MINUTES | canaryScheduleMinutes | minutes between canary runs (5..60) | 5 |
| INFRA_CANARY_URL     | canaryUrl   | the wss:// URL the canary connects to  | the stage's URL  |
| CDK_OUTDIR           | -           | where the cloud assembly goes          | cdk.out          |

The canary's zip comes from the same directory as the Lambda zips
(`infra.canary.CANARY_ZIP`). Point INFRA_CANARY_URL at the custom domain clients use, if
they use one: a broken domain or certificate is then what the canary sees too.

Alarm subscribers (comma-separated; see `infra.subscribers`): INFRA_CRITICAL_EMAILS /
criticalEmails, INFRA_CRITICAL_URLS / criticalUrls (the pages: PagerDuty or Opsgenie HTTPS
endpoints), INFRA_WARNING_EMAILS / warningEmails, INFRA_WARNING_URLS / warningUrls.

With CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION set, the stack is bound to that account and
Region; otherwise it is environment-agnostic.

The synth runs cdk-nag (AwsSolutions) and fails on any finding the stack does not
acknowledge. Deploy the assembly with the CDK CLI: ``npx aws-cdk deploy --app cdk.out``.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra import canary
from infra.alarm_construct import DEFAULT_ACCOUNT_CONCURRENCY
from infra.canary import DEFAULT_SCHEDULE
from infra.functions import MissingLambdaZip, code_from_dist
from infra.stack import WebSocketServiceStack
from infra.subscribers import SubscriberError, subscribers_from

DEFAULTS = {
    "lambdaDist": ("INFRA_LAMBDA_DIST", "dist"),
    "stackName": ("INFRA_STACK_NAME", "ws-transcription"),
    "stage": ("INFRA_STAGE", "prod"),
    "metricsSink": ("INFRA_METRICS_SINK", "emf"),
    "accountConcurrency": ("INFRA_ACCOUNT_CONCURRENCY", str(DEFAULT_ACCOUNT_CONCURRENCY)),
    "canaryScheduleMinutes": (
        "INFRA_CANARY_SCHEDULE_MINUTES",
        str(int(DEFAULT_SCHEDULE.total_seconds() // 60)),
    ),
    "canaryUrl": ("INFRA_CANARY_URL", ""),
}


class SettingError(ValueError):
    """A setting the stack cannot be built with."""


def setting(app: cdk.App, key: str) -> str:
    env_var, default = DEFAULTS[key]
    return _raw(app, env_var, key) or default


def _raw(app: cdk.App, env_var: str, context_key: str) -> str | None:
    """A setting from the environment, else the CDK context; None when neither has one."""
    value = os.environ.get(env_var) or app.node.try_get_context(context_key)
    return str(value) if value else None


def build(app: cdk.App) -> WebSocketServiceStack:
    """The stack in ``app``; raises `MissingLambdaZip` without the zips and `SettingError`
    (or `SubscriberError`) for a bad setting."""
    raw_concurrency = setting(app, "accountConcurrency")
    if not raw_concurrency.isdigit() or int(raw_concurrency) < 1:
        raise SettingError(
            f"INFRA_ACCOUNT_CONCURRENCY (accountConcurrency) must be a positive integer, "
            f"got {raw_concurrency!r}"
        )
    schedule = _canary_schedule(setting(app, "canaryScheduleMinutes"))
    canary_url = setting(app, "canaryUrl") or None
    if canary_url is not None and not canary_url.startswith("wss://"):
        raise SettingError(
            f"INFRA_CANARY_URL (canaryUrl) must be the wss:// URL clients connect to, got "
            f"{canary_url!r}"
        )
    subscribers = subscribers_from(lambda env, key: _raw(app, env, key))
    dist = setting(app, "lambdaDist")
    code = code_from_dist(dist)
    try:
        canary_code = canary.code_from_dist(dist)
    except FileNotFoundError as missing:
        raise MissingLambdaZip(
            f"the canary's zip is not at {missing}: build it with `./pants package ::`"
        ) from None
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    stack = WebSocketServiceStack(
        app,
        setting(app, "stackName"),
        code=code,
        stage_name=setting(app, "stage"),
        metrics_sink=setting(app, "metricsSink"),
        subscribers=subscribers,
        account_concurrency=int(raw_concurrency),
        canary_code=canary_code,
        canary_url=canary_url,
        canary_schedule=schedule,
        env=cdk.Environment(account=account, region=region) if account and region else None,
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


def _canary_schedule(raw: str) -> timedelta:
    if not raw.isdigit():
        raise SettingError(
            f"INFRA_CANARY_SCHEDULE_MINUTES (canaryScheduleMinutes) must be a whole number of "
            f"minutes, got {raw!r}"
        )
    try:
        return canary.schedule_of(int(raw))
    except ValueError as exc:
        raise SettingError(
            f"INFRA_CANARY_SCHEDULE_MINUTES (canaryScheduleMinutes): {exc}"
        ) from None


def main() -> int:
    outdir = os.environ.get("CDK_OUTDIR") or "cdk.out"
    app = cdk.App(outdir=outdir)
    try:
        stack = build(app)
    except (MissingLambdaZip, SettingError, SubscriberError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app.synth()
    print(f"Synthesized stack {stack.stack_name} to {os.path.abspath(outdir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
