"""The monitoring cost model against hand-worked bills: the pricing page's tiers and per-metric
alarm billing, the template's inventory (the real synthesized stack, and small templates whose
bill is worked out here line by line), the traffic a profile makes, the README's tables and
the command.

Expected values are written as the arithmetic from the prices (us-east-1 list prices, see
infra.monitoring_prices), never taken from the model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra import monitoring_cost
from infra.monitoring_bill import Bill, Measurement, monthly_bill
from infra.monitoring_cost import (
    MARK_END,
    MARK_START,
    README_STACK,
    README_SUBSCRIBERS,
    bill_for,
    default_measurement,
    generated,
)
from infra.monitoring_inventory import (
    FREE_KINDS,
    OUT_OF_SCOPE_KINDS,
    PRICED_KINDS,
    UnpricedResourceError,
    read_inventory,
    unclassified_kinds,
)
from infra.monitoring_log_volume import access_log_bytes
from infra.monitoring_prices import (
    PRICES,
    US_EAST_1,
    UnknownRegionError,
    prices_for,
)
from infra.monitoring_series import SeriesUsage, declared_series, series
from infra.monitoring_traffic import ProfileError, TrafficProfile
from infra.stack import ACCESS_LOG_FORMAT

README = Path(__file__).resolve().parents[2] / "README.md"
GB = 2**30
MONTH_H = 730
DAYS = 730 / 24
TIERS = US_EAST_1.custom_metrics


@pytest.fixture(scope="module")
def subscribed() -> tuple[Mapping[str, Any], dict[str, str]]:
    """The README's stack: a pager URL on the critical topic, a mailbox on the warning one."""
    return monitoring_cost.synthesized(README_STACK, README_SUBSCRIBERS)


def _line(bill: Bill, start: str) -> Any:
    (line,) = (line for line in bill.lines if line.item.startswith(start))
    return line


# -- custom metrics: the tiers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metrics", "dollars"),
    [
        (0, 0.0),
        (1, 0.30),
        (10_000, 10_000 * 0.30),
        (12_000, 10_000 * 0.30 + 2_000 * 0.10),  # $3,200
        (250_000, 10_000 * 0.30 + 240_000 * 0.10),
        (1_000_000, 10_000 * 0.30 + 240_000 * 0.10 + 750_000 * 0.05),
        (1_200_000, 10_000 * 0.30 + 240_000 * 0.10 + 750_000 * 0.05 + 200_000 * 0.02),
    ],
)
def test_custom_metric_tiers_as_the_pricing_page_charges(metrics: int, dollars: float) -> None:
    assert TIERS.cost(metrics) == pytest.approx(dollars)
    assert TIERS.cost(12_000) == pytest.approx(3_200)


@pytest.mark.parametrize(
    ("edge", "below", "above"),
    [(10_000, 0.30, 0.10), (250_000, 0.10, 0.05), (1_000_000, 0.05, 0.02)],
)
def test_each_metric_at_a_tier_edge_costs_its_own_tier(
    edge: int, below: float, above: float
) -> None:
    # The 10,000th metric is still in the first tier, the 10,001st in the second.
    assert TIERS.cost(edge) - TIERS.cost(edge - 1) == pytest.approx(below)
    assert TIERS.cost(edge + 1) - TIERS.cost(edge) == pytest.approx(above)
    # Continuous: no jump at the edge (metric-months are fractional).
    assert TIERS.cost(edge + 1e-6) - TIERS.cost(edge - 1e-6) == pytest.approx(0, abs=1e-6)


@given(
    st.floats(min_value=0, max_value=3e6, allow_nan=False),
    st.floats(min_value=0, max_value=3e6, allow_nan=False),
)
def test_metric_cost_grows_with_the_count_never_faster_than_the_first_tier(
    a: float, b: float
) -> None:
    low, high = sorted((a, b))
    assert TIERS.cost(low) <= TIERS.cost(high) + 1e-9
    assert TIERS.cost(high) - TIERS.cost(low) <= (high - low) * 0.30 + 1e-6
    assert TIERS.cost(high) - TIERS.cost(low) >= (high - low) * 0.02 - 1e-6


