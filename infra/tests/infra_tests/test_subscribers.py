"""Alarm subscribers per severity: parsed from settings with clear errors, and subscribed to
the right topic in the synthesized stack."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.alarm_vocabulary import Severity
from infra.functions import inline_code
from infra.stack import WebSocketServiceStack
from infra.subscribers import SubscriberError, Subscribers, subscribers_from
from infra_tests.cfn import of_type


def _lookup(settings: dict[str, str]) -> Callable[[str, str], str | None]:
    return lambda env, key: settings.get(env) or settings.get(key)


def test_settings_from_environment_names_or_context_keys() -> None:
    found = subscribers_from(
        _lookup(
            {
                "INFRA_CRITICAL_URLS": "https://events.pagerduty.com/x/enqueue",
                "warningEmails": " a@example.com , b@example.org,",
            }
        )
    )
    assert found == {
        Severity.CRITICAL: Subscribers(urls=("https://events.pagerduty.com/x/enqueue",)),
        Severity.WARNING: Subscribers(emails=("a@example.com", "b@example.org")),
    }
    assert subscribers_from(_lookup({})) == {}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"INFRA_CRITICAL_URLS": "http://plain.example.com/hook"}, "INFRA_CRITICAL_URLS"),
        ({"INFRA_WARNING_URLS": "https://"}, "not an https:// URL"),
        ({"INFRA_WARNING_EMAILS": "oncall"}, "INFRA_WARNING_EMAILS: not an e-mail address"),
        ({"criticalEmails": "a@b@c.com"}, "INFRA_CRITICAL_EMAILS"),
    ],
)
def test_bad_subscribers_are_refused_with_the_setting_named(
    settings: dict[str, str], message: str
) -> None:
    with pytest.raises(SubscriberError, match=message):
        subscribers_from(_lookup(settings))


def test_each_subscriber_is_subscribed_to_its_severitys_topic() -> None:
    stack = WebSocketServiceStack(
        cdk.App(),
        "ws-subscribed",
        code=inline_code(),
        subscribers={
            Severity.CRITICAL: Subscribers(urls=("https://example.com/pagerduty",)),
            Severity.WARNING: Subscribers(emails=("oncall@example.com",)),
        },
    )
    resources = Template.from_stack(stack).to_json()["Resources"]
    topics = {
        severity: stack.resolve(topic.node.default_child.logical_id)  # type: ignore[union-attr]
        for severity, topic in stack.topics.items()
    }
    subscriptions = sorted(
        (props["TopicArn"]["Ref"], props["Protocol"], props["Endpoint"])
        for props in of_type(resources, "AWS::SNS::Subscription").values()
    )
    assert subscriptions == sorted(
        [
            (topics[Severity.CRITICAL], "https", "https://example.com/pagerduty"),
            (topics[Severity.WARNING], "email", "oncall@example.com"),
        ]
    )
