"""Finding a CPython of a given version on this machine: on PATH or installed by pyenv, and
only one that runs and says it is that version (a pyenv shim for a version that is not
selected exits 127)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def find_python(major: int, minor: int) -> str | None:
    name = f"python{major}.{minor}"
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [str(p) for p in sorted(root.glob(f"{major}.{minor}.*/bin/{name}"), reverse=True)]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        done = subprocess.run(
            [candidate, "-I", "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0 and done.stdout.split() == [str(major), str(minor)]:
            return candidate
    return None
