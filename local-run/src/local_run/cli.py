"""``./pants run local-run/src/local_run/cli.py``: run the scenario locally, report the alarms.

Runs `local_run.scenario` on the in-process emulator, synthesizes infra's stack (inline
placeholder Lambda code: no zips needed), reads every alarm from the template, maps the
FunctionName tokens to the local function names, evaluates the alarms on the metric data
read back from the emulator, and prints each alarm's state changes with the phase that
caused them, then per phase the alarms designed to fire against those that fired.
Then writes a PNG of every alarm's datapoints over the simulated time (`--plot`,
`--no-plot`). Exit status: 0 when every phase fired exactly its expected alarms, 1 when not,
2 for bad arguments or a backend that cannot be used.

``--endpoint-url URL`` (LocalStack) or ``--aws`` (AWS itself, normal credentials and region)
run the same scenario there instead (`Backend.remote`: run-unique tables, deleted at the
end, and run-unique metric namespaces); the metrics are read back with GetMetricData, as
the backtest does, and the alarms evaluated on what CloudWatch computed. AWS/Lambda metrics
come from the run's own records (nobody may publish to ``AWS/``), and latency timers count
simulated time only: a laptop's round trips to DynamoDB are not what a Lambda function in
the region sees.

``cli.py backtest ...`` evaluates the same alarms on metric data read with GetMetricData
over a past window instead (see `local_run.backtest`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from infra.alarm_table import Severity
from infra.alarms import (
    API_GATEWAY_NAMESPACE,
    DYNAMODB_NAMESPACE,
    LAMBDA_NAMESPACE,
    SNS_NAMESPACE,
)
from infra.functions import Table
from local_run.alarm_model import MetricStat, TemplateAlarms
from local_run.contributor_insights import Contributor, Rule, insight_rules, top_contributors
from local_run.evaluator import AlarmState, Evaluation
from local_run.metric_source import (
    GetMetricDataSource,
    MotoBackendSource,
    RoutedStore,
    read_settled,
)
from local_run.metric_store import MetricStore
from local_run.notifications import Notification, evaluate_with_notifications, sns_metrics
from local_run.phases import PHASE_NAMES, phases_named
from local_run.scenario import (
    LOCAL_API_ID,
    SERVICE_NAMESPACES,
    TABLES,
    Backend,
    ScenarioResult,
    local_backend,
    log_group_name,
    run_scenario,
)
from local_run.template_alarms import read_alarms
from session_management.store import TableNames

# The AWS namespaces the run's own records answer (what those services would publish).
PLATFORM_NAMESPACES = (LAMBDA_NAMESPACE, API_GATEWAY_NAMESPACE, DYNAMODB_NAMESPACE)

STACK_NAME = "ws-local"
# How long to wait for CloudWatch to make the run's datapoints readable, and how often to
# look: AWS publishes within seconds to a couple of minutes; LocalStack at once.
READBACK = {"aws": (300.0, 20.0), "endpoint": (30.0, 2.0)}
DEFAULT_PLOT = "local-run-report.png"
DEFAULT_LOG = "local-run-handlers.log"


def local_topic_name(stack_name: str, severity: Severity) -> str:
    return f"{stack_name}-{severity.value}-alarms"


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


def require_reachable(parser: argparse.ArgumentParser, url: str) -> None:
    """Exit 2 with a message unless something answers HTTP at ``url``."""
    try:
        urllib.request.urlopen(url, timeout=3).close()
    except urllib.error.HTTPError:
        return  # it answered
    except (urllib.error.URLError, OSError, ValueError) as exc:
        parser.error(f"endpoint {url} is unreachable: {getattr(exc, 'reason', exc)}")


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
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--endpoint-url", metavar="URL",
        help="run against this endpoint (LocalStack, normal AWS credentials) instead of the "
        "in-process emulator",
    )
    where.add_argument(
        "--aws", action="store_true",
        help="run against AWS itself (normal AWS credentials and region): the run creates and "
        "deletes its own tables and publishes to its own LocalRun/<id>/ namespaces",
    )
    parser.add_argument("--region", help="with --endpoint-url or --aws: the AWS region")
    parser.add_argument(
        "--readback-wait", type=float, metavar="SECONDS",
        help="with --endpoint-url or --aws: how long to wait for the metrics to become "
        f"readable (default {READBACK['endpoint'][0]:.0f} s, {READBACK['aws'][0]:.0f} s for --aws)",
    )
    parser.add_argument("--stack-name", default=STACK_NAME)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--plot", default=DEFAULT_PLOT, metavar="PATH",
        help=f"write the alarms' datapoints over time to this PNG (default: {DEFAULT_PLOT})",
    )
    parser.add_argument("--no-plot", action="store_true", help="do not write the plot")
    parser.add_argument(
        "--log", default=DEFAULT_LOG, metavar="PATH",
        help=f"write the handlers' log lines here, not to the terminal (default: {DEFAULT_LOG})",
    )
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
    args.backend = None
    if args.endpoint_url or args.aws:
        args.backend = _remote_backend(args, parser)
    elif args.region or args.readback_wait is not None:
        parser.error("--region and --readback-wait go with --endpoint-url or --aws")
    return args


def _remote_backend(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Backend:
    import boto3

    if args.endpoint_url:
        require_reachable(parser, args.endpoint_url)
    session = boto3.session.Session()
    region = args.region or session.region_name
    if region is None:
        if args.aws:
            parser.error("--aws: no AWS region: give --region or set AWS_DEFAULT_REGION")
        region = "us-east-1"  # LocalStack's default
    if session.get_credentials() is None:
        hint = " (LocalStack takes any, e.g. AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test)"
        parser.error(
            "no AWS credentials found (environment, ~/.aws, SSO or instance role)"
            + ("" if args.aws else hint)
        )
    wait, interval = READBACK["aws" if args.aws else "endpoint"]
    if args.readback_wait is not None:
        if args.readback_wait < 0:
            parser.error(f"--readback-wait must be >= 0, got {args.readback_wait:g}")
        wait = args.readback_wait
    args.readback = (wait, interval)
    run_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return Backend.remote(args.endpoint_url, region, run_id)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["backtest"]:
        from local_run.backtest import main as backtest_main

        return backtest_main(argv[1:])
    args = parse_args(argv)
    print("synthesizing the stack (CDK) ...", file=sys.stderr)
    # Before the run, so that a bad --alarm fails fast (alarm names do not depend on the
    # function names; the synth is cached for the evaluation after the run).
    only, error = select_alarms(_synthesized(args.stack_name)[0], args.stack_name, args.alarm)
    if error is not None:
        print(f"local-run: error: {error}", file=sys.stderr)
        return 2
    with _handler_log(args.log) as log_path:
        status = _run(args, only)
    lines = sum(1 for _ in log_path.open(encoding="utf-8"))
    print(f"handler log: {log_path.resolve()} ({lines} lines)")
    return status


@contextlib.contextmanager
def _handler_log(path: str) -> Iterator[Path]:
    """The handlers' structured log lines (warnings and errors: thousands in a fault phase)
    go to a file, so that the terminal shows the progress bar and the report."""
    log_path = Path(path)
    handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield log_path
    finally:
        root.removeHandler(handler)
        handler.close()


def _run(args: argparse.Namespace, only: set[str]) -> int:
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

    if args.backend is None:
        with local_backend(None) as url:
            result = run_scenario(
                url, phases, phase_minutes=args.phase_minutes, stack_name=args.stack_name,
                on_tick=on_tick,
            )
            services: MetricStore = MotoBackendSource().read(result.start, result.end + 3600)
        if bar is not None:
            bar.close()
    else:
        import botocore.exceptions

        print(f"backend: {args.backend.description}", file=sys.stderr)
        try:
            # Simulated latency only: see the module docstring.
            result = run_scenario(
                args.backend, phases, phase_minutes=args.phase_minutes,
                stack_name=args.stack_name, on_tick=on_tick, real_latency=False,
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            print(f"local-run: error: the run failed against {args.backend.description}: {exc}",
                  file=sys.stderr)
            return 2
        finally:
            if bar is not None:
                bar.close()

    alarms = synthesized_alarms(args.stack_name, result.function_names, result.backend.tables)
    no_data: list[str] = []
    if args.backend is not None:
        alarms = alarms.with_namespaces(
            {ns: args.backend.namespace(ns) for ns in SERVICE_NAMESPACES}
        )
        remote = _read_back(args, alarms, result)
        if remote is None:
            return 2
        services, no_data = remote
    store = platform_routed(services, result)
    evaluation, sent = evaluate_with_notifications(
        alarms, store, result.start, result.end, topic_names(args.stack_name),
        subscribers_down(result),
    )
    rules = synthesized_rules(args.stack_name, result.function_names)
    status = report(evaluation, result, args.stack_name, only, sent, rules)
    store = RoutedStore(store, {SNS_NAMESPACE: sns_metrics(sent)})  # for the plot
    if no_data:
        print(
            "\nno datapoints read back for: " + ", ".join(no_data) + "\n  (their alarms saw "
            "missing data; moto computes no percentiles: it returns nothing, or fails, for pNN)"
        )
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


def _read_back(
    args: argparse.Namespace, alarms: TemplateAlarms, result: ScenarioResult
) -> tuple[MetricStore, list[str]] | None:
    """The services' metrics read back with GetMetricData, and the statistics of which
    nothing came back; None after a printed error."""
    import boto3
    import botocore.exceptions

    backend: Backend = args.backend
    stats = {s for s in alarms.metric_stats() if not s.metric.namespace.startswith("AWS/")}
    wait, interval = args.readback
    print(f"reading the metrics back with GetMetricData (up to {wait:.0f} s) ...", file=sys.stderr)
    client = boto3.session.Session().client(
        "cloudwatch", endpoint_url=backend.endpoint_url, region_name=backend.region
    )
    source = GetMetricDataSource(client)
    try:
        remote, settled = read_settled(
            source, stats, result.start, result.end, wait=wait, interval=interval
        )
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        print(f"local-run: error: GetMetricData failed: {exc}", file=sys.stderr)
        return None
    if not settled:
        print(f"local-run: warning: datapoints were still arriving after {wait:.0f} s; the "
              "last periods may be incomplete (--readback-wait)", file=sys.stderr)
    empty = sorted(
        _describe(s) + (" (GetMetricData failed on it)" if s in source.failed else "")
        for s in stats
        if remote.datapoints(s) == 0
    )
    return remote, empty


def _describe(stat: MetricStat) -> str:
    dims = ",".join(f"{n}={v}" for n, v in stat.metric.dimensions)
    return f"{stat.metric.name}[{dims}] {stat.stat}"


def platform_routed(services: MetricStore, result: ScenarioResult) -> RoutedStore:
    """The services' namespaces from ``services``; AWS/Lambda, AWS/ApiGateway and
    AWS/DynamoDB from the run's own records (what those services would have published)."""
    return RoutedStore(services, {ns: result.platform.store for ns in PLATFORM_NAMESPACES})


def subscribers_down(result: ScenarioResult) -> Callable[[float], bool]:
    """Whether the alarm topics' subscribers reject a notification sent at a time (a
    notification at t belongs to the phase holding t - 1, like a state change)."""

    def down(timestamp: float) -> bool:
        span = result.span_at(timestamp - 1)
        return span is not None and span.phase.subscribers_down

    return down


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
    print(f"backend: {result.backend.description}; {result.injected_faults} DynamoDB faults "
          "injected")
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
        status = "as designed" if expected == got else "DIFFERS"
        ok = ok and expected == got
        paged, cleared = pages.get(span.phase.name, (0, 0))
        print(f"  {span.phase.name} ({span.phase.description}): {status}")
        print(f"    expected: {', '.join(sorted(expected)) or 'none'}")
        print(f"    fired:    {', '.join(sorted(got)) or 'none'}")
        print(f"    pages:    {paged} (critical topic on ALARM), {cleared} all-clear (on OK)")
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
    print("\ntop contributors per phase (the stack's Contributor Insights rules over the "
          "handlers' EMF lines):")
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


if __name__ == "__main__":
    sys.exit(main())
