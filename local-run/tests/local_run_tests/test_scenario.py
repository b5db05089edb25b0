"""End to end: a short scenario on the in-process emulator, alarms from the synthesized
template, evaluated on the datums read back from moto; and the CLI's bad arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.drilldown import RULES
from infra.functions import FUNCTIONS
from local_run.cli import main, platform_routed, subscribers_down
from local_run.cloudwatch.contributor_insights import MISSING, resolve
from local_run.cloudwatch.metric_source import MotoBackendSource
from local_run.plot import alarm_series, write_plot
from local_run.report import contributors_by_phase, fired_by_phase, pages_by_phase, report
from local_run.simulation.backend import local_backend
from local_run.simulation.notifications import EMAIL, evaluate_with_notifications
from local_run.simulation.phases import DEGRADED, PHASES
from local_run.simulation.platform_metrics import DOCUMENTED, READINGS
from local_run.simulation.scenario import run_scenario
from local_run.simulation.stack_alarms import (
    alarm_key,
    synthesized_alarms,
    synthesized_rules,
    topic_names,
)
from shared_metrics.testing.aws_emulator import unused_loopback_url

STACK = "ws-e2e"


def test_every_phase_fires_exactly_its_alarms_and_every_alarm_fires(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The whole default run: each phase must fire exactly what it was designed to fire, and
    # every alarm of the template must fire in some phase. dynamodb-errors also guards
    # against loopback artifacts inflating latency (botocore retry sleeps, the 40 ms
    # delayed-ACK stall): AudioLatencyP95 must stay quiet there.
    with local_backend() as url:
        # Simulated latency only: which alarms fire must not depend on this machine's speed.
        result = run_scenario(url, PHASES, phase_minutes=5, stack_name=STACK)
        services = MotoBackendSource().read(result.start, result.end + 3600)
    store = platform_routed(services, result)
    alarms = synthesized_alarms(STACK, result.function_names)
    evaluation, sent = evaluate_with_notifications(
        alarms, store, result.start, result.end, topic_names(STACK), subscribers_down(result)
    )
    fired = fired_by_phase(evaluation, result, STACK)
    assert fired == {p.name: set(p.expected) for p in PHASES}
    # The canary runs in every phase, and passes in every phase but those whose fault
    # reaches every user (the unreachable ones page through it).
    for span in result.spans:
        runs = [r for r in result.canary_runs if span.start <= r.at < span.end]
        assert runs, span.phase.name
        assert all(r.passed == span.phase.canary_passes for r in runs), (span.phase.name, runs)
    every = {alarm_key(a.name, STACK) for a in alarms.all_alarms()}
    assert set().union(*fired.values()) == every

    # One page per incident: the composite is the only alarm on the critical topic, so a
    # phase that hurts users pages once however many critical alarms fire in it.
    pages = pages_by_phase(sent, result, STACK)
    for phase in PHASES:
        expected_pages = 1 if DEGRADED in phase.expected else 0
        assert pages[phase.name][0] == expected_pages, phase.name
    # Notifications that failed are the ones sent while the subscribers were down.
    failed = [n for n in sent if not n.delivered]
    assert failed and all(result.phase_at(n.timestamp - 1) == "alarm-delivery-failing"
                          for n in failed)

    # AWS does not say which AWS/ApiGateway metric counts a handler's 4xx, a function error or
    # a request that never reached the function: under every plausible reading the phases
    # that must fire nothing fire nothing, every designed alarm fires in its phase, and each
    # incident pages once.
    # CloudWatch evaluates every alarm every minute; a 5-minute alarm evaluated only at the
    # ends of epoch-aligned periods (as a GetMetricData backtest does) must hold as well.
    for reading, every_minute in [(r, True) for r in READINGS] + [(DOCUMENTED, False)]:
        under, sent_under = evaluate_with_notifications(
            alarms,
            platform_routed(services, result, reading),
            result.start,
            result.end,
            topic_names(STACK),
            subscribers_down(result),
            every_minute=every_minute,
        )
        fired_under = fired_by_phase(under, result, STACK)
        pages_under = pages_by_phase(sent_under, result, STACK)
        for phase in PHASES:
            assert fired_under[phase.name] >= phase.expected, (reading.name, phase.name)
            if not phase.expected:
                assert fired_under[phase.name] == set(), (reading.name, phase.name)
            assert pages_under[phase.name][0] == (1 if DEGRADED in phase.expected else 0), (
                reading.name, phase.name
            )

    # SNS counts a failed e-mail only when it stops retrying, about 6 hours later: with e-mail
    # subscribers alone, the delivery alarms would not fire during the run at all.
    by_email, _ = evaluate_with_notifications(
        alarms, store, result.start, result.end, topic_names(STACK), subscribers_down(result),
        subscribers=(EMAIL,),
    )
    delivery = {a.name for a in alarms.metric_alarms if a.name.endswith("DeliveryFailures")}
    assert len(delivery) == 2 and not delivery & by_email.fired()

    # Per session, after the page: the stack's Contributor Insights rules over the EMF lines
    # the real handlers wrote name the sessions and connections each fault phase hurt.
    rules = synthesized_rules(STACK, result.function_names)
    assert sorted(r.name for r in rules) == sorted(f"{STACK}-{r.key}" for r in RULES)
    top = contributors_by_phase(rules, result, limit=50)

    def keys(phase: str, rule: str) -> set[tuple[str, ...]]:
        return {c.keys for c in top[phase].get(f"{STACK}-{rule}", [])}

    assert {("sess-a", "TooLarge"), ("sess-a", "NotDecodable"), ("sess-a", "Misaligned")} <= keys(
        "garbled-chunks", "DroppedAudioBySession"
    )
    assert {("sess-a", "BufferFull"), ("sess-b", "BufferFull")} <= keys(
        "transcribe-outage", "DroppedAudioBySession"
    )
    assert keys("audio-latency-spike", "SlowAudioBySession") == {("sess-a",), ("sess-b",)}
    assert keys("baseline", "SlowAudioBySession") == set()
    flooders = keys("rate-limit-abuse", "RateLimitedConnections")
    assert {k[1] for k in flooders} == {"status", "audio"} and len(flooders) == 22
    assert keys("listeners-gone", "NotificationFailuresBySession") == {("sess-a", "Gone")}
    assert all(not by_rule for phase, by_rule in top.items() if phase == "baseline")
    # Every key and filter of every rule names a field the handlers really write.
    for rule in rules:
        events = [e for g, es in result.log_events.items() if rule.reads(g) for e in es]
        assert events, rule.name
        for path in (*rule.keys, *(f.path for f in rule.filters)):
            assert any(resolve(e, path) is not MISSING for e in events), (rule.name, path)

    # The report says so and exits 0.
    assert report(evaluation, result, STACK, set(), sent, rules) == 0
    out = capsys.readouterr().out
    assert "every alarm entered ALARM in at least one phase" in out
    assert "result: every phase fired exactly its alarms" in out
    assert "alarm x phase" in out
    assert "top contributors per phase" in out

    # The plot: a PNG of every alarm's datapoints, computed by the evaluator's functions.
    png = write_plot(
        tmp_path / "report.png", alarms, store, result.start, result.end,
        phases=[(s.phase.name, s.start, s.end) for s in result.spans], evaluation=evaluation,
    )
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000
    errors = next(a for a in alarms.metric_alarms if a.name.endswith("TranscribeStreamErrorRate"))
    series = dict(alarm_series(errors, store, result.start, result.end))
    outage = next(s for s in result.spans if s.phase.name == "transcribe-outage")
    assert max(v or 0 for t, v in series.items() if outage.start <= t < outage.end) > 5
    assert all((v or 0) <= 5 for t, v in series.items() if t < outage.start)


def test_a_subset_of_phases_is_not_held_to_firing_every_alarm(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["--phases", "baseline", "--phase-minutes", "1", "--no-progress", "--no-plot",
                 "--log", "/dev/null"])
    assert code == 0
    out = capsys.readouterr().out
    assert "a subset of the phases ran" in out


def test_every_alarm_a_phase_expects_is_in_the_template() -> None:
    # The e2e test above runs three phases; a renamed alarm would show in the others only as
    # DIFFERS in a manual run.
    alarms = synthesized_alarms(STACK, {f.label: f.label for f in FUNCTIONS})
    keys = {alarm_key(a.name, STACK) for a in alarms.all_alarms()}
    for phase in PHASES:
        assert phase.expected <= keys, (phase.name, sorted(phase.expected - keys))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--phases", "baseline,meteor-strike"], "unknown phase(s) meteor-strike"),
        (["--phase-minutes", "0"], "empty window"),
        (["--phases", ","], "empty window"),
        (["--endpoint-url", "__UNREACHABLE__"], "is unreachable"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [unused_loopback_url() if a == "__UNREACHABLE__" else a for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unknown_alarm_exits_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--phases", "baseline", "--phase-minutes", "1", "--no-progress", "--alarm", "NoSuch"]
    )
    assert code == 2
    assert "unknown alarm(s) NoSuch" in capsys.readouterr().err
