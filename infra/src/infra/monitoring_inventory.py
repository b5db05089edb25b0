"""What a synthesized template makes AWS bill for monitoring, read from the template dict
(``Template.from_stack(stack).to_json()``): plain Python, no CDK.

Every resource type of the template must be named in one of three tables: `PRICED_KINDS`
(the cost model prices it), `FREE_KINDS` (no charge of its own) or `OUT_OF_SCOPE_KINDS`
(billed, but not monitoring: Lambda compute, DynamoDB, API Gateway requests). `read_inventory`
refuses a template with any other type (`UnpricedResourceError`), so that a new kind of billed
resource is priced deliberately, never silently left out.

Resource references become text tokens (``{Ref:Id}``, ``{GetAtt:Id.Attr}``): the template's
``Fn::Join`` bodies (dashboards, Contributor Insights rules, integration URIs) are read as
strings with those tokens in them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HOURS_PER_MONTH = 730.0  # AWS's pricing convention (the AWS Pricing Calculator's month)
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60

PRICED_KINDS: dict[str, str] = {
    "AWS::CloudWatch::Alarm": "alarm metrics (standard or high resolution, per metric)",
    "AWS::CloudWatch::CompositeAlarm": "composite alarms",
    "AWS::CloudWatch::Dashboard": "dashboards, and their Logs Insights widgets' scans",
    "AWS::CloudWatch::InsightRule": "Contributor Insights rules and matched log events",
    "AWS::Logs::LogGroup": "log ingestion and storage (its retention)",
    "AWS::Logs::QueryDefinition": "saved Logs Insights queries: GB scanned per run",
    "AWS::Synthetics::Canary": "canary runs",
    "AWS::SNS::Topic": "publishes of alarm notifications",
    "AWS::SNS::Subscription": "deliveries per protocol",
    "AWS::KMS::Key": "the alarm topics' customer managed key",
    "AWS::Lambda::Function": "what it writes to its log group (EMF, Lambda's own lines) and "
    "its custom metrics; compute is out of scope",
    "AWS::ApiGatewayV2::Stage": "its access log lines; requests are out of scope",
}
FREE_KINDS: dict[str, str] = {
    "AWS::IAM::Role": "IAM has no charge",
    "AWS::IAM::Policy": "IAM has no charge",
    "AWS::SNS::TopicPolicy": "a policy, no charge",
    "AWS::Lambda::Permission": "a policy, no charge",
    "AWS::ApiGateway::Account": "an account setting (API Gateway's logging role), no charge",
    "AWS::ApiGatewayV2::RouteResponse": "configuration, no charge of its own",
    "AWS::S3::BucketPolicy": "a policy, no charge",
}
OUT_OF_SCOPE_KINDS: dict[str, str] = {
    "AWS::DynamoDB::Table": "DynamoDB requests and storage",
    "AWS::ApiGatewayV2::Api": "API Gateway messages and connection minutes",
    "AWS::ApiGatewayV2::Route": "API Gateway messages",
    "AWS::ApiGatewayV2::Integration": "API Gateway messages",
    "AWS::Events::Rule": "the service's schedule (EventBridge), not monitoring",
    # Monitoring, but not modelled: a few small objects per canary run (its log and report),
    # expiring after 30 days, billed as S3 storage and PUT requests; the runs are priced.
    "AWS::S3::Bucket": "the canary's run artifacts in S3 (storage and requests, not modelled)",
}

HTTP_PROTOCOLS = ("http", "https")
EMAIL_PROTOCOLS = ("email", "email-json")
FREE_PROTOCOLS = ("lambda", "sqs")  # SNS charges no delivery fee to these (SNS pricing page)
DEFAULT_DASHBOARD_HOURS = 3.0  # the console's default time range for a dashboard
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_DURATION = re.compile(r"^-P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")
_REF = re.compile(r"\{Ref:([A-Za-z0-9]+)\}")
_GETATT = re.compile(r"\{GetAtt:([A-Za-z0-9]+)\.[A-Za-z0-9.]+\}")


class UnpricedResourceError(ValueError):
    """The template holds something the cost model cannot price."""


@dataclass(frozen=True)
class AlarmMetrics:
    """One metric alarm as billed: how many metrics it evaluates, at which resolution."""

    name: str
    metrics: int  # MetricStat entries (metric math: "billed per metric"), or 1
    high_resolution: bool  # a period under 60 s
    anomaly_detection: bool = False


@dataclass(frozen=True)
class AlarmActions:
    """The topics an alarm notifies on each state it enters."""

    name: str
    alarm: tuple[str, ...]
    ok: tuple[str, ...]
    insufficient_data: tuple[str, ...]

    def transitions_to(self, topic: str) -> int:
        """How many of the alarm's states send to ``topic`` (ALARM, OK, INSUFFICIENT_DATA)."""
        return sum(topic in states for states in (self.alarm, self.ok, self.insufficient_data))


