"""The defaults session-management/README.md promises (its Configuration table), as literals;
the rate limits it links to are websocket-service's (tested there)."""

from __future__ import annotations

from session_management.store import TableNames


def test_table_names_are_as_documented() -> None:
    assert TableNames.from_env({}) == TableNames("ws-sessions", "ws-connections", "ws-rate-limits")