def test_a_series_emitted_part_of_the_month_costs_its_share() -> None:
    s = series("NS", "Latency")
    half = SeriesUsage(frozenset({s}), frozenset(), frozenset(), "hand")
    assert half.metric_months(traffic_hours=365, incident_hours=0, month_hours=730) == 0.5
    always = SeriesUsage(frozenset({s}), frozenset({s}), frozenset({s}), "hand")
    assert always.metric_months(0, 0, 730) == 1.0  # the most frequent class bills it
    incident = SeriesUsage(frozenset(), frozenset(), frozenset({s}), "hand")
    assert incident.metric_months(730, 2, 730) == pytest.approx(2 / 730)


def test_declared_series_bound_what_the_closed_sets_allow() -> None:
    declared = declared_series()
    sm = "SessionManagement/WebSocket"
    # DynamoDBErrors: the aggregate + 8 operations x 15 error codes.
    assert sum(1 for s in declared if s[:2] == (sm, "DynamoDBErrors")) == 1 + 8 * 15
    # LambdaErrors: aggregate, 3 handlers, 3 handlers x 13 exception classes.
    assert sum(1 for s in declared if s[:2] == (sm, "LambdaErrors")) == 1 + 3 + 3 * 13
    assert series(sm, "ControlMessagesReceived", ActionType="setVolume") in declared


# -- alarms: per metric, resolution, composite ---------------------------------------------------


def _stat(metric_id: str, period: int = 60) -> dict[str, Any]:
    return {
        "Id": metric_id,
        "MetricStat": {
            "Metric": {"Namespace": "NS", "MetricName": metric_id},
            "Period": period,
            "Stat": "Sum",
        },
        "ReturnData": False,
    }


def _alarm(name: str, **props: Any) -> dict[str, Any]:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": name, **props}}


def _template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def _bill(template: Mapping[str, Any], **prices: Any) -> Bill:
    """The bill of a template without functions (so without traffic)."""
    return monthly_bill(
        read_inventory(template),
        {},
        TrafficProfile(sessions_per_day=0),
        default_measurement(),
        replace(US_EAST_1, **prices),
    )


def test_metric_math_alarms_are_billed_per_metric_in_the_expression() -> None:
    math = _alarm(
        "ErrorRate",
        Metrics=[
            _stat("errors"),
            _stat("handled"),
            _stat("invocations"),
            {"Id": "rate", "Expression": "100 * (errors + handled) / invocations"},
        ],
    )
    bill = _bill(_template(Math=math, Single=_alarm("Single", Period=60, MetricName="M")))
    line = _line(bill, "standard resolution alarm metrics")
    assert line.quantity == 3 + 1
    assert line.cost == pytest.approx((3 + 1) * 0.10)


def test_high_resolution_alarms_cost_three_times_a_standard_one() -> None:
    bill = _bill(
        _template(
            Fast=_alarm("Fast", Period=10, MetricName="M"),
            FastMath=_alarm(
                "FastMath",
                Metrics=[_stat("a", 30), _stat("b", 30), {"Id": "e", "Expression": "a + b"}],
            ),
            Minute=_alarm("Minute", Period=60, MetricName="M"),
        )
    )
    assert _line(bill, "high resolution").cost == pytest.approx((1 + 2) * 0.30)
    assert _line(bill, "standard resolution").cost == pytest.approx(1 * 0.10)


def test_anomaly_detection_and_composite_alarms() -> None:
    anomaly = _alarm(
        "Band",
        ThresholdMetricId="band",
        Metrics=[_stat("m"), {"Id": "band", "Expression": "ANOMALY_DETECTION_BAND(m, 2)"}],
    )
    composite = {
        "Type": "AWS::CloudWatch::CompositeAlarm",
        "Properties": {"AlarmName": "Any", "AlarmRule": "ALARM(Band)"},
    }
    bill = _bill(_template(Band=anomaly, Any=composite))
    assert _line(bill, "standard resolution").cost == pytest.approx(3 * 0.10)
    assert _line(bill, "composite alarms").cost == pytest.approx(0.50)


