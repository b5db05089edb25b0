"""``./pants run local-run/src/local_run/cli.py -- serve``: the three handlers behind a real
WebSocket endpoint, for real clients, until Ctrl-C.

Starts the emulator (moto in this process), creates the tables, builds the functions on it
as the local run does (`local_run.simulation.local_functions`, on this machine's clock:
`local_run.simulation.wall_clock`), reads the routes from infra's synthesized stack and starts
`local_run.simulation.websocket_endpoint.WebSocketEndpoint` with the EventBridge status update every
minute; prints the ws:// URL and the @connections URL. `endpoint_on` is the same set-up for
tests and the local run's own phases.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

from local_run.simulation.backend import Backend, admin_store, local_backend
from local_run.simulation.local_functions import LocalFunctions
from local_run.simulation.local_names import LOCAL_API_ID, LOCAL_STAGE, STACK_NAME
from local_run.simulation.platform_metrics import PlatformMetrics
from local_run.simulation.sim_clock import SimClock
from local_run.simulation.wall_clock import WallClock
from local_run.simulation.websocket_endpoint import WebSocketEndpoint
from local_run.simulation.websocket_routes import RouteTable
from shared_metrics.testing.aws_emulator import EMULATOR_ENV
from websocket_service.management_api import ENDPOINT_ENV

DEFAULT_PORT = 8765
DEFAULT_LOG = "local-run-serve.log"
STATUS_UPDATE_SECONDS = 60.0  # infra's EventBridge rule: every minute


@contextlib.contextmanager
def endpoint_on(
    backend: Backend,
    routes: RouteTable,
    clock: SimClock,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    management_port: int = 0,
    schedule_seconds: float | None = None,
    stack_name: str = STACK_NAME,
    seed: int = 7,
) -> Iterator[WebSocketEndpoint]:
    """The backend's tables created, the functions built on it, the endpoint started with the
    handlers pointed at its @connections API; all stopped again at the end (the endpoint
    first, so that the $disconnects it sends on stopping still reach the API)."""
    env = {"AWS_REGION": backend.region, "AWS_DEFAULT_REGION": backend.region}
    if backend.emulator:
        env = {**EMULATOR_ENV, **env}  # credentials only for the emulator
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, env))
        admin_store(backend).create_tables()
        platform = PlatformMetrics(LOCAL_API_ID, LOCAL_STAGE)
        functions = LocalFunctions(clock, backend, None, stack_name, platform, seed)
        endpoint = WebSocketEndpoint(
            functions,
            routes,
            host=host,
            port=port,
            management_port=management_port,
            schedule_seconds=schedule_seconds,
        )
        stack.enter_context(mock.patch.dict(os.environ, {ENDPOINT_ENV: endpoint.management_url}))
        yield stack.enter_context(endpoint)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="local-run serve",
        description="The handlers behind a local WebSocket endpoint (API Gateway's behaviour) "
        "on the in-process emulator, for real clients, until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"WebSocket port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--management-port", type=int, default=0, help="@connections port (default: any free)"
    )
    parser.add_argument("--stack-name", default=STACK_NAME)
    parser.add_argument(
        "--log", default=DEFAULT_LOG, metavar="PATH", help=f"handler log (default {DEFAULT_LOG})"
    )
    args = parser.parse_args(argv)
    for name in ("port", "management_port"):
        if not 0 <= getattr(args, name) <= 65535:
            parser.error(f"--{name.replace('_', '-')} must be 0..65535, got {getattr(args, name)}")
    return args


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    from local_run.simulation.stack_alarms import synthesized_routes

    print("synthesizing the stack (CDK) for its routes ...", file=sys.stderr)
    routes = synthesized_routes(args.stack_name)
    log = logging.FileHandler(Path(args.log), mode="w", encoding="utf-8")
    log.setFormatter(logging.Formatter("%(message)s"))
    logging.getLogger().addHandler(log)
    try:
        with local_backend(None) as url:
            try:
                with endpoint_on(
                    Backend(url),
                    routes,
                    WallClock(),
                    host=args.host,
                    port=args.port,
                    management_port=args.management_port,
                    schedule_seconds=STATUS_UPDATE_SECONDS,
                    stack_name=args.stack_name,
                ) as endpoint:
                    _banner(endpoint, url, args.log)
                    _until_interrupted()
            except OSError as exc:  # a port in use, an address not on this machine
                print(f"local-run serve: error: cannot listen: {exc}", file=sys.stderr)
                return 2
    finally:
        logging.getLogger().removeHandler(log)
        log.close()
    return 0


def _banner(endpoint: WebSocketEndpoint, emulator_url: str, log: str) -> None:
    url = endpoint.url
    print(
        f"WebSocket endpoint: {url}\n"
        f"@connections API:   {endpoint.management_url}/@connections/{{connectionId}}\n"
        f"emulator (DynamoDB, CloudWatch): {emulator_url}\n"
        f"handler log: {Path(log).resolve()}\n\n"
        "A speaker and a listener of session demo, in two terminals:\n"
        f"  python -m websockets '{url}?sessionId=demo&role=speaker'\n"
        f"  python -m websockets '{url}?sessionId=demo&role=listener'\n"
        'then, as the speaker: {"action":"setVolume","volume":40}\n\n'
        "Ctrl-C stops the endpoint.",
        flush=True,
    )


def _until_interrupted() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping: closing every connection ...", file=sys.stderr)
        # Ctrl-C reaches the whole process group: jsii's Node.js (CDK) is gone already, and
        # its exit hook's BrokenPipeError would print a traceback after a clean stop.
        sys.unraisablehook = _quiet_broken_pipe


def _quiet_broken_pipe(unraisable: Any) -> None:
    if not isinstance(unraisable.exc_value, BrokenPipeError):
        sys.__unraisablehook__(unraisable)
