"""What the session-management handlers work with, built once per Lambda environment.

`SessionServices.from_env()` is the production wiring (boto3 clients configured by the
environment); tests construct the services with an emulator-backed store and metrics on a
memory sink. The store and rate limiter come from `backend.sessions_from_env`, which audio
transcription shares.
"""

from __future__ import annotations

from dataclasses import dataclass

from session_management.backend import sessions_from_env
from session_management.metrics import SessionMetrics
from session_management.notifier import ListenerNotifier
from session_management.store import SessionStore
from websocket_service.events import WebSocketRequest
from websocket_service.services import WebSocketServices


@dataclass(kw_only=True)
class SessionServices(WebSocketServices):
    store: SessionStore
    metrics: SessionMetrics

    @classmethod
    def from_env(cls) -> SessionServices:
        store, rate_limiter = sessions_from_env()
        return cls(store=store, rate_limiter=rate_limiter, metrics=SessionMetrics())

    def notifier(self, request: WebSocketRequest | None = None) -> ListenerNotifier:
        return ListenerNotifier(self.store, self.management_api(request), self.metrics)
