"""A real WebSocket endpoint on 127.0.0.1 in front of the local run's three functions, with
API Gateway WebSocket's documented behaviour: `WebSocketEndpoint`.

Clients connect to ``ws://127.0.0.1:PORT/{stage}?...`` (the ``websockets`` library's asyncio server,
in a thread of its own); the functions are `local_run.simulation.local_functions.LocalFunctions`
(the real handlers, on a backend), their routes read from the synthesized template
(`local_run.simulation.websocket_routes`), their events built as API Gateway builds them
(`local_run.simulation.websocket_events`); they reach clients through the ``@connections`` API
(`local_run.simulation.connections_api`, ``management_url``: the handlers'
``APIGW_MANAGEMENT_ENDPOINT``). What API Gateway does, as the developer guide says it:

- $connect ("Managing connected users and client apps: `$connect` and `$disconnect`
  routes"): "Until execution of the integration associated with the `$connect` route is
  completed, the upgrade request is pending and the actual connection will not be
  established. If the `$connect` request fails (e.g., due to `AuthN`/`AuthZ` failure or an
  integration failure), the connection will not be made." The client sees the function's
  status ("Setting up a `$connect` route that requires a WebSocket subprotocol": "the Lambda
  integration returns a 400 error, and the connection is unsuccessful ... error: Unexpected
  server response: 400"); a function that fails answers 502 (an exception) or 504 (a
  timeout), a route that cannot be invoked 500 (not documented: REST APIs' codes).
- messages: routed by `local_run.simulation.websocket_routes.RouteTable.select`; on a route with a
  route response the function's ``body`` goes back to the client ("For proxy integrations,
  API Gateway automatically passes the backend output to the caller as the complete
  payload"; "API Gateway will not pass the backend response through to the route response,
  unless you set up a route response"). One connection's messages are handled in order.
- $disconnect: "The `$disconnect` route is executed after the connection is closed. The
  connection can be closed by the server or by the client.": after the client closes, a
  DeleteConnection, the idle timeout, the duration limit, a frame or message over the quotas
  (1009), a binary frame (1003), the endpoint stopping (1001), a connection lost before it
  opened (1006). A refused $connect gets none (no connection was made).
- the quotas and the stage's token bucket (`local_run.simulation.websocket_limits`).

The functions run one invocation at a time, on a thread pool (the asyncio loop never waits
for one): each has one metrics emitter, as a Lambda environment runs one invocation at a
time. A handler's post is handed to the loop and answered once the client has it.

What the local run's phases switch on (`faults`: `local_run.simulation.endpoint_faults`): new
connections refused, a route that cannot be invoked or is deleted, a delay in front of every
function. `wait_idle` lets a caller that takes turns with the endpoint (the local run's
canary) wait until its connections are closed and their $disconnects done;
`connections_answer` answers the @connections requests for this endpoint's connections when
another stand-in of the Management API receives them; `waited_seconds` is the simulated
time clients have waited for the functions.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import urllib.parse
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from infra.functions import FUNCTIONS
from infra.stack import THROTTLE_BURST_LIMIT, THROTTLE_RATE_LIMIT
from local_run.simulation.connections_api import (
    ConnectionsApi,
)
from local_run.simulation.dispatch_log import Dispatch, DispatchLog
from local_run.simulation.endpoint_faults import EndpointFaults
from local_run.simulation.local_functions import LocalFunctions
from local_run.simulation.local_names import LOCAL_API_ID, LOCAL_STAGE
from local_run.simulation.platform_metrics import NOT_INVOKED, ApiRequest
from local_run.simulation.websocket_connections import EndpointConnections, OpenConnection
from local_run.simulation.websocket_events import (
    ClientConnection,
    Stage,
    connect_event,
    disconnect_event,
    epoch_ms,
    gateway_message,
    message_event,
    new_id,
)
from local_run.simulation.websocket_limits import (
    ABNORMAL_CLOSURE,
    GOING_AWAY,
    IDLE_TIMEOUT_SECONDS,
    MAX_DURATION_SECONDS,
    MAX_FRAME_BYTES,
    MAX_MESSAGE_BYTES,
    UNSUPPORTED_DATA,
    TokenBucket,
    close_cause,
    expiry,
)
from local_run.simulation.websocket_routes import Route, RouteTable
from shared_metrics.testing.lifecycle import StartStop
from websocket_service.events import CONNECT
from websocket_service.testing.events import scheduled_event

CONNECT_TIMEOUT_SECONDS = 60.0  # the $connect invocation runs inside the upgrade request
LIMIT_RECHECK_SECONDS = 5.0  # a shortened idle timeout or duration limit applies this soon
STOP_TIMEOUT_SECONDS = 60.0
LOCAL_STAGE_OF_API = Stage(LOCAL_API_ID, LOCAL_STAGE)


@dataclass
class EndpointSettings:
    """The connection limits a test may change while the endpoint runs (they apply within
    LIMIT_RECHECK_SECONDS to open connections)."""

    idle_timeout: float
    max_duration: float


class WebSocketEndpoint(EndpointConnections, StartStop):
    """``start()`` it, connect to ``url``; ``management_url`` is its @connections API."""

    def __init__(
        self,
        functions: LocalFunctions,
        routes: RouteTable,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        management_port: int = 0,
        stage: Stage = LOCAL_STAGE_OF_API,
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
        max_duration: float = MAX_DURATION_SECONDS,
        throttle: TokenBucket | None = None,
        schedule_seconds: float | None = None,
        workers: int = 8,
    ) -> None:
        super().__init__()
        self.functions = functions
        self.faults = EndpointFaults(routes)  # what the local run's phases switch on
        self.host, self.port, self.stage = host, port, stage
        self.settings = EndpointSettings(idle_timeout, max_duration)
        self.throttle = throttle or TokenBucket(THROTTLE_RATE_LIMIT, THROTTLE_BURST_LIMIT)
        self.schedule_seconds = schedule_seconds  # the EventBridge status update, if any
        self.url = ""
        self.dispatches = DispatchLog()  # what the functions were asked, for tests
        # Simulated time clients have waited for the functions so far: each $connect's and
        # message's invocation, with any delay in front of it (the clock a client that takes
        # turns with the scenario times itself on: `local_run.simulation.scenario_canary`).
        self.waited_seconds = 0.0
        self._invocations = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="lambda")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._api = ConnectionsApi(self, stage.name, host, management_port)
        self.management_url = self._api.endpoint_url

    @property
    def routes(self) -> RouteTable:
        return self.faults.routes

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> WebSocketEndpoint:
        if self._thread is not None:
            raise RuntimeError("the endpoint was started already")
        ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="websocket-endpoint", daemon=True
        )
        self._thread.start()
        port = ready.result(timeout=CONNECT_TIMEOUT_SECONDS)  # a bind error is raised here
        self.url = f"ws://{self.host}:{port}/{self.stage.name}"
        self._api.start()
        return self

    def stop(self) -> None:
        """Close every connection (1001; each gets its $disconnect), then stop serving."""
        if self._thread is not None and self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(STOP_TIMEOUT_SECONDS)
        self._api.stop()
        self._pool.shutdown(wait=True)

    def _run(self, ready: concurrent.futures.Future[int]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(ready))
        finally:
            loop.close()

    async def _main(self, ready: concurrent.futures.Future[int]) -> None:
        try:
            server = await serve(
                self._serve_client,
                self.host,
                self.port,
                process_request=self._handshake,
                max_size=(MAX_MESSAGE_BYTES, MAX_FRAME_BYTES),
                compression=None,  # frames count as sent: no permessage-deflate
                ping_interval=None,  # API Gateway sends no pings
                open_timeout=CONNECT_TIMEOUT_SECONDS,
            )
        except OSError as exc:
            ready.set_exception(exc)
            return
        self._stopping = asyncio.Event()
        ready.set_result(server.sockets[0].getsockname()[1])
        schedule = asyncio.create_task(self._schedule()) if self.schedule_seconds else None
        await self._stopping.wait()
        if schedule is not None:
            schedule.cancel()
        server.close()  # closes open connections with 1001 and waits for their handlers
        await server.wait_closed()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_SECONDS)

    async def _schedule(self) -> None:
        spec = next(f for f in FUNCTIONS if f.scheduled)
        while self.schedule_seconds:
            await asyncio.sleep(self.schedule_seconds)
            event = scheduled_event()
            await asyncio.get_running_loop().run_in_executor(
                self._pool, self._call, spec.label, event
            )

    # -- connections ----------------------------------------------------------------------------

    async def _handshake(self, ws: ServerConnection, request: Request) -> Response | None:
        url = urllib.parse.urlsplit(request.path)
        if url.path.rstrip("/") != f"/{self.stage.name}":
            return ws.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        if self.faults.refusing:
            return ws.respond(HTTPStatus.SERVICE_UNAVAILABLE, "Service Unavailable\n")
        if not self.throttle.take():
            return ws.respond(HTTPStatus.TOO_MANY_REQUESTS, "Too Many Requests\n")
        source_ip = str(ws.remote_address[0])
        connection_id = new_id()
        with self._lock:
            self._issued.add(connection_id)
        client = ClientConnection(
            connection_id,
            epoch_ms(),
            source_ip,
            request.headers.get("User-Agent"),
            request.headers.get("Host") or f"{self.host}:{self.port}",
        )
        headers = [
            *request.headers.raw_items(),
            ("X-Forwarded-For", source_ip),
            ("X-Forwarded-Port", str(ws.local_address[1])),
            ("X-Forwarded-Proto", "http"),
        ]
        query = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
        route = self.routes.connect
        if route is not None:  # "Setting up an integration for `$connect` is optional"
            event = connect_event(self.stage, client, headers, query, client.connected_at_ms)
            status, response = await self._invoke(route, event)
            if response is None or not 200 <= status < 300:
                return ws.respond(status, f"{_phrase(status)}\n")
        self._pending[ws] = client
        self._spawn(self._if_never_served(ws))
        return None

    async def _if_never_served(self, ws: ServerConnection) -> None:
        """$disconnect for a connection that was lost before it opened (after its $connect)."""
        await ws.wait_closed()
        client = self._pending.pop(ws, None)
        if client is not None and self.routes.disconnect is not None:
            event = disconnect_event(self.stage, client, ABNORMAL_CLOSURE, "")
            await self._invoke(self.routes.disconnect, event)

    async def _serve_client(self, ws: ServerConnection) -> None:
        loop = asyncio.get_running_loop()
        client = self._pending[ws]
        state = OpenConnection(client, ws, loop.time(), loop.time(), client.connected_at_ms / 1000)
        with self._lock:
            self._clients[client.connection_id] = state
            del self._pending[ws]  # in the same step: never seen by `wait_idle` as neither
        watchdog = asyncio.create_task(self._expire(state))
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    state.cause = (UNSUPPORTED_DATA, "binary frames are not supported")
                    await ws.close(*state.cause)
                    break
                state.touch(loop.time(), _epoch())
                await self._on_message(state, message)
        except ConnectionClosed:
            pass
        finally:
            await ws.wait_closed()
            watchdog.cancel()
            with self._lock:
                self._clients.pop(client.connection_id, None)
                self._in_flight += 1  # the $disconnect to come: busy until it is done
            try:
                code, reason = state.cause or close_cause(ws.protocol)
                if self.routes.disconnect is not None:
                    await self._invoke(
                        self.routes.disconnect, disconnect_event(self.stage, client, code, reason)
                    )
            finally:
                with self._lock:
                    self._in_flight -= 1

    async def _expire(self, state: OpenConnection) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, why = expiry(
                state.connected,
                state.last_active,
                self.settings.idle_timeout,
                self.settings.max_duration,
            )
            delay = due - loop.time()
            if delay <= 0:
                break
            await asyncio.sleep(min(delay, LIMIT_RECHECK_SECONDS))
        state.closing, state.cause = True, (GOING_AWAY, why)
        await state.ws.close(GOING_AWAY, why)

    async def _on_message(self, state: OpenConnection, text: str) -> None:
        connection_id = state.client.connection_id
        if not self.throttle.take():
            await self._reply(state, gateway_message("Too Many Requests", connection_id, new_id()))
            return
        key = self.routes.select(text)
        if key is None:  # no route and no $default: "the service returns an error"
            await self._reply(state, gateway_message("Forbidden", connection_id, new_id()))
            return
        route = self.routes.routes[key]
        event = message_event(self.stage, state.client, key, text)
        status, response = await self._invoke(route, event)
        if response is None:
            message_id = event["requestContext"]["messageId"]
            await self._reply(
                state, gateway_message("Internal server error", connection_id, message_id)
            )
        elif route.two_way and isinstance(response.get("body"), str) and response["body"]:
            await self._reply(state, response["body"])

    async def _reply(self, state: OpenConnection, data: str | bytes) -> bool:
        """A message to the client (a route response, a post, an error of API Gateway's)."""
        if state.closing:  # deleted, or past a limit: nothing more reaches it
            return False
        try:
            await state.ws.send(data)
        except ConnectionClosed:
            return False
        state.touch(asyncio.get_running_loop().time(), _epoch())
        self.functions.platform.message_to_client(self.functions.clock())
        return True

    # -- invoking the functions -------------------------------------------------------------------

    async def _invoke(
        self, route: Route, event: dict[str, Any]
    ) -> tuple[int, dict[str, Any] | None]:
        connection_id = event["requestContext"]["connectionId"]
        if route.key in self.faults.broken:
            t = self.functions.clock()
            self.functions.platform.api_request(ApiRequest(t, route.key == CONNECT, NOT_INVOKED))
            self.dispatches.record(Dispatch(route.key, connection_id, event, invoked=False))
            return HTTPStatus.INTERNAL_SERVER_ERROR, None
        loop = asyncio.get_running_loop()
        with self._lock:
            self._in_flight += 1
        try:
            status, response = await loop.run_in_executor(
                self._pool, self._call, route.function, event
            )
        finally:
            with self._lock:
                self._in_flight -= 1
        self.dispatches.record(Dispatch(route.key, connection_id, event, True, status, response))
        return status, response

    def _call(self, label: str, event: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        # A client waits for its $connect and its messages; nobody waits for a $disconnect
        # ("executed after the connection is closed") or the schedule's invocation.
        waited = event.get("requestContext", {}).get("eventType") in ("CONNECT", "MESSAGE")
        clock = self.functions.clock
        with self._invocations:
            began = clock.timer()
            delay = self.faults.delay_seconds
            if delay and waited:
                # Before the function starts: the client waits, the function's Duration and
                # its timers do not include it (a long init, API Gateway, the network).
                clock.stall(delay)
            answer = self.functions.call(label, event)
            if waited:
                self.waited_seconds += clock.timer() - began
            return answer


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _epoch() -> float:
    return epoch_ms() / 1000
