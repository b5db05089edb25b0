"""The WebSocket API's routes as the synthesized template declares them, and the route API
Gateway selects for a message.

`RouteTable.from_template` reads the stack's ``AWS::ApiGatewayV2`` resources: the API's
RouteSelectionExpression, each Route's RouteKey and the Lambda function its integration
invokes, and which routes have a RouteResponse (two-way: the handler's answer goes back to
the client). Nothing here names a route: they come from infra's stack as deployed.

`RouteTable.select` follows the API Gateway developer guide, "Working with routes for
WebSocket APIs" (websocket-api-develop-routes): "(Non-JSON messages are directed to a
`$default` route that you configure.)"; "The service uses the route whose `routeKey`
exactly matches the evaluated value. If none match and a route with the `$default` route key
exists, that route is selected. If no routes match the evaluated value and there is no
`$default` route, the service returns an error."; "If the JSONPath is not found, the
variable is resolved as \"\"."; and "keep in mind that the result will be stringified".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from websocket_service.events import CONNECT, DEFAULT, DISCONNECT

# "For WebSocket-based APIs, the expression should be of the form
# `$request.body.{path_to_body_element}`" (wrapped in ${...} or not).
_EXPRESSION = re.compile(r"\$(?:\{request\.body\.([^{}$]+)\}|request\.body\.([^{}$]+))")
_CONNECTION_EVENTS = (CONNECT, DISCONNECT)


class RouteTableError(ValueError):
    """The template does not describe a WebSocket API this endpoint can serve."""


@dataclass(frozen=True)
class Route:
    key: str
    function: str  # the function label (`infra.functions.FunctionSpec.label`)
    two_way: bool  # a RouteResponse: the handler's answer goes back to the client


@dataclass(frozen=True)
class RouteTable:
    selection_expression: str
    routes: Mapping[str, Route] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _selection_path(self.selection_expression)  # fails now, not on the first message

    @property
    def connect(self) -> Route | None:
        return self.routes.get(CONNECT)

    @property
    def disconnect(self) -> Route | None:
        return self.routes.get(DISCONNECT)

    def select(self, message: str) -> str | None:
        """The route key a client message goes to; None: no route matches and there is no
        $default route (API Gateway answers with an error)."""
        evaluated = evaluate_selection(self.selection_expression, message)
        if (
            evaluated is not None
            and evaluated not in _CONNECTION_EVENTS
            and evaluated in self.routes
        ):
            return evaluated
        return DEFAULT if DEFAULT in self.routes else None

    def without(self, route_key: str) -> RouteTable:
        """The same API with one route deleted."""
        return replace(self, routes={k: r for k, r in self.routes.items() if k != route_key})

    @classmethod
    def from_template(
        cls, template: Mapping[str, Any], function_labels: Mapping[str, str]
    ) -> RouteTable:
        """The routes of the template's one WebSocket API; ``function_labels`` maps each
        Lambda function's logical id to its label."""
        resources: Mapping[str, Any] = template.get("Resources", {})

        def of_type(kind: str) -> dict[str, Mapping[str, Any]]:
            return {
                lid: r.get("Properties", {})
                for lid, r in resources.items()
                if isinstance(r, Mapping) and r.get("Type") == kind
            }

        apis = {
            lid: p
            for lid, p in of_type("AWS::ApiGatewayV2::Api").items()
            if p.get("ProtocolType") == "WEBSOCKET"
        }
        if len(apis) != 1:
            raise RouteTableError(f"expected one WebSocket API in the template, found {len(apis)}")
        api_id, api = next(iter(apis.items()))
        expression = api.get("RouteSelectionExpression")
        if not isinstance(expression, str):
            raise RouteTableError(f"API {api_id} has no RouteSelectionExpression")
        integrations: dict[str, str] = {}
        for lid, props in of_type("AWS::ApiGatewayV2::Integration").items():
            functions = [
                r for r in _references(props.get("IntegrationUri")) if r in function_labels
            ]
            if len(functions) == 1:
                integrations[lid] = function_labels[functions[0]]
        two_way = {
            ref
            for props in of_type("AWS::ApiGatewayV2::RouteResponse").values()
            for ref in _references(props.get("RouteId"))
        }
        routes: dict[str, Route] = {}
        for lid, props in of_type("AWS::ApiGatewayV2::Route").items():
            if api_id not in _references(props.get("ApiId")):
                continue
            key = props.get("RouteKey")
            targets = [r for r in _references(props.get("Target")) if r in integrations]
            if not isinstance(key, str) or len(targets) != 1:
                raise RouteTableError(
                    f"route {lid} ({key!r}) does not target one Lambda integration of a known "
                    f"function (known: {', '.join(sorted(function_labels.values()))})"
                )
            routes[key] = Route(key, integrations[targets[0]], lid in two_way)
        return cls(expression, routes)


def evaluate_selection(expression: str, message: str) -> str | None:
    """The route selection expression evaluated against a message; None if it cannot be
    evaluated (the message is not JSON)."""
    path = _selection_path(expression)
    try:
        value: Any = json.loads(message)
    except (ValueError, RecursionError):
        return None
    for step in path:
        if not isinstance(value, dict) or step not in value:
            return ""  # "If the JSONPath is not found, the variable is resolved as \"\"."
        value = value[step]
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))  # "the result will be stringified"


def _selection_path(expression: str) -> tuple[str, ...]:
    match = _EXPRESSION.fullmatch(expression.strip())
    if match is None:
        raise RouteTableError(
            f"unsupported RouteSelectionExpression {expression!r}: this endpoint evaluates "
            "one variable of the form $request.body.<path> or ${request.body.<path>}"
        )
    return tuple((match.group(1) or match.group(2)).split("."))


def _references(value: object) -> list[str]:
    """The logical ids a template value refers to (Ref and Fn::GetAtt), wherever nested."""
    found: list[str] = []
    if isinstance(value, Mapping):
        if isinstance(value.get("Ref"), str):
            found.append(value["Ref"])
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and isinstance(attribute[0], str):
            found.append(attribute[0])
        for inner in value.values():
            found.extend(_references(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(_references(inner))
    return found
