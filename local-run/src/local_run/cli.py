"""``./pants run local-run/src/local_run/cli.py``: run the scenario locally, report the alarms.

Runs `local_run.simulation.scenario` on the in-process emulator, synthesizes infra's stack and reads
every alarm from the template (`local_run.simulation.stack_alarms`: inline placeholder Lambda code,
no zips needed; the FunctionName tokens mapped to the local function names), evaluates the alarms on
the metric data read back from the emulator, and prints the report (`local_run.report`): each
alarm's state changes with the phase that caused them, then per phase the alarms designed to fire
against those that fired. Then writes a PNG of every alarm's datapoints over the simulated time
(`--plot`, `--no-plot`). Exit status: 0 when every phase fired exactly its expected alarms, 1 when
not, 2 for bad arguments or a backend that cannot be used.

``--endpoint-url URL`` (LocalStack) or ``--aws`` (AWS itself, normal credentials and region) run the
same scenario there instead (`Backend.remote`: run-unique tables, deleted at the end, and run-unique
metric namespaces); the metrics are read back with GetMetricData, as the backtest does, and the
alarms evaluated on what CloudWatch computed. AWS/Lambda metrics come from the run's own records
(nobody may publish to ``AWS/``). On every backend, latency timers count simulated time only
(`local_run.simulation.sim_clock`): neither this machine's speed nor a laptop's round trips to
DynamoDB are what a Lambda function in the region sees, and no alarm decision may depend on them.

``cli.py backtest ...`` evaluates the same alarms on metric data read with GetMetricData
over a past window instead (see `local_run.backtest`); ``cli.py serve`` runs the handlers
behind a local WebSocket endpoint for real clients (see `local_run.serve`).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from infra.alarm_scopes import (
    API_GATEWAY_NAMESPACE,
    DYNAMODB_NAMESPACE,
    LAMBDA_NAMESPACE,
    SNS_NAMESPACE,
    SYNTHETICS_NAMESPACE,
)
from local_run.cloudwatch.alarm_model import MetricStat, TemplateAlarms
from local_run.cloudwatch.metric_source import (
    GetMetricDataSource,
    MotoBackendSource,
    RoutedStore,
    read_settled,
)
from local_run.cloudwatch.metric_store import MetricStore
from local_run.report import report
from local_run.run_cost import print_run_cost
from local_run.simulation.backend import (
    SERVICE_NAMESPACES,
    Backend,
    local_backend,
    require_reachable,
)
from local_run.simulation.local_names import STACK_NAME
from local_run.simulation.notifications import evaluate_with_notifications, sns_metrics
from local_run.simulation.phases import PHASE_NAMES, phases_named
from local_run.simulation.platform_metrics import DOCUMENTED, ApiGatewayReading
from local_run.simulation.scenario import ScenarioResult, run_scenario
from local_run.simulation.stack_alarms import (
    alarms_as_synthesized,
    select_alarms,
    synthesized_alarms,
    synthesized_routes,
    synthesized_rules,
    topic_names,
)
from local_run.simulation.traffic import TICKS_PER_MINUTE
from local_run.simulation.websocket_routes import RouteTable

# The AWS namespaces the run's own records answer (what those services would publish).
PLATFORM_NAMESPACES = (
    LAMBDA_NAMESPACE,
    API_GATEWAY_NAMESPACE,
    DYNAMODB_NAMESPACE,
    SYNTHETICS_NAMESPACE,
)

# How long to wait for CloudWatch to make the run's datapoints readable, and how often to
# look: AWS publishes within seconds to a couple of minutes; LocalStack at once.
READBACK = {"aws": (300.0, 20.0), "endpoint": (30.0, 2.0)}
DEFAULT_PLOT = "local-run-report.png"
DEFAULT_LOG = "local-run-handlers.log"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="local-run",
        description="Run the system locally and show what the alarms do.",
        epilog="`local-run backtest --help`: the same alarms over a window of real metric data; "
        "`local-run serve --help`: the handlers behind a local WebSocket endpoint.",
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
        "--endpoint-url",
        metavar="URL",
        help="run against this endpoint (LocalStack, normal AWS credentials) instead of the "
        "in-process emulator",
    )
    where.add_argument(
        "--aws",
        action="store_true",
        help="run against AWS itself (normal AWS credentials and region): the run creates and "
        "deletes its own tables and publishes to its own LocalRun/<id>/ namespaces",
    )
    parser.add_argument("--region", help="with --endpoint-url or --aws: the AWS region")
    parser.add_argument(
        "--readback-wait",
        type=float,
        metavar="SECONDS",
        help="with --endpoint-url or --aws: how long to wait for the metrics to become "
        f"readable (default {READBACK['endpoint'][0]:.0f} s, {READBACK['aws'][0]:.0f} s for --aws)",
    )
    parser.add_argument("--stack-name", default=STACK_NAME)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--plot",
        default=DEFAULT_PLOT,
        metavar="PATH",
        help=f"write the alarms' datapoints over time to this PNG (default: {DEFAULT_PLOT})",
    )
    parser.add_argument("--no-plot", action="store_true", help="do not write the plot")
    parser.add_argument(
        "--log",
        default=DEFAULT_LOG,
        metavar="PATH",
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
    if argv[:1] == ["serve"]:
        from local_run.serve import main as serve_main

        return serve_main(argv[1:])
    args = parse_args(argv)
    print("synthesizing the stack (CDK) beside the scenario ...", file=sys.stderr)
    # The synth is mostly node's work (jsii): in a thread, it runs on the other core while
    # the scenario runs on this one, instead of adding its ~10 s before it. It is cached for
    # the evaluation after the run. A bad --alarm stops the scenario as soon as the synth
    # is done (alarm names do not depend on the function names).
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="synth") as pool:
        selection = pool.submit(_selection, args.stack_name, args.alarm)
        # The canary's endpoint needs the routes before its first run (the same synth).
        routes = pool.submit(synthesized_routes, args.stack_name)
        if not args.no_plot:
            from local_run.plot import load_matplotlib

            pool.submit(load_matplotlib)  # its import (seconds) beside the scenario too
        try:
            with _handler_log(args.log) as log_path:
                return _run(args, selection, routes.result, log_path)
        except AlarmSelectionError as error:
            print(f"local-run: error: {error}", file=sys.stderr)
            return 2


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


class AlarmSelectionError(Exception):
    """--alarm names an alarm the template does not have."""


def _selection(stack_name: str, wanted: Sequence[str]) -> set[str]:
    """The full names of the ``wanted`` alarms, from the synthesized template."""
    only, error = select_alarms(alarms_as_synthesized(stack_name), stack_name, wanted)
    if error is not None:
        raise AlarmSelectionError(error)
    return only


def _run(
    args: argparse.Namespace,
    selection: concurrent.futures.Future[set[str]],
    routes: Callable[[], RouteTable],
    log_path: Path,
) -> int:
    phases = args.phase_list
    total_ticks = sum(p.minutes(args.phase_minutes) for p in phases) * TICKS_PER_MINUTE
    bar: Any = None
    if not args.no_progress:
        from tqdm import tqdm  # type: ignore[import-untyped]

        bar = tqdm(total=total_ticks, unit="tick", desc="scenario", file=sys.stderr)

    def on_tick(phase: str) -> None:
        if selection.done():
            selection.result()  # raises AlarmSelectionError: no point in running on
        if bar is not None:
            bar.set_postfix_str(phase, refresh=False)
            bar.update(1)

    if args.backend is None:
        try:
            with local_backend(None) as url:
                result = run_scenario(
                    url,
                    phases,
                    phase_minutes=args.phase_minutes,
                    stack_name=args.stack_name,
                    on_tick=on_tick,
                    routes=routes,
                )
                services: MetricStore = MotoBackendSource().read(result.start, result.end + 3600)
        finally:
            if bar is not None:
                bar.close()
    else:
        import botocore.exceptions

        print(f"backend: {args.backend.description}", file=sys.stderr)
        try:
            result = run_scenario(
                args.backend,
                phases,
                phase_minutes=args.phase_minutes,
                stack_name=args.stack_name,
                on_tick=on_tick,
                routes=routes,
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            print(
                f"local-run: error: the run failed against {args.backend.description}: {exc}",
                file=sys.stderr,
            )
            return 2
        finally:
            if bar is not None:
                bar.close()

    only = selection.result()
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
        alarms,
        store,
        result.start,
        result.end,
        topic_names(args.stack_name),
        subscribers_down(result),
        # Read back with GetMetricData, the services' metrics are per-period statistics
        # (epoch-aligned periods): the alarms are evaluated at period ends there.
        every_minute=args.backend is None,
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
            args.plot,
            alarms,
            store,
            result.start,
            result.end,
            phases=[(s.phase.name, s.start, s.end) for s in result.spans],
            evaluation=evaluation,
            only=only,
            strip_prefix=f"{args.stack_name}-",
            title=f"local run, {len(result.spans)} phase(s) of {args.phase_minutes} min",
        )
        print(f"\nplot: {path.resolve()}")
    for handler in logging.getLogger().handlers:
        handler.flush()  # the handler log is still open: count what it holds
    lines = sum(1 for _ in log_path.open(encoding="utf-8"))
    print(f"handler log: {log_path.resolve()} ({lines} lines)")
    # Last: the monthly bill from what the run measured.
    print_run_cost(result, args.stack_name)
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
        print(
            f"local-run: warning: datapoints were still arriving after {wait:.0f} s; the "
            "last periods may be incomplete (--readback-wait)",
            file=sys.stderr,
        )
    empty = sorted(
        _describe(s) + (" (GetMetricData failed on it)" if s in source.failed else "")
        for s in stats
        if remote.datapoints(s) == 0
    )
    return remote, empty


def _describe(stat: MetricStat) -> str:
    dims = ",".join(f"{n}={v}" for n, v in stat.metric.dimensions)
    return f"{stat.metric.name}[{dims}] {stat.stat}"


def platform_routed(
    services: MetricStore, result: ScenarioResult, reading: ApiGatewayReading = DOCUMENTED
) -> RoutedStore:
    """The services' namespaces from ``services``; AWS/Lambda, AWS/ApiGateway and
    AWS/DynamoDB from the run's own records (what those services would have published),
    API Gateway's under ``reading`` (`local_run.simulation.platform_metrics`)."""
    routes: dict[str, MetricStore] = {ns: result.platform.store for ns in PLATFORM_NAMESPACES}
    routes[API_GATEWAY_NAMESPACE] = result.platform.api_store(reading)
    return RoutedStore(services, routes)


def subscribers_down(result: ScenarioResult) -> Callable[[float], bool]:
    """Whether the alarm topics' subscribers reject a notification sent at a time (a
    notification at t belongs to the phase holding t - 1, like a state change)."""

    def down(timestamp: float) -> bool:
        span = result.span_at(timestamp - 1)
        return span is not None and span.phase.subscribers_down

    return down


if __name__ == "__main__":
    sys.exit(main())
