"""``cli.py backtest``: how often each alarm would have fired over a past window.

Reads the per-period statistics every alarm of the synthesized template needs with GetMetricData
(`local_run.cloudwatch.metric_source.GetMetricDataSource`: real CloudWatch, LocalStack, or any
``--endpoint-url``; normal AWS credentials and region), evaluates the alarms with
`local_run.cloudwatch.evaluator` over the window, and prints per alarm how many times it entered
ALARM and the minutes it spent there: to tune thresholds.

The alarms watch the deployed stack ``--stack-name``: the resources their dimensions name
(tables, functions, topics, the WebSocket API) by logical id are looked up in that
CloudFormation stack (`local_run.stack_resources`, ListStackResources), so each alarm reads
the metrics of the resource CloudFormation created, under its physical name. The Stage
dimension is the template's literal stage name. ``--no-stack-lookup`` reads no stack: for a
caller without CloudFormation access, or data not published by a CloudFormation stack. The
names are then the local run's (functions ``<stack name>-<label>`` unless ``--function-name
LABEL=NAME`` says otherwise; tables, topics and the API the local run's, whose platform
alarms see no data).
The moto emulator returns no percentiles from GetMetricData: percentile alarms see missing
data there (real CloudWatch computes them).

Exit status: 0, or 2 for bad arguments (unknown alarm, empty or inverted window,
unreachable endpoint, no region) and for a stack that does not exist or lacks a resource the
alarms watch.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local_run.cloudwatch.alarm_model import TemplateAlarms
from local_run.cloudwatch.evaluator import AlarmState, Evaluation, evaluate, lookback_seconds
from local_run.cloudwatch.metric_source import GetMetricDataSource
from local_run.simulation.backend import require_reachable
from local_run.simulation.local_names import STACK_NAME, function_name
from local_run.simulation.stack_alarms import (
    alarm_key,
    alarms_as_synthesized,
    select_alarms,
    synthesized_alarms,
)
from local_run.stack_resources import StackLookupError, physical_values, read_stack_resources

DAY = 86_400


@dataclass(frozen=True)
class AlarmSummary:
    name: str
    times_in_alarm: int  # transitions into ALARM
    seconds_in_alarm: float
    final_state: AlarmState


def summarize(evaluation: Evaluation, end: float) -> dict[str, AlarmSummary]:
    """Per alarm name: entries into ALARM and the time spent in ALARM up to ``end``."""
    from local_run.plot import alarm_intervals

    out: dict[str, AlarmSummary] = {}
    for name, final in evaluation.final_states.items():
        intervals = alarm_intervals(evaluation, name, end)
        entries = sum(1 for c in evaluation.changes_of(name) if c.new is AlarmState.ALARM)
        out[name] = AlarmSummary(name, entries, sum(e - s for s, e in intervals), final)
    return out


def _parse_time(text: str, what: str, parser: argparse.ArgumentParser) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parser.error(f"{what}: not an ISO 8601 time: {text!r} (e.g. 2026-11-20T00:00:00Z)")
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def parse_args(argv: Sequence[str], now: float | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="local-run backtest",
        description="Evaluate every alarm of the synthesized template on past metric data "
        "(GetMetricData) and print how often each would have fired.",
    )
    parser.add_argument(
        "--endpoint-url", help="CloudWatch and CloudFormation endpoint (default: AWS's)"
    )
    parser.add_argument("--region", help="AWS region (default: the AWS configuration's)")
    parser.add_argument("--start", help="window start, ISO 8601 (UTC unless it says)")
    parser.add_argument("--end", help="window end, ISO 8601 (default: now)")
    parser.add_argument("--days", type=float, help="window: the DAYS before --end")
    parser.add_argument(
        "--alarm", action="append", default=[], help="report only this alarm (repeatable)"
    )
    parser.add_argument(
        "--stack-name",
        default=STACK_NAME,
        help="the deployed CloudFormation stack whose resources the alarms watch (and the "
        "alarms' name prefix)",
    )
    parser.add_argument(
        "--no-stack-lookup",
        dest="stack_lookup",
        action="store_false",
        help="read no CloudFormation stack: the resources under the local run's names",
    )
    parser.add_argument(
        "--function-name",
        action="append",
        default=[],
        metavar="LABEL=NAME",
        help="with --no-stack-lookup: a Lambda function's name (default: <stack name>-<label>)",
    )
    args = parser.parse_args(argv)
    if args.function_name and args.stack_lookup:
        parser.error(
            "--function-name goes with --no-stack-lookup only: otherwise the functions' names "
            f"are read from stack {args.stack_name}"
        )
    now = time.time() if now is None else now
    end = _parse_time(args.end, "--end", parser) if args.end else now
    if args.days is not None and args.start:
        parser.error("give --start or --days, not both")
    if args.days is not None:
        if args.days <= 0:
            parser.error(f"empty window: --days must be positive, got {args.days:g}")
        start = end - args.days * DAY
    elif args.start:
        start = _parse_time(args.start, "--start", parser)
    else:
        parser.error("give a window: --start (and --end) or --days")
    if start >= end:
        parser.error(f"empty or inverted window: start {_iso(start)} is not before end {_iso(end)}")
    args.window = (start, end)
    names: dict[str, str] = {}
    for item in args.function_name:
        label, sep, name = item.partition("=")
        if not sep or not label or not name:
            parser.error(f"--function-name wants LABEL=NAME, got {item!r}")
        names[label] = name
    args.function_names = names
    if args.endpoint_url:
        require_reachable(parser, args.endpoint_url)
    return args


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    start, end = args.window

    import boto3
    import botocore.exceptions

    try:
        session = boto3.session.Session()
        client = session.client(
            "cloudwatch", endpoint_url=args.endpoint_url, region_name=args.region
        )
        cloudformation = session.client(
            "cloudformation", endpoint_url=args.endpoint_url, region_name=args.region
        )
    except botocore.exceptions.NoRegionError:
        return _error("no AWS region: give --region or set AWS_DEFAULT_REGION")
    print("synthesizing the stack (CDK) ...", file=sys.stderr)
    # Before any lookup: an unknown --alarm needs no stack to be reported.
    only, error = select_alarms(alarms_as_synthesized(args.stack_name), args.stack_name, args.alarm)
    if error is not None:
        return _error(error)
    if args.stack_lookup:
        try:
            alarms, names = deployed_alarms(cloudformation, args.stack_name)
        except StackLookupError as exc:
            where = args.endpoint_url or f"AWS {cloudformation.meta.region_name}"
            return _error(f"{exc} ({where}; --stack-name names the deployed stack)")
    else:
        local = local_alarms(args.stack_name, args.function_names)
        if isinstance(local, str):
            return _error(local)
        alarms, names = local, {}

    # The first evaluations read periods before the window's start.
    lead = lookback_seconds(alarms.metric_alarms)
    stats = alarms.metric_stats()
    source = GetMetricDataSource(client)
    try:
        store = source.read_stats(stats, start - lead, end)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        return _error(f"GetMetricData failed: {exc}")
    # GetMetricData returns epoch-aligned periods: a 5-minute alarm is evaluated at the ends
    # of those, not every minute as CloudWatch does (it may miss a burst that straddles one).
    evaluation = evaluate(alarms, store, start, end, every_minute=False)
    summary = summarize(evaluation, end)
    print(
        f"\nbacktest {_iso(start)} .. {_iso(end)} ({(end - start) / 3600:.1f} h), "
        f"{len(stats)} metric statistics in {source.requests} GetMetricData request(s)"
    )
    if names:
        print(f"\n  resources of stack {args.stack_name} the alarms watch:")
        for token in sorted(names):
            print(f"    {token} = {names[token]}")
    print(f"\n  {'times in ALARM':>14}  {'minutes in ALARM':>16}  alarm")
    for name in sorted(summary):
        if only and name not in only:
            continue
        s = summary[name]
        print(
            f"  {s.times_in_alarm:>14}  {s.seconds_in_alarm / 60:>16.0f}  "
            f"{alarm_key(name, args.stack_name)}"
        )
    return 0


def deployed_alarms(cloudformation: Any, stack_name: str) -> tuple[TemplateAlarms, dict[str, str]]:
    """The template's alarms watching the resources of the deployed stack, and the
    dimension values they were given (token -> physical name); `StackLookupError` when the
    stack cannot say."""
    alarms = alarms_as_synthesized(stack_name)
    resources = read_stack_resources(cloudformation, stack_name)
    names = physical_values(alarms.unresolved_dimension_values(), resources, stack_name)
    return alarms.with_dimension_values(names), names


def local_alarms(stack_name: str, given: Mapping[str, str]) -> TemplateAlarms | str:
    """The template's alarms under the local run's names (``given`` function names
    instead), or an error message for an unknown function label."""
    from infra.functions import FUNCTIONS

    labels = {f.label for f in FUNCTIONS}
    unknown_labels = sorted(set(given) - labels)
    if unknown_labels:
        return (
            f"unknown function label(s) {', '.join(unknown_labels)}; "
            f"known: {', '.join(sorted(labels))}"
        )
    print(
        "local-run backtest: note: tables, alarm topics and the API are read under the local "
        "run's names (local-*, <stack>-<Severity>-alarms, local-websocket-api), not the "
        "deployed stack's: their platform alarms see no data here",
        file=sys.stderr,
    )
    function_names = {label: given.get(label, function_name(stack_name, label)) for label in labels}
    return synthesized_alarms(stack_name, function_names)


def _error(message: str) -> int:
    print(f"local-run backtest: error: {message}", file=sys.stderr)
    return 2
