"""Real WebSocket clients (the ``websockets`` library's) against the local endpoint in front of
the three real handlers, on moto's server in this process over real HTTP: what API Gateway's
developer guide says a client and the handlers see, and the handlers' own contract (their
README and module docs) through it. Every wait is for an event (a message, a close, a request
to a function), with generous timeouts; nothing depends on how fast the machine is.

The functions run on a simulated clock pinned at one instant: the handlers' rate-limit
windows cannot roll over during a flood, whatever the wall time.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import socket
import urllib.parse
import uuid
from collections.abc import Awaitable, Iterator
from typing import Any, TypeVar
from unittest import mock

import pytest
from botocore.config import Config
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from audio_transcription.testing.pcm import send_audio_body
from local_run.cloudwatch.alarm_model import MetricId
from local_run.cloudwatch.metric_source import MotoBackendSource
from local_run.serve import endpoint_on
from local_run.simulation.backend import Backend, admin_store, local_backend
from local_run.simulation.dispatch_log import Dispatch
from local_run.simulation.local_functions import CHUNK, POLICY
from local_run.simulation.local_names import LOCAL_API_ID, STACK_NAME
from local_run.simulation.scenario import aligned_start
from local_run.simulation.sim_clock import SimClock
from local_run.simulation.stack_alarms import synthesized_alarms, synthesized_routes
from local_run.simulation.traffic import OVERSIZE_CHUNK
from local_run.simulation.websocket_endpoint import WebSocketEndpoint
from local_run.simulation.websocket_limits import MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, TokenBucket
from local_run.simulation.websocket_routes import RouteTable
from session_management.store import SessionStore
from websocket_service.events import CONNECT, DEFAULT, DISCONNECT, parse_event
from websocket_service.management_api import ENDPOINT_ENV

T = TypeVar("T")
TIMEOUT = 60.0  # for any one wait: room for a machine several times slower than a quiet one


@pytest.fixture(scope="module")
def routes() -> RouteTable:
    return synthesized_routes(STACK_NAME)


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    with local_backend(None) as url:
        yield Backend(url)


@pytest.fixture(scope="module")
def endpoint(backend: Backend, routes: RouteTable) -> Iterator[WebSocketEndpoint]:
    with endpoint_on(backend, routes, SimClock(aligned_start(0))) as ep:
        yield ep


@pytest.fixture(scope="module")
def store(endpoint: WebSocketEndpoint, backend: Backend) -> SessionStore:
    return admin_store(backend)


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, TIMEOUT * 3)

    return asyncio.run(bounded())


def new_session() -> str:
    return f"s-{uuid.uuid4().hex[:12]}"


def client_url(ep: WebSocketEndpoint, session: str, role: str, name: str) -> str:
    # `client` is not the handlers' parameter: it names the client in the $connect event.
    return f"{ep.url}?sessionId={session}&role={role}&client={name}"


def connect_of(ep: WebSocketEndpoint, name: str) -> Dispatch:
    def named(d: Dispatch) -> bool:
        query = d.event.get("queryStringParameters") or {}
        return d.route_key == CONNECT and query.get("client") == name

    return ep.dispatches.wait_for(named, TIMEOUT)


def disconnect_of(ep: WebSocketEndpoint, connection_id: str) -> Dispatch:
    return ep.dispatches.wait_for(
        lambda d: d.route_key == DISCONNECT and d.connection_id == connection_id, TIMEOUT
    )


async def join(
    ep: WebSocketEndpoint, session: str, role: str, name: str | None = None
) -> tuple[ClientConnection, str]:
    """A connected client and its connection id (from the $connect API Gateway made)."""
    name = name or uuid.uuid4().hex
    ws = await connect(client_url(ep, session, role, name), open_timeout=TIMEOUT)
    return ws, connect_of(ep, name).connection_id


async def reply(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def ask(ws: ClientConnection, message: dict[str, Any] | str) -> Any:
    await ws.send(message if isinstance(message, str) else json.dumps(message))
    return await reply(ws)


async def closed(ws: ClientConnection) -> tuple[int | None, str | None]:
    """The close code and reason the client received."""
    await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
    frame = ws.protocol.close_rcvd
    return (frame.code, frame.reason) if frame is not None else (None, None)


async def refused(url: str) -> int:
    with pytest.raises(InvalidStatus) as refusal:
        async with connect(url, open_timeout=TIMEOUT):
            pass
    return refusal.value.response.status_code


# -- a session through real clients -------------------------------------------------------------


def test_listeners_hear_the_speakers_controls_and_the_end_of_the_session(
    endpoint: WebSocketEndpoint,
) -> None:
    session = new_session()

    async def scenario() -> None:
        speaker, _ = await join(endpoint, session, "speaker")
        listeners = [(await join(endpoint, session, "listener"))[0] for _ in range(2)]
        applied = await ask(speaker, {"action": "setVolume", "volume": 40})
        assert applied["type"] == "controlApplied" and applied["volume"] == 40
        assert (applied["listeners"], applied["listenersNotified"]) == (2, 2)
        for listener in listeners:  # posted through @connections by the handler
            heard = await reply(listener)
            assert (heard["type"], heard["action"], heard["volume"]) == (
                "broadcastState",
                "setVolume",
                40,
            )
        status = await ask(listeners[0], {"action": "getSessionStatus"})
        assert (status["type"], status["listenerCount"], status["volume"]) == (
            "sessionStatus",
            2,
            40,
        )
        ended = await ask(speaker, {"action": "endSession"})
        assert ended["state"] == "ENDED"
        for listener in listeners:
            assert await reply(listener) == {
                "type": "sessionEnded",
                "sessionId": session,
                "reason": "endedBySpeaker",
            }
            await listener.close()
        await speaker.close()

    run(scenario())


def test_the_speakers_audio_reaches_the_transcriber_and_a_listeners_is_refused(
    endpoint: WebSocketEndpoint,
) -> None:
    session = new_session()

    async def scenario() -> None:
        speaker, speaker_id = await join(endpoint, session, "speaker")
        listener, _ = await join(endpoint, session, "listener")
        accepted = await ask(speaker, send_audio_body(session, CHUNK))
        assert (accepted["type"], accepted["bytes"]) == ("audioAccepted", len(CHUNK))
        assert endpoint.functions.transcriber.inner.audio(session) == CHUNK
        assert (await ask(listener, send_audio_body(session, CHUNK)))["error"] == "NotSpeaker"
        # 40,000 bytes of PCM (53 KB of JSON) in frames of 32 KB or less is a message API
        # Gateway passes on; the handler refuses the chunk (> 32 KiB decoded: 413 TooLarge).
        text = json.dumps(send_audio_body(session, OVERSIZE_CHUNK))
        await speaker.send(_fragments(text, MAX_FRAME_BYTES))
        assert "error" in await reply(speaker)
        refusal = endpoint.dispatches.wait_for(
            lambda d: d.connection_id == speaker_id and d.event.get("body") == text
        )
        assert (refusal.route_key, refusal.status) == ("sendAudio", 413)
        await listener.close()
        await speaker.close()

    run(scenario())


def _fragments(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


# -- route selection ------------------------------------------------------------------------------


def test_messages_go_to_the_route_their_action_names_and_the_rest_to_default(
    endpoint: WebSocketEndpoint,
) -> None:
    session = new_session()
    cases = [
        ("hello", DEFAULT, "InvalidJson"),  # not JSON
        (json.dumps({"action": "dance"}), DEFAULT, "UnknownAction"),  # no such route
        (json.dumps({"volume": 3}), DEFAULT, "UnknownAction"),  # no action at all
        (json.dumps({"action": "getSessionStatus"}), "getSessionStatus", None),
    ]

    async def scenario() -> None:
        speaker, connection_id = await join(endpoint, session, "speaker")
        for text, route_key, error in cases:
            answer = await ask(speaker, text)
            assert answer.get("error") == error, text

            def carried(d: Dispatch, text: str = text) -> bool:
                return d.connection_id == connection_id and d.event.get("body") == text

            dispatch = endpoint.dispatches.wait_for(carried)
            assert dispatch.route_key == route_key == dispatch.event["requestContext"]["routeKey"]
        await speaker.close()

    run(scenario())


def test_without_a_default_route_an_unmatched_message_gets_an_error_from_api_gateway(
    endpoint: WebSocketEndpoint, routes: RouteTable
) -> None:
    session = new_session()
    with WebSocketEndpoint(endpoint.functions, routes.without(DEFAULT)) as other:

        async def scenario() -> None:
            speaker, connection_id = await join(other, session, "speaker")
            answer = await ask(speaker, "hello")
            assert answer["message"] == "Forbidden" and answer["connectionId"] == connection_id
            assert not [d for d in other.dispatches if d.connection_id == connection_id][1:]
            await speaker.close()

        run(scenario())


def test_a_route_without_a_route_response_sends_the_client_nothing(
    endpoint: WebSocketEndpoint, routes: RouteTable
) -> None:
    # "If a route is configured for one-way communication, then regardless of any integration
    # response configuration, no response will be returned over the WebSocket channel".
    one_way = dataclasses.replace(routes.routes["getSessionStatus"], two_way=False)
    table = dataclasses.replace(routes, routes={**routes.routes, one_way.key: one_way})
    with WebSocketEndpoint(endpoint.functions, table) as other:

        async def scenario() -> Any:
            speaker, connection_id = await join(other, new_session(), "speaker")
            await speaker.send(json.dumps({"action": "getSessionStatus"}))
            # Handled in order: the first answer to arrive is the second message's.
            answer = await ask(speaker, {"action": "dance"})
            await speaker.close()
            return answer, connection_id

        answer, connection_id = run(scenario())
    assert answer["error"] == "UnknownAction"
    asked = [d for d in other.dispatches if d.connection_id == connection_id]
    assert [(d.route_key, d.status) for d in asked][1:3] == [
        ("getSessionStatus", 200),
        (DEFAULT, 400),
    ]


# -- $connect -------------------------------------------------------------------------------------


def test_a_refused_connect_gives_the_client_the_handlers_status_and_makes_no_connection(
    endpoint: WebSocketEndpoint, store: SessionStore
) -> None:
    taken = new_session()
    cases = {  # the connection handler's contract (handlers/connection.py)
        "no-session": (f"{endpoint.url}?role=speaker&client=no-session", 400),
        "bad-role": (client_url(endpoint, taken, "admin", "bad-role"), 400),
        "unknown-session": (
            client_url(endpoint, new_session(), "listener", "unknown-session"),
            404,
        ),
        "session-taken": (client_url(endpoint, taken, "speaker", "session-taken"), 409),
    }

    async def scenario() -> str:
        speaker, speaker_id = await join(endpoint, taken, "speaker")
        for url, status in cases.values():
            assert await refused(url) == status, url
        await speaker.close()
        return speaker_id

    speaker_id = run(scenario())
    refused_ids = {connect_of(endpoint, name).connection_id for name in cases}
    assert all(connect_of(endpoint, name).status == status for name, (_, status) in cases.items())
    for connection_id in refused_ids:
        assert store.get_connection(connection_id) is None
    # No connection was made, so no $disconnect follows (the speaker's came after its close).
    disconnect_of(endpoint, speaker_id)
    assert not [d for d in endpoint.dispatches if d.connection_id in refused_ids][len(cases) :]


def test_a_refusing_endpoint_and_a_broken_connect_route_refuse_every_upgrade(
    endpoint: WebSocketEndpoint,
) -> None:
    async def scenario() -> None:
        endpoint.faults.refuse_connections(True)
        try:
            assert await refused(client_url(endpoint, new_session(), "speaker", "r1")) == 503
        finally:
            endpoint.faults.refuse_connections(False)
        endpoint.faults.break_route(CONNECT)
        try:
            assert await refused(client_url(endpoint, new_session(), "speaker", "b1")) == 500
        finally:
            endpoint.faults.break_route(CONNECT, broken=False)
        assert not connect_of(endpoint, "b1").invoked
        speaker, _ = await join(endpoint, new_session(), "speaker")
        await speaker.close()

    run(scenario())


def test_a_broken_message_route_answers_internal_server_error_without_invoking(
    endpoint: WebSocketEndpoint,
) -> None:
    async def scenario() -> None:
        speaker, connection_id = await join(endpoint, new_session(), "speaker")
        endpoint.faults.break_route("getSessionStatus")
        try:
            answer = await ask(speaker, {"action": "getSessionStatus"})
        finally:
            endpoint.faults.break_route("getSessionStatus", broken=False)
        assert answer["message"] == "Internal server error"
        dispatch = endpoint.dispatches.wait_for(
            lambda d: d.connection_id == connection_id and d.route_key == "getSessionStatus"
        )
        assert not dispatch.invoked
        assert (await ask(speaker, {"action": "getSessionStatus"}))["type"] == "sessionStatus"
        await speaker.close()

    run(scenario())


# -- the events the handlers get ---------------------------------------------------------------


def test_the_events_have_api_gateways_fields_and_the_handlers_parse_them(
    endpoint: WebSocketEndpoint,
) -> None:
    session = new_session()

    async def scenario() -> tuple[str, str]:
        url = client_url(endpoint, session, "speaker", "shape")
        ws = await connect(url, additional_headers={"X-Test": "abc"}, open_timeout=TIMEOUT)
        await ask(ws, {"action": "getSessionStatus"})
        await ws.close(4000, "bye")
        assert ws.request is not None
        return connect_of(endpoint, "shape").connection_id, str(ws.request.headers["Host"])

    connection_id, host = run(scenario())
    connected = connect_of(endpoint, "shape").event
    context = connected["requestContext"]
    assert context["routeKey"] == CONNECT and context["eventType"] == "CONNECT"
    assert context["connectionId"] == connection_id and "messageId" not in context
    assert (context["stage"], context["apiId"]) == (endpoint.stage.name, endpoint.stage.api_id)
    assert context["domainName"] == host and context["identity"]["sourceIp"] == "127.0.0.1"
    assert isinstance(context["requestTimeEpoch"], int) and isinstance(context["requestId"], str)
    assert context["connectedAt"] <= context["requestTimeEpoch"]
    assert connected["headers"]["X-Test"] == "abc"
    assert connected["multiValueHeaders"]["X-Test"] == ["abc"]
    assert connected["queryStringParameters"] == {
        "sessionId": session,
        "role": "speaker",
        "client": "shape",
    }
    request = parse_event(connected)
    assert (request.connection_id, request.query["sessionId"]) == (connection_id, session)

    message = endpoint.dispatches.wait_for(
        lambda d: d.connection_id == connection_id and d.route_key == "getSessionStatus"
    ).event
    assert message["requestContext"]["eventType"] == "MESSAGE"
    assert message["requestContext"]["messageId"] and message["isBase64Encoded"] is False
    assert message["requestContext"]["connectedAt"] == context["connectedAt"]
    assert parse_event(message).json_body() == {"action": "getSessionStatus"}

    gone = disconnect_of(endpoint, connection_id).event["requestContext"]
    assert (gone["eventType"], gone["disconnectStatusCode"], gone["disconnectReason"]) == (
        "DISCONNECT",
        4000,
        "bye",
    )


# -- $disconnect ----------------------------------------------------------------------------------


def test_a_closed_listener_is_forgotten_and_a_leaving_speaker_ends_the_session(
    endpoint: WebSocketEndpoint, store: SessionStore
) -> None:
    session = new_session()

    async def scenario() -> None:
        speaker, speaker_id = await join(endpoint, session, "speaker")
        leaver, leaver_id = await join(endpoint, session, "listener")
        stayer, _ = await join(endpoint, session, "listener")
        assert store.get_connection(leaver_id) is not None
        await leaver.close()
        assert disconnect_of(endpoint, leaver_id).status == 200
        assert store.get_connection(leaver_id) is None
        assert (await ask(speaker, {"action": "getSessionStatus"}))["listenerCount"] == 1
        await speaker.close()
        assert await reply(stayer) == {
            "type": "sessionEnded",
            "sessionId": session,
            "reason": "speakerDisconnected",
        }
        assert store.get_connection(speaker_id) is None
        await stayer.close()

    run(scenario())


def test_a_client_lost_during_its_upgrade_still_gets_its_disconnect(
    endpoint: WebSocketEndpoint, store: SessionStore
) -> None:
    # A client that sends the upgrade request and goes: its $connect ran (the session exists),
    # the connection never opened; API Gateway still owes the integration a $disconnect.
    host, port = urllib.parse.urlsplit(endpoint.url).netloc.rsplit(":", 1)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /{endpoint.stage.name}?sessionId={new_session()}&role=speaker&client=lost HTTP/1.1"
        f"\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as raw:
        raw.sendall(request.encode())
        raw.shutdown(socket.SHUT_WR)
    connection_id = connect_of(endpoint, "lost").connection_id
    gone = disconnect_of(endpoint, connection_id).event["requestContext"]
    assert gone["disconnectStatusCode"] == 1006  # no close frame
    assert store.get_connection(connection_id) is None


# -- flooding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["status", "audio"])
def test_a_flooding_client_is_refused_then_closed(
    endpoint: WebSocketEndpoint, store: SessionStore, kind: str
) -> None:
    session = new_session()
    limit, violations = POLICY.limit(kind), POLICY.max_violations

    async def scenario() -> tuple[list[Any], tuple[int | None, str | None], str]:
        speaker, speaker_id = await join(endpoint, session, "speaker")
        flooder, flooder_id = (speaker, speaker_id)
        message: dict[str, Any] = send_audio_body(session, CHUNK)
        if kind == "status":
            flooder, flooder_id = await join(endpoint, session, "listener")
            message = {"action": "getSessionStatus"}
        answers = []
        try:
            for _ in range(limit + violations + 5):
                answers.append(await ask(flooder, message))
        except ConnectionClosed:
            pass
        how = await closed(flooder)
        if flooder is not speaker:
            await speaker.close()
        return answers, how, flooder_id

    answers, how, flooder_id = run(scenario())
    # The first `limit` pass; each one after is a violation answered 429; at the
    # max_violations-th the handler deletes the connection (DeleteConnection: closed before
    # that message's answer).
    assert len(answers) == limit + violations - 1
    assert all("error" not in a for a in answers[:limit])
    assert all(a["error"] == "RateLimited" for a in answers[limit:])
    assert how[0] == 1000
    assert (
        disconnect_of(endpoint, flooder_id).event["requestContext"]["disconnectStatusCode"] == 1000
    )
    assert store.get_connection(flooder_id) is None


# -- quotas ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "frame", "closes"),
    [
        (MAX_FRAME_BYTES, MAX_FRAME_BYTES, False),  # one frame at the frame quota
        (MAX_FRAME_BYTES + 1, MAX_FRAME_BYTES + 1, True),  # one frame over it
        (MAX_MESSAGE_BYTES, MAX_FRAME_BYTES, False),  # four full frames: the message quota
        (MAX_MESSAGE_BYTES + 1, MAX_FRAME_BYTES, True),  # one byte over it
    ],
)
def test_a_frame_over_32_kb_or_a_message_over_128_kb_closes_the_connection_with_1009(
    endpoint: WebSocketEndpoint, size: int, frame: int, closes: bool
) -> None:
    head = '{"action":"getSessionStatus","pad":"'
    text = head + "x" * (size - len(head) - 2) + '"}'
    assert len(text.encode()) == size

    async def scenario() -> tuple[Any, tuple[int | None, str | None], str]:
        speaker, connection_id = await join(endpoint, new_session(), "speaker")
        await speaker.send(_fragments(text, frame) if size > frame else text)
        try:
            answer = await reply(speaker)
        except ConnectionClosed:
            answer = None
        await speaker.close()
        return answer, await closed(speaker), connection_id

    answer, how, connection_id = run(scenario())
    gone = disconnect_of(endpoint, connection_id).event["requestContext"]
    if closes:
        assert answer is None and how[0] == 1009 and gone["disconnectStatusCode"] == 1009
    else:
        assert answer["type"] == "sessionStatus" and gone["disconnectStatusCode"] == 1000


def test_a_binary_frame_closes_the_connection_with_1003(endpoint: WebSocketEndpoint) -> None:
    async def scenario() -> tuple[tuple[int | None, str | None], str]:
        speaker, connection_id = await join(endpoint, new_session(), "speaker")
        await speaker.send(json.dumps({"action": "getSessionStatus"}).encode())
        return await closed(speaker), connection_id

    how, connection_id = run(scenario())
    assert how[0] == 1003
    assert (
        disconnect_of(endpoint, connection_id).event["requestContext"]["disconnectStatusCode"]
        == 1003
    )


@pytest.mark.parametrize("limit", ["idle_timeout", "max_duration"])
def test_an_idle_or_too_old_connection_is_closed_and_disconnected(
    endpoint: WebSocketEndpoint, store: SessionStore, limit: str
) -> None:
    saved = (endpoint.settings.idle_timeout, endpoint.settings.max_duration)
    setattr(endpoint.settings, limit, 1.0)  # shortened: the defaults are 10 min and 2 h
    try:

        async def scenario() -> tuple[tuple[int | None, str | None], str]:
            speaker, connection_id = await join(endpoint, new_session(), "speaker")
            return await closed(speaker), connection_id

        how, connection_id = run(scenario())
    finally:
        endpoint.settings.idle_timeout, endpoint.settings.max_duration = saved
    reason = "idle timeout" if limit == "idle_timeout" else "connection duration limit"
    assert how == (1001, reason)
    gone = disconnect_of(endpoint, connection_id).event["requestContext"]
    assert (gone["disconnectStatusCode"], gone["disconnectReason"]) == (1001, reason)
    assert store.get_connection(connection_id) is None


def test_past_the_stages_burst_api_gateway_answers_429(endpoint: WebSocketEndpoint) -> None:
    saved = endpoint.throttle
    endpoint.throttle = TokenBucket(rate=0.0, burst=3)  # no refill: exactly 3 requests
    try:

        async def scenario() -> list[Any]:
            speaker, _ = await join(endpoint, new_session(), "speaker")  # the 1st request
            answers = [await ask(speaker, {"action": "getSessionStatus"}) for _ in range(4)]
            status = await refused(client_url(endpoint, new_session(), "speaker", "late"))
            await speaker.close()
            return [*answers, status]

        *answers, status = run(scenario())
    finally:
        endpoint.throttle = saved
    assert [a.get("type") for a in answers[:2]] == ["sessionStatus", "sessionStatus"]
    assert [a.get("message") for a in answers[2:]] == ["Too Many Requests"] * 2
    assert status == 429


def test_stopping_the_endpoint_closes_every_connection_and_sends_their_disconnects(
    endpoint: WebSocketEndpoint, routes: RouteTable
) -> None:
    other = WebSocketEndpoint(endpoint.functions, routes).start()
    session = new_session()

    async def scenario() -> tuple[list[int | None], set[str]]:
        clients = [await join(other, session, role) for role in ("speaker", "listener")]
        stopping = asyncio.get_running_loop().run_in_executor(None, other.stop)
        codes = [(await closed(ws))[0] for ws, _ in clients]
        await stopping  # stop() returns once every connection's $disconnect has been handled
        return codes, {connection_id for _, connection_id in clients}

    codes, ids = run(scenario())
    assert codes == [1001, 1001]
    assert {d.connection_id for d in other.dispatches if d.route_key == DISCONNECT} >= ids


def test_the_scheduled_status_update_reaches_the_speaker_unasked(
    endpoint: WebSocketEndpoint, routes: RouteTable
) -> None:
    # infra's EventBridge rule runs session_status every minute; its handler pushes "the
    # same status ... to the speaker of every live session" (handlers/session_status.py).
    session = new_session()
    other = WebSocketEndpoint(endpoint.functions, routes, schedule_seconds=0.2)
    with mock.patch.dict(os.environ, {ENDPOINT_ENV: other.management_url}), other:

        async def scenario() -> Any:
            speaker, _ = await join(other, session, "speaker")
            pushed = await reply(speaker)  # without a message of its own
            await speaker.close()
            return pushed

        pushed = run(scenario())
    assert (pushed["type"], pushed["sessionId"], pushed["state"]) == (
        "sessionStatus",
        session,
        "ACTIVE",
    )


# -- @connections ---------------------------------------------------------------------------------


def test_boto3s_management_client_posts_gets_and_deletes_and_gone_is_410(
    endpoint: WebSocketEndpoint, store: SessionStore
) -> None:
    import boto3

    api = boto3.session.Session().client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint.management_url,
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    gone = api.exceptions.GoneException

    async def scenario() -> (
        tuple[str, dict[str, Any], dict[str, Any], tuple[int | None, str | None]]
    ):
        speaker, connection_id = await join(endpoint, new_session(), "speaker", "managed")
        first = await asyncio.to_thread(api.get_connection, ConnectionId=connection_id)
        await asyncio.to_thread(
            api.post_to_connection, ConnectionId=connection_id, Data=b'{"hello":"world"}'
        )
        assert await reply(speaker) == {"hello": "world"}  # "a callback message to the client"
        largest = b'"' + b"x" * (131072 - 2) + b'"'
        await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=largest)
        assert len(await asyncio.wait_for(speaker.recv(), TIMEOUT)) == 131072
        with pytest.raises(api.exceptions.PayloadTooLargeException):
            await asyncio.to_thread(
                api.post_to_connection, ConnectionId=connection_id, Data=largest + b" "
            )
        later = await asyncio.to_thread(api.get_connection, ConnectionId=connection_id)
        await asyncio.to_thread(api.delete_connection, ConnectionId=connection_id)
        return connection_id, first, later, await closed(speaker)

    connection_id, first, later, how = run(scenario())
    connected = connect_of(endpoint, "managed").event["requestContext"]
    assert int(first["ConnectedAt"].timestamp() * 1000) == connected["connectedAt"]
    assert first["Identity"] == {
        "SourceIp": "127.0.0.1",
        "UserAgent": connect_of(endpoint, "managed").event["headers"]["User-Agent"],
    }
    # lastActiveAt: the messages posted to it since were activity on the connection.
    assert first["ConnectedAt"] <= first["LastActiveAt"] <= later["LastActiveAt"]
    assert later["LastActiveAt"] > first["LastActiveAt"]
    # DeleteConnection closes it and API Gateway sends $disconnect: the record is gone.
    assert how[0] == 1000
    assert disconnect_of(endpoint, connection_id).status == 200
    assert store.get_connection(connection_id) is None
    for call in (api.get_connection, api.delete_connection):
        with pytest.raises(gone):
            call(ConnectionId=connection_id)
    with pytest.raises(gone):
        api.post_to_connection(ConnectionId=connection_id, Data=b"{}")
    with pytest.raises(gone):
        api.get_connection(ConnectionId="Ab1CdEfGhIJKLMA=")  # never connected


# -- the metrics: the series the alarms read -----------------------------------------------------

SESSION_NS, AUDIO_NS = "SessionManagement/WebSocket", "AudioTranscription/WebSocket"
# What the traffic below makes the handlers emit (their metric specs), exactly as published.
EXPECTED = {
    *(
        MetricId(SESSION_NS, "HandlerInvocations", (("Handler", h),))
        for h in ("connection", "session_status")
    ),
    *(
        MetricId(SESSION_NS, "ErrorResponses", (("Handler", h),))
        for h in ("connection", "session_status")
    ),
    MetricId(AUDIO_NS, "HandlerInvocations", (("Handler", "audio_processor"),)),
    MetricId(AUDIO_NS, "ErrorResponses", (("Handler", "audio_processor"),)),
    *(MetricId(ns, "RateLimitViolations", ()) for ns in (SESSION_NS, AUDIO_NS)),
    *(MetricId(ns, "ConnectionsClosedForRateLimit", ()) for ns in (SESSION_NS, AUDIO_NS)),
    MetricId(SESSION_NS, "ControlMessageLatency", ()),
    MetricId(AUDIO_NS, "AudioProcessingLatency", ()),
    MetricId(AUDIO_NS, "TranscribeStreamAttempts", ()),
}


def test_the_metrics_of_real_client_traffic_are_the_series_the_synthesized_alarms_read(
    endpoint: WebSocketEndpoint, backend: Backend
) -> None:
    session = new_session()

    async def flood(ws: ClientConnection, message: dict[str, Any]) -> None:
        try:
            while True:
                await ask(ws, message)
        except ConnectionClosed:
            pass

    async def traffic() -> list[str]:
        speaker, speaker_id = await join(endpoint, session, "speaker")
        listener, listener_id = await join(endpoint, session, "listener")
        await ask(speaker, {"action": "setVolume", "volume": 30})
        await reply(listener)
        await ask(speaker, send_audio_body(session, CHUNK))
        await ask(speaker, {"action": "dance"})  # a 400 from the connection handler
        await flood(listener, {"action": "getSessionStatus"})
        await flood(speaker, send_audio_body(session, CHUNK))
        return [speaker_id, listener_id]

    for connection_id in run(traffic()):
        # After the invocation that closed it (one at a time): its metrics are flushed.
        disconnect_of(endpoint, connection_id)
    functions = endpoint.functions
    alarms = synthesized_alarms(STACK_NAME, functions.function_names, backend.tables)
    read = {s.metric for s in alarms.metric_stats()}
    t = functions.clock()
    emitted = set(MotoBackendSource().read(t - 3600, t + 3600).series())
    platform = set(functions.platform.store.series()) | set(functions.platform.api_store().series())
    assert EXPECTED <= read, "the alarms no longer read these: " + str(EXPECTED - read)
    assert EXPECTED <= emitted, "not published as the alarms read them: " + str(EXPECTED - emitted)
    # No alarm reads a metric the traffic published under other dimensions than it reads.
    published = emitted | platform
    names = {(m.namespace, m.name) for m in published}
    mismatched = {m for m in read if (m.namespace, m.name) in names and m not in published}
    assert not mismatched, mismatched
    # API Gateway's and Lambda's series for the stage and functions the alarms name.
    stage = (("ApiId", LOCAL_API_ID), ("Stage", endpoint.stage.name))
    assert MetricId("AWS/ApiGateway", "IntegrationError", stage) in read & platform
    for name in functions.function_names.values():
        assert MetricId("AWS/Lambda", "Invocations", (("FunctionName", name),)) in read & platform
