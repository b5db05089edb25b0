"""The traffic the monitoring bill scales with: a profile of sessions, and what it makes the
functions do in a month.

Requests per route come from the profile; which function serves a route comes from the
template (`Inventory.routes`), and so does the schedule (`Inventory.scheduled`): a month is
AWS's 730 hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from audio_transcription.routes import SEND_AUDIO
from infra.monitoring_inventory import HOURS_PER_MONTH, Inventory
from session_management.routes import CONTROL_ACTIONS, END_SESSION, GET_SESSION_STATUS
from websocket_service.events import CONNECT, DISCONNECT

DAYS_PER_MONTH = HOURS_PER_MONTH / 24


@dataclass(frozen=True)
class TrafficProfile:
    """A month of the service's traffic, with the incidents the monitoring is there for.
    Defaults: a mid-size service; `FIELD_HELP` says what each field stands for."""

    sessions_per_day: float = 200
    session_minutes: float = 30
    listeners_per_session: float = 5
    speakers_per_session: float = 1
    audio_chunks_per_second: float = 10
    control_messages_per_session: float = 4
    status_queries_per_listener: float = 1
    traffic_hours_per_day: float = 24
    incidents_per_month: float = 2
    incident_hours: float = 1
    warning_episodes_per_month: float = 4
    query_runs_per_incident: float | None = None
    query_window_hours: float = 1
    gb_scanned_per_query: float | None = None
    dashboard_views_per_month: float = 60

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.default is None:  # the optional ones: derived when None
                continue
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ProfileError(f"{f.name} must be a number >= 0, got {value!r}")
            if value != value or value == float("inf"):
                raise ProfileError(f"{f.name} must be finite, got {value!r}")
        if self.traffic_hours_per_day > 24:
            raise ProfileError(
                f"traffic_hours_per_day must be at most 24, got {self.traffic_hours_per_day:g}"
            )
        if self.incidents_per_month * self.incident_hours > HOURS_PER_MONTH:
            raise ProfileError(
                f"{self.incidents_per_month:g} incidents of {self.incident_hours:g} h do not fit "
                f"in a month of {HOURS_PER_MONTH:g} h"
            )

    @property
    def sessions_per_month(self) -> float:
        return self.sessions_per_day * DAYS_PER_MONTH

    @property
    def traffic_hours_per_month(self) -> float:
        return self.traffic_hours_per_day * DAYS_PER_MONTH

    @property
    def incident_hours_per_month(self) -> float:
        return self.incidents_per_month * self.incident_hours

    def describe(self) -> list[str]:
        return [
            f"{f.name.replace('_', ' ')}: {_number(getattr(self, f.name))}" for f in fields(self)
        ]


FIELD_HELP: dict[str, str] = {
    "sessions_per_day": "broadcast sessions a day",
    "session_minutes": "how long a session streams audio",
    "listeners_per_session": "listeners following each session",
    "speakers_per_session": "speakers streaming audio in a session",
    "audio_chunks_per_second": "sendAudio messages a second per speaker (100 ms chunks, as "
    "the clients and the local run send)",
    "control_messages_per_session": "control messages a session's speaker sends (pause, "
    "resume, ..., one endSession)",
    "status_queries_per_listener": "getSessionStatus requests per listener and session",
    "traffic_hours_per_day": "hours a day with sessions: the hours the traffic series are "
    "billed for",
    "incidents_per_month": "incidents a month (each pages once: composite ALARM and OK)",
    "incident_hours": "hours an incident lasts: the hours its failure-only series are billed",
    "warning_episodes_per_month": "warning alarms going into ALARM and back to OK a month",
    "query_runs_per_incident": "saved Logs Insights query runs per incident (default: each "
    "saved query of the template once)",
    "query_window_hours": "hours of logs one saved-query run scans",
    "gb_scanned_per_query": "GB one saved-query run scans (default: its log groups' data over "
    "query_window_hours at the traffic hours' rate)",
    "dashboard_views_per_month": "dashboard loads a month: each runs every Logs Insights "
    "widget over the dashboard's time range",
}


class ProfileError(ValueError):
    """A traffic profile that cannot describe a month."""


def _number(value: float | None) -> str:
    return "default" if value is None else f"{value:,.6g}"


def requests_per_month(profile: TrafficProfile) -> dict[str, float]:
    """WebSocket requests a month by route key. Control messages: one endSession per session
    if any, the rest spread evenly over the other control actions."""
    sessions = profile.sessions_per_month
    clients = profile.speakers_per_session + profile.listeners_per_session
    control = profile.control_messages_per_session
    ends = min(control, 1.0)
    others = [a for a in CONTROL_ACTIONS if a != END_SESSION]
    out = {
        CONNECT: sessions * clients,
        DISCONNECT: sessions * clients,
        GET_SESSION_STATUS: sessions
        * profile.listeners_per_session
        * profile.status_queries_per_listener,
        SEND_AUDIO: sessions
        * profile.speakers_per_session
        * profile.session_minutes
        * 60
        * profile.audio_chunks_per_second,
        END_SESSION: sessions * ends,
    }
    for action in others:
        out[action] = sessions * (control - ends) / len(others)
    return out


class RoutingError(ValueError):
    """The profile has traffic for a route the template does not route to a function."""


def invocations_per_month(
    profile: TrafficProfile, inventory: Inventory
) -> tuple[dict[str, float], dict[str, float]]:
    """(invocations a month per function logical id, WebSocket requests a month per route):
    every request invokes the function its route targets; schedules add theirs."""
    requests = requests_per_month(profile)
    unrouted = sorted(r for r, n in requests.items() if n > 0 and r not in inventory.routes)
    if unrouted:
        raise RoutingError(f"no function in the template serves route(s) {', '.join(unrouted)}")
    invocations = {fn: inventory.scheduled.get(fn, 0.0) for fn in inventory.functions}
    for route, count in requests.items():
        function = inventory.routes.get(route)
        if function is not None:
            invocations[function] = invocations.get(function, 0.0) + count
    return invocations, requests


def routes_of(inventory: Inventory) -> Mapping[str, tuple[str, ...]]:
    """Function logical id -> the route keys it serves."""
    out: dict[str, tuple[str, ...]] = {}
    for route, function in inventory.routes.items():
        out[function] = (*out.get(function, ()), route)
    return out