@dataclass(frozen=True)
class LogGroup:
    logical_id: str
    retention_days: int | None  # None: never expires


@dataclass(frozen=True)
class Function:
    logical_id: str
    log_group: str | None  # the logical id of its log group (LoggingConfig), None: Lambda's own
    metrics_sink: str  # METRICS_SINK: emf, cloudwatch, memory or off


@dataclass(frozen=True)
class LogReader:
    """A Contributor Insights rule, saved query or dashboard log widget: what it reads."""

    name: str
    log_groups: tuple[str, ...]
    hours: float = 0.0  # a dashboard widget: the time range one load scans


@dataclass(frozen=True)
class Inventory:
    kinds: Counter[str]
    alarms: tuple[AlarmMetrics, ...]
    composites: tuple[str, ...]
    actions: tuple[AlarmActions, ...]
    dashboards: tuple[str, ...]
    dashboard_log_widgets: tuple[LogReader, ...]
    insight_rules: tuple[LogReader, ...]
    queries: tuple[LogReader, ...]
    log_groups: Mapping[str, LogGroup]
    functions: Mapping[str, Function]
    routes: Mapping[str, str]  # route key -> function logical id
    scheduled: Mapping[str, float]  # function logical id -> scheduled invocations a month
    canary_runs: Mapping[str, float]  # canary -> runs a month
    topics: Mapping[str, tuple[str, ...]]  # topic logical id -> its subscriptions' protocols
    kms_keys: int
    access_logs: tuple[str, str] | None = None  # (log group logical id, format)
    out_of_scope: tuple[str, ...] = field(default=())

    def function_log_groups(self, log_group: str) -> tuple[str, ...]:
        """The functions that write to ``log_group``."""
        return tuple(f for f, fn in self.functions.items() if fn.log_group == log_group)


def unclassified_kinds(template: Mapping[str, Any]) -> list[str]:
    """Resource types of ``template`` the model neither prices nor declares free or out of
    scope."""
    known = PRICED_KINDS.keys() | FREE_KINDS.keys() | OUT_OF_SCOPE_KINDS.keys()
    return sorted({r["Type"] for r in _resources(template).values()} - known)


