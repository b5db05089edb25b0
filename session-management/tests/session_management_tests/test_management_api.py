"""The Management API wrapper over real HTTP: moto's server (which accepts every connection
id), the loopback stub (which answers AWS errors on demand), and an endpoint that is down."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from session_management.testing.local_aws import LocalAws
from shared_metrics.testing.aws_emulator import unused_loopback_url
from websocket_service.management_api import (
    ManagementApi,
    NotificationError,
    management_endpoint,
)


def test_moto_server_accepts_posts_and_deletes(aws: LocalAws) -> None:
    api = ManagementApi.for_endpoint(aws.emulator.endpoint_url)
    api.post("Ab1CdEfGhIJKLMA=", {"type": "hello"})
    assert api.close("Ab1CdEfGhIJKLMA=")


def test_stub_records_messages_per_connection(aws: LocalAws) -> None:
    api = ManagementApi.for_endpoint(aws.api.endpoint_url)
    api.post("c1", {"n": 1})
    api.post("c1", {"n": 2})
    api.post("c=2", {"n": 3})  # ids with characters that get percent-encoded
    assert aws.api.messages("c1") == [{"n": 1}, {"n": 2}]
    assert aws.api.messages("c=2") == [{"n": 3}]


@pytest.mark.parametrize(
    ("status", "code", "error_type"),
    [
        (410, "GoneException", "Gone"),
        (403, "ForbiddenException", "Forbidden"),
        (429, "LimitExceededException", "LimitExceeded"),
        (413, "PayloadTooLargeException", "PayloadTooLarge"),
        (400, "SomethingNewException", "Other"),
    ],
)
def test_errors_become_closed_set_types(
    aws: LocalAws, status: int, code: str, error_type: str
) -> None:
    aws.api.failures["c1"] = (status, code)
    api = ManagementApi.for_endpoint(aws.api.endpoint_url)
    with pytest.raises(NotificationError) as raised:
        api.post("c1", {})
    assert raised.value.error_type == error_type


def test_closing_a_gone_connection_is_not_an_error(aws: LocalAws) -> None:
    api = ManagementApi.for_endpoint(aws.api.endpoint_url)
    assert api.close("c1") is True
    assert api.close("c1") is False  # already gone
    assert aws.api.deleted == ["c1"]


def test_unreachable_endpoint_is_a_connection_error() -> None:
    api = ManagementApi.for_endpoint(unused_loopback_url())
    with pytest.raises(NotificationError) as raised:
        api.post("c1", {})
    assert raised.value.error_type == "ConnectionError"


def test_slow_endpoint_is_a_timeout(aws: LocalAws) -> None:
    aws.api.delay_seconds = 0.5
    client = boto3.session.Session().client(
        "apigatewaymanagementapi",
        endpoint_url=aws.api.endpoint_url,
        config=Config(read_timeout=0.1, retries={"total_max_attempts": 1}),
    )
    with pytest.raises(NotificationError) as raised:
        ManagementApi(client).post("c1", {})
    assert raised.value.error_type == "Timeout"


def test_endpoint_from_env_or_event() -> None:
    assert management_endpoint("d.example", "prod", {}) == "https://d.example/prod"
    env = {"APIGW_MANAGEMENT_ENDPOINT": "http://127.0.0.1:9"}
    assert management_endpoint("d.example", "prod", env) == "http://127.0.0.1:9"
    assert management_endpoint(None, None, {}) is None
