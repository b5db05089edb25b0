"""The canary as Synthetics runs it: its zip (built here the way the Pants plugin builds it:
the handler's import closure and websockets, flat, then `canary_zip`), unpacked, imported by
the runtime's Python (3.12, infra.canary.RUNTIME_PYTHON) with nothing but the zip's
``python/`` folder on its path, and its ``handler(event, context)`` run against the local
endpoint: it passes there, and it raises naming the step when the endpoint refuses.

Pants's FaaS rule includes the first-party modules the handler imports (dependency
inference) and the third-party distributions they need; here, `modulefinder` follows the same
imports from the handler, and the installed websockets is taken whole, its C speedups too (the
layout step must leave those out). The zip Pants really builds is checked in infra's tests
(test_canary_zip_as_built).
"""

from __future__ import annotations

import io
import json
import modulefinder
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import websockets
from synthetics_canary.canary_zip import ENTRY_MODULE, canary_zip

import websocket_canary
from infra.canary import HANDLER, RUNTIME_PYTHON
from local_run.simulation.websocket_endpoint import WebSocketEndpoint
from websocket_canary.settings import ENDPOINT_ENV, STEP_TIMEOUT_ENV
from websocket_canary_tests.interpreters import find_python

RUN_TIMEOUT = 120  # seconds for one run in a subprocess: far more than its steps may take


def _source_roots() -> list[Path]:
    # This repository's source roots: where the handler's first-party imports resolve.
    package = Path(websocket_canary.__file__).resolve().parent
    repo = package.parents[2]
    return [p for p in repo.glob("*/src") if p.is_dir()]


def flat_zip() -> bytes:
    """What the FaaS rule writes: the entry module, the handler's first-party import closure
    and websockets, at the root."""
    roots = _source_roots()
    handler = Path(websocket_canary.__file__).parent / "handler.py"
    finder = modulefinder.ModuleFinder(path=[str(r) for r in roots])
    finder.run_script(str(handler))
    members: dict[str, bytes] = {}
    for found in finder.modules.values():
        path = Path(getattr(found, "__file__", None) or "")
        for root in roots:
            if path.is_relative_to(root):
                members[path.relative_to(root).as_posix()] = path.read_bytes()
    members["websocket_canary/handler.py"] = handler.read_bytes()
    site = Path(websockets.__file__).resolve().parents[1]
    for path in (site / "websockets").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            members[path.relative_to(site).as_posix()] = path.read_bytes()
    entry, _, func = HANDLER.rpartition(".")
    assert entry == ENTRY_MODULE
    members[f"{ENTRY_MODULE}.py"] = (
        f"from websocket_canary.handler import {func} as handler\n".encode()
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in sorted(members.items()):
            archive.writestr(name, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def python() -> str:
    found = find_python(*RUNTIME_PYTHON)
    if found is None:
        pytest.skip("no CPython {}.{} here (the canary runtime's Python)".format(*RUNTIME_PYTHON))
    return found


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data, dropped = canary_zip(flat_zip(), ENTRY_MODULE, ["websockets.speedups"])
    assert dropped and all("speedups" in d for d in dropped)
    root = tmp_path_factory.mktemp("canary")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert all(n.startswith("python/") for n in archive.namelist())
        archive.extractall(root)
    return root / "python"


# Run as Synthetics does: import the entry module, call handler(event, context).
RUN = """
import json, sys
sys.path.insert(0, sys.argv[1])
import canary_entry
import websockets, websockets.frames
report = {
    "python": list(sys.version_info[:2]),
    "websockets": websockets.__file__,
    "mask": websockets.frames.apply_mask.__module__,
}
print(json.dumps(report))
print(canary_entry.handler({}, None))
"""


def _run(python: str, unpacked: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), ENDPOINT_ENV: url, STEP_TIMEOUT_ENV: "6"}
    return subprocess.run(
        [python, "-I", "-B", "-c", RUN, str(unpacked)],
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def test_the_zip_passes_on_the_runtimes_python_with_pure_python_websockets(
    python: str, unpacked: Path, endpoint: WebSocketEndpoint
) -> None:
    done = _run(python, unpacked, endpoint.url)
    assert done.returncode == 0, done.stderr[-3000:]
    report_line, summary = done.stdout.strip().splitlines()[-2:]
    report = json.loads(report_line)
    assert tuple(report["python"]) == RUNTIME_PYTHON != sys.version_info[:2]
    assert Path(report["websockets"]).is_relative_to(unpacked)  # the zip's, nothing else
    assert report["mask"] == "websockets.utils"  # the pure-Python fallback of the speedups
    assert summary.startswith("WebSocket API reachable: session canary-")


def test_a_refusing_endpoint_fails_the_run_naming_the_step(
    python: str, unpacked: Path, endpoint: WebSocketEndpoint
) -> None:
    endpoint.faults.refuse_connections(True)
    try:
        done = _run(python, unpacked, endpoint.url)
    finally:
        endpoint.faults.refuse_connections(False)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("websocket_canary.steps.CanaryFailure: step speaker-connect failed")
    assert "HTTP 503" in last


def test_the_handler_names_what_synthetics_loads() -> None:
    assert HANDLER == f"{ENTRY_MODULE}.handler"
    module, _, func = HANDLER.rpartition(".")
    files = zipfile.ZipFile(io.BytesIO(canary_zip(flat_zip(), module, ["websockets.speedups"])[0]))
    entry = files.read(f"python/{module}.py").decode()
    assert entry == f"from websocket_canary.handler import {func} as handler\n"