def test_synthetics_canaries_are_priced_per_run() -> None:
    def canary(expression: str) -> dict[str, Any]:
        return {
            "Type": "AWS::Synthetics::Canary",
            "Properties": {"Schedule": {"Expression": expression}},
        }

    bill = _bill(
        _template(
            Every5=canary("rate(5 minutes)"),
            Hourly=canary("rate(1 hour)"),
            Once=canary("rate(0 minute)"),
        )
    )
    runs = 730 * 60 / 5 + 730 + 1  # 8,760 + 730 + the one-off run
    assert _line(bill, "Synthetics canary runs").quantity == runs
    assert _line(bill, "Synthetics canary runs").cost == pytest.approx(runs * 0.0012)
    with pytest.raises(UnpricedResourceError, match="rate"):
        read_inventory(_template(Cron=canary("cron(0 8 * * ? *)")))


def test_a_metrics_insights_alarm_is_refused_not_mispriced() -> None:
    query = _alarm(
        "Query", Metrics=[{"Id": "q", "Expression": "SELECT SUM(M) FROM NS", "Period": 60}]
    )
    with pytest.raises(UnpricedResourceError, match="Metrics Insights"):
        read_inventory(_template(Query=query))


# -- the real template -----------------------------------------------------------------------


def test_every_resource_type_of_the_stack_is_priced_or_declared(
    template: Any, subscribed: tuple[Mapping[str, Any], dict[str, str]]
) -> None:
    for t in (template.to_json(), subscribed[0]):
        assert unclassified_kinds(t) == []
    assert not (PRICED_KINDS.keys() & FREE_KINDS.keys())
    assert not (PRICED_KINDS.keys() & OUT_OF_SCOPE_KINDS.keys())


