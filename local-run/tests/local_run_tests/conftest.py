"""Fixtures: infra's stack synthesized once per test process with inline Lambda code (the same
approach as infra's own tests: no zips needed)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from infra.functions import FUNCTIONS
from infra.stack import WebSocketServiceStack

STACK_NAME = "ws-test"

INLINE_HANDLER = "def handler(event, context):\n    return {'statusCode': 200}\n"


def build_stack() -> WebSocketServiceStack:
    code = {f.label: lambda_.Code.from_inline(INLINE_HANDLER) for f in FUNCTIONS}
    return WebSocketServiceStack(cdk.App(), STACK_NAME, code=code)


@pytest.fixture(scope="session")
def stack() -> WebSocketServiceStack:
    return build_stack()


@pytest.fixture(scope="session")
def template_json(stack: WebSocketServiceStack) -> dict[str, Any]:
    return dict(Template.from_stack(stack).to_json())
