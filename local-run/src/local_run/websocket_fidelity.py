"""The fidelity table's rows for the local WebSocket endpoint
(`local_run.simulation.websocket_endpoint`): each rule of API Gateway's WebSocket APIs it follows,
with the developer guide's page and sentence (or the Management API's reference), and the
real-client tests that hold it.
`local_run.fidelity` appends them to its table."""

from __future__ import annotations

from local_run.fidelity_behaviour import Behaviour

GUIDE = "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
ROUTES = GUIDE + "websocket-api-develop-routes.html"
CONNECT_DISCONNECT = GUIDE + "apigateway-websocket-api-route-keys-connect-disconnect.html"
SUBPROTOCOL = GUIDE + "websocket-connect-route-subprotocol.html"
INTEGRATION_RESPONSES = GUIDE + "apigateway-websocket-api-integration-responses.html"
CONTEXT_VARIABLES = GUIDE + "apigateway-websocket-api-mapping-template-reference.html"
QUOTAS = GUIDE + "limits.html"
INTEGRATIONS = GUIDE + "apigateway-websocket-api-routes-integrations.html"
CONNECTIONS = GUIDE + "apigateway-how-to-call-websocket-api-connections.html"
PROTECT = GUIDE + "websocket-api-protect.html"
# The Management API's reference (what boto3's documentation links as "AWS API Documentation").
MANAGEMENT_API = "https://docs.aws.amazon.com/goto/WebAPI/apigatewaymanagementapi-2018-11-29/"

T = "local-run/tests/local_run_tests/"
E = T + "test_websocket_endpoint.py::"
R = T + "test_websocket_routes.py::"
MANAGED = E + "test_boto3s_management_client_posts_gets_and_deletes_and_gone_is_410"
FLOOD = E + "test_a_flooding_client_is_refused_then_closed"
EVENTS = E + "test_the_events_have_api_gateways_fields_and_the_handlers_parse_them"
LIMITS = E + "test_an_idle_or_too_old_connection_is_closed_and_disconnected"