def test_a_new_billed_kind_fails_until_it_is_priced(template: Any) -> None:
    grown = json.loads(json.dumps(template.to_json()))
    grown["Resources"]["Queue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    assert unclassified_kinds(grown) == ["AWS::SQS::Queue"]
    with pytest.raises(UnpricedResourceError, match="AWS::SQS::Queue"):
        read_inventory(grown)


def test_the_real_alarms_counted_from_the_template(resources: Mapping[str, Any]) -> None:
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    metric_stats = sum(
        sum("MetricStat" in m for m in a["Metrics"]) if "Metrics" in a else 1 for a in alarms
    )
    inventory = read_inventory({"Resources": resources})
    assert len(inventory.alarms) == len(alarms) == 38
    assert sum(a.metrics for a in inventory.alarms) == metric_stats
    assert not any(a.high_resolution for a in inventory.alarms)  # every period is 60 s or more
    assert len(inventory.composites) == 1
    assert len(inventory.insight_rules) == 4 and len(inventory.queries) == 11
    assert {g.retention_days for g in inventory.log_groups.values()} == {30}
    assert inventory.scheduled and set(inventory.scheduled.values()) == {730 * 60}
    # The canary, rate(5 minutes): 730 hours x 12 runs an hour.
    assert list(inventory.canary_runs.values()) == [730 * 12]


# -- logs, from the traffic ------------------------------------------------------------------


AUDIO_ONLY = TrafficProfile(
    sessions_per_day=100,
    session_minutes=10,
    listeners_per_session=0,
    control_messages_per_session=0,
    status_queries_per_listener=0,
)


def test_emf_ingestion_and_storage_from_the_traffic(
    subscribed: tuple[Mapping[str, Any], dict[str, str]],
) -> None:
    template, labels = subscribed
    bill = bill_for(template, labels, AUDIO_ONLY)
    sessions = 100 * DAYS
    audio = sessions * 10 * 60 * 10  # sendAudio: 10 chunks a second for 10 minutes
    connection = sessions * 2  # the speaker's $connect and $disconnect
    scheduled = 730 * 60  # rate(1 minute)
    emf = audio * 602.88 + connection * 442.64 + scheduled * 497.75
    assert _line(bill, "EMF ingestion").quantity == pytest.approx(emf / GB)
    assert _line(bill, "EMF ingestion").cost == pytest.approx(emf / GB * 0.50)
    lambda_lines = (audio + connection + scheduled) * 264  # START 71 + END 52 + REPORT 141
    assert _line(bill, "Lambda START").quantity == pytest.approx(lambda_lines / GB)
    total = emf + lambda_lines + (audio + connection) * _access_bytes_per_request()
    storage = _line(bill, "log storage")
    assert storage.quantity == pytest.approx(total / GB * 30 / DAYS, rel=1e-9)
    assert storage.cost == pytest.approx(total / GB * 30 / DAYS * 0.03, rel=1e-9)


def _access_bytes_per_request() -> float:
    """The access log bytes per request of AUDIO_ONLY, weighted by hand."""
    audio, connect = 6000, 2
    per = {
        "sendAudio": access_log_bytes(ACCESS_LOG_FORMAT, "sendAudio"),
        "$connect": access_log_bytes(ACCESS_LOG_FORMAT, "$connect"),
        "$disconnect": access_log_bytes(ACCESS_LOG_FORMAT, "$disconnect"),
    }
    return (audio * per["sendAudio"] + per["$connect"] + per["$disconnect"]) / (audio + connect)


def test_an_access_log_line_as_api_gateway_writes_it() -> None:
    line = (
        '{"requestId":"L0SM9cOFvHcCIhw=","requestTime":"03/Dec/2026:10:00:00 +0000",'
        '"eventType":"MESSAGE","routeKey":"sendAudio","connectionId":"L0SM9cOFvHcCIhw=",'
        '"status":"200","integrationStatus":"200","integrationLatency":"12","error":"-",'
        '"integrationError":"-"}'
    )
    assert access_log_bytes(ACCESS_LOG_FORMAT, "sendAudio") == len(line) + 1
    assert access_log_bytes(ACCESS_LOG_FORMAT, "$connect") == len(line) + 1 - len(
        "MESSAGEsendAudio"
    ) + len("CONNECT$connect")


def test_a_shorter_retention_stores_less() -> None:
    def group(days: int) -> dict[str, Any]:
        return {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": days}}

    fn = {
        "Type": "AWS::Lambda::Function",
        "Properties": {"LoggingConfig": {"LogGroup": {"Ref": "Logs"}}},
    }
    rule = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "ScheduleExpression": "rate(1 minute)",
            "Targets": [{"Arn": {"Fn::GetAtt": ["Fn", "Arn"]}}],
        },
    }
    profile = TrafficProfile(sessions_per_day=0)
    measurement = replace(default_measurement(), emf_bytes={"session_status": 1000.0})

    def stored(days: int) -> float:
        inventory = read_inventory(_template(Logs=group(days), Fn=fn, Tick=rule))
        bill = monthly_bill(inventory, {"Fn": "session_status"}, profile, measurement, US_EAST_1)
        return float(_line(bill, "log storage").quantity)

    month = 730 * 60 * (1000 + 264)  # a scheduled invocation a minute
    assert stored(7) == pytest.approx(month / GB * 7 / DAYS)
    assert stored(30) == pytest.approx(month / GB * 30 / DAYS)


# -- Region, free tier, notifications ------------------------------------------------------------


def test_an_unknown_region_is_refused_by_name() -> None:
    with pytest.raises(UnknownRegionError, match="eu-west-1.*us-east-1"):
        prices_for("eu-west-1")
    assert prices_for("us-east-1") is US_EAST_1


def test_another_regions_prices_are_used_when_they_are_data(
    subscribed: tuple[Mapping[str, Any], dict[str, str]],
) -> None:
    dearer = replace(
        US_EAST_1, region="xx-test-1", dashboard=replace(US_EAST_1.dashboard, amount=3.50)
    )
    table = {**PRICES, "xx-test-1": dearer}
    template, labels = subscribed
    bill = monthly_bill(
        read_inventory(template),
        labels,
        TrafficProfile(),
        default_measurement(),
        prices_for("xx-test-1", table),
    )
    assert _line(bill, "dashboards").cost == pytest.approx(3.50)
    assert bill.region == "xx-test-1"


def test_the_free_tier_only_when_asked(
    subscribed: tuple[Mapping[str, Any], dict[str, str]],
) -> None:
    template, labels = subscribed
    paid = bill_for(template, labels, TrafficProfile())
    free = bill_for(template, labels, TrafficProfile(), free_tier=True)
    assert _line(paid, "dashboards").cost == 3.00
    assert _line(free, "dashboards").cost == 0.0  # 3 dashboards free, the stack has 1
    alarms = _line(paid, "standard resolution").quantity
    assert _line(free, "standard resolution").cost == pytest.approx((alarms - 10) * 0.10)
    months = _line(paid, "custom metrics").quantity
    assert _line(free, "custom metrics").cost == pytest.approx((months - 10) * 0.30)
    assert free.total < paid.total


