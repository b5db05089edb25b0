"""``python -m websocket_canary URL``: the canary's check from a terminal, e.g. against the
local endpoint (``./pants run local-run/src/local_run/cli.py -- serve`` prints its URL) or a
deployed stage. Exit status 0 when every step passed, 1 when one failed (the line says which
and why), 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from websocket_canary.check import run_check
from websocket_canary.settings import DEFAULT_STEP_TIMEOUT_SECONDS, CanarySettings, SettingError
from websocket_canary.steps import CanaryFailure


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m websocket_canary",
        description="Connect as speaker and listener, change the volume, send 100 ms of "
        "audio, end the session, disconnect; each step within its timeout.",
    )
    parser.add_argument(
        "url",
        help="the WebSocket stage, e.g. wss://<api>.execute-api.<region>"
        ".amazonaws.com/prod or ws://127.0.0.1:8765/prod",
    )
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=DEFAULT_STEP_TIMEOUT_SECONDS,
        help=f"seconds each step may take (default {DEFAULT_STEP_TIMEOUT_SECONDS:g})",
    )
    args = parser.parse_args(argv)
    try:
        settings = CanarySettings(args.url, args.step_timeout)
    except SettingError as exc:
        parser.error(str(exc))
    try:
        result = run_check(settings, log=lambda line: print(line, flush=True))
    except CanaryFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
