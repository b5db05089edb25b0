"""The canary's zip as `./pants package ::` builds it (this file's BUILD target depends on the
`python_synthetics_canary` target, so Pants builds it into the test's sandbox at its dist/
path): the layout Synthetics requires ("the ZIP file must contain your main canary .py file
within a python folder, such as python/my_canary_filename.py", CloudWatch user guide,
"Writing a Python canary script"), the handler the stack names, only the modules the script
may carry (its layering rule), pure Python, and importable from the unpacked zip alone by
the runtime's Python (and by this one, which it must not need)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.canary import CANARY_ZIP, HANDLER, RUNTIME_PYTHON
from websocket_canary_tests.interpreters import find_python

# What the script imports of the repository (canary/BUILD admits exactly these), as files.
FIRST_PARTY = {
    "session_management/__init__.py",
    "session_management/routes.py",
    "websocket_service/__init__.py",
    "websocket_service/synthetic_traffic.py",
    "audio_transcription/__init__.py",
    "audio_transcription/routes.py",
}
FIRST_PARTY_PACKAGES = {"session_management", "websocket_service", "audio_transcription"}
CANARY_MODULES = {"__init__", "check", "connection", "handler", "protocol", "settings", "steps"}


@pytest.fixture(scope="module")
def members() -> dict[str, bytes]:
    path = Path(CANARY_ZIP)
    assert path.is_file(), f"{path} missing: the test target's runtime_package_dependencies"
    with zipfile.ZipFile(path) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}


def test_everything_is_under_python_and_the_handler_is_the_stacks(
    members: dict[str, bytes],
) -> None:
    assert all(name.startswith("python/") for name in members)
    module, _, func = HANDLER.rpartition(".")
    entry = members[f"python/{module}.py"].decode()
    assert entry.strip() == f"from websocket_canary.handler import handler as {func}"


def test_it_carries_the_script_its_vocabulary_and_websockets_only(
    members: dict[str, bytes],
) -> None:
    names = {n.removeprefix("python/") for n in members}
    script = {n for n in names if n.startswith("websocket_canary/")}
    assert {Path(n).stem for n in script} == CANARY_MODULES  # not __main__: Synthetics runs none
    ours = {n for n in names if n.split("/")[0] in FIRST_PARTY_PACKAGES}
    assert ours == FIRST_PARTY
    assert "websockets/sync/client.py" in names
    others = {n.split("/")[0] for n in names} - FIRST_PARTY_PACKAGES - {
        "websocket_canary",
        "websockets",
        HANDLER.split(".")[0] + ".py",
    }
    # websockets' metadata only: no boto3, no shared_metrics, nothing else.
    assert all(o.startswith("websockets-") and o.endswith(".dist-info") for o in others), others


def test_it_is_pure_python(members: dict[str, bytes]) -> None:
    native = [n for n in members if n.endswith((".so", ".pyd", ".dylib")) or ".so." in n]
    assert native == []


def _import(python: str, root: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import canary_entry, websockets.frames;"
        "print(canary_entry.handler.__module__, websockets.frames.apply_mask.__module__)"
    )
    return subprocess.run(
        [python, "-I", "-B", "-c", code, str(root / "python")],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("runtime", [True, False], ids=["runtime-python", "this-python"])
def test_the_handler_imports_from_the_unpacked_zip_alone(runtime: bool, tmp_path: Path) -> None:
    python = find_python(*RUNTIME_PYTHON) if runtime else sys.executable
    if python is None:
        pytest.skip("no CPython {}.{} here (the canary runtime's Python)".format(*RUNTIME_PYTHON))
    with zipfile.ZipFile(CANARY_ZIP) as archive:
        archive.extractall(tmp_path)
    done = _import(python, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["websocket_canary.handler", "websockets.utils"]
