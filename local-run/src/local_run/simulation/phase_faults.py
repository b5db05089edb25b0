"""What a phase switches on in the running system for its whole length: its faults.

`enter_phase` sets them for the phase about to start and clears those of the phase before: session
items this release cannot read (`local_run.simulation.traffic.Traffic.corrupt_sessions`), Transcribe
down, slow or hung (`local_run.simulation.scenario_transcriber`), a slow or hung Management API,
DynamoDB errors or throttling (`local_run.simulation.faults`), API Gateway's permission to invoke a
function revoked, a function's metrics no longer arriving
(`local_run.simulation.platform_metrics.FunctionOutput`), the flash crowd's speakers gone, and, on
the WebSocket endpoint the canary reaches the service through, new connections refused, a route
deleted (for the scenario's clients too: `local_run.simulation.traffic.Traffic.deleted_routes`) or a
delay in front of every function. The sizes come from `local_run.simulation.phases`; the phases
whose fault is traffic (abusers, garbled chunks, listeners leaving, flash crowds) are in
`local_run.simulation.traffic`.
"""

from __future__ import annotations

from local_run.simulation.local_functions import LocalFunctions
from local_run.simulation.phases import (
    AUDIO_FN,
    CONNECTION,
    DEGRADED_NOTIFY_SECONDS,
    DEGRADED_TRANSCRIBE_SECONDS,
    DELETED_ROUTE,
    DYNAMODB_FAULT_RATE,
    HANG_SECONDS,
    LATENCY_SPIKE_SECONDS,
    SLOW_FROM_OUTSIDE_SECONDS,
    STATUS_FN,
)
from local_run.simulation.traffic import Traffic
from local_run.simulation.websocket_endpoint import WebSocketEndpoint
from websocket_service.testing.management_api_stub import ManagementApiStub


def enter_phase(
    phase: str,
    functions: LocalFunctions,
    traffic: Traffic,
    api: ManagementApiStub,
    endpoint: WebSocketEndpoint,
) -> None:
    """Switch the system to ``phase``: its faults on, every other phase's off."""
    if traffic.stored_states:
        traffic.restore_sessions()
    if phase == "handler-exceptions":
        traffic.corrupt_sessions(list(traffic.speakers.values()))
    functions.transcriber.down = phase in ("transcribe-outage", "alarm-delivery-failing")
    functions.transcriber.delay_seconds = {
        "audio-latency-spike": LATENCY_SPIKE_SECONDS,
        "slow-degradation": DEGRADED_TRANSCRIBE_SECONDS,
    }.get(phase, 0.0)
    hang = HANG_SECONDS if phase == "lambda-timeouts" else 0.0
    functions.transcriber.hang_seconds = hang
    # A hung Management API stalls each post for the whole hang, then answers it. The
    # handlers' own client gives up sooner (its 2 s read timeout, three attempts), which the
    # simulated clock does not model yet: deployed, a hung API fails the posts as timeouts
    # rather than timing out the connection function's broadcasts.
    notify_stall = hang or (DEGRADED_NOTIFY_SECONDS if phase == "slow-degradation" else 0.0)
    api.on_request = (lambda: functions.clock.stall(notify_stall)) if notify_stall else None
    rate = DYNAMODB_FAULT_RATE
    functions.faults.set(
        server_error=rate if phase == "dynamodb-errors" else 0.0,
        throttle=rate if phase == "dynamodb-throttling" else 0.0,
    )
    functions.revoked = {AUDIO_FN} if phase == "apigw-integration-errors" else set()
    for label, output in functions.outputs.items():
        # A session-management deploy without instrumentation; audio's EMF lines no
        # longer extracted (still in its log group).
        output.instrumented = not (
            phase == "metrics-lost-session" and label in (CONNECTION, STATUS_FN)
        )
        output.extracted = not (phase == "metrics-lost-audio" and label == AUDIO_FN)
    route_lost = phase == "route-broken"
    traffic.deleted_routes = {DELETED_ROUTE} if route_lost else set()
    endpoint.faults.refuse_connections(phase == "endpoint-unreachable")
    endpoint.faults.delete_route(DELETED_ROUTE, route_lost)
    endpoint.faults.delay_from_outside(
        SLOW_FROM_OUTSIDE_SECONDS if phase == "slow-from-outside" else 0.0
    )
    if phase not in ("lambda-throttling", "healthy-surge"):
        for speaker, _ in traffic.crowd_speakers:
            traffic.closed(speaker)
        traffic.crowd_speakers.clear()
