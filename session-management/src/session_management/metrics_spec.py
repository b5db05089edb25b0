"""Every metric of `SessionManagement/WebSocket`: the single place its name, unit and series
are written. The emitter (`session_management.metrics`), the alarms and the dashboard read it.

Dimension policy: each metric publishes the aggregate series (no dimensions), which is what
alarms watch; a low-cardinality dimension from a closed set adds one more series. Session and
connection ids never become dimensions: they travel as EMF log properties.
"""

from __future__ import annotations

from session_management.routes import CONTROL_ACTIONS
from shared_metrics import MetricSpec, Unit
from websocket_service.management_api import NOTIFICATION_ERROR_TYPES
from websocket_service.specs import (
    COMMON_ALARMED,
    COMMON_SPECS,
    CONNECTIONS_CLOSED_FOR_RATE_LIMIT,
    DYNAMODB_ERRORS,
    LAMBDA_ERRORS,
    OTHER,
    RATE_LIMIT_VIOLATIONS,
    closed,
)

NAMESPACE = "SessionManagement/WebSocket"

# -- closed sets ----------------------------------------------------------------------------

# The Lambda functions of this service (their handler modules), for LambdaErrors.
HANDLERS = ("connection", "session_status", OTHER)

# Control actions a speaker may send (the WebSocket route keys / "action" values).
ACTION_TYPES = (*CONTROL_ACTIONS, OTHER)

# Why a control message was refused.
CONTROL_REJECTION_REASONS = (
    "UnknownAction",
    "InvalidPayload",
    "NotSpeaker",
    "SessionNotFound",
    "SessionEnded",
    OTHER,
)

# -- specs ------------------------------------------------------------------------------------

CONTROL_MESSAGES_RECEIVED = MetricSpec(
    "ControlMessagesReceived",
    Unit.COUNT,
    [[], ["ActionType"]],
    "Control messages received, refused ones included (unknown actions count as Other).",
)
CONTROL_MESSAGES_REJECTED = MetricSpec(
    "ControlMessagesRejected",
    Unit.COUNT,
    [[], ["Reason"]],
    "Control messages refused with a 4xx (not the speaker, bad payload, unknown session...).",
)
CONTROL_MESSAGE_LATENCY = MetricSpec(
    "ControlMessageLatency",
    Unit.MILLISECONDS,
    [[]],
    "Time to apply a control message: state update plus notifying every listener.",
)
LISTENER_NOTIFICATION_LATENCY = MetricSpec(
    "ListenerNotificationLatency",
    Unit.MILLISECONDS,
    [[]],
    "Time of one post_to_connection to one listener, successful or not.",
)
LISTENERS_NOTIFIED = MetricSpec(
    "ListenersNotified",
    Unit.COUNT,
    [[]],
    "Notifications delivered to listeners.",
)
LISTENER_NOTIFICATION_FAILURES = MetricSpec(
    "ListenerNotificationFailures",
    Unit.COUNT,
    [[], ["ErrorType"]],
    "Notifications that did not reach a listener (Gone: the listener was removed).",
)
STATUS_QUERIES_RECEIVED = MetricSpec(
    "StatusQueriesReceived",
    Unit.COUNT,
    [[]],
    "getSessionStatus requests received, refused ones included.",
)
STATUS_QUERY_LATENCY = MetricSpec(
    "StatusQueryLatency",
    Unit.MILLISECONDS,
    [[]],
    "Time to answer a getSessionStatus request.",
)
PERIODIC_STATUS_UPDATES_SENT = MetricSpec(
    "PeriodicStatusUpdatesSent",
    Unit.COUNT,
    [[]],
    "Scheduled status updates delivered to speakers.",
)

SPECS = (
    CONTROL_MESSAGES_RECEIVED,
    CONTROL_MESSAGES_REJECTED,
    CONTROL_MESSAGE_LATENCY,
    LISTENER_NOTIFICATION_LATENCY,
    LISTENERS_NOTIFIED,
    LISTENER_NOTIFICATION_FAILURES,
    STATUS_QUERIES_RECEIVED,
    STATUS_QUERY_LATENCY,
    PERIODIC_STATUS_UPDATES_SENT,
    *COMMON_SPECS,
)

# The specs the CloudWatch alarms watch (on their aggregate series).
ALARMED = (
    CONTROL_MESSAGE_LATENCY,
    LISTENER_NOTIFICATION_FAILURES,
    *COMMON_ALARMED,
)

__all__ = [
    "ACTION_TYPES",
    "ALARMED",
    "CONNECTIONS_CLOSED_FOR_RATE_LIMIT",
    "CONTROL_MESSAGES_RECEIVED",
    "CONTROL_MESSAGES_REJECTED",
    "CONTROL_MESSAGE_LATENCY",
    "CONTROL_REJECTION_REASONS",
    "DYNAMODB_ERRORS",
    "LAMBDA_ERRORS",
    "LISTENERS_NOTIFIED",
    "LISTENER_NOTIFICATION_FAILURES",
    "LISTENER_NOTIFICATION_LATENCY",
    "NAMESPACE",
    "NOTIFICATION_ERROR_TYPES",
    "PERIODIC_STATUS_UPDATES_SENT",
    "RATE_LIMIT_VIOLATIONS",
    "SPECS",
    "STATUS_QUERIES_RECEIVED",
    "STATUS_QUERY_LATENCY",
    "closed",
]
