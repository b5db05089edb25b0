"""What a canary run is pointed at and how long each step may take.

In Synthetics the stack sets them as the canary's environment variables (`from_env`); from a
terminal they are arguments (`websocket_canary.__main__`). A bad value is refused with a
message that names the setting, before anything is sent.
"""

from __future__ import annotations

import math
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

# The stage URL clients connect to: wss://<api>.execute-api.<region>.amazonaws.com/<stage>,
# or the custom domain they use.
ENDPOINT_ENV = "CANARY_ENDPOINT_URL"
STEP_TIMEOUT_ENV = "CANARY_STEP_TIMEOUT_SECONDS"

# Each wait (an upgrade, an answer, a notification): a healthy answer takes well under a
# second, a cold Lambda a few. 8 waits + 2 closes stay under the canary's 60 s run timeout.
DEFAULT_STEP_TIMEOUT_SECONDS = 5.0
MAX_STEP_TIMEOUT_SECONDS = 6.0
# The close handshake: API Gateway answers at once; a missing answer is a failed step.
CLOSE_TIMEOUT_SECONDS = 2.0
SCHEMES = ("ws", "wss")


class SettingError(ValueError):
    """A setting the canary cannot run with."""


@dataclass(frozen=True)
class CanarySettings:
    url: str  # ws:// or wss://, no query (the canary adds sessionId and role)
    step_timeout: float = DEFAULT_STEP_TIMEOUT_SECONDS

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise SettingError(
                f"{ENDPOINT_ENV} must be a ws:// or wss:// URL of the WebSocket stage, "
                f"got {self.url!r}"
            )
        if parts.query or parts.fragment:
            raise SettingError(
                f"{ENDPOINT_ENV} must have no query or fragment (the canary adds sessionId "
                f"and role), got {self.url!r}"
            )
        timeout = self.step_timeout
        if not (math.isfinite(timeout) and 0 < timeout <= MAX_STEP_TIMEOUT_SECONDS):
            raise SettingError(
                f"{STEP_TIMEOUT_ENV} must be a number of seconds in (0, "
                f"{MAX_STEP_TIMEOUT_SECONDS:g}], got {timeout!r}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CanarySettings:
        env = os.environ if environ is None else environ
        url = env.get(ENDPOINT_ENV, "").strip()
        if not url:
            raise SettingError(f"{ENDPOINT_ENV} is not set: the stage's wss:// URL")
        raw = env.get(STEP_TIMEOUT_ENV, "").strip()
        try:
            timeout = float(raw) if raw else DEFAULT_STEP_TIMEOUT_SECONDS
        except ValueError:
            raise SettingError(
                f"{STEP_TIMEOUT_ENV} must be a number of seconds, got {raw!r}"
            ) from None
        return cls(url, timeout)

    def client_url(self, session_id: str, role: str) -> str:
        """The URL one client connects to: the stage URL with the handlers' query."""
        query = urllib.parse.urlencode({"sessionId": session_id, "role": role})
        return f"{self.url}?{query}"
