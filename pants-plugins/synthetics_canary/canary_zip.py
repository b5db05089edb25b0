"""A Synthetics Python canary zip from the flat zip Pants builds for a FaaS target.

CloudWatch user guide, "Writing a Python canary script" (Packaging your Python canary files):
"the ZIP file must contain your main canary .py file within a python folder, such as
python/my_canary_filename.py", and the script entry point is "my_canary_filename.
functionName". Pants's FaaS rule writes the handler's module, its dependencies and a fixed
entry module at the root of a flat zip; `canary_zip` moves every file under ``python/``.

Native extensions are refused, except the ones named optional: the zip is resolved for the
repository's CPython, and the canary runtime's is another (syn-python-selenium-14.0: 3.12),
so an extension built for the resolve would not load there. A package that falls back to
pure Python without its extension (websockets without ``websockets.speedups``) ships its
pure-Python code only; any other extension stops the build with a message naming it.

The venv layout also writes its packages' console scripts under ``bin/`` (``bin/websockets``,
with the build interpreter's path in its first line): no canary imports them, and the
runtime runs none, so they are left out too.

Runs in Pants's own process (CPython 3.9): no syntax newer than 3.9 outside annotations.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence

FOLDER = "python/"
# The module the FaaS rule writes at the zip's root, re-exporting the handler as ``handler``:
# the canary's handler in Synthetics is ``canary_entry.handler``.
ENTRY_MODULE = "canary_entry"
# Fixed, so the same inputs give the same zip (Pants caches and compares by content).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
_NATIVE = re.compile(r"\.(so(\.\d+)*|pyd|dylib)$")
SCRIPTS = "bin/"


class CanaryZipError(ValueError):
    """The flat zip cannot become a canary zip (the message says why)."""


def native_module(member: str) -> str | None:
    """``pkg/mod.cpython-313-x86_64-linux-gnu.so`` -> ``pkg.mod``; None for other files."""
    if not _NATIVE.search(member):
        return None
    directory, _, filename = member.rpartition("/")
    stem = filename.split(".", 1)[0]
    return ".".join([*directory.split("/"), stem]) if directory else stem


def canary_zip(
    flat_zip: bytes, entry_module: str, optional_native_modules: Sequence[str] = ()
) -> tuple[bytes, list[str]]:
    """The canary zip and what was left out of it (the optional native extensions and the
    console scripts)."""
    with zipfile.ZipFile(io.BytesIO(flat_zip)) as flat:
        members = [(i.filename, flat.read(i)) for i in flat.infolist() if not i.is_dir()]
    names = {name for name, _ in members}
    if f"{entry_module}.py" not in names:
        raise CanaryZipError(f"no {entry_module}.py (the entry module) at the flat zip's root")
    optional = set(optional_native_modules)
    dropped: list[str] = []
    kept: list[tuple[str, bytes]] = []
    for name, data in members:
        module = native_module(name)
        if name.startswith(SCRIPTS):
            dropped.append(name)
        elif module is None:
            kept.append((name, data))
        elif module in optional:
            dropped.append(name)
        else:
            raise CanaryZipError(
                f"{name} is a native extension (module {module}), built for the resolve's "
                "CPython, not the canary runtime's: it would not load there. If its package "
                "works without it, name it in optional_native_modules; otherwise the package "
                "cannot be part of a canary built from this resolve"
            )
    unused = sorted(optional - {native_module(name) for name in dropped} - {None})
    if unused:
        raise CanaryZipError(
            "optional_native_modules names modules the zip does not have: " + ", ".join(unused)
        )
    return _write((FOLDER + name, data) for name, data in kept), dropped


def _write(members: Iterable[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(members):
            info = zipfile.ZipInfo(name, ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, data)
    return out.getvalue()
