"""What alarms are placed on: the functions with the limits they are deployed with, the
WebSocket stage, the tables, the alarm topics and the canary, as plain Python (`Resources`)
and as the CDK constructs their metrics are read from (`AlarmTargets`); one placement of an
alarm (`Scope`); and the namespaces the platform metrics are published in.

`alarm_construct.CloudWatchAlarms` reads the resources from the CDK constructs; `docs` and
the tests write them out directly, so the alarm plan can be made without synthesizing
anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from infra.alarm_vocabulary import Limit, Severity
from infra.services import MonitoredService
from websocket_service.specs import DYNAMODB_OPERATIONS, OTHER

TYPE_CHECKING = False
if TYPE_CHECKING:
    # Annotations only: reading the resources and the namespaces does not start jsii's Node.
    from aws_cdk import aws_apigatewayv2 as apigw
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sns as sns

# AWS namespaces of the platform metrics.
LAMBDA_NAMESPACE = "AWS/Lambda"
API_GATEWAY_NAMESPACE = "AWS/ApiGateway"
DYNAMODB_NAMESPACE = "AWS/DynamoDB"
SNS_NAMESPACE = "AWS/SNS"
# Synthetics' own namespace (CloudWatch user guide, "CloudWatch metrics published by
# canaries": "Canaries publish the following metrics to CloudWatch in the
# CloudWatchSynthetics namespace"); not AWS/, but nobody else publishes there either.
SYNTHETICS_NAMESPACE = "CloudWatchSynthetics"

# The DynamoDB operations the services call: SystemErrors is published per operation.
TABLE_OPERATIONS = tuple(op for op in DYNAMODB_OPERATIONS if op != OTHER)

# The custom dimension set by which function-scoped alarms read a service metric.
HANDLER_DIMENSION = ("Handler",)


@dataclass(frozen=True)
class MonitoredFunction:
    """One Lambda function as the alarms see it: its label (the handler module, also the
    ``Handler`` dimension value), the namespace it publishes to, and its limits as deployed."""

    label: str
    namespace: str
    timeout: timedelta
    concurrency_limit: int

    def limit(self, which: Limit) -> float:
        if which is Limit.TIMEOUT_MS:
            return self.timeout.total_seconds() * 1000
        return float(self.concurrency_limit)


@dataclass(frozen=True)
class MonitoredCanary:
    """The reachability canary as its alarms see it: its name (the ``CanaryName`` dimension)
    and how often it runs (the period of its alarms: one run per period)."""

    name: str
    schedule: timedelta


@dataclass(frozen=True)
class Resources:
    """Everything the platform alarms watch besides the services' namespaces."""

    functions: tuple[MonitoredFunction, ...]
    stage: bool = True  # the WebSocket stage exists (one per stack)
    tables: tuple[str, ...] = ()  # table labels, e.g. "SessionsTable"
    topics: tuple[Severity, ...] = tuple(Severity)
    canary: MonitoredCanary | None = None  # the Synthetics canary, if the stack has one


@dataclass(frozen=True)
class Scope:
    """One place an alarm definition is put: ``name`` is its part of the alarm name (a
    service, a function, the stage, a table, a topic or the canary)."""

    name: str
    service: MonitoredService | None = None
    function: MonitoredFunction | None = None


@dataclass(frozen=True)
class AlarmTargets:
    """The CDK resources the platform alarms watch, by scope label."""

    functions: Mapping[str, lambda_.IFunction]
    stage: apigw.WebSocketStage | None = None
    tables: Mapping[str, dynamodb.ITable] | None = None
    topics: Mapping[Severity, sns.ITopic] | None = None
    canary_name: str | None = None  # the canary's metrics are by its name (CanaryName)
