"""`WebSocketServiceStack`: everything the service runs on, and what watches it.

- API Gateway WebSocket API (route on ``$request.body.action``) with one stage, access logs
  and throttling; every route of `functions.FUNCTIONS` goes to its Lambda function.
- The Lambda functions from code passed in (`functions.code_from_dist` for Pants's zips,
  inline code in tests), each with its own role, log group (with retention) and environment
  (table names, METRICS_SINK, METRICS_NAMESPACE).
- DynamoDB tables: sessions, connections (index bySession) and rate-limit counters, each
  with the TTL attribute the store writes, point-in-time recovery and encryption at rest.
- An EventBridge rule that runs the periodic status update every minute.
- SNS topics per alarm severity (`alarm_topics`): encrypted with a customer managed KMS key
  (the only kind CloudWatch alarms can publish to), refusing non-TLS publishers, logging the
  delivery status of every HTTP/S delivery.
- The reachability canary (`canary.WebSocketCanary`): CloudWatch Synthetics, as a speaker
  and a listener on the stage's wss:// URL (or the URL clients use), every 5 minutes.
- `CloudWatchAlarms`, `DrillDown` (Contributor Insights rules and saved Logs Insights queries
  on the log groups) and `ServiceDashboard`.

IAM is least privilege: DynamoDB actions only on the tables (and the index) a function uses,
``execute-api:ManageConnections`` only on this stage's ``@connections`` with the methods it
calls, ``cloudwatch:PutMetricData`` only for its own namespace (condition
``cloudwatch:namespace``), log writes only to its own log group.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_synthetics as synthetics
from constructs import Construct

from infra import alarm_topics
from infra.alarm_construct import DEFAULT_ACCOUNT_CONCURRENCY, CloudWatchAlarms
from infra.alarm_vocabulary import Severity
from infra.canary import DEFAULT_SCHEDULE, WebSocketCanary, canary_name, placeholder_code
from infra.dashboard import ServiceDashboard
from infra.drilldown import ACCESS_LOGS
from infra.drilldown_construct import DrillDown
from infra.functions import (
    FUNCTIONS,
    ROUTE_SELECTION_EXPRESSION,
    ZIP_HANDLER,
    FunctionSpec,
    Table,
    environment_of,
)
from infra.nag import acknowledge_findings
from infra.subscribers import Subscribers
from session_management import store
from websocket_service.dynamodb import TTL_ATTRIBUTE
from websocket_service.events import CONNECT, DISCONNECT
from websocket_service.management_api import ENDPOINT_ENV

# Lambda runtime: the one the zips are built for (python_awslambda runtime="python3.13" and
# the repository's interpreter constraints; the audio zip carries cp313 native wheels).
# python3.13 is supported to 2029-06-30 (python3.11: deprecated 2027-06-30).
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_13
LAMBDA_ARCHITECTURE = lambda_.Architecture.X86_64  # the wheels Pants picked (manylinux x86_64)

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
STATUS_UPDATE_INTERVAL = Duration.minutes(1)

# Stage-wide API Gateway throttling (per second, across all clients); the per-connection
# limits live in the handlers.
THROTTLE_RATE_LIMIT = 500
THROTTLE_BURST_LIMIT = 1000


# One JSON object per connection event, for Logs Insights.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "requestTime": "$context.requestTime",
        "eventType": "$context.eventType",
        "routeKey": "$context.routeKey",
        "connectionId": "$context.connectionId",
        "status": "$context.status",
        "integrationStatus": "$context.integrationStatus",
        "integrationLatency": "$context.integrationLatency",
        "error": "$context.error.message",
        "integrationError": "$context.integrationErrorMessage",
    },
    separators=(",", ":"),
)


class WebSocketServiceStack(Stack):
    """The service stack.

    ``code`` maps each function label (`FunctionSpec.label`) to its code.
    ``manage_api_gateway_account`` sets the account-wide CloudWatch role API Gateway needs for
    logging (set it False if the account already has one). ``connect_authorizer`` guards
    $connect once clients have an identity (the services' contract is anonymous today).
    ``canary_code`` is the canary's zip (`canary.code_from_dist`; synthesis-only users leave
    it out and get a placeholder that fails every run), ``canary_url`` the URL it connects
    to (default: the stage's; pass the custom domain clients use), ``canary_schedule`` how
    often it runs (5..60 minutes; its alarms' periods follow it).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: Mapping[str, lambda_.Code],
        stage_name: str = "prod",
        metrics_sink: str = "emf",
        manage_api_gateway_account: bool = True,
        connect_authorizer: apigw.IWebSocketRouteAuthorizer | None = None,
        functions: tuple[FunctionSpec, ...] = FUNCTIONS,
        subscribers: Mapping[Severity, Subscribers] | None = None,
        account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
        canary_code: synthetics.Code | None = None,
        canary_url: str | None = None,
        canary_schedule: timedelta = DEFAULT_SCHEDULE,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        missing = sorted({f.label for f in functions} - set(code))
        if missing:
            raise ValueError(f"no code for function(s): {', '.join(missing)}")
        self.function_specs = functions
        self.connect_authorizer = connect_authorizer
        self.api_gateway_logging_role: iam.Role | None = None
        self.roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.routes: dict[str, apigw.WebSocketRoute] = {}

        self.tables = self._tables()
        self.api = apigw.WebSocketApi(
            self,
            "Api",
            api_name=f"{construct_id}-websocket",
            description="Live broadcast sessions with transcription (WebSocket).",
            route_selection_expression=ROUTE_SELECTION_EXPRESSION,
        )
        self.stage = self._stage(stage_name, manage_api_gateway_account)
        self.functions: dict[str, lambda_.Function] = {}
        for spec in functions:
            self.functions[spec.label] = self._function(spec, code[spec.label], metrics_sink)
        self._routes(functions)
        self._schedule(functions)
        self.canary = WebSocketCanary(
            self,
            "Canary",
            name=canary_name(construct_id),
            url=canary_url or self.stage.url,
            code=canary_code or placeholder_code(),
            schedule=canary_schedule,
        )

        key = alarm_topics.topics_key(self)
        self.delivery_status_role = alarm_topics.delivery_status_role(self)
        self.topics = {
            severity: alarm_topics.alarm_topic(self, severity, key, self.delivery_status_role)
            for severity in Severity
        }
        for severity, who in (subscribers or {}).items():
            alarm_topics.subscribe(self.topics[severity], who)

        self.alarms = CloudWatchAlarms(
            self,
            "Alarms",
            name_prefix=construct_id,
            topics=self.topics,
            functions=self.functions,
            function_namespaces={f.label: f.service.namespace for f in functions},
            stage=self.stage,
            tables={t.label: table for t, table in self.tables.items()},
            account_concurrency=account_concurrency,
            canary=self.canary.monitored,
        )
        self.drilldown = DrillDown(
            self,
            "DrillDown",
            name_prefix=construct_id,
            log_groups={**self.log_groups, ACCESS_LOGS: self.access_logs},
        )
        self.dashboard = ServiceDashboard(
            self,
            "Dashboard",
            dashboard_name=construct_id,
            alarms=self.alarms,
            drilldown=self.drilldown,
        )
        self.acknowledged = acknowledge_findings(self)

    # -- storage -------------------------------------------------------------------------------

    def _tables(self) -> dict[Table, dynamodb.Table]:
        def table(construct_id: str, key: str) -> dynamodb.Table:
            return dynamodb.Table(
                self,
                construct_id,
                partition_key=dynamodb.Attribute(name=key, type=dynamodb.AttributeType.STRING),
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                time_to_live_attribute=TTL_ATTRIBUTE,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                removal_policy=RemovalPolicy.RETAIN,
            )

        sessions = table(Table.SESSIONS.label, "sessionId")
        connections = table(Table.CONNECTIONS.label, "connectionId")
        connections.add_global_secondary_index(
            index_name=store.CONNECTIONS_BY_SESSION_INDEX,
            partition_key=dynamodb.Attribute(name="sessionId", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=["role"],
        )
        rate_limits = table(Table.RATE_LIMITS.label, "key")
        return {
            Table.SESSIONS: sessions,
            Table.CONNECTIONS: connections,
            Table.RATE_LIMITS: rate_limits,
        }

    # -- API -----------------------------------------------------------------------------------

    def _stage(self, stage_name: str, manage_api_gateway_account: bool) -> apigw.WebSocketStage:
        access_logs = logs.LogGroup(
            self,
            "ApiAccessLogs",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.access_logs = access_logs
        stage = apigw.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=stage_name,
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(
                rate_limit=THROTTLE_RATE_LIMIT, burst_limit=THROTTLE_BURST_LIMIT
            ),
        )
        # The L1 property: the L2's access_log_settings wants a jsii interface implemented in
        # Python, for the same two values.
        cfn_stage = stage.node.default_child
        if not isinstance(cfn_stage, apigw.CfnStage):
            raise TypeError("WebSocketStage has no CfnStage")
        cfn_stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
        )
        if manage_api_gateway_account:
            # API Gateway writes WebSocket logs only with an account-wide CloudWatch role.
            role = iam.Role(
                self,
                "ApiGatewayCloudWatchRole",
                assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
                managed_policies=[
                    iam.ManagedPolicy.from_aws_managed_policy_name(
                        "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                    )
                ],
            )
            # Other APIs of the account may rely on the setting: keep the role if the stack
            # goes (as CDK's RestApi does).
            role.apply_removal_policy(RemovalPolicy.RETAIN)
            self.api_gateway_logging_role = role
            account = apigw_v1.CfnAccount(
                self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn
            )
            stage.node.add_dependency(account)
        return stage

    def _routes(self, functions: tuple[FunctionSpec, ...]) -> None:
        for spec in functions:
            integration = integrations.WebSocketLambdaIntegration(
                f"{spec.label}-integration", self.functions[spec.label]
            )
            for route in spec.routes:
                # $connect/$disconnect answers never reach the client; message routes return
                # the handler's response body to the sender.
                self.routes[route] = self.api.add_route(
                    route,
                    integration=integration,
                    authorizer=self.connect_authorizer if route == CONNECT else None,
                    return_response=route not in (CONNECT, DISCONNECT),
                )

    def _schedule(self, functions: tuple[FunctionSpec, ...]) -> None:
        for spec in functions:
            if not spec.scheduled:
                continue
            events.Rule(
                self,
                f"{spec.label}-schedule",
                description="Pushes the status of every live session to its speaker.",
                schedule=events.Schedule.rate(STATUS_UPDATE_INTERVAL),
                targets=[
                    targets.LambdaFunction(
                        self.functions[spec.label],
                        # The next run is a minute away: retrying a stale update is noise.
                        retry_attempts=0,
                        max_event_age=Duration.minutes(1),
                    )
                ],
            )

    # -- functions -----------------------------------------------------------------------------

    def _function(
        self, spec: FunctionSpec, code: lambda_.Code, metrics_sink: str
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            self,
            f"{spec.label}-logs",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            f"{spec.label}-role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the {spec.label} function ({spec.handler}).",
        )
        log_group.grant_write(role)
        self.roles[spec.label] = role
        self.log_groups[spec.label] = log_group
        table_names = {table: t.table_name for table, t in self.tables.items()}
        environment = environment_of(spec, table_names, metrics_sink)
        if spec.scheduled:
            # A scheduled event has no API endpoint in it: say where the Management API is.
            environment[ENDPOINT_ENV] = self.stage.callback_url
        function = lambda_.Function(
            self,
            spec.label,
            description=f"{spec.handler} ({spec.service.namespace})",
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler=ZIP_HANDLER,
            code=code,
            role=role,
            log_group=log_group,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(int(spec.timeout.total_seconds())),
            reserved_concurrent_executions=spec.reserved_concurrency,
            environment=environment,
        )
        self._grant(spec, role)
        return function

    def _grant(self, spec: FunctionSpec, role: iam.Role) -> None:
        for table, actions in spec.dynamodb.items():
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=[f"dynamodb:{action}" for action in actions],
                    resources=[self.tables[table].table_arn],
                )
            )
        if spec.queries_session_index:
            connections = self.tables[Table.CONNECTIONS]
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:Query"],
                    resources=[
                        f"{connections.table_arn}/index/{store.CONNECTIONS_BY_SESSION_INDEX}"
                    ],
                )
            )
        if spec.connection_methods:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["execute-api:ManageConnections"],
                    resources=[self.connections_arn(m.value) for m in spec.connection_methods],
                )
            )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                # PutMetricData has no resource type; the namespace condition scopes it.
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": spec.service.namespace}},
            )
        )
        if spec.transcribe_streaming:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["transcribe:StartStreamTranscription"],
                    # Transcribe streaming has no resource type.
                    resources=["*"],
                )
            )

    def connections_arn(self, method: str) -> str:
        """This stage's client connections, for one Management API method."""
        return (
            f"arn:{Aws.PARTITION}:execute-api:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
            f"{self.api.api_id}/{self.stage.stage_name}/{method}/@connections/*"
        )
