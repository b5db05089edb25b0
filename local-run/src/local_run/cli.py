"""``./pants run local-run/src/local_run/cli.py``: run the scenario locally, report the alarms.

Runs `local_run.scenario` on the in-process emulator, synthesizes infra's stack (inline
placeholder Lambda code: no zips needed), reads every alarm from the template, maps the
FunctionName tokens to the local function names, evaluates the alarms on the metric data
read back from the emulator, and prints each alarm's state changes with the phase that
caused them, then per phase the alarms designed to fire against those that fired.
Then writes a PNG of every alarm's datapoints over the simulated time (`--plot`,
`--no-plot`). Exit status: 0 when every phase fired exactly its expected alarms, 1 when not,
2 for bad arguments.

``cli.py backtest ...`` evaluates the same alarms on metric data read with GetMetricData
over a past window instead (see `local_run.backtest`).
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from local_run.evaluator import AlarmState, Evaluation, evaluate
from local_run.metric_source import MotoBackendSource
from local_run.scenario import (
    LAMBDA_NAMESPACE,
    PHASE_NAMES,
    ScenarioResult,
    local_backend,
    phases_named,
    run_scenario,
)
from local_run.template_alarms import TemplateAlarms, read_alarms

STACK_NAME = "ws-local"
DEFAULT_PLOT = "local-run-report.png"
INLINE_HANDLER = "def handler(event, context):\n    return {'statusCode': 200}\n"


def synthesized_alarms(stack_name: str, function_names: dict[str, str]) -> TemplateAlarms:
    """infra's stack with inline code; FunctionName tokens -> the local function names."""
    alarms, tokens = _synthesized(stack_name)
    return alarms.with_dimension_values(
        {token: function_names[label] for token, label in tokens}
    )


@lru_cache(maxsize=4)
def _synthesized(stack_name: str) -> tuple[TemplateAlarms, tuple[tuple[str, str], ...]]:
    """The template's alarms, and (FunctionName token, function label); one synth per
    stack name and process (jsii starts node: seconds)."""
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.assertions import Template

    from infra.functions import FUNCTIONS
    from infra.stack import WebSocketServiceStack

    code = {f.label: lambda_.Code.from_inline(INLINE_HANDLER) for f in FUNCTIONS}
    stack = WebSocketServiceStack(cdk.App(), stack_name, code=code)
    alarms = read_alarms(Template.from_stack(stack).to_json())
    tokens = tuple(
        ("{Ref:" + stack.resolve(f.node.default_child.logical_id) + "}", label)  # type: ignore[union-attr]
        for label, f in stack.functions.items()
    )
    return alarms, tokens


def alarm_key(name: str, stack_name: str) -> str:
    return name.removeprefix(f"{stack_name}-")


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


