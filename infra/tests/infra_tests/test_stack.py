"""The stack as synthesized: cdk-nag AwsSolutions and cfn-lint clean, least-privilege IAM,
tables as the store creates them, routes, environment, schedule and encrypted topics."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint

import infra.stack
from infra.functions import FUNCTIONS, FunctionSpec, Table
from infra.stack import WebSocketServiceStack
from infra_tests.cfn import as_list, of_type, ref, statements, text
from infra_tests.conftest import build_stack
from session_management.store import SessionStore, TableNames

Resources = Mapping[str, Mapping[str, Any]]

# cfn-lint warns that CDK's DependsOn on a role is redundant with the GetAtt of its ARN.
KNOWN_CDK_NOISE = {"W3005"}


def _violations(stack: WebSocketServiceStack) -> list[tuple[str, str]]:
    report = AwsSolutionsChecks().validate_scope(stack)
    return sorted(
        (v.rule_name, r.construct_path or "")
        for v in report.violations
        for r in v.violating_resources
    )


# -- cdk-nag ----------------------------------------------------------------------------------


def test_cdk_nag_aws_solutions_has_no_unacknowledged_finding(stack: WebSocketServiceStack) -> None:
    assert _violations(stack) == []


def test_every_acknowledgment_is_needed_and_explained(
    stack: WebSocketServiceStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built again without acknowledgments, the stack has exactly the acknowledged findings:
    none is stale, none is missing."""
    monkeypatch.setattr(infra.stack, "acknowledge_findings", lambda stack: [])
    bare = _violations(build_stack())
    acknowledged = [(a.construct.node.path, a.finding, a.reason) for a in stack.acknowledged]
    for path, finding, reason in acknowledged:
        assert any(
            rule == finding and (p + "/").startswith(path + "/") for rule, p in bare
        ), f"stale acknowledgment {finding} on {path}"
        assert len(reason) >= 150 and "TODO" not in reason, f"{finding}: explain why"
    for rule, p in bare:
        assert any(
            rule == finding and (p + "/").startswith(path + "/")
            for path, finding, _ in acknowledged
        ), f"{rule} on {p} is not acknowledged"


# -- cfn-lint ---------------------------------------------------------------------------------


def test_cfn_lint_finds_no_errors(template: Template) -> None:
    matches = lint(json.dumps(template.to_json()), config=ManualArgs(regions=["us-east-1"]))
    findings = [f"{m.rule.id} {m.message} at {'/'.join(map(str, m.path))}" for m in matches]
    assert [f for f in findings if f.startswith("E")] == []
    assert [f for f in findings if f.split()[0] not in KNOWN_CDK_NOISE] == []


# -- IAM --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def table_ids(resources: Resources, logical_ids: dict[str, str]) -> dict[Table, str]:
    """Each table's logical id, as the functions' environment references it."""
    env = of_type(resources, "AWS::Lambda::Function")[logical_ids[FUNCTIONS[0].label]]
    variables = env["Environment"]["Variables"]
    return {table: variables[table.value]["Ref"] for table in Table}


def _policy(resources: Resources, role_id: str) -> list[Mapping[str, Any]]:
    (document,) = (
        p["PolicyDocument"]
        for p in of_type(resources, "AWS::IAM::Policy").values()
        if p["Roles"] == [ref(role_id)]
    )
    return list(statements(document))


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda f: f.label)
def test_each_function_may_do_only_what_it_needs(
    spec: FunctionSpec,
    resources: Resources,
    logical_ids: dict[str, str],
    table_ids: dict[Table, str],
) -> None:
    role_id = logical_ids[f"{spec.label}-role"]
    role = of_type(resources, "AWS::IAM::Role")[role_id]
    assert "ManagedPolicyArns" not in role
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    function = of_type(resources, "AWS::Lambda::Function")[logical_ids[spec.label]]
    log_group = function["LoggingConfig"]["LogGroup"]["Ref"]

    granted: dict[str, set[str]] = {}
    for statement in _policy(resources, role_id):
        assert statement["Effect"] == "Allow"
        actions = as_list(statement["Action"])
        assert all("*" not in a for a in actions), actions
        resources_ = [text(r) for r in as_list(statement["Resource"])]
        if resources_ == ["*"]:
            if actions == ["cloudwatch:PutMetricData"]:
                assert statement["Condition"] == {
                    "StringEquals": {"cloudwatch:namespace": spec.service.namespace}
                }
            else:
                assert spec.transcribe_streaming
                assert actions == ["transcribe:StartStreamTranscription"]
        for action in actions:
            granted.setdefault(action, set()).update(resources_)

    expected: dict[str, set[str]] = {
        "logs:CreateLogStream": {"${" + log_group + ".Arn}"},
        "logs:PutLogEvents": {"${" + log_group + ".Arn}"},
        "cloudwatch:PutMetricData": {"*"},
    }
    for table, table_actions in spec.dynamodb.items():
        for action in table_actions:
            expected.setdefault(f"dynamodb:{action}", set()).add("${" + table_ids[table] + ".Arn}")
    if spec.queries_session_index:
        expected.setdefault("dynamodb:Query", set()).add(
            "${" + table_ids[Table.CONNECTIONS] + ".Arn}/index/bySession"
        )
    api = "${" + next(iter(of_type(resources, "AWS::ApiGatewayV2::Api"))) + "}"
    expected["execute-api:ManageConnections"] = {
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
        f"{api}/prod/{method.value}/@connections/*"
        for method in spec.connection_methods
    }
    if spec.transcribe_streaming:
        expected["transcribe:StartStreamTranscription"] = {"*"}
    assert granted == expected


