"""The Lambda zips `./pants package ::` builds carry bytecode for the runtime's Python.

Lambda unzips a function into /var/task, which is read-only: a module without a valid .pyc
there is compiled again at every cold start. The zips come from the `python_awslambda`
targets through pants-plugins/lambda_bytecode (this file's BUILD target depends on them, so
Pants builds them into the test's sandbox, at the paths dist/ would hold).

Expected values come from PEP 3147 (where a .pyc lives and how it is named) and PEP 552 (the
header of a hash-based .pyc), not from the plugin.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.functions import FUNCTIONS, FunctionSpec
from infra.stack import LAMBDA_RUNTIME

# PEP 552: the flags word of a hash-based .pyc; bit 1 asks the importer to check the source.
HASH_BASED = 0b01
CHECK_SOURCE = 0b10


def runtime_version() -> tuple[int, int]:
    major, minor = LAMBDA_RUNTIME.name.removeprefix("python").split(".")
    return int(major), int(minor)


def cache_tag() -> str:
    major, minor = runtime_version()
    return f"cpython-{major}{minor}"


def expected_pyc(member: str) -> str:
    """PEP 3147: pkg/mod.py -> pkg/__pycache__/mod.<tag>.pyc."""
    directory, _, filename = member.rpartition("/")
    cached = f"__pycache__/{filename.removesuffix('.py')}.{cache_tag()}.pyc"
    return f"{directory}/{cached}" if directory else cached


def zip_of(function: FunctionSpec) -> Path:
    path = Path(function.zip_path)
    assert path.is_file(), f"{path} missing: the test target's runtime_package_dependencies"
    return path


@pytest.fixture(scope="module", autouse=True)
def _runs_on_the_runtime_python() -> None:
    # The header checks compare with this interpreter's magic number and siphash.
    assert sys.version_info[:2] == runtime_version(), (
        f"tests run on {sys.version_info[:2]}, the functions on {LAMBDA_RUNTIME.name}"
    )


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.label)
def test_every_module_in_the_zip_has_its_bytecode(function: FunctionSpec) -> None:
    with zipfile.ZipFile(zip_of(function)) as archive:
        names = set(archive.namelist())
        sources = sorted(n for n in names if n.endswith(".py"))
        assert "lambda_function.py" in sources
        missing = [s for s in sources if expected_pyc(s) not in names]
        assert not missing, f"{len(missing)} of {len(sources)} modules without a .pyc: {missing}"
        for source in sources:
            header = archive.read(expected_pyc(source))[:16]
            magic, flags, source_hash = header[:4], header[4:8], header[8:16]
            assert magic == importlib.util.MAGIC_NUMBER, source
            assert int.from_bytes(flags, "little") == HASH_BASED, source
            assert source_hash == importlib.util.source_hash(archive.read(source)), source


def unzip_read_only(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        archive.extractall(into)
    for root, dirs, files in os.walk(into):
        for name in [*dirs, *files]:
            entry = Path(root, name)
            entry.chmod(entry.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return into


def import_handler(task_dir: Path) -> subprocess.CompletedProcess[str]:
    # -I: nothing from this test's environment on the path; -B: never write bytecode.
    code = f"import sys; sys.path.insert(0, {str(task_dir)!r}); import lambda_function"
    return subprocess.run(
        [sys.executable, "-I", "-B", "-c", code], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.label)
def test_the_handler_imports_from_bytecode_alone(function: FunctionSpec, tmp_path: Path) -> None:
    """With every first-party source replaced by one that fails, the handler still imports
    from the read-only copy: the importer used the .pyc files and never read a source."""
    task = unzip_read_only(zip_of(function), tmp_path / "task")
    poisoned = [
        p
        for p in task.rglob("*.py")
        if p.relative_to(task).parts[0]
        in (
            "lambda_function.py",
            "shared_metrics",
            "websocket_service",
            "session_management",
            "audio_transcription",
        )
    ]
    assert len(poisoned) > 10
    for source in poisoned:
        source.chmod(0o644)
        source.write_text('raise ImportError("the source was read")\n')
        source.chmod(0o444)
    done = import_handler(task)
    assert done.returncode == 0, done.stderr[-2000:]

    # The control: without the bytecode, the same import reads the poisoned sources and fails.
    for pycache in task.rglob("__pycache__"):
        pycache.parent.chmod(0o755)
        for pyc in pycache.iterdir():
            pycache.chmod(0o755)
            pyc.unlink()
    control = import_handler(task)
    assert control.returncode != 0
    assert "the source was read" in control.stderr