def _reachable(url: str) -> str | None:
    try:
        urllib.request.urlopen(url, timeout=3).close()
    except urllib.error.HTTPError:
        return None  # it answered
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return str(getattr(exc, "reason", exc))
    return None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="local-run",
        description="Run the system locally and show what the alarms do.",
        epilog="`local-run backtest --help`: the same alarms over a window of real metric data.",
    )
    parser.add_argument(
        "--phases",
        default=",".join(PHASE_NAMES),
        help=f"comma-separated phases, in order (default: all: {','.join(PHASE_NAMES)})",
    )
    parser.add_argument("--phase-minutes", type=int, default=5, help="simulated minutes each")
    parser.add_argument(
        "--alarm", action="append", default=[], help="report only this alarm (repeatable)"
    )
    parser.add_argument("--endpoint-url", help="an AWS endpoint instead of the emulator")
    parser.add_argument("--stack-name", default=STACK_NAME)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--plot", default=DEFAULT_PLOT, metavar="PATH",
        help=f"write the alarms' datapoints over time to this PNG (default: {DEFAULT_PLOT})",
    )
    parser.add_argument("--no-plot", action="store_true", help="do not write the plot")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.phases.split(",") if n.strip()]
    unknown = [n for n in names if n not in PHASE_NAMES]
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(unknown)}; known: {', '.join(PHASE_NAMES)}")
    if not names or args.phase_minutes < 1:
        parser.error(
            "empty window: give at least one phase and --phase-minutes of at least 1 "
            f"(got {len(names)} phase(s) of {args.phase_minutes} min)"
        )
    args.phase_list = phases_named(names)
    if args.endpoint_url:
        problem = _reachable(args.endpoint_url)
        if problem is not None:
            parser.error(f"endpoint {args.endpoint_url} is unreachable: {problem}")
        parser.error(
            "--endpoint-url: reading metrics back needs a GetMetricData source, which is not "
            "implemented yet (only the in-process emulator is supported)"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["backtest"]:
        from local_run.backtest import main as backtest_main

        return backtest_main(argv[1:])
    args = parse_args(argv)
    from infra.alarms import alarm_name  # noqa: F401  (infra importable before the long run)

    phases = args.phase_list
    total_ticks = sum(1 for _ in phases) * args.phase_minutes * 12
    bar: Any = None
    if not args.no_progress:
        from tqdm import tqdm  # type: ignore[import-untyped]

        bar = tqdm(total=total_ticks, unit="tick", desc="scenario", file=sys.stderr)

    def on_tick(phase: str) -> None:
        if bar is not None:
            bar.set_postfix_str(phase, refresh=False)
            bar.update(1)

    with local_backend(None) as url:
        result = run_scenario(
            url, phases, phase_minutes=args.phase_minutes, stack_name=args.stack_name,
            on_tick=on_tick,
        )
        store = MotoBackendSource().read(result.start, result.end + 3600)
    if bar is not None:
        bar.close()
    for metric in result.lambda_metrics.series():
        for ts, dist in result.lambda_metrics.observations(metric, result.start, result.end + 60):
            store.put(LAMBDA_NAMESPACE, metric.name, ts, dist, metric.dimensions)

    print("synthesizing the stack (CDK) ...", file=sys.stderr)
    alarms = synthesized_alarms(args.stack_name, result.function_names)
    known = {a.name for a in alarms.all_alarms()}
    wanted = set(args.alarm)
    by_key = {alarm_key(n, args.stack_name): n for n in known}
    unknown = sorted(w for w in wanted if w not in known and w not in by_key)
    if unknown:
        print(
            f"local-run: error: unknown alarm(s) {', '.join(unknown)}; known: "
            f"{', '.join(sorted(by_key))}",
            file=sys.stderr,
        )
        return 2
    evaluation = evaluate(alarms, store, result.start, result.end)
    only = {by_key.get(w, w) for w in wanted}
    status = report(evaluation, result, args.stack_name, only)
    if not args.no_plot:
        from local_run.plot import write_plot

        path = write_plot(
            args.plot, alarms, store, result.start, result.end,
            phases=[(s.phase.name, s.start, s.end) for s in result.spans],
            evaluation=evaluation, only=only, strip_prefix=f"{args.stack_name}-",
            title=f"local run, {len(result.spans)} phase(s) of {args.phase_minutes} min",
        )
        print(f"\nplot: {path.resolve()}")
    return status


def report(
    evaluation: Evaluation, result: ScenarioResult, stack_name: str, only: set[str]
) -> int:
    print(
        f"\nscenario: {len(result.spans)} phase(s), "
        f"{(result.end - result.start) / 60:.0f} simulated minutes in {result.wall_seconds:.1f} s; "
        f"{result.invocations} invocations, statuses {dict(sorted(result.statuses.items()))}"
    )
    print("\nstate changes (alarms that entered ALARM):")
    alarmed = sorted(evaluation.fired())
    for name in alarmed:
        if only and name not in only:
            continue
        print(f"  {alarm_key(name, stack_name)}")
        for c in evaluation.changes_of(name):
            if c.old is AlarmState.INSUFFICIENT_DATA:
                continue
            phase = result.phase_at(c.timestamp - 1) or "after the run"
            minute = (c.timestamp - result.start) / 60
            print(f"    t+{minute:4.0f} min  {c.old.value:>6} -> {c.new.value:<6} [{phase}]")
    quiet = len(evaluation.final_states) - len(alarmed)
    print(f"  ({quiet} other alarms never entered ALARM)")

    fired = fired_by_phase(evaluation, result, stack_name)
    print("\nper phase: expected vs fired")
    ok = True
    for span in result.spans:
        expected = set(span.phase.expected)
        got = fired.get(span.phase.name, set())
        if only:
            keys = {alarm_key(n, stack_name) for n in only}
            expected &= keys
            got &= keys
        status = "as designed" if expected == got else "DIFFERS"
        ok = ok and expected == got
        print(f"  {span.phase.name} ({span.phase.description}): {status}")
        print(f"    expected: {', '.join(sorted(expected)) or 'none'}")
        print(f"    fired:    {', '.join(sorted(got)) or 'none'}")
        if expected - got:
            print(f"    did NOT fire: {', '.join(sorted(expected - got))}")
        if got - expected:
            print(f"    fired but not designed for this phase: {', '.join(sorted(got - expected))}")
    print("\nresult: " + ("every phase fired exactly its alarms" if ok else "see DIFFERS above"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
