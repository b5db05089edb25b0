"""`DrillDown`: the Contributor Insights rules and saved Logs Insights queries of
`infra.drilldown`, on the stack's log groups."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.drilldown import (
    QUERIES,
    RULES,
    ContributorRule,
    SavedQuery,
    query_name,
    rule_name,
)


class DrillDown(Construct):
    """``log_groups`` maps each function label (and `drilldown.ACCESS_LOGS`) to its log
    group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        log_groups: Mapping[str, logs.ILogGroup],
    ) -> None:
        super().__init__(scope, construct_id)
        self.prefix = name_prefix
        self.log_groups = dict(log_groups)
        stack = Stack.of(self)
        self.rules: dict[str, cw.CfnInsightRule] = {}
        for rule in RULES:
            body = rule.body([self.log_groups[f].log_group_name for f in rule.functions])
            self.rules[rule.key] = cw.CfnInsightRule(
                self,
                f"Rule-{rule.key}",
                rule_name=rule_name(name_prefix, rule),
                rule_state="ENABLED",
                # to_json_string keeps the log group names' tokens as CloudFormation refs.
                rule_body=stack.to_json_string(body),
            )
        self.queries: dict[str, logs.CfnQueryDefinition] = {}
        for query in QUERIES:
            self.queries[query.key] = logs.CfnQueryDefinition(
                self,
                f"Query-{query.key}",
                name=query_name(name_prefix, query),
                query_string=query.query,
                log_group_names=self.group_names(query),
            )

    def group_names(self, query: SavedQuery) -> list[str]:
        return [self.log_groups[scope].log_group_name for scope in query.scope]

    def rule_metric(self, rule: ContributorRule, metric: str) -> cw.MathExpression:
        """``UniqueContributors``, ``MaxContributorValue``, ... of a rule, for graphs."""
        name = rule_name(self.prefix, rule)
        return cw.MathExpression(
            expression=f"INSIGHT_RULE_METRIC('{name}', '{metric}')",
            using_metrics={},
            label=f"{rule.key} {metric}",
        )

    def query_widget(self, query: SavedQuery, width: int, height: int) -> cw.LogQueryWidget:
        return cw.LogQueryWidget(
            title=f"{query_name(self.prefix, query)}: {query.answers}",
            log_group_names=self.group_names(query),
            query_string=query.query,
            width=width,
            height=height,
        )
