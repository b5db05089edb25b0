"""The Synthetics layout of the canary zip (pants-plugins/synthetics_canary/canary_zip.py), on
flat zips made here: every file under ``python/`` (CloudWatch user guide, "Writing a Python
canary script": "the ZIP file must contain your main canary .py file within a python
folder"), the optional native extensions left out, any other refused; the same inputs give
the same bytes; and the module runs on Pants's own Python (3.9), where the plugin runs it."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import synthetics_canary
from hypothesis import given
from hypothesis import strategies as st
from synthetics_canary.canary_zip import CanaryZipError, canary_zip, native_module

from websocket_canary_tests.interpreters import find_python

ENTRY = "canary_entry"
SO = "websockets/speedups.cpython-313-x86_64-linux-gnu.so"


def flat(members: dict[str, bytes], directories: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for directory in directories:
            archive.writestr(zipfile.ZipInfo(directory), b"")
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist()}


BASE = {
    f"{ENTRY}.py": b"from websocket_canary.handler import handler as handler\n",
    "websocket_canary/__init__.py": b"",
    "websockets/frames.py": b"# falls back to utils.apply_mask\n",
    SO: b"\x7fELF",
}


def test_every_file_goes_under_python_and_the_optional_extension_is_left_out() -> None:
    data, dropped = canary_zip(flat(BASE, ("websockets/",)), ENTRY, ["websockets.speedups"])
    assert dropped == [SO]
    assert members(data) == {f"python/{n}": d for n, d in BASE.items() if n != SO}


def test_console_scripts_are_left_out() -> None:
    # What Pex's venv layout writes for websockets: a script for the build's interpreter.
    script = {"bin/websockets": b"#!/usr/bin/python3.13\nfrom websockets.cli import main\n"}
    data, dropped = canary_zip(flat({**BASE, **script}), ENTRY, ["websockets.speedups"])
    assert sorted(dropped) == sorted([SO, "bin/websockets"])
    assert members(data) == {f"python/{n}": d for n, d in BASE.items() if n != SO}


def test_any_other_native_extension_stops_the_build_naming_it() -> None:
    with pytest.raises(CanaryZipError, match=r"websockets/speedups.*module websockets\.speedups"):
        canary_zip(flat(BASE), ENTRY, [])


def test_a_stale_optional_module_and_a_missing_entry_are_refused() -> None:
    no_so = {n: d for n, d in BASE.items() if n != SO}
    with pytest.raises(CanaryZipError, match="does not have: websockets.speedups"):
        canary_zip(flat(no_so), ENTRY, ["websockets.speedups"])
    with pytest.raises(CanaryZipError, match="no other_entry.py"):
        canary_zip(flat(no_so), "other_entry", [])


def test_the_same_inputs_give_the_same_bytes_with_fixed_times_and_modes() -> None:
    first, _ = canary_zip(flat(BASE), ENTRY, ["websockets.speedups"])
    reordered = dict(reversed(list(BASE.items())))
    second, _ = canary_zip(flat(reordered), ENTRY, ["websockets.speedups"])
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o644


@pytest.mark.parametrize(
    ("member", "module"),
    [
        (SO, "websockets.speedups"),
        ("_cffi_backend.cpython-312-x86_64-linux-gnu.so", "_cffi_backend"),
        ("pkg/sub/_native.abi3.so", "pkg.sub._native"),
        ("pkg.libs/libz-abc.so.1.2.13", "pkg.libs.libz-abc"),
        ("pkg/mod.pyd", "pkg.mod"),
        ("pkg/mod.py", None),
        ("pkg/speedups.c", None),
        ("pkg-1.0.dist-info/RECORD", None),
    ],
)
def test_native_modules_are_recognised_by_their_file_names(member: str, module: str | None) -> None:
    assert native_module(member) == module


_names = st.lists(
    st.from_regex(r"[a-z_]{1,8}(/[a-z_]{1,8}){0,2}\.(py|txt|pyi)", fullmatch=True),
    unique=True,
    max_size=8,
)


@given(names=_names)
def test_pure_python_files_all_arrive_unchanged(names: list[str]) -> None:
    files = {ENTRY + ".py": b"x = 1\n", **{n: n.encode() for n in names}}
    data, dropped = canary_zip(flat(files), ENTRY)
    assert dropped == []
    assert members(data) == {f"python/{n}": d for n, d in files.items()}


def test_the_layout_runs_on_pants_own_python() -> None:
    # Pants 2.17 runs on CPython 3.9 (its only wheel), and imports the plugin there.
    python = find_python(3, 9)
    if python is None:
        pytest.skip("no CPython 3.9 here (Pants itself needs one)")
    plugins = Path(synthetics_canary.__file__).resolve().parents[1]
    code = (
        "import io, sys, zipfile; sys.path.insert(0, sys.argv[1]);"
        "from synthetics_canary.canary_zip import canary_zip;"
        "b = io.BytesIO(); z = zipfile.ZipFile(b, 'w'); z.writestr('e.py', 'x'); z.close();"
        "data, dropped = canary_zip(b.getvalue(), 'e');"
        "print(zipfile.ZipFile(io.BytesIO(data)).namelist(), sys.version_info[:2])"
    )
    done = subprocess.run(
        [python, "-I", "-c", code, str(plugins)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['python/e.py'] (3, 9)"
    assert sys.version_info[:2] != (3, 9)  # this test's own run is the repository's Python