WEBSOCKET_ENDPOINT: tuple[Behaviour, ...] = (
    Behaviour(
        "WebSocket route selection: the route whose key the action names, else $default, "
        "else an error to the client",
        ROUTES,
        "The service uses the route whose `routeKey` exactly matches the evaluated value. If "
        "none match and a route with the `$default` route key exists, that route is selected. "
        "If no routes match the evaluated value and there is no `$default` route, the service "
        "returns an error.",
        "local_run.simulation.websocket_routes.RouteTable.select",
        (
            R + "test_a_json_message_goes_to_the_route_its_action_names",
            R + "test_an_action_no_route_has_goes_to_default_or_is_an_error_without_one",
            E + "test_messages_go_to_the_route_their_action_names_and_the_rest_to_default",
            E + "test_without_a_default_route_an_unmatched_message_gets_an_error_from_api_gateway",
        ),
        readings='the error\'s text is not documented: {"message": "Forbidden", '
        '"connectionId", "messageId"}, the shape of the documented validation failure',
    ),
    Behaviour(
        "WebSocket route selection: a message that is not JSON goes to $default; a JSONPath "
        'not found is ""',
        ROUTES,
        "(Non-JSON messages are directed to a `$default` route that you configure.)",
        "local_run.simulation.websocket_routes.evaluate_selection",
        (
            R + "test_a_message_that_is_not_json_goes_to_default",
            R + "test_json_that_is_not_an_object_has_no_action_and_goes_to_default",
            R + "test_the_guides_expression_table",
        ),
    ),
    Behaviour(
        "WebSocket route responses: a route with one sends the function's body to the client, "
        "a route without one sends nothing (the routes read from the synthesized template)",
        INTEGRATION_RESPONSES,
        "If a route is configured for one-way communication, then regardless of any "
        "integration response configuration, no response will be returned over the WebSocket "
        "channel after the message is processed.",
        "local_run.simulation.websocket_endpoint.WebSocketEndpoint._on_message, "
        "local_run.simulation.websocket_routes.RouteTable.from_template",
        (
            E + "test_a_route_without_a_route_response_sends_the_client_nothing",
            E + "test_listeners_hear_the_speakers_controls_and_the_end_of_the_session",
            R + "test_the_template_routes_every_functions_routes_to_it_and_answers_on_message_"
            "routes",
        ),
    ),
    Behaviour(
        "$connect: the upgrade waits for the function; a refusal or a failure makes no "
        "connection (and no $disconnect follows)",
        CONNECT_DISCONNECT,
        "If the `$connect` request fails (e.g., due to `AuthN`/`AuthZ` failure or an "
        "integration failure), the connection will not be made.",
        "local_run.simulation.websocket_endpoint.WebSocketEndpoint._handshake",
        (
            E + "test_a_refused_connect_gives_the_client_the_handlers_status_and_makes_no_"
            "connection",
            E + "test_a_refusing_endpoint_and_a_broken_connect_route_refuse_every_upgrade",
        ),
    ),
    Behaviour(
        "$connect refused: the client's upgrade request is answered with the function's status",
        SUBPROTOCOL,
        "the Lambda integration returns a 400 error, and the connection is unsuccessful.",
        "local_run.simulation.websocket_endpoint.WebSocketEndpoint._handshake",
        (
            E + "test_a_refused_connect_gives_the_client_the_handlers_status_and_makes_no_"
            "connection",
        ),
        readings="a function that fails answers 502 (an exception) or 504 (a timeout), a route "
        "API Gateway cannot invoke 500: REST APIs' codes, not documented for WebSocket APIs",
    ),
    Behaviour(
        "$disconnect after every close: by the client, a DeleteConnection, the idle timeout, "
        "the duration limit, a message over the quotas, a binary frame, the endpoint stopping",
        CONNECT_DISCONNECT,
        "The `$disconnect` route is executed after the connection is closed. The connection can "
        "be closed by the server or by the client.",
        "local_run.simulation.websocket_endpoint.WebSocketEndpoint._serve_client",
        (
            E + "test_a_closed_listener_is_forgotten_and_a_leaving_speaker_ends_the_session",
            EVENTS,
            LIMITS,
            MANAGED,
            E + "test_stopping_the_endpoint_closes_every_connection_and_sends_their_disconnects",
            E + "test_a_client_lost_during_its_upgrade_still_gets_its_disconnect",
        ),
        readings="requestContext.disconnectStatusCode and disconnectReason are not documented "
        "(reported from real events): the close frame's code and reason, 1000 for a "
        "DeleteConnection, 1001 for a limit or a stop, 1006 without a close frame (also for a "
        "client lost during its upgrade, after its $connect)",
    ),
    Behaviour(
        "The Lambda proxy event: requestContext with connectionId, routeKey, eventType, "
        "messageId (messages only), domainName, stage, apiId, requestId, requestTimeEpoch, "
        "connectedAt, identity.sourceIp; $connect's headers and query string",
        CONTEXT_VARIABLES,
        "A unique server-side ID for a message. Available only when the `$context.eventType` "
        "is `MESSAGE`.",
        "local_run.simulation.websocket_events.connect_event, "
        "local_run.simulation.websocket_events.message_event",
        (
            EVENTS,
            R + "test_the_connect_event_carries_the_query_as_the_handlers_read_it",
            R + "test_a_message_event_carries_the_body_as_sent_and_a_message_id",
        ),
        readings="the $connect event's headers, multiValueHeaders, queryStringParameters and "
        "multiValueQueryStringParameters follow the guide's WebSocket REQUEST authorizer input "
        "(a repeated name: its last value in the single-value map)",
    ),
    Behaviour(
        "Frames over 32 KB and messages over 128 KB close the connection with 1009",
        QUOTAS,
        "If a larger message (or larger frame size) is received, the connection is closed with "
        "code 1009.",
        "local_run.simulation.websocket_endpoint.WebSocketEndpoint._main",
        (
            E + "test_a_frame_over_32_kb_or_a_message_over_128_kb_closes_the_connection_with_1009",
            E + "test_the_speakers_audio_reaches_the_transcriber_and_a_listeners_is_refused",
        ),
        readings="KB read as 1024 bytes (the Management API's Data blob is at most 131072)",
    ),
    Behaviour(
        "A binary frame closes the connection with 1003",
        INTEGRATIONS,
        "If a binary frame is received, the connection is closed with code 1003.",
        "local_run.simulation.websocket_endpoint.WebSocketEndpoint._serve_client",
        (E + "test_a_binary_frame_closes_the_connection_with_1003",),
    ),
    Behaviour(
        "Idle connections close after 10 minutes without a message either way",
        QUOTAS,
        "Idle Connection Timeout ... 10 minutes",
        "local_run.simulation.websocket_limits.expiry",
        (
            LIMITS,
            R + "test_activity_moves_the_idle_timeout_not_the_duration_limit",
            R + "test_a_connection_ends_at_the_earlier_of_its_idle_timeout_and_its_duration_limit",
        ),
        readings="what counts as activity is not documented: a data message from the client or "
        "posted to it, not a ping; the close code (1001) and reason are not documented either",
    ),
    Behaviour(
        "Connections close at 2 hours, active or not",
        QUOTAS,
        "Connection duration for WebSocket API ... 2 hours",
        "local_run.simulation.websocket_limits.expiry",
        (LIMITS, R + "test_activity_moves_the_idle_timeout_not_the_duration_limit"),
        readings="the close code (1001) and reason are not documented",
    ),
    Behaviour(
        "@connections POST delivers the data to the client as a message; GET answers the "
        "connection's information; DELETE disconnects it",
        CONNECTIONS,
        "Your backend service can use the following WebSocket connection HTTP requests to send "
        "a callback message to a connected client, get connection information, or disconnect "
        "the client.",
        "local_run.simulation.connections_api.ConnectionsApi.handle",
        (MANAGED, E + "test_listeners_hear_the_speakers_controls_and_the_end_of_the_session"),
    ),
    Behaviour(
        "@connections GET: connectedAt, identity (sourceIp, userAgent), lastActiveAt",
        MANAGEMENT_API + "GetConnection",
        "The time in ISO 8601 format for when the connection was last active.",
        "local_run.simulation.websocket_endpoint.WebSocketEndpoint.info",
        (MANAGED,),
        readings="lastActiveAt moves with every message from or to the client",
    ),
    Behaviour(
        "@connections DELETE closes the connection and $disconnect follows; the handlers' "
        "rate limiting closes a flooding client this way",
        CONNECT_DISCONNECT,
        "The backend can initiate disconnection by using the `@connections` API.",
        "local_run.simulation.websocket_endpoint.WebSocketEndpoint.delete",
        (MANAGED, FLOOD),
        readings="the close code is 1000 (reported: DeleteConnection closes with 1000); a "
        "deleted connection gets no message after it",
    ),
    Behaviour(
        "@connections on a connection that is closed or never was: 410 GoneException",
        MANAGEMENT_API + "PostToConnection",
        "The connection with the provided id no longer exists.",
        "local_run.simulation.connections_api.ConnectionsApi.handle",
        (MANAGED,),
    ),
    Behaviour(
        "@connections POST of more than 128 KB: 413 PayloadTooLargeException",
        MANAGEMENT_API + "PostToConnection",
        "The data has exceeded the maximum size allowed.",
        "local_run.simulation.connections_api.ConnectionsApi.handle",
        (MANAGED,),
    ),
    Behaviour(
        "Stage throttling: a token bucket of infra's rate and burst; beyond it 429 for an "
        'upgrade, "Too Many Requests" for a message',
        PROTECT,
        "Clients may receive `429 Too Many Requests` error responses at this point.",
        "local_run.simulation.websocket_limits.TokenBucket",
        (
            E + "test_past_the_stages_burst_api_gateway_answers_429",
            R + "test_the_token_bucket_lets_a_burst_through_then_the_rate",
        ),
        readings="the message's text is not documented; a throttled request is not counted in "
        "AWS/ApiGateway (the platform model has no outcome for API Gateway's own 4XX)",
    ),
)