def text(value: Any) -> str:
    """A property as text, references as ``{Ref:Id}`` / ``{GetAtt:Id.Attr}`` tokens."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Mapping) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return "{Ref:" + str(arg) + "}"
        if key == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else [str(a) for a in arg]
            return "{GetAtt:" + ".".join(parts) + "}"
        if key == "Fn::Join":
            separator, parts = arg
            return str(separator).join(text(p) for p in parts)
    return json.dumps(value, sort_keys=True)


def read_inventory(template: Mapping[str, Any]) -> Inventory:
    """Everything in ``template`` the monitoring bill depends on."""
    unknown = unclassified_kinds(template)
    if unknown:
        raise UnpricedResourceError(
            "the template has resource types the cost model neither prices nor declares free "
            f"or out of scope: {', '.join(unknown)}; price them in infra.monitoring_cost or "
            "name them in infra.monitoring_inventory (FREE_KINDS / OUT_OF_SCOPE_KINDS)"
        )
    resources = _resources(template)

    def of(kind: str) -> dict[str, Mapping[str, Any]]:
        return {k: r.get("Properties", {}) for k, r in resources.items() if r["Type"] == kind}

    alarms = of("AWS::CloudWatch::Alarm")
    composites = of("AWS::CloudWatch::CompositeAlarm")
    functions = {k: _function(k, p) for k, p in of("AWS::Lambda::Function").items()}
    return Inventory(
        kinds=Counter(r["Type"] for r in resources.values()),
        alarms=tuple(_alarm(k, p) for k, p in alarms.items()),
        composites=tuple(str(p.get("AlarmName", k)) for k, p in composites.items()),
        actions=tuple(_actions(k, p) for k, p in {**alarms, **composites}.items()),
        dashboards=tuple(of("AWS::CloudWatch::Dashboard")),
        dashboard_log_widgets=tuple(
            w for k, p in of("AWS::CloudWatch::Dashboard").items() for w in _log_widgets(k, p)
        ),
        insight_rules=tuple(_rule(k, p) for k, p in of("AWS::CloudWatch::InsightRule").items()),
        queries=tuple(
            LogReader(str(p.get("Name", k)), _refs(" ".join(text(g) for g in p["LogGroupNames"])))
            for k, p in of("AWS::Logs::QueryDefinition").items()
        ),
        log_groups={k: _log_group(k, p) for k, p in of("AWS::Logs::LogGroup").items()},
        functions=functions,
        routes=_routes(of("AWS::ApiGatewayV2::Route"), of("AWS::ApiGatewayV2::Integration")),
        scheduled=_scheduled(of("AWS::Events::Rule"), functions),
        canary_runs={k: _canary_runs(k, p) for k, p in of("AWS::Synthetics::Canary").items()},
        topics=_topics(of("AWS::SNS::Topic"), of("AWS::SNS::Subscription")),
        kms_keys=len(of("AWS::KMS::Key")),
        access_logs=_access_logs(of("AWS::ApiGatewayV2::Stage")),
        out_of_scope=tuple(
            sorted({r["Type"] for r in resources.values()} & OUT_OF_SCOPE_KINDS.keys())
        ),
    )


# -- readers --------------------------------------------------------------------------------


def _resources(template: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    resources = template.get("Resources")
    if not isinstance(resources, Mapping):
        raise UnpricedResourceError("not a CloudFormation template: no Resources")
    return resources


def _refs(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_REF.findall(value) + _GETATT.findall(value)))


def _alarm(logical_id: str, p: Mapping[str, Any]) -> AlarmMetrics:
    name = str(p.get("AlarmName", logical_id))
    metrics = p.get("Metrics")
    if not metrics:
        return AlarmMetrics(name, 1, float(p["Period"]) < 60)
    expressions = [str(m["Expression"]) for m in metrics if "Expression" in m]
    if any(e.lstrip().upper().startswith("SELECT") for e in expressions):
        raise UnpricedResourceError(
            f"{name}: a Metrics Insights query alarm; the cost model does not price those"
        )
    stats = [m["MetricStat"] for m in metrics if "MetricStat" in m]
    periods = [float(s["Period"]) for s in stats] + [
        float(m["Period"]) for m in metrics if "Expression" in m and "Period" in m
    ]
    anomaly = "ThresholdMetricId" in p or any("ANOMALY_DETECTION_BAND" in e for e in expressions)
    return AlarmMetrics(name, len(stats), min(periods) < 60, anomaly)


def _actions(logical_id: str, p: Mapping[str, Any]) -> AlarmActions:
    def topics(key: str) -> tuple[str, ...]:
        return tuple(r for action in p.get(key, ()) for r in _refs(text(action)))

    return AlarmActions(
        str(p.get("AlarmName", logical_id)),
        topics("AlarmActions"),
        topics("OKActions"),
        topics("InsufficientDataActions"),
    )


def _log_widgets(logical_id: str, p: Mapping[str, Any]) -> list[LogReader]:
    body = json.loads(text(p["DashboardBody"]))
    hours = _hours(body.get("start"), logical_id)
    return [
        LogReader(
            str(w.get("properties", {}).get("title", logical_id)),
            _refs(str(w.get("properties", {}).get("query", ""))),
            hours,
        )
        for w in body.get("widgets", ())
        if w.get("type") == "log"
    ]


def _hours(start: Any, where: str) -> float:
    """A dashboard's relative ``start`` (e.g. ``-PT3H``) in hours."""
    if start is None:
        return DEFAULT_DASHBOARD_HOURS
    match = _DURATION.match(str(start))
    if not match or not any(match.groups()):
        raise UnpricedResourceError(f"{where}: dashboard start {start!r} is not a relative period")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return days * 24 + hours + minutes / 60