def test_notifications_page_once_per_incident(
    subscribed: tuple[Mapping[str, Any], dict[str, str]],
) -> None:
    template, labels = subscribed
    profile = TrafficProfile(incidents_per_month=3, warning_episodes_per_month=5)
    bill = bill_for(template, labels, profile)
    # The composite sends ALARM and OK to the critical topic (one HTTPS pager); warnings send
    # ALARM and OK to the warning topic (one mailbox).
    assert _line(bill, "SNS alarm notifications").quantity == 3 * 2 + 5 * 2
    assert _line(bill, "SNS HTTP/S").quantity == 3 * 2
    assert _line(bill, "SNS e-mail").quantity == 5 * 2
    assert _line(bill, "SNS e-mail").cost == pytest.approx(10 * 2.00 / 100_000)
    assert _line(bill, "KMS key").cost == 1.00


# -- traffic profiles ------------------------------------------------------------------------


def test_a_profile_that_cannot_be_a_month_is_refused() -> None:
    for bad in (
        {"sessions_per_day": -1},
        {"traffic_hours_per_day": 25},
        {"session_minutes": float("nan")},
        {"incidents_per_month": 800},
    ):
        with pytest.raises(ProfileError):
            TrafficProfile(**bad)


@given(
    st.floats(min_value=0, max_value=10_000),
    st.floats(min_value=0, max_value=10_000),
    st.floats(min_value=0, max_value=120),
    st.floats(min_value=0, max_value=50),
)
def test_more_traffic_never_costs_less(
    subscribed: tuple[Mapping[str, Any], dict[str, str]],
    a: float,
    b: float,
    minutes: float,
    listeners: float,
) -> None:
    low, high = sorted((a, b))

    def total(sessions: float) -> float:
        profile = TrafficProfile(
            sessions_per_day=sessions, session_minutes=minutes, listeners_per_session=listeners
        )
        return bill_for(*subscribed, profile).total

    assert total(low) <= total(high) + 1e-9


# -- the README and the command ------------------------------------------------------------------


def test_the_readme_shows_the_cost_tables_as_they_are(
    subscribed: tuple[Mapping[str, Any], dict[str, str]],
) -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(MARK_START), text.index(MARK_END) + len(MARK_END)
    assert text[start:end] == generated(*subscribed), (
        "infra/README.md is out of date: ./pants run infra/src/infra/monitoring_cost.py -- "
        "--readme prints the section"
    )


def test_the_command_prints_the_bill_for_a_profile(
    subscribed: tuple[Mapping[str, Any], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(monitoring_cost, "synthesized", lambda *_: subscribed)
    assert monitoring_cost.main(["--sessions-per-day", "50", "--listeners-per-session", "3"]) == 0
    out = capsys.readouterr().out
    expected = bill_for(*subscribed, TrafficProfile(sessions_per_day=50, listeners_per_session=3))
    assert f"| **total** | | | **{expected.total:,.2f}** | |" in out
    assert "EMF ingestion" in out and "not included (not monitoring)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--region", "eu-west-1"], "no prices for Region 'eu-west-1'"),
        (["--sessions-per-day", "-5"], "sessions_per_day must be a number >= 0"),
    ],
)
def test_the_command_refuses_bad_input_clearly(
    argv: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(monitoring_cost, "synthesized", lambda *_: pytest.fail("no synth"))
    assert monitoring_cost.main(argv) == 2
    assert message in capsys.readouterr().err


def test_the_default_measurement_covers_every_function(
    subscribed: tuple[Mapping[str, Any], dict[str, str]],
) -> None:
    _, labels = subscribed
    measurement: Measurement = default_measurement()
    assert set(labels.values()) == set(measurement.emf_bytes)
    healthy = {s for found in measurement.healthy.values() for s in found}
    assert healthy and measurement.incident.isdisjoint(healthy)
