"""What a local WebSocket endpoint asked of its functions: each request with its event and
answer, for tests and the local run to decide on events instead of waiting for time."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Dispatch:
    """One request API Gateway made, or would have made, of a route's function."""

    route_key: str
    connection_id: str
    event: dict[str, Any]
    invoked: bool  # False: the route is broken
    status: int | None = None
    response: dict[str, Any] | None = None


class DispatchLog:
    """The last ``size`` dispatches, oldest first; `wait_for` blocks until one matches."""

    def __init__(self, size: int = 10_000) -> None:
        self._dispatches: collections.deque[Dispatch] = collections.deque(maxlen=size)
        self._changed = threading.Condition()

    def record(self, dispatch: Dispatch) -> None:
        with self._changed:
            self._dispatches.append(dispatch)
            self._changed.notify_all()

    def __iter__(self) -> Iterator[Dispatch]:
        with self._changed:
            return iter(list(self._dispatches))

    def wait_for(self, predicate: Callable[[Dispatch], bool], timeout: float = 60.0) -> Dispatch:
        """The first dispatch (so far, or to come within ``timeout`` s) ``predicate`` holds for."""
        found: list[Dispatch] = []

        def seen() -> bool:
            found[:] = [d for d in self._dispatches if predicate(d)][:1]
            return bool(found)

        with self._changed:
            if not self._changed.wait_for(seen, timeout):
                raise TimeoutError(f"no such request to a function within {timeout:g} s")
        return found[0]
