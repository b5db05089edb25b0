"""A deployed CloudFormation stack's resources, and what the synthesized template's resource
tokens are called in it.

The synthesized template's alarms name the resources they watch by reference tokens keyed by
logical id (``{Ref:SessionsTable7C302024}``, ``{GetAtt:CriticalAlarmsTopic374A8BE4.TopicName}``,
see `local_run.cloudwatch.intrinsics`). CloudFormation keeps every deployed resource under the same
logical id with its physical id: `read_stack_resources` reads them with ListStackResources,
every page of it, and `physical_values` turns each token into what the deployed resource is
called. A ``Ref`` is the physical id (what CloudFormation's Ref returns: a table's or a
function's name, a WebSocket API's id, a stage's name, a topic's ARN); a topic's
``TopicName`` is the last part of its ARN.

Both raise `StackLookupError`, whose message names the stack and what is wrong: no such
stack, the call refused or failed, or the logical ids the stack lacks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SNS_TOPIC = "AWS::SNS::Topic"

_TOKEN = re.compile(r"\{(Ref|GetAtt):([^{}]+)\}")


class StackLookupError(Exception):
    """The stack cannot give the names the alarms need; the message says why."""


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    resource_type: str
    physical_id: str


def read_stack_resources(client: Any, stack_name: str) -> dict[str, StackResource]:
    """Logical id -> the deployed resource, for every resource of ``stack_name`` that has a
    physical id (``client``: a boto3 CloudFormation client)."""
    import botocore.exceptions

    resources: dict[str, StackResource] = {}
    try:
        # A stack of this size spans more than one page on AWS.
        for page in client.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            for summary in page.get("StackResourceSummaries", ()):
                resource = _resource(summary)
                if resource is not None:
                    resources[resource.logical_id] = resource
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ValidationError" and "does not exist" in error.get("Message", ""):
            raise StackLookupError(f"stack {stack_name} does not exist") from None
        raise StackLookupError(f"cannot read the resources of stack {stack_name}: {exc}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise StackLookupError(f"cannot read the resources of stack {stack_name}: {exc}") from None
    return resources


def _resource(summary: Mapping[str, Any]) -> StackResource | None:
    logical_id = summary.get("LogicalResourceId") or ""
    physical_id = summary.get("PhysicalResourceId") or ""
    # A resource that failed to create or was deleted names nothing the alarms could watch.
    if not logical_id or not physical_id or summary.get("ResourceStatus") == "DELETE_COMPLETE":
        return None
    return StackResource(logical_id, str(summary.get("ResourceType", "")), physical_id)


def physical_values(
    values: Iterable[str], resources: Mapping[str, StackResource], stack_name: str
) -> dict[str, str]:
    """Each value holding tokens -> the value with every token replaced by what it stands for
    in the deployed stack; raises `StackLookupError` naming every logical id the stack lacks
    and every attribute this module cannot derive."""
    missing: set[str] = set()
    unsupported: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        kind, body = match.group(1), match.group(2)
        logical_id, _, attribute = body.partition(".") if kind == "GetAtt" else (body, "", "")
        resource = resources.get(logical_id)
        if resource is None:
            missing.add(logical_id)
            return match.group(0)
        if kind == "Ref":
            return resource.physical_id
        value = _attribute(resource, attribute)
        if value is None:
            unsupported.add(f"{match.group(0)} ({resource.resource_type})")
            return match.group(0)
        return value

    out = {value: _TOKEN.sub(replace, value) for value in values}
    problems = []
    if missing:
        problems.append(
            f"stack {stack_name} has no resource with the logical id(s) "
            f"{', '.join(sorted(missing))} that the alarms watch "
            "(was it deployed from this template?)"
        )
    if unsupported:
        problems.append(f"cannot derive {', '.join(sorted(unsupported))} from stack {stack_name}")
    if problems:
        raise StackLookupError("; ".join(problems))
    return out


def _attribute(resource: StackResource, attribute: str) -> str | None:
    """The GetAtt attributes the alarms' dimensions use, from the physical id alone."""
    if resource.resource_type == SNS_TOPIC:
        if attribute == "TopicName":
            return resource.physical_id.rpartition(":")[2]  # the ARN's last part
        if attribute == "TopicArn":
            return resource.physical_id
    return None
