"""infra's stack as the local run and the backtest see it: its alarms and Contributor
Insights rules, read from the synthesized template, under the names of where they are
evaluated.

The stack is synthesized with inline placeholder Lambda code (no zips needed), once per
stack name and process. The template's resource references (FunctionName, TableName,
TopicName, ApiId and log group tokens, see `local_run.cloudwatch.intrinsics`) are mapped to what the
resources are called locally (`local_run.simulation.local_names`), or, for the backtest's functions,
to the names it is given. Alarms are picked by full name or by key: the name without the
``<stack name>-`` prefix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from infra.alarm_vocabulary import Severity
from infra.functions import Table
from local_run.cloudwatch.alarm_model import TemplateAlarms
from local_run.cloudwatch.contributor_insights import Rule, insight_rules
from local_run.cloudwatch.template_alarms import read_alarms
from local_run.simulation.local_names import LOCAL_API_ID, TABLES, local_topic_name, log_group_name
from local_run.simulation.websocket_routes import RouteTable
from session_management.store import TableNames


def synthesized_alarms(
    stack_name: str, function_names: Mapping[str, str], tables: TableNames = TABLES
) -> TemplateAlarms:
    """infra's stack with inline code; the template's resource references in dimension
    values (FunctionName, TableName, TopicName, ApiId) -> what they are called locally."""
    alarms, references, _ = _synthesized(stack_name)
    local = {
        **{("function", label): name for label, name in function_names.items()},
        ("table", Table.SESSIONS.label): tables.sessions,
        ("table", Table.CONNECTIONS.label): tables.connections,
        ("table", Table.RATE_LIMITS.label): tables.rate_limits,
        **{("topic", s.value): local_topic_name(stack_name, s) for s in Severity},
        ("api", ""): LOCAL_API_ID,
    }
    return alarms.with_dimension_values(
        {token: local[(kind, key)] for token, kind, key in references if (kind, key) in local}
    )


def topic_names(stack_name: str) -> dict[str, str]:
    """The alarm actions' topic references (``{Ref:X}``) -> the local topic names."""
    _, references, _ = _synthesized(stack_name)
    return {
        token: local_topic_name(stack_name, Severity(key))
        for token, kind, key in references
        if kind == "topic" and token.startswith("{Ref:")
    }


def synthesized_template(stack_name: str) -> tuple[Mapping[str, Any], dict[str, str]]:
    """The template itself (the same synth as the alarms), and each Lambda function's logical
    id -> its label: what the local WebSocket endpoint reads its routes from."""
    _, references, template = _synthesized(stack_name)
    functions = {
        token.removeprefix("{Ref:").removesuffix("}"): label
        for token, kind, label in references
        if kind == "function"
    }
    return template, functions


def synthesized_routes(stack_name: str) -> RouteTable:
    """The WebSocket API's routes as the synthesized template declares them."""
    return RouteTable.from_template(*synthesized_template(stack_name))


def alarms_as_synthesized(stack_name: str) -> TemplateAlarms:
    """The template's alarms with their resource references still tokens: enough to pick
    alarms by name (alarm names do not depend on the references)."""
    return _synthesized(stack_name)[0]


@lru_cache(maxsize=4)
def _synthesized(
    stack_name: str,
) -> tuple[TemplateAlarms, tuple[tuple[str, str, str], ...], Mapping[str, Any]]:
    """The template's alarms, (reference token, kind, label) of every resource an alarm or
    rule may name, and the template; one synth per stack name and process (jsii starts node:
    seconds)."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.functions import inline_code
    from infra.stack import WebSocketServiceStack

    stack = WebSocketServiceStack(cdk.App(), stack_name, code=inline_code())
    template = Template.from_stack(stack).to_json()
    alarms = read_alarms(template)

    def logical_id(construct: Any) -> str:
        return str(stack.resolve(construct.node.default_child.logical_id))

    references: list[tuple[str, str, str]] = []
    for label, f in stack.functions.items():
        references.append(("{Ref:" + logical_id(f) + "}", "function", label))
    for table, t in stack.tables.items():
        references.append(("{Ref:" + logical_id(t) + "}", "table", table.label))
    for severity, topic in stack.topics.items():
        topic_id = logical_id(topic)
        references.append(("{Ref:" + topic_id + "}", "topic", severity.value))
        references.append(("{GetAtt:" + topic_id + ".TopicName}", "topic", severity.value))
    references.append(("{Ref:" + logical_id(stack.api) + "}", "api", ""))
    for label, group in stack.log_groups.items():
        references.append(("{Ref:" + logical_id(group) + "}", "log_group", label))
    return alarms, tuple(references), template


def synthesized_rules(stack_name: str, function_names: Mapping[str, str]) -> list[Rule]:
    """The template's Contributor Insights rules, their log groups -> the local ones."""
    _, references, template = _synthesized(stack_name)
    groups = {
        token: log_group_name(function_names[label])
        for token, kind, label in references
        if kind == "log_group"
    }
    return insight_rules(template, groups)


def alarm_key(name: str, stack_name: str) -> str:
    return name.removeprefix(f"{stack_name}-")


def select_alarms(
    alarms: TemplateAlarms, stack_name: str, wanted: Sequence[str]
) -> tuple[set[str], str | None]:
    """The full names of the ``wanted`` alarms (each given by full name or key), or an
    error message naming the unknown ones and the known keys."""
    by_key = {alarm_key(a.name, stack_name): a.name for a in alarms.all_alarms()}
    known = set(by_key.values())
    unknown = sorted(w for w in wanted if w not in known and w not in by_key)
    if unknown:
        return set(), f"unknown alarm(s) {', '.join(unknown)}; known: {', '.join(sorted(by_key))}"
    return {by_key.get(w, w) for w in wanted}, None
