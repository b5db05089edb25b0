"""The cdk-nag (AwsSolutions) findings this stack acknowledges, each with its reason.

cdk-nag 3 reads acknowledgments from CDK's ``Validations.of(construct).acknowledge`` on the
resource or an ancestor, one finding id at a time (``Rule[finding]`` for IAM findings).
Everything else AwsSolutions checks passes without one; the tests fail on any finding that
is not listed here, and on any acknowledgment whose finding no longer occurs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import Construct

from infra.canary import ARTIFACTS_PREFIX, WebSocketCanary
from websocket_service.events import CONNECT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_cdk import aws_apigatewayv2 as apigw
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_

    from infra.functions import ConnectionMethod, FunctionSpec


class NaggedStack(Protocol):
    """What the acknowledgments read from `stack.WebSocketServiceStack`: the constructs that
    carry findings and the settings that decide which occur. A protocol, because the stack
    applies the acknowledgments while it is built: naming the stack here would make the two
    modules import each other."""

    @property
    def routes(self) -> Mapping[str, apigw.WebSocketRoute]: ...
    @property
    def connect_authorizer(self) -> apigw.IWebSocketRouteAuthorizer | None: ...
    @property
    def api_gateway_logging_role(self) -> iam.Role | None: ...
    @property
    def api(self) -> apigw.WebSocketApi: ...
    @property
    def stage(self) -> apigw.WebSocketStage: ...
    @property
    def function_specs(self) -> tuple[FunctionSpec, ...]: ...
    @property
    def roles(self) -> Mapping[str, iam.Role]: ...
    @property
    def functions(self) -> Mapping[str, lambda_.Function]: ...
    @property
    def delivery_status_role(self) -> iam.Role: ...
    @property
    def canary(self) -> WebSocketCanary: ...


@dataclass(frozen=True)
class Acknowledged:
    construct: Construct
    finding: str
    reason: str


ROUTE_AUTHORIZATION = (
    "API Gateway WebSocket APIs authorize a client once, on $connect: $disconnect and message "
    "routes cannot take an authorizer and run on the connection $connect admitted. The "
    "handlers check the caller per message besides: only the connection that created a "
    "session may send its control messages or audio."
)
CONNECT_AUTHORIZATION = (
    "The WebSocket contract of the services is anonymous by design (?sessionId=..&role=..): "
    "anyone may start a broadcast, or listen to one whose id they know. Abuse is bounded by "
    "stage throttling and per-connection rate limits that close abusive connections. When "
    "clients get an identity, pass connect_authorizer= to WebSocketServiceStack (a Lambda or "
    "IAM authorizer) and this finding is fixed rather than acknowledged."
)
API_GATEWAY_LOGGING_ROLE = (
    "AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for API Gateway's "
    "account-level CloudWatch role. The role is account-wide (every API of the account logs "
    "through it), so it cannot be narrowed to this API's log groups, and only "
    "apigateway.amazonaws.com can assume it. Pass manage_api_gateway_account=False where the "
    "account already has the role."
)
MANAGE_CONNECTIONS = (
    "Scoped to this API, this stage and one Management API method; the trailing * is the "
    "connection id, which API Gateway assigns to each client at run time (AWS documents the "
    "same scoping: <api>/<stage>/POST/@connections/*)."
)
PUT_METRIC_DATA = (
    "cloudwatch:PutMetricData has no resource type, so IAM requires Resource *; the statement "
    "is limited by the condition cloudwatch:namespace = this function's own namespace. (By "
    "default the function publishes through EMF in its logs and does not call the API.)"
)
DELIVERY_STATUS_LOGS = (
    "SNS creates the delivery status log groups itself, named sns/<region>/<account>/<topic> "
    "and sns/<region>/<account>/<topic>/Failure (SNS developer guide, message delivery "
    "status): the role may write only under this account's and Region's sns/ prefix, and "
    "only sns.amazonaws.com can assume it."
)
TRANSCRIBE_STREAMING = (
    " transcribe:StartStreamTranscription has no resource type either; it is the only "
    "Transcribe action granted."
)
RUNTIME = (
    "The runtime must match the zips: Pants builds them for CPython 3.13 (python_awslambda "
    "runtime='python3.13', interpreter constraints CPython==3.13.*) and the audio zip carries "
    "native cp313 wheels (awscrt). python3.13 is supported to 2029-06-30; python3.14 needs a "
    "CPython 3.14 to test on, which this toolchain does not have yet (then it is one change of "
    "pants.toml, the BUILD files and stack.LAMBDA_RUNTIME together)."
)

CANARY_ARTIFACTS_LOGGING = (
    "The bucket holds only the canary's own run artifacts (its log and report per run, "
    "written by the canary's role, expiring after 30 days); server access logs would need a "
    "second bucket whose own logging is the same question again, for objects that are "
    "themselves logs. Public access is blocked, requests must use TLS, objects are encrypted."
)
CANARY_ARTIFACTS_OBJECTS = (
    "Synthetics writes each run's artifacts under a key it makes per run (date and run id) "
    "below the canary's artifact location, so the role may put and get objects under that "
    "one prefix of its own bucket, which is what 'Required roles and permissions for "
    "canaries' grants (s3:PutObject, s3:GetObject on the results folder)."
)
CANARY_LOG_GROUPS = (
    "Synthetics runs the canary as a Lambda function it names cwsyn-<canary name>-<id> and "
    "creates its log group; the id is not known before deployment, so the log actions are "
    "scoped to /aws/lambda/cwsyn-<this canary's name>-*, as 'Required roles and permissions "
    "for canaries' documents, in this account and Region."
)
CANARY_ACCOUNT_WIDE = (
    "'Required roles and permissions for canaries' requires s3:ListAllMyBuckets, which has no "
    "resource narrower than *, and cloudwatch:PutMetricData, which has no resource type; the "
    "latter is limited by the condition cloudwatch:namespace = CloudWatchSynthetics, where "
    "the canary publishes SuccessPercent, Duration and Failed."
)


def acknowledgments(stack: NaggedStack) -> list[Acknowledged]:
    """What the stack acknowledges, on the narrowest construct that carries the finding."""
    acks: list[Acknowledged] = []
    for route_key, route in stack.routes.items():
        if route_key == CONNECT:
            if stack.connect_authorizer is None:
                acks.append(Acknowledged(route, "AwsSolutions-APIG4", CONNECT_AUTHORIZATION))
        else:
            acks.append(Acknowledged(route, "AwsSolutions-APIG4", ROUTE_AUTHORIZATION))
    if stack.api_gateway_logging_role is not None:
        acks.append(
            Acknowledged(
                stack.api_gateway_logging_role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                API_GATEWAY_LOGGING_ROLE,
            )
        )
    acks.append(
        Acknowledged(
            stack.delivery_status_role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
            "<AWS::AccountId>:log-group:sns/<AWS::Region>/<AWS::AccountId>/*]",
            DELIVERY_STATUS_LOGS,
        )
    )
    api_id = Stack.of(stack.api).get_logical_id(stack.api.node.default_child)  # type: ignore[arg-type]
    for spec in stack.function_specs:
        role = stack.roles[spec.label]
        for method in spec.connection_methods:
            acks.append(
                Acknowledged(
                    role,
                    f"AwsSolutions-IAM5[Resource::{_nag_connections_arn(api_id, stack, method)}]",
                    MANAGE_CONNECTIONS,
                )
            )
        reason = PUT_METRIC_DATA + (TRANSCRIBE_STREAMING if spec.transcribe_streaming else "")
        acks.append(Acknowledged(role, "AwsSolutions-IAM5[Resource::*]", reason))
        acks.append(Acknowledged(stack.functions[spec.label], "AwsSolutions-L1", RUNTIME))
    acks.extend(_canary(stack))
    return acks


def _canary(stack: NaggedStack) -> list[Acknowledged]:
    canary = stack.canary
    bucket_id = Stack.of(canary).get_logical_id(canary.bucket.node.default_child)  # type: ignore[arg-type]
    logs = (
        "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/lambda/"
        f"cwsyn-{canary.monitored.name}-*"
    )
    return [
        Acknowledged(canary.bucket, "AwsSolutions-S1", CANARY_ARTIFACTS_LOGGING),
        Acknowledged(
            canary.role,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{ARTIFACTS_PREFIX}/*]",
            CANARY_ARTIFACTS_OBJECTS,
        ),
        Acknowledged(canary.role, f"AwsSolutions-IAM5[Resource::{logs}]", CANARY_LOG_GROUPS),
        Acknowledged(canary.role, "AwsSolutions-IAM5[Resource::*]", CANARY_ACCOUNT_WIDE),
    ]


def acknowledge_findings(stack: NaggedStack) -> list[Acknowledged]:
    acks = acknowledgments(stack)
    for ack in acks:
        Validations.of(ack.construct).acknowledge(Acknowledgment(id=ack.finding, reason=ack.reason))
    return acks


def _nag_connections_arn(api_id: str, stack: NaggedStack, method: ConnectionMethod) -> str:
    """`WebSocketServiceStack.connections_arn` as cdk-nag spells it in a finding id."""
    return (
        f"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{api_id}>/"
        f"{stack.stage.stage_name}/{method.value}/@connections/*"
    )