def test_only_api_gateway_uses_a_managed_policy(resources: Resources) -> None:
    with_managed = [
        r["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
        for r in of_type(resources, "AWS::IAM::Role").values()
        if "ManagedPolicyArns" in r
    ]
    assert with_managed == ["apigateway.amazonaws.com"]
    (account,) = of_type(resources, "AWS::ApiGateway::Account").values()
    assert "CloudWatchRoleArn" in account


# -- tables -----------------------------------------------------------------------------------


class _RecordingDynamoDB:
    def __init__(self) -> None:
        self.created: dict[str, dict[str, Any]] = {}
        self.ttl: dict[str, str] = {}
        self.active: set[str] = set()

    def create_table(self, **kwargs: Any) -> None:
        self.created[kwargs["TableName"]] = kwargs

    def get_waiter(self, name: str) -> Any:
        assert name == "table_exists"
        recorder = self

        class Waiter:
            def wait(self, TableName: str, **_: Any) -> None:  # noqa: N803 (boto3's name)
                assert TableName in recorder.created
                recorder.active.add(TableName)

        return Waiter()

    def update_time_to_live(self, **kwargs: Any) -> None:
        # Real DynamoDB refuses a TTL change while the table is still being created.
        assert kwargs["TableName"] in self.active, "TTL set before the table was ACTIVE"
        self.ttl[kwargs["TableName"]] = kwargs["TimeToLiveSpecification"]["AttributeName"]


def test_tables_are_the_ones_the_store_creates_locally(
    resources: Resources, table_ids: dict[Table, str]
) -> None:
    """The store's create_tables (used with emulators) and the deployed tables agree."""
    names = TableNames()
    client = _RecordingDynamoDB()
    SessionStore(client, names).create_tables()
    local_name = {
        Table.SESSIONS: names.sessions,
        Table.CONNECTIONS: names.connections,
        Table.RATE_LIMITS: names.rate_limits,
    }
    tables = of_type(resources, "AWS::DynamoDB::Table")
    assert len(tables) == len(Table)
    for table, logical_id in table_ids.items():
        deployed = tables[logical_id]
        local = client.created[local_name[table]]
        assert deployed["KeySchema"] == local["KeySchema"]
        assert sorted(deployed["AttributeDefinitions"], key=str) == sorted(
            local["AttributeDefinitions"], key=str
        )
        assert deployed.get("GlobalSecondaryIndexes", []) == local.get("GlobalSecondaryIndexes", [])
        assert deployed["BillingMode"] == local["BillingMode"] == "PAY_PER_REQUEST"
        assert deployed["TimeToLiveSpecification"] == {
            "AttributeName": client.ttl[local_name[table]],
            "Enabled": True,
        }
        assert deployed["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert deployed["SSESpecification"]["SSEEnabled"] is True


# -- API, functions, schedule ---------------------------------------------------------------


def test_every_route_reaches_its_function(
    resources: Resources, logical_ids: dict[str, str]
) -> None:
    (api,) = of_type(resources, "AWS::ApiGatewayV2::Api").values()
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    integrations = of_type(resources, "AWS::ApiGatewayV2::Integration")
    routes = {
        r["RouteKey"]: (logical_id, text(r["Target"]))
        for logical_id, r in of_type(resources, "AWS::ApiGatewayV2::Route").items()
    }
    expected = {route: f.label for f in FUNCTIONS for route in f.routes}
    assert sorted(routes) == sorted(expected)
    assert {
        "$connect",
        "$disconnect",
        "getSessionStatus",
        "sendAudio",
        "pauseBroadcast",
        "resumeBroadcast",
        "muteBroadcast",
        "unmuteBroadcast",
        "setVolume",
        "endSession",
    } <= set(routes)
    responses = {
        text(r["RouteId"]) for r in of_type(resources, "AWS::ApiGatewayV2::RouteResponse").values()
    }
    for route_key, (route_id, target) in routes.items():
        integration_id = target.removeprefix("integrations/${").removesuffix("}")
        uri = text(integrations[integration_id]["IntegrationUri"])
        assert "${" + logical_ids[expected[route_key]] + ".Arn}" in uri, route_key
        # Message routes send the handler's answer back; $connect/$disconnect cannot.
        assert (("${" + route_id + "}") in responses) == (
            route_key not in ("$connect", "$disconnect")
        )


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda f: f.label)
def test_function_configuration(
    spec: FunctionSpec,
    resources: Resources,
    logical_ids: dict[str, str],
    table_ids: dict[Table, str],
) -> None:
    function = of_type(resources, "AWS::Lambda::Function")[logical_ids[spec.label]]
    assert function["Runtime"] == "python3.13"
    assert function["Handler"] == "lambda_function.handler"
    assert function["Architectures"] == ["x86_64"]
    variables = function["Environment"]["Variables"]
    assert variables["METRICS_SINK"] == "emf"
    assert variables["METRICS_NAMESPACE"] == spec.service.namespace
    for table in Table:
        assert variables[table.value] == ref(table_ids[table])
    if spec.scheduled:
        endpoint = text(variables["APIGW_MANAGEMENT_ENDPOINT"])
        assert endpoint.startswith("https://${") and endpoint.endswith("/prod")
    log_groups = of_type(resources, "AWS::Logs::LogGroup")
    assert log_groups[function["LoggingConfig"]["LogGroup"]["Ref"]]["RetentionInDays"] == 30


def test_the_status_update_runs_every_minute(
    resources: Resources, logical_ids: dict[str, str]
) -> None:
    (rule,) = of_type(resources, "AWS::Events::Rule").values()
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert text(target["Arn"]) == "${" + logical_ids["session_status"] + ".Arn}"
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0


def test_api_stage_logs_and_throttles(resources: Resources) -> None:
    (stage,) = of_type(resources, "AWS::ApiGatewayV2::Stage").values()
    assert stage["StageName"] == "prod" and stage["AutoDeploy"] is True
    destination = text(stage["AccessLogSettings"]["DestinationArn"])
    group = destination.removeprefix("${").removesuffix(".Arn}")
    assert of_type(resources, "AWS::Logs::LogGroup")[group]["RetentionInDays"] == 30
    assert "$context.connectionId" in stage["AccessLogSettings"]["Format"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


# -- notifications ------------------------------------------------------------------------------


def test_alarm_topics_are_encrypted_tls_only_and_open_to_cloudwatch_alarms(
    resources: Resources,
) -> None:
    (key_id,) = of_type(resources, "AWS::KMS::Key")
    key = of_type(resources, "AWS::KMS::Key")[key_id]
    assert key["EnableKeyRotation"] is True
    assert any(
        s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        and set(s["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
        for s in key["KeyPolicy"]["Statement"]
    )
    topics = of_type(resources, "AWS::SNS::Topic")
    assert len(topics) == 2
    for topic in topics.values():
        assert text(topic["KmsMasterKeyId"]) == "${" + key_id + ".Arn}"
    for policy in of_type(resources, "AWS::SNS::TopicPolicy").values():
        stmts = list(statements(policy["PolicyDocument"]))
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in stmts
        )
        (publish,) = (s for s in stmts if s["Effect"] == "Allow")
        assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert publish["Action"] == "sns:Publish"
        assert text(publish["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(":alarm:*")


def test_alarm_topics_log_every_https_delivery_with_a_role_sns_can_use(
    resources: Resources,
) -> None:
    # The DeliveryFailures runbooks open the topics' delivery status logs first: SNS writes
    # them only for a topic whose DeliveryStatusLogging names a role it may assume.
    roles = {
        logical_id
        for logical_id, role in of_type(resources, "AWS::IAM::Role").items()
        if role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "sns.amazonaws.com"}
    }
    assert len(roles) == 1
    (role_id,) = roles
    for topic in of_type(resources, "AWS::SNS::Topic").values():
        (logging,) = topic["DeliveryStatusLogging"]
        assert logging["Protocol"] == "http/s"
        assert text(logging["FailureFeedbackRoleArn"]) == "${" + role_id + ".Arn}"
        assert text(logging["SuccessFeedbackRoleArn"]) == "${" + role_id + ".Arn}"
    policies = [
        p for p in of_type(resources, "AWS::IAM::Policy").values()
        if any(r == {"Ref": role_id} for r in p["Roles"])
    ]
    (policy,) = policies
    (stmt,) = statements(policy["PolicyDocument"])
    assert "logs:PutLogEvents" in stmt["Action"]
    assert text(stmt["Resource"]).endswith(":log-group:sns/${AWS::Region}/${AWS::AccountId}/*")
