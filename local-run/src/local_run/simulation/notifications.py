"""The alarm topics of a local run: who is told what, and what SNS publishes about it.

Every state change into ALARM (or OK) of an alarm with alarm (or OK) actions sends one
notification to each topic in those actions (``NumberOfMessagesPublished``). Each topic has
the subscribers of `SUBSCRIBERS`: an HTTPS endpoint (the pager) and an e-mail address. A
notification is delivered to each unless the subscribers reject notifications at that moment
(``down(timestamp)``); SNS then publishes, per subscriber (AWS/SNS, TopicName; SNS developer
guide, "Monitoring Amazon SNS topics using CloudWatch"), ``NumberOfNotificationsDelivered``,
or ``NumberOfNotificationsFailed`` as the page says per protocol: "For HTTP or HTTPS
endpoints, the metric includes every failed delivery attempt, including retries that follow
the initial attempt" (the default HTTP/S delivery policy: 3 retries, 20 s apart: 4 failures
within a minute), and for e-mail "the metric increments by 1 when Amazon SNS stops attempting
message deliveries" (after about 6 hours, `EMAIL_GIVE_UP_SECONDS`: beyond a local run). The
delivery alarms watch those metrics, and their own notifications count too, so
`evaluate_with_notifications` evaluates until the notifications no longer change (each round
can only add the delivery alarms' own notifications).

A page is a notification to the critical topic on entering ALARM.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from infra.alarm_scopes import SNS_NAMESPACE
from local_run.cloudwatch.alarm_model import TemplateAlarms
from local_run.cloudwatch.evaluator import AlarmState, Evaluation, evaluate
from local_run.cloudwatch.metric_source import RoutedStore
from local_run.cloudwatch.metric_store import InMemoryMetricStore, MetricStore

MAX_ROUNDS = 6

HTTPS = "https"
EMAIL = "email"
# Each topic's subscribers in a local run: the pager's HTTPS endpoint and an e-mail address.
SUBSCRIBERS = (HTTPS, EMAIL)
# SNS's default HTTP/S delivery policy ("Amazon SNS message delivery retries": numRetries 3,
# minDelayTarget and maxDelayTarget 20 s): the attempts after the first, in seconds.
HTTPS_RETRY_DELAYS = (20.0, 40.0, 60.0)
# E-mail: SNS stops retrying after about 6 hours (the same page's protocol table).
EMAIL_GIVE_UP_SECONDS = 6 * 3600.0


@dataclass(frozen=True)
class Notification:
    timestamp: float
    alarm: str  # the alarm's name
    state: AlarmState  # ALARM or OK
    topic: str  # the topic's name
    delivered: bool


def notifications(
    evaluation: Evaluation,
    alarms: TemplateAlarms,
    topic_names: Mapping[str, str],
    down: Callable[[float], bool],
) -> tuple[Notification, ...]:
    """The notifications the evaluation's state changes send; ``topic_names`` maps the
    topic references in the alarms' actions (``{Ref:X}``) to topic names."""
    by_name = {a.name: a for a in alarms.all_alarms()}
    sent: list[Notification] = []
    for change in evaluation.changes:
        alarm = by_name[change.alarm]
        # PutMetricAlarm: AlarmActions and OKActions run "when this alarm transitions to the
        # ALARM [OK] state from any other state", INSUFFICIENT_DATA included.
        if change.new is AlarmState.ALARM:
            actions = alarm.alarm_actions
        elif change.new is AlarmState.OK:
            actions = alarm.ok_actions
        else:
            continue
        for action in actions:
            topic = topic_names.get(action)
            if topic is not None:
                sent.append(
                    Notification(
                        change.timestamp,
                        change.alarm,
                        change.new,
                        topic,
                        not down(change.timestamp),
                    )
                )
    return tuple(sent)


def sns_metrics(
    sent: tuple[Notification, ...], subscribers: tuple[str, ...] = SUBSCRIBERS
) -> InMemoryMetricStore:
    """What SNS publishes about the notifications, per subscriber protocol (see the module
    docstring)."""
    store = InMemoryMetricStore()
    for n in sent:
        dims = {"TopicName": n.topic}
        store.put(SNS_NAMESPACE, "NumberOfMessagesPublished", n.timestamp, 1.0, dims)
        for protocol in subscribers:
            if n.delivered:
                store.put(SNS_NAMESPACE, "NumberOfNotificationsDelivered", n.timestamp, 1.0, dims)
            elif protocol == HTTPS:
                for delay in (0.0, *HTTPS_RETRY_DELAYS):
                    store.put(
                        SNS_NAMESPACE, "NumberOfNotificationsFailed", n.timestamp + delay, 1.0, dims
                    )
            else:
                store.put(
                    SNS_NAMESPACE,
                    "NumberOfNotificationsFailed",
                    n.timestamp + EMAIL_GIVE_UP_SECONDS,
                    1.0,
                    dims,
                )
    return store


def evaluate_with_notifications(
    alarms: TemplateAlarms,
    store: MetricStore,
    start: float,
    end: float,
    topic_names: Mapping[str, str],
    down: Callable[[float], bool],
    subscribers: tuple[str, ...] = SUBSCRIBERS,
    every_minute: bool = True,
) -> tuple[Evaluation, tuple[Notification, ...]]:
    """The evaluation with AWS/SNS answered from the notifications it sends, and those
    notifications (``every_minute``: see `local_run.cloudwatch.evaluator.evaluate_alarm`)."""
    sent: tuple[Notification, ...] = ()
    for _ in range(MAX_ROUNDS):
        routed = RoutedStore(store, {SNS_NAMESPACE: sns_metrics(sent, subscribers)})
        evaluation = evaluate(alarms, routed, start, end, every_minute=every_minute)
        again = notifications(evaluation, alarms, topic_names, down)
        if again == sent:
            return evaluation, sent
        sent = again
    raise RuntimeError(f"alarm notifications did not settle in {MAX_ROUNDS} rounds")
