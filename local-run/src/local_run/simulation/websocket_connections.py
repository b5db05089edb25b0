"""The local WebSocket endpoint's open connections as the rest of the world reaches them: the
``@connections`` API's POST, GET and DELETE (`local_run.simulation.connections_api.Connections`,
called from that API's server threads, each done on the endpoint's event loop), and what a caller
that takes turns with the endpoint needs (`wait_idle`, `connections_answer`). `EndpointConnections`
is the part of `local_run.simulation.websocket_endpoint.WebSocketEndpoint` that holds them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from email.message import Message
from typing import Any

from websockets.asyncio.server import ServerConnection

from local_run.simulation.connections_api import (
    ClientBufferFull,
    ConnectionGone,
    ConnectionInfo,
    ConnectionsApi,
)
from local_run.simulation.websocket_events import ClientConnection, Stage
from local_run.simulation.websocket_limits import NORMAL_CLOSURE
from shared_metrics.testing.loopback_server import Reply

POST_TIMEOUT_SECONDS = 1.5  # under the handlers' 2 s read timeout: a stuck client is a 429


@dataclass
class OpenConnection:
    client: ClientConnection
    ws: ServerConnection
    connected: float  # loop time
    last_active: float
    last_active_at: float  # epoch seconds
    closing: bool = False
    cause: tuple[int, str] | None = None  # why the endpoint closed it

    def touch(self, loop_time: float, epoch: float) -> None:
        self.last_active, self.last_active_at = loop_time, epoch


class EndpointConnections:
    """The connections (`_clients` by id, `_pending` upgraded but not yet served), the ids
    ever given out, the invocations running; `_reply` and the loop are the endpoint's."""

    stage: Stage
    _api: ConnectionsApi
    _loop: asyncio.AbstractEventLoop | None
    # The endpoint's: a message to a client, False when it is gone.
    _reply: Callable[[OpenConnection, str | bytes], Awaitable[bool]]

    def __init__(self) -> None:
        self._clients: dict[str, OpenConnection] = {}
        self._lock = threading.Lock()
        self._pending: dict[ServerConnection, ClientConnection] = {}
        self._issued: set[str] = set()  # every connection id this endpoint has given out
        self._in_flight = 0  # invocations running or about to (read by `wait_idle`)
        self._tasks: set[asyncio.Task[Any]] = set()

    def wait_idle(self, timeout: float) -> None:
        """Return once no connection is open or being made and no invocation runs (the
        $disconnects after the last close included); TimeoutError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while self._busy():
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"the endpoint was still busy after {timeout:g} s: {len(self._clients)} "
                    f"open, {len(self._pending)} upgrading, {self._in_flight} invocations"
                )
            time.sleep(0.002)

    def _busy(self) -> bool:
        with self._lock:
            return bool(self._clients or self._pending or self._in_flight or self._tasks)

    def connections_answer(
        self, method: str, connection_id: str, headers: Message, body: bytes
    ) -> Reply | None:
        """The @connections answer for a connection this endpoint gave out (open or closed:
        a closed one is 410 Gone); None for any other id."""
        with self._lock:
            ours = connection_id in self._issued
        if not ours:
            return None
        path = f"/{self.stage.name}/@connections/{urllib.parse.quote(connection_id, safe='')}"
        return self._api.handle(method, path, headers, body)

    # -- @connections (`connections_api.Connections`, from its server threads) ------------------

    def post(self, connection_id: str, data: bytes) -> None:
        self._on_loop(self._post(connection_id, data))

    def info(self, connection_id: str) -> ConnectionInfo:
        state = self._open(connection_id)
        client = state.client
        return ConnectionInfo(
            client.connected_at_ms / 1000, state.last_active_at, client.source_ip, client.user_agent
        )

    def delete(self, connection_id: str) -> None:
        self._on_loop(self._delete(connection_id))

    def _open(self, connection_id: str) -> OpenConnection:
        with self._lock:
            state = self._clients.get(connection_id)
        if state is None or state.closing:
            raise ConnectionGone(connection_id)
        return state

    async def _post(self, connection_id: str, data: bytes) -> None:
        state = self._open(connection_id)
        try:
            payload: str | bytes = data.decode("utf-8")  # a text frame, as API Gateway sends
        except UnicodeDecodeError:
            payload = data
        if not await self._reply(state, payload):
            raise ConnectionGone(connection_id)

    async def _delete(self, connection_id: str) -> None:
        state = self._open(connection_id)
        state.closing, state.cause = True, (NORMAL_CLOSURE, "")
        # Answered at once, as DeleteConnection is; the close handshake and $disconnect follow.
        self._spawn(state.ws.close(NORMAL_CLOSURE))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # a reference until it is done (the loop keeps weak ones)
        task.add_done_callback(self._tasks.discard)

    def _on_loop(self, work: Coroutine[Any, Any, None]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            work.close()
            raise ConnectionGone("the endpoint is not running")
        future = asyncio.run_coroutine_threadsafe(work, loop)
        try:
            future.result(POST_TIMEOUT_SECONDS)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ClientBufferFull(
                f"the client did not take the message within {POST_TIMEOUT_SECONDS:g} s"
            ) from None