def _rule(logical_id: str, p: Mapping[str, Any]) -> LogReader:
    body = json.loads(text(p["RuleBody"]))
    groups = _refs(" ".join(str(g) for g in body.get("LogGroupNames", ())))
    return LogReader(str(p.get("RuleName", logical_id)), groups)


def _log_group(logical_id: str, p: Mapping[str, Any]) -> LogGroup:
    log_class = p.get("LogGroupClass", "STANDARD")
    if log_class != "STANDARD":
        raise UnpricedResourceError(
            f"{logical_id}: log group class {log_class}; the cost model prices STANDARD only"
        )
    retention = p.get("RetentionInDays")
    return LogGroup(logical_id, None if retention is None else int(retention))


def _function(logical_id: str, p: Mapping[str, Any]) -> Function:
    logging_config = p.get("LoggingConfig", {})
    groups = _refs(text(logging_config.get("LogGroup", "")))
    env = p.get("Environment", {}).get("Variables", {})
    sink = str(env.get("METRICS_SINK", "emf")).strip().lower()
    return Function(logical_id, groups[0] if groups else None, sink)


def _routes(
    routes: Mapping[str, Mapping[str, Any]], integrations: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    function_of = {}
    for integration, p in integrations.items():
        targets = _GETATT.findall(text(p.get("IntegrationUri", "")))
        if targets:
            function_of[integration] = targets[0]
    out = {}
    for p in routes.values():
        for integration in _refs(text(p.get("Target", ""))):
            if integration in function_of:
                out[str(p["RouteKey"])] = function_of[integration]
    return out


def _per_month(expression: str, where: str) -> float:
    """How often ``rate(...)`` fires in a month."""
    match = _RATE.match(expression.strip())
    if not match:
        raise UnpricedResourceError(
            f"{where}: schedule {expression!r}: the cost model counts rate(...) schedules only"
        )
    minutes = int(match.group(1)) * {"m": 1, "h": 60, "d": 1440}[match.group(2)[0]]
    return MINUTES_PER_MONTH / minutes


def _scheduled(
    rules: Mapping[str, Mapping[str, Any]], functions: Mapping[str, Function]
) -> dict[str, float]:
    out: dict[str, float] = {}
    for rule, p in rules.items():
        if "ScheduleExpression" not in p or p.get("State", "ENABLED") != "ENABLED":
            continue
        runs = _per_month(str(p["ScheduleExpression"]), rule)
        for target in p.get("Targets", ()):
            for fn in _refs(text(target.get("Arn", ""))):
                if fn in functions:
                    out[fn] = out.get(fn, 0.0) + runs
    return out


def _canary_runs(logical_id: str, p: Mapping[str, Any]) -> float:
    schedule = p.get("Schedule", {})
    expression = str(schedule.get("Expression", ""))
    if expression.strip() == "rate(0 minute)":  # "run once", the Synthetics convention
        return 1.0
    return _per_month(expression, logical_id)


def _topics(
    topics: Mapping[str, Mapping[str, Any]], subscriptions: Mapping[str, Mapping[str, Any]]
) -> dict[str, tuple[str, ...]]:
    protocols: dict[str, list[str]] = {
        t: [str(s["Protocol"]).lower() for s in p.get("Subscription", ())]
        for t, p in topics.items()
    }
    for logical_id, p in subscriptions.items():
        targets = _refs(text(p.get("TopicArn", "")))
        if not targets or targets[0] not in protocols:
            raise UnpricedResourceError(f"{logical_id}: a subscription to no topic of the stack")
        protocols[targets[0]].append(str(p["Protocol"]).lower())
    for topic, found in protocols.items():
        unpriced = sorted(
            set(found) - set(HTTP_PROTOCOLS) - set(EMAIL_PROTOCOLS) - set(FREE_PROTOCOLS)
        )
        if unpriced:
            raise UnpricedResourceError(
                f"{topic}: subscriptions over {', '.join(unpriced)}; the cost model prices "
                "HTTP/S, e-mail, Lambda and SQS deliveries only"
            )
    return {t: tuple(p) for t, p in protocols.items()}


def _access_logs(stages: Mapping[str, Mapping[str, Any]]) -> tuple[str, str] | None:
    for p in stages.values():
        settings = p.get("AccessLogSettings")
        if settings:
            groups = _refs(text(settings.get("DestinationArn", "")))
            if groups:
                return groups[0], str(settings.get("Format", ""))
    return None
