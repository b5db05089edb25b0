"""Alarm notifications and what SNS publishes about them, held to AWS's documents.

PutMetricAlarm (and PutCompositeAlarm): AlarmActions are "the actions to execute when this
alarm transitions to the ALARM state from any other state", OKActions likewise for OK. Each
notification's delivery is counted by SNS ("Monitoring Amazon SNS topics using
CloudWatch"): HTTPS failures per attempt, e-mail failures when SNS gives up.
"""

from __future__ import annotations

from local_run.cloudwatch.alarm_model import (
    ComparisonOperator,
    CompositeAlarm,
    MetricAlarm,
    MetricId,
    MetricQuery,
    MetricStat,
    TemplateAlarms,
    TreatMissingData,
)
from local_run.cloudwatch.alarm_rule import AnyOf, StateIs
from local_run.cloudwatch.evaluator import AlarmState, evaluate
from local_run.cloudwatch.metric_store import InMemoryMetricStore
from local_run.simulation.notifications import HTTPS, evaluate_with_notifications, notifications

T0 = 1_800_000_000.0  # a 5-minute boundary
TOPICS = {"{Ref:Pages}": "pages", "{Ref:Warnings}": "warnings"}


def _alarm(name: str, metric: MetricId, actions: tuple[str, ...], threshold: float = 0.0,
           periods: int = 1) -> MetricAlarm:
    return MetricAlarm(
        logical_id=name,
        name=name,
        queries=(MetricQuery("m", MetricStat(metric, 60, "Sum")),),
        period=60,
        threshold=threshold,
        comparison=ComparisonOperator.GREATER_THAN,
        evaluation_periods=periods,
        datapoints_to_alarm=periods,
        treat_missing_data=TreatMissingData.NOT_BREACHING,
        alarm_actions=actions,
        ok_actions=actions,
    )


ERRORS = MetricId("Test", "Errors")


def test_every_transition_into_alarm_or_ok_notifies_including_the_first_ok() -> None:
    alarm = _alarm("errors", ERRORS, ("{Ref:Pages}",))
    store = InMemoryMetricStore()
    store.put("Test", "Errors", T0 + 120, 5.0)  # one datapoint, in the third minute
    alarms = TemplateAlarms((alarm,), ())
    evaluation = evaluate(alarms, store, T0, T0 + 420)
    sent = notifications(evaluation, alarms, TOPICS, lambda t: False)
    # INSUFFICIENT_DATA -> OK at the first evaluation (nothing to read, notBreaching), OK ->
    # ALARM when the datapoint's period is complete, ALARM -> OK once it has left the
    # evaluation range (3 periods for N = 1: the newest real datapoint decides until then).
    assert [(n.state, n.timestamp) for n in sent] == [
        (AlarmState.OK, T0 + 60),
        (AlarmState.ALARM, T0 + 180),
        (AlarmState.OK, T0 + 360),
    ]
    assert {n.topic for n in sent} == {"pages"} and all(n.delivered for n in sent)


def test_a_composite_notifies_once_however_many_children_alarm() -> None:
    a = _alarm("a", MetricId("Test", "A"), ())
    b = _alarm("b", MetricId("Test", "B"), ())
    rule = AnyOf((StateIs("ALARM", "a"), StateIs("ALARM", "b")))
    page = CompositeAlarm("page", "page", rule, alarm_actions=("{Ref:Pages}",))
    store = InMemoryMetricStore()
    for minute in range(2, 6):
        store.put("Test", "A", T0 + minute * 60, 1.0)
        store.put("Test", "B", T0 + minute * 60 + 1, 1.0)
    alarms = TemplateAlarms((a, b), (page,))
    evaluation = evaluate(alarms, store, T0, T0 + 600)
    pages = [n for n in notifications(evaluation, alarms, TOPICS, lambda t: False)
             if n.state is AlarmState.ALARM]
    assert [(n.alarm, n.timestamp) for n in pages] == [("page", T0 + 180)]


def test_a_delivery_alarm_hears_of_the_failures_of_another_alarms_notifications() -> None:
    # The delivery alarm watches AWS/SNS NumberOfNotificationsFailed of the pages topic; the
    # page it watches fails while the subscribers are down, 4 HTTPS attempts a notification.
    errors = _alarm("errors", ERRORS, ("{Ref:Pages}",))
    failed = MetricId("AWS/SNS", "NumberOfNotificationsFailed", (("TopicName", "pages"),))
    # 3 of a failed notification's 4 HTTPS attempts fall in the minute it was sent.
    delivery = _alarm("delivery", failed, ("{Ref:Warnings}",), threshold=2)
    store = InMemoryMetricStore()
    for minute in range(3, 6):
        store.put("Test", "Errors", T0 + minute * 60, 5.0)
    alarms = TemplateAlarms((errors, delivery), ())
    evaluation, sent = evaluate_with_notifications(
        alarms, store, T0, T0 + 900, TOPICS, down=lambda t: True, subscribers=(HTTPS,)
    )
    assert "delivery" in evaluation.fired()
    assert any(n.alarm == "delivery" and n.topic == "warnings" for n in sent)
    # One failed page is enough.
    one_page, _ = evaluate_with_notifications(
        TemplateAlarms((errors, delivery), ()), store, T0, T0 + 900, TOPICS,
        down=lambda t: T0 + 200 < t < T0 + 260, subscribers=(HTTPS,),
    )
    assert "delivery" in one_page.fired()
