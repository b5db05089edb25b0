"""Session ids as clients send them: the one format every service accepts.

They come from clients and end up in DynamoDB keys, URLs and logs, so they are kept tame;
a bad one is a 400 that explains the format.
"""

from __future__ import annotations

import re

from websocket_service.events import RequestError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

SESSION_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_session_id(value: object, source: str = "sessionId") -> str:
    """A session id from a client, or a 400 explaining the accepted format."""
    if value is None:
        raise RequestError(400, "MissingField", f"{source} is required")
    if not isinstance(value, str) or not SESSION_ID_PATTERN.fullmatch(value):
        raise RequestError(
            400,
            "InvalidField",
            f"{source} must be 1..64 characters of A-Z, a-z, 0-9, '_' or '-'",
        )
    return value


def optional_session_id(body: Mapping[str, Any]) -> str | None:
    value = body.get("sessionId")
    return None if value is None else check_session_id(value)
