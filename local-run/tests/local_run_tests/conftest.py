"""Fixtures: infra's stack synthesized once per test process with inline Lambda code (the same
approach as infra's own tests: no zips needed)."""

from __future__ import annotations

# Before aws_cdk: `infra` pins the Node.js jsii starts (see infra/__init__.py).
import infra  # noqa: F401

# isort: split

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.functions import inline_code
from infra.stack import WebSocketServiceStack
from shared_metrics.testing.hypothesis_profiles import register as register_hypothesis_profiles

STACK_NAME = "ws-test"

def build_stack() -> WebSocketServiceStack:
    return WebSocketServiceStack(cdk.App(), STACK_NAME, code=inline_code())


@pytest.fixture(scope="session")
def stack() -> WebSocketServiceStack:
    return build_stack()


@pytest.fixture(scope="session")
def template_json(stack: WebSocketServiceStack) -> dict[str, Any]:
    return dict(Template.from_stack(stack).to_json())


# Hypothesis profiles, e.g. CI's --hypothesis-profile=loaded-machine.
register_hypothesis_profiles()
