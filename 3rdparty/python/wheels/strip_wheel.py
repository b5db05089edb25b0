#!/usr/bin/env python3
"""Rebuild the upstream awscrt wheel with debug info stripped from its native library.

Why: amazon-transcribe 0.6.4 requires awscrt~=0.26.1, whose manylinux2014 cp313-abi3 wheel
(the one pip picks for the Lambda runtime's CPython 3.13)
ships `_awscrt.abi3.so` unstripped (26 MB, ~8.7 MB compressed). That alone pushes the
audio-transcription Lambda zip over its 8 MB budget. `strip --strip-debug` removes only
debug sections (DWARF); code, symbols used at run time, and behaviour are unchanged.

What it does (see README.md next to this file):
  1. `pip download` the exact upstream wheel from PyPI and check its sha256;
  2. run `strip --strip-debug` on every .so inside it;
  3. relabel the version to 0.26.1+stripped (a PEP 440 local version label, so it still
     satisfies `awscrt~=0.26.1`): the .dist-info directory name and METADATA `Version:`
     change, WHEEL (tags) does not;
  4. rewrite RECORD with the new sha256 digests and sizes;
  5. write awscrt-0.26.1+stripped-<same tags>.whl into this directory.

Entry order, timestamps and permissions are copied from the upstream wheel, so given the
same `strip` (GNU binutils) the output is byte-for-byte reproducible.

Usage: python3 3rdparty/python/wheels/strip_wheel.py [--out-dir DIR]
Needs: python3 with pip, GNU `strip` on PATH, network access to PyPI.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

NAME = "awscrt"
VERSION = "0.26.1"
LOCAL_LABEL = "stripped"
NEW_VERSION = f"{VERSION}+{LOCAL_LABEL}"
TAGS = "cp313-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"
UPSTREAM_FILENAME = f"{NAME}-{VERSION}-{TAGS}.whl"
# sha256 of the upstream wheel on PyPI (also pinned in 3rdparty/python/default.lock before
# the switch to the stripped wheel).
UPSTREAM_SHA256 = "0e0b8fb0ac48a0178ab7d1bc8ea33862103bfae1f740afcb7c24e9a88116bec7"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def record_hash(data: bytes) -> str:
    """The RECORD digest format: urlsafe base64 of sha256, without '=' padding."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def download_upstream(dest: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            "manylinux2014_x86_64",
            "--python-version",
            "3.13",
            "--dest",
            str(dest),
            f"{NAME}=={VERSION}",
        ],
        check=True,
    )
    wheel = dest / UPSTREAM_FILENAME
    if not wheel.is_file():
        sys.exit(f"expected {wheel} after pip download; got {sorted(os.listdir(dest))}")
    actual = sha256_file(wheel)
    if actual != UPSTREAM_SHA256:
        sys.exit(f"{wheel.name}: sha256 {actual} != expected {UPSTREAM_SHA256}")
    return wheel


def strip_debug(data: bytes, workdir: Path) -> bytes:
    so = workdir / "lib.so"
    so.write_bytes(data)
    subprocess.run(["strip", "--strip-debug", str(so)], check=True)
    return so.read_bytes()


def rebuild(upstream: Path, out: Path, workdir: Path) -> None:
    old_info = f"{NAME}-{VERSION}.dist-info/"
    new_info = f"{NAME}-{NEW_VERSION}.dist-info/"
    record_name = new_info + "RECORD"

    with zipfile.ZipFile(upstream) as src:
        entries: list[tuple[zipfile.ZipInfo, bytes]] = []
        for info in src.infolist():
            data = src.read(info.filename)
            name = info.filename
            if name.startswith(old_info):
                name = new_info + name[len(old_info) :]
            elif not name.startswith(f"{NAME}/") and name != "_awscrt.abi3.so":
                sys.exit(f"unexpected entry in upstream wheel: {name}")
            if name.endswith(".so"):
                before = len(data)
                data = strip_debug(data, workdir)
                print(f"stripped {name}: {before} -> {len(data)} bytes")
            if name == new_info + "METADATA":
                text = data.decode("utf-8")
                old_line, new_line = f"\nVersion: {VERSION}\n", f"\nVersion: {NEW_VERSION}\n"
                if text.count(old_line) != 1:
                    sys.exit("METADATA: expected exactly one 'Version: " + VERSION + "' line")
                data = text.replace(old_line, new_line, 1).encode("utf-8")
            new_info_obj = zipfile.ZipInfo(name, date_time=info.date_time)
            new_info_obj.external_attr = info.external_attr
            new_info_obj.create_system = info.create_system
            new_info_obj.compress_type = info.compress_type
            entries.append((new_info_obj, data))

    # RECORD: every file with its digest and size; directories are not listed; RECORD itself
    # is listed without digest or size.
    # Written with the csv module (CRLF line ends), as the upstream RECORD is.
    buf = io.StringIO()
    writer = csv.writer(buf)
    for info, data in entries:
        if info.is_dir() or info.filename == record_name:
            continue
        writer.writerow([info.filename, record_hash(data), len(data)])
    writer.writerow([record_name, "", ""])
    record = buf.getvalue().encode("utf-8")
    entries = [(i, record if i.filename == record_name else d) for i, d in entries]
    if not any(i.filename == record_name for i, _ in entries):
        sys.exit("upstream wheel has no RECORD")

    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as dst:
        for info, data in entries:
            dst.writestr(info, data, compresslevel=9 if info.compress_type else None)
    tmp.replace(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="where to write the stripped wheel (default: this script's directory)",
    )
    args = parser.parse_args()
    out = args.out_dir / f"{NAME}-{NEW_VERSION}-{TAGS}.whl"
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        upstream = download_upstream(tmpdir)
        rebuild(upstream, out, tmpdir)
    print(f"wrote {out} ({out.stat().st_size} bytes, sha256 {sha256_file(out)})")


if __name__ == "__main__":
    main()
