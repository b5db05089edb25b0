"""What the platform alarms are placed on, as plain Python: the functions with the limits
they are deployed with, the WebSocket stage, the tables, the alarm topics and the canary
(`Resources`), and the namespaces their metrics are published in.

`alarms.CloudWatchAlarms` reads these from the CDK constructs; `docs` and the tests write them
out directly, so the alarm plan can be made without synthesizing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from infra.alarm_definition import Limit, Severity
from websocket_service.specs import DYNAMODB_OPERATIONS, OTHER

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
