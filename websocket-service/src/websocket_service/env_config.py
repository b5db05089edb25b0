"""Reading settings from environment variables, the way Lambda functions are configured.

A bad value is logged and the default used: a typo in a tuning knob must not stop a
function from starting.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from websocket_service.structured_logging import log_json


def positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        log_json(logging.ERROR, "InvalidConfiguration", variable=name, value=raw, using=default)
        return default
    return value
