"""The moto emulator in its own process, and the environment of every child interpreter.

In its own process, the emulator's work neither holds this process's GIL nor shows up in
this process's tracemalloc peak. The children (the emulator, the cold starts) get this
process's import path and the emulator's AWS settings.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import sysconfig
import tempfile
import urllib.request
from collections.abc import Iterator

from shared_metrics.testing.aws_emulator import EMULATOR_ENV

EMULATOR_CHILD = """
import sys
from shared_metrics.testing.aws_emulator import AwsEmulator
with AwsEmulator() as aws:
    print(aws.endpoint_url, flush=True)
    sys.stdin.read()  # run until the parent closes our stdin
"""


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment plus its import path (for `python -c` children)."""
    stdlib = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
    paths = [p for p in sys.path if p and p not in stdlib and not p.endswith(".zip")]
    env = {**os.environ, **EMULATOR_ENV, "PYTHONPATH": os.pathsep.join(paths)}
    env.update(extra)
    return env


@contextlib.contextmanager
def emulator_process() -> Iterator[str]:
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(
            [sys.executable, "-c", EMULATOR_CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=child_env(),
            text=True,
        )
        try:
            assert child.stdout is not None
            url = child.stdout.readline().strip()
            if not url.startswith("http://"):
                log.seek(0)
                raise RuntimeError(f"the emulator did not start:\n{log.read().decode()[-2000:]}")
            yield url
        finally:
            assert child.stdin is not None
            child.stdin.close()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def reset_emulator(endpoint_url: str) -> None:
    request = urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
