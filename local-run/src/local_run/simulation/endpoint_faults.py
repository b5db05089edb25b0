"""What the local run's phases (and tests) switch on in the local WebSocket endpoint: the
failures API Gateway or a deploy can bring that no handler sees (`EndpointFaults`).

- ``refusing``: every upgrade answered 503 before any $connect (a stage that takes no new
  connection; open ones go on).
- ``broken``: routes whose function API Gateway cannot invoke (its permission gone): 500 for
  $connect, ``Internal server error`` for a message, recorded as not invoked.
- ``deleted``: routes a deploy lost: `routes` is the API without them, so their messages go
  to $default or get API Gateway's error, as route selection has it.
- ``delay_seconds``: every request a client waits for ($connect and messages) waits this
  long on the simulated clock before its function runs (a long init, API Gateway, the
  network): outside the function's Duration and timers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from local_run.simulation.websocket_routes import RouteTable


@dataclass
class EndpointFaults:
    deployed: RouteTable  # the routes as the stack deploys them
    refusing: bool = False
    broken: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    delay_seconds: float = 0.0

    @property
    def routes(self) -> RouteTable:
        """The routes API Gateway serves now: the deployed ones less the deleted."""
        routes = self.deployed
        for key in sorted(self.deleted):
            routes = routes.without(key)
        return routes

    def refuse_connections(self, refuse: bool = True) -> None:
        self.refusing = refuse

    def break_route(self, route_key: str, broken: bool = True) -> None:
        self._known(route_key)
        (self.broken.add if broken else self.broken.discard)(route_key)

    def delete_route(self, route_key: str, deleted: bool = True) -> None:
        """The route gone from the API (``deleted=False``: deployed again)."""
        self._known(route_key)
        (self.deleted.add if deleted else self.deleted.discard)(route_key)

    def delay_from_outside(self, seconds: float) -> None:
        if not seconds >= 0:
            raise ValueError(f"the delay must be 0 or more seconds, got {seconds!r}")
        self.delay_seconds = seconds

    def _known(self, route_key: str) -> None:
        if route_key not in self.deployed.routes:
            raise KeyError(
                f"no route {route_key!r}; routes: {', '.join(sorted(self.deployed.routes))}"
            )
