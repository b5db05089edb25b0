"""The local run's report, printed: each alarm's state changes with the phase that caused
them, per phase the alarms designed to fire against those that fired and the pages sent
(notifications to the critical topic), an alarm x phase matrix, and per phase the top
contributors of the stack's Contributor Insights rules over the handlers' EMF lines.

A state change (or notification) at t belongs to the phase holding t - 1: the change closes
the period ending at t.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from infra.alarm_vocabulary import Severity
from local_run.cloudwatch.contributor_insights import Contributor, Rule, top_contributors
from local_run.cloudwatch.evaluator import AlarmState, Evaluation
from local_run.simulation.local_names import local_topic_name
from local_run.simulation.notifications import Notification
from local_run.simulation.phases import PHASE_NAMES
from local_run.simulation.scenario import ScenarioResult
from local_run.simulation.scenario_canary import CanaryRun
from local_run.simulation.stack_alarms import alarm_key


def fired_by_phase(
    evaluation: Evaluation, result: ScenarioResult, stack_name: str
) -> dict[str, set[str]]:
    """Phase -> alarm keys that entered ALARM in it (a change at t closes the period ending
    at t, so it belongs to the phase holding t - 1)."""
    fired: dict[str, set[str]] = {span.phase.name: set() for span in result.spans}
    for change in evaluation.changes:
        if change.new is AlarmState.ALARM:
            phase = result.phase_at(change.timestamp - 1) or "after the run"
            fired.setdefault(phase, set()).add(alarm_key(change.alarm, stack_name))
    return fired


def pages_by_phase(
    sent: Sequence[Notification], result: ScenarioResult, stack_name: str
) -> dict[str, tuple[int, int]]:
    """Phase -> (pages, all-clears): notifications to the critical topic on ALARM and OK."""
    critical = local_topic_name(stack_name, Severity.CRITICAL)
    counts: dict[str, list[int]] = {span.phase.name: [0, 0] for span in result.spans}
    for n in sent:
        if n.topic != critical:
            continue
        phase = result.phase_at(n.timestamp - 1) or "after the run"
        counts.setdefault(phase, [0, 0])[0 if n.state is AlarmState.ALARM else 1] += 1
    return {phase: (c[0], c[1]) for phase, c in counts.items()}


def report(
    evaluation: Evaluation,
    result: ScenarioResult,
    stack_name: str,
    only: set[str],
    sent: Sequence[Notification] = (),
    rules: Sequence[Rule] = (),
) -> int:
    """Prints the run's report; 0 when every phase fired exactly its alarms and (in a run of
    every phase, every alarm reported) every alarm entered ALARM in some phase, else 1."""
    print(
        f"\nscenario: {len(result.spans)} phase(s), "
        f"{(result.end - result.start) / 60:.0f} simulated minutes in {result.wall_seconds:.1f} s; "
        f"{result.invocations} invocations, statuses {dict(sorted(result.statuses.items()))}"
    )
    print(
        f"backend: {result.backend.description}; {result.injected_faults} DynamoDB faults "
        "injected"
    )
    print("\nstate changes (alarms that entered ALARM):")
    alarmed = sorted(evaluation.fired())
    for name in alarmed:
        if only and name not in only:
            continue
        print(f"  {alarm_key(name, stack_name)}")
        for c in evaluation.changes_of(name):
            if c.old is AlarmState.INSUFFICIENT_DATA and c.new is AlarmState.OK:
                continue  # the first evaluation settling, not news
            phase = result.phase_at(c.timestamp - 1) or "after the run"
            minute = (c.timestamp - result.start) / 60
            print(f"    t+{minute:4.0f} min  {c.old.value:>6} -> {c.new.value:<6} [{phase}]")

    fired = fired_by_phase(evaluation, result, stack_name)
    pages = pages_by_phase(sent, result, stack_name)
    keys = sorted(alarm_key(n, stack_name) for n in evaluation.final_states)
    if only:
        keys = sorted(alarm_key(n, stack_name) for n in only)
    print("\nper phase: expected vs fired")
    ok = True
    for span in result.spans:
        expected = set(span.phase.expected) & set(keys)
        got = fired.get(span.phase.name, set()) & set(keys)
        runs = [r for r in result.canary_runs if span.start <= r.at < span.end]
        canary_ok = all(r.passed == span.phase.canary_passes for r in runs)
        status = "as designed" if expected == got and canary_ok else "DIFFERS"
        ok = ok and expected == got and canary_ok
        paged, cleared = pages.get(span.phase.name, (0, 0))
        print(f"  {span.phase.name} ({span.phase.description}): {status}")
        print(f"    expected: {', '.join(sorted(expected)) or 'none'}")
        print(f"    fired:    {', '.join(sorted(got)) or 'none'}")
        print(f"    pages:    {paged} (critical topic on ALARM), {cleared} all-clear (on OK)")
        print(f"    canary:   {_canary_line(runs, span.phase.canary_passes)}")
        if expected - got:
            print(f"    did NOT fire: {', '.join(sorted(expected - got))}")
        if got - expected:
            print(f"    fired but not designed for this phase: {', '.join(sorted(got - expected))}")

    print_matrix(keys, result, fired)
    if rules:
        print_contributors(rules, result)
    never = [k for k in keys if not any(k in f for f in fired.values())]
    full_run = [s.phase.name for s in result.spans] == list(PHASE_NAMES)
    covered = not never
    print()
    if never:
        print(f"never entered ALARM: {', '.join(never)}")
    else:
        print("every alarm entered ALARM in at least one phase")
    if not full_run:
        covered = True  # a subset of phases cannot be expected to fire every alarm
        print("  (a subset of the phases ran: that every alarm fires is checked on a full run)")
    print("result: " + ("every phase fired exactly its alarms" if ok else "see DIFFERS above"))
    return 0 if ok and covered else 1


def _canary_line(runs: Sequence[CanaryRun], designed_to_pass: bool) -> str:
    """The canary's runs in one phase: how many passed, the slowest, the first failure."""
    if not runs:
        return "no run in this phase"
    passed = sum(r.passed for r in runs)
    slowest = max(r.duration_ms for r in runs) / 1000
    line = f"{passed} of {len(runs)} runs passed (slowest {slowest:.1f} s)"
    failed = next((r for r in runs if not r.passed), None)
    if failed is not None:
        line += f"; {failed.outcome}"
    if any(r.passed != designed_to_pass for r in runs):
        line += " -- designed to " + ("pass" if designed_to_pass else "fail")
    return line


