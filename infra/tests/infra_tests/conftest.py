"""Fixtures: the stack, synthesized once per test process (a synth costs 10-20 s: jsii starts
node), with inline code for the functions, so no Lambda zips are needed."""

from __future__ import annotations

# Before aws_cdk: `infra` pins the Node.js jsii starts (see infra/__init__.py).
import infra  # noqa: F401

# isort: split

from collections.abc import Mapping
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
def template(stack: WebSocketServiceStack) -> Template:
    return Template.from_stack(stack)


@pytest.fixture(scope="session")
def resources(template: Template) -> Mapping[str, Mapping[str, Any]]:
    resources: Mapping[str, Mapping[str, Any]] = template.to_json()["Resources"]
    return resources


@pytest.fixture(scope="session")
def logical_ids(stack: WebSocketServiceStack) -> dict[str, str]:
    """Function label -> the logical id of its AWS::Lambda::Function (and of its role,
    under ``<label>-role``)."""
    ids: dict[str, str] = {}
    for label, function in stack.functions.items():
        ids[label] = stack.resolve(function.node.default_child.logical_id)  # type: ignore[union-attr]
        ids[f"{label}-role"] = stack.resolve(
            stack.roles[label].node.default_child.logical_id  # type: ignore[union-attr]
        )
    return ids


# Hypothesis profiles, e.g. CI's --hypothesis-profile=loaded-machine.
register_hypothesis_profiles()
