"""The spec module is the single source of truth: names, units and series as the issue
requires, and a dimension policy that no client input can turn into a cost bomb."""

from __future__ import annotations

import pytest
from hypothesis import find, given
from hypothesis import strategies as st

from session_management import metrics_spec
from shared_metrics import MetricSpec, Unit
from websocket_service import specs as common_specs
from websocket_service.specs import OTHER, closed

REQUIRED = {
    "ControlMessagesReceived": (Unit.COUNT, [(), ("ActionType",)]),
    "ControlMessageLatency": (Unit.MILLISECONDS, [()]),
    "ListenerNotificationLatency": (Unit.MILLISECONDS, [()]),
    "ListenersNotified": (Unit.COUNT, [()]),
    "ListenerNotificationFailures": (Unit.COUNT, [(), ("ErrorType",)]),
    "StatusQueriesReceived": (Unit.COUNT, [()]),
    "StatusQueryLatency": (Unit.MILLISECONDS, [()]),
    "PeriodicStatusUpdatesSent": (Unit.COUNT, [()]),
    "RateLimitViolations": (Unit.COUNT, [(), ("MessageType",)]),
    "ConnectionsClosedForRateLimit": (Unit.COUNT, [()]),
    "LambdaErrors": (Unit.COUNT, [(), ("Handler",), ("Handler", "ErrorType")]),
    # The heartbeat of each function's metrics pipeline.
    "HandlerInvocations": (Unit.COUNT, [(), ("Handler",)]),
    # What the stage's alarm subtracts from API Gateway's error counts.
    "ErrorResponses": (Unit.COUNT, [(), ("Handler",)]),
    "DynamoDBErrors": (Unit.COUNT, [(), ("Operation", "ErrorCode")]),
}

# Every dimension and the closed set its values come from.
CLOSED_SETS = {
    "ActionType": metrics_spec.ACTION_TYPES,
    "ErrorType": metrics_spec.NOTIFICATION_ERROR_TYPES,
    "Reason": metrics_spec.CONTROL_REJECTION_REASONS,
    "MessageType": common_specs.MESSAGE_TYPES,
    "Handler": metrics_spec.HANDLERS,
    "Operation": common_specs.DYNAMODB_OPERATIONS,
    "ErrorCode": common_specs.DYNAMODB_ERROR_CODES,
}


def test_namespace() -> None:
    assert metrics_spec.NAMESPACE == "SessionManagement/WebSocket"


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_required_metric_is_declared_as_specified(name: str) -> None:
    specs = {spec.name: spec for spec in metrics_spec.SPECS}
    unit, sets = REQUIRED[name]
    assert specs[name].unit is unit
    assert list(specs[name].dimension_sets) == sets


def test_specs_are_unique_and_described() -> None:
    names = [spec.name for spec in metrics_spec.SPECS]
    assert len(names) == len(set(names))
    assert all(isinstance(spec, MetricSpec) and spec.description for spec in metrics_spec.SPECS)


def test_every_metric_has_the_aggregate_series_and_no_id_dimensions() -> None:
    for spec in metrics_spec.SPECS:
        assert () in spec.dimension_sets, spec.name
        for key in spec.dimension_keys:
            assert key in CLOSED_SETS, f"{spec.name}: dimension {key} is not from a closed set"
            assert "Id" not in key, f"{spec.name}: {key} looks like a per-session dimension"


def test_alarmed_specs() -> None:
    assert {spec.name for spec in metrics_spec.ALARMED} == {
        "ControlMessageLatency",
        "ListenerNotificationFailures",
        "RateLimitViolations",
        "DynamoDBErrors",
        "ConnectionsClosedForRateLimit",
    }
    assert set(metrics_spec.ALARMED) <= set(metrics_spec.SPECS)


def test_common_specs_are_declared_once() -> None:
    for spec in common_specs.COMMON_SPECS:
        assert spec in metrics_spec.SPECS  # the very same object, not a copy


@pytest.mark.parametrize("dimension", sorted(CLOSED_SETS))
def test_closed_sets_end_in_other(dimension: str) -> None:
    allowed = CLOSED_SETS[dimension]
    assert OTHER in allowed and len(set(allowed)) == len(allowed)


# Both sides: members of the closed sets as well as anything else.
MEMBERS = sorted({v for allowed in CLOSED_SETS.values() for v in allowed})
closed_inputs = st.one_of(
    st.sampled_from(MEMBERS),
    st.text(max_size=40),
    st.none(),
    st.integers(),
    st.binary(max_size=8),
)


@pytest.mark.parametrize("member", [True, False])
def test_the_strategy_produces_members_and_strangers(member: bool) -> None:
    find(closed_inputs, lambda v: any(v in a for a in CLOSED_SETS.values()) is member)


@given(closed_inputs)
def test_closed_maps_anything_unknown_to_other(value: object) -> None:
    for allowed in CLOSED_SETS.values():
        result = closed(value, allowed)
        assert result in allowed
        assert result == (value if value in allowed else OTHER)


def test_each_handler_records_under_a_name_of_the_services_handlers() -> None:
    # A handler named outside HANDLERS would be recorded as Other, and its per-function
    # error-rate alarm (LambdaErrors by Handler) would see nothing.
    from session_management.handlers import connection, session_status

    assert {connection.HANDLER_NAME, session_status.HANDLER_NAME} == set(metrics_spec.HANDLERS) - {
        OTHER
    }