TOP_CONTRIBUTORS = 3


def contributors_by_phase(
    rules: Sequence[Rule], result: ScenarioResult, limit: int = TOP_CONTRIBUTORS
) -> dict[str, dict[str, list[Contributor]]]:
    """Phase -> rule -> its top contributors among the EMF events of that phase."""
    out: dict[str, dict[str, list[Contributor]]] = {}
    for span in result.spans:
        events = [
            (group, event)
            for group, group_events in result.log_events.items()
            for event in group_events
            if span.start <= event.get("_aws", {}).get("Timestamp", 0) / 1000 < span.end
        ]
        found = {rule.name: top_contributors(rule, events, limit) for rule in rules}
        out[span.phase.name] = {name: top for name, top in found.items() if top}
    return out


def print_contributors(rules: Sequence[Rule], result: ScenarioResult) -> None:
    """What the Contributor Insights rules would report, per phase that has contributors."""
    print(
        "\ntop contributors per phase (the stack's Contributor Insights rules over the "
        "handlers' EMF lines):"
    )
    for phase, by_rule in contributors_by_phase(rules, result).items():
        if not by_rule:
            continue
        print(f"  {phase}")
        for name, top in by_rule.items():
            shown = ", ".join(f"{'/'.join(c.keys)} {c.value:g}" for c in top)
            print(f"    {name}: {shown}")


def print_matrix(
    keys: Sequence[str], result: ScenarioResult, fired: Mapping[str, set[str]]
) -> None:
    """Alarm x phase: X fired as designed, ! fired but not designed, - designed but did not
    fire, . neither."""
    spans = result.spans
    print("\nalarm x phase (X fired as designed, ! fired unexpectedly, - did not fire, . quiet):")
    for i, span in enumerate(spans, 1):
        print(f"  {i:>2} {span.phase.name}")
    width = max((len(k) for k in keys), default=10)
    print("  " + " " * width + " " + "".join(f"{i:>3}" for i in range(1, len(spans) + 1)))
    for key in keys:
        cells = []
        for span in spans:
            expected = key in span.phase.expected
            got = key in fired.get(span.phase.name, set())
            cells.append("X" if expected and got else "!" if got else "-" if expected else ".")
        print(f"  {key:<{width}} " + "".join(f"{c:>3}" for c in cells))
