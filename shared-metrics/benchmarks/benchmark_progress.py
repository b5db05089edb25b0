"""The benchmark's progress lines on stderr: seconds since the start, and what runs now."""

from __future__ import annotations

import sys
import time


def progress(started: float, message: str) -> None:
    print(f"[{time.perf_counter() - started:5.1f} s] {message}", file=sys.stderr, flush=True)
