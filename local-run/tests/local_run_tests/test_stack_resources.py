"""`local_run.stack_resources`: a deployed stack's physical ids by logical id, and the
template's tokens turned into them.

The real reading runs against a stack created in moto's CloudFormation over HTTP on
127.0.0.1. moto answers ListStackResources in one page whatever the stack's size (it never
returns a NextToken), so the pagination is held by a real boto3 client whose responses come
from botocore's `Stubber`: botocore's own paginator then follows the NextTokens, page after
page, as it does against AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from local_run.stack_resources import (
    StackLookupError,
    StackResource,
    physical_values,
    read_stack_resources,
)
from shared_metrics.testing.aws_emulator import EMULATOR_ENV, AwsEmulator, unused_loopback_url

STACK = "ws-resources"
REGION = EMULATOR_ENV["AWS_DEFAULT_REGION"]
TOPIC_ARN = f"arn:aws:sns:{REGION}:123456789012:"


def table(name: str) -> dict[str, Any]:
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        },
    }


@pytest.fixture(scope="module")
def emulator() -> Iterator[AwsEmulator]:
    with AwsEmulator() as aws:
        aws.reset()
        yield aws


def cloudformation(emulator: AwsEmulator) -> Any:
    return emulator.client("cloudformation")


def test_the_physical_ids_of_a_stack_created_in_moto(emulator: AwsEmulator) -> None:
    tables = {f"Table{i}": f"physical-table-{i}" for i in range(40)}
    topics = {f"Topic{i}": f"physical-topic-{i}" for i in range(3)}
    resources: dict[str, Any] = {logical: table(name) for logical, name in tables.items()}
    resources |= {
        logical: {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": name}}
        for logical, name in topics.items()
    }
    # moto's CloudFormation cannot create this type: it lists an entry without ids for it.
    resources["Api"] = {
        "Type": "AWS::ApiGatewayV2::Api",
        "Properties": {"Name": "ws", "ProtocolType": "WEBSOCKET"},
    }
    client = cloudformation(emulator)
    with pytest.warns(UserWarning, match="ApiGatewayV2"):
        client.create_stack(StackName=STACK, TemplateBody=json.dumps({"Resources": resources}))
        read = read_stack_resources(client, STACK)

    assert read == {
        **{
            logical: StackResource(logical, "AWS::DynamoDB::Table", name)
            for logical, name in tables.items()
        },
        **{
            logical: StackResource(logical, "AWS::SNS::Topic", TOPIC_ARN + name)
            for logical, name in topics.items()
        },
    }
    # The tables exist under those names in DynamoDB itself.
    dynamodb: Any = emulator.client("dynamodb")
    assert set(tables.values()) <= set(dynamodb.list_tables(Limit=100)["TableNames"])


def test_a_stack_that_does_not_exist_is_named(emulator: AwsEmulator) -> None:
    with pytest.raises(StackLookupError, match="^stack ws-nowhere does not exist$"):
        read_stack_resources(cloudformation(emulator), "ws-nowhere")


def test_an_unreachable_endpoint_is_a_lookup_error() -> None:
    client = boto3.session.Session().client(
        "cloudformation",
        endpoint_url=unused_loopback_url(),
        region_name=REGION,
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(StackLookupError, match=f"cannot read the resources of stack {STACK}"):
        read_stack_resources(client, STACK)


# -- pagination: botocore's paginator over stubbed pages -----------------------------------

_CLIENT: list[Any] = []


def stubbed_client() -> Any:
    """One real CloudFormation client (never sends: the Stubber answers)."""
    if not _CLIENT:
        _CLIENT.append(
            boto3.session.Session().client(
                "cloudformation",
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        )
    return _CLIENT[0]


def summary(resource: StackResource, status: str = "CREATE_COMPLETE") -> dict[str, Any]:
    return {
        "LogicalResourceId": resource.logical_id,
        "PhysicalResourceId": resource.physical_id,
        "ResourceType": resource.resource_type,
        "LastUpdatedTimestamp": datetime(2026, 11, 1, tzinfo=UTC),
        "ResourceStatus": status,
    }


def queue_pages(stubber: Stubber, pages: list[list[dict[str, Any]]]) -> None:
    for i, page in enumerate(pages):
        response: dict[str, Any] = {"StackResourceSummaries": page}
        if i + 1 < len(pages):
            response["NextToken"] = f"page-{i + 1}"
        expected: dict[str, Any] = {"StackName": STACK}
        if i:
            expected["NextToken"] = f"page-{i}"
        stubber.add_response("list_stack_resources", response, expected)


logical_ids = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,40}", fullmatch=True)
physical_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,60}", fullmatch=True)
types = st.sampled_from(
    ["AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::SNS::Topic", "AWS::IAM::Role"]
)
stacks = st.dictionaries(logical_ids, st.tuples(types, physical_ids), min_size=1, max_size=400)


@given(stack=stacks, data=st.data())
def test_every_page_is_read(stack: dict[str, tuple[str, str]], data: st.DataObject) -> None:
    resources = [StackResource(logical, t, physical) for logical, (t, physical) in stack.items()]
    # Cuts between resources, so that every page size (empty pages too) turns up.
    cuts = sorted(data.draw(st.lists(st.integers(0, len(resources)), min_size=1, max_size=8)))
    bounds = [0, *cuts, len(resources)]
    pages = [[summary(r) for r in resources[a:b]] for a, b in zip(bounds, bounds[1:], strict=False)]
    client = stubbed_client()
    with Stubber(client) as stubber:
        queue_pages(stubber, pages)
        read = read_stack_resources(client, STACK)
        stubber.assert_no_pending_responses()
    assert read == {r.logical_id: r for r in resources}


def test_a_stack_as_large_as_the_services_spans_pages_and_all_are_read() -> None:
    resources = [StackResource(f"R{i}", "AWS::Logs::LogGroup", f"group-{i}") for i in range(250)]
    pages = [[summary(r) for r in resources[i : i + 100]] for i in range(0, 250, 100)]
    client = stubbed_client()
    with Stubber(client) as stubber:
        queue_pages(stubber, pages)
        read = read_stack_resources(client, STACK)
        stubber.assert_no_pending_responses()
    assert sorted(read) == sorted(f"R{i}" for i in range(250))
    assert read["R249"].physical_id == "group-249"


def test_deleted_resources_and_refusals() -> None:
    kept = StackResource("Kept", "AWS::SNS::Topic", TOPIC_ARN + "kept")
    gone = StackResource("Gone", "AWS::SNS::Topic", TOPIC_ARN + "gone")
    client = stubbed_client()
    with Stubber(client) as stubber:
        queue_pages(stubber, [[summary(kept), summary(gone, "DELETE_COMPLETE")]])
        assert read_stack_resources(client, STACK) == {"Kept": kept}
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "list_stack_resources", "AccessDenied", "not allowed: cloudformation:List..."
        )
        with pytest.raises(StackLookupError, match=f"of stack {STACK}: .*AccessDenied"):
            read_stack_resources(client, STACK)


# -- tokens -> physical names ----------------------------------------------------------------


def test_refs_and_topic_names_become_the_physical_names() -> None:
    resources = {
        "SessionsTable1": StackResource("SessionsTable1", "AWS::DynamoDB::Table", "prod-sess"),
        "Fn1": StackResource("Fn1", "AWS::Lambda::Function", "prod-fn-XYZ"),
        "Topic1": StackResource("Topic1", "AWS::SNS::Topic", TOPIC_ARN + "prod-Topic1-ABC"),
        "Api1": StackResource("Api1", "AWS::ApiGatewayV2::Api", "a1b2c3d4e5"),
    }
    values = [
        "{Ref:SessionsTable1}",
        "{Ref:Fn1}",
        "{GetAtt:Topic1.TopicName}",
        "{Ref:Topic1}",
        "{Ref:Api1}",
        "/aws/lambda/{Ref:Fn1}",
    ]
    assert physical_values(values, resources, STACK) == {
        "{Ref:SessionsTable1}": "prod-sess",
        "{Ref:Fn1}": "prod-fn-XYZ",
        "{GetAtt:Topic1.TopicName}": "prod-Topic1-ABC",
        "{Ref:Topic1}": TOPIC_ARN + "prod-Topic1-ABC",
        "{Ref:Api1}": "a1b2c3d4e5",
        "/aws/lambda/{Ref:Fn1}": "/aws/lambda/prod-fn-XYZ",
    }


def test_every_missing_logical_id_and_underivable_attribute_is_named() -> None:
    resources = {"Fn1": StackResource("Fn1", "AWS::Lambda::Function", "prod-fn")}
    values = ["{Ref:Fn1}", "{Ref:TableA}", "{GetAtt:TopicB.TopicName}", "{GetAtt:Fn1.Arn}"]
    with pytest.raises(StackLookupError) as info:
        physical_values(values, resources, STACK)
    message = str(info.value)
    assert f"stack {STACK} has no resource with the logical id(s) TableA, TopicB" in message
    assert "{GetAtt:Fn1.Arn} (AWS::Lambda::Function)" in message


@given(
    stack=st.dictionaries(logical_ids, physical_ids, min_size=1, max_size=50),
    absent=st.sets(logical_ids, max_size=5),
)
def test_each_ref_is_its_resources_physical_id_and_all_absent_ones_are_named(
    stack: dict[str, str], absent: set[str]
) -> None:
    absent -= set(stack)
    resources = {
        logical: StackResource(logical, "AWS::Lambda::Function", physical)
        for logical, physical in stack.items()
    }
    present = {"{Ref:" + logical + "}": physical for logical, physical in stack.items()}
    if not absent:
        assert physical_values(present, resources, STACK) == present
        return
    with pytest.raises(StackLookupError) as info:
        physical_values([*present, *("{Ref:" + a + "}" for a in absent)], resources, STACK)
    assert f"logical id(s) {', '.join(sorted(absent))} " in str(info.value)
