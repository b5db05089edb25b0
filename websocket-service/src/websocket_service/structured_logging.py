"""One JSON object per log line, so CloudWatch Logs Insights can filter on every field."""

from __future__ import annotations

import json
import logging

logger = logging.getLogger("session_management")

# Long values (tracebacks, client input) are cut so one bad request cannot flood the log.
MAX_FIELD_CHARS = 4000


def log_json(level: int, event: str, **fields: object) -> None:
    """Log ``{"event": event, **fields}`` as one JSON line; never raises."""
    if not logger.isEnabledFor(level):
        return
    record: dict[str, object] = {"level": logging.getLevelName(level), "event": event}
    for key, value in fields.items():
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            value = value[:MAX_FIELD_CHARS] + "...[truncated]"
        record[key] = value
    try:
        line = json.dumps(record, default=repr, sort_keys=True)
    except (TypeError, ValueError):  # circular structures and the like: log what is safe
        line = json.dumps({"level": record["level"], "event": event, "fields": repr(fields)})
    logger.log(level, line)
