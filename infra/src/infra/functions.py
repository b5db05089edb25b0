"""The Lambda functions, as data: handler, routes, zip, and exactly what each may touch.

The DynamoDB actions per table follow what each handler's code calls (see
`session_management.store` and `websocket_service.rate_limit`); a test
drives the real handlers and checks every DynamoDB call they make against these grants.
Transactions need the IAM action of each item (a ``Put`` needs ``PutItem``, a
``ConditionCheck`` needs ``ConditionCheckItem``): there is no IAM action for
TransactWriteItems itself.

Code: ``./pants package ::`` writes one zip per `python_awslambda` target to
``dist/<BUILD directory with / as .>/<target name>.zip``; `code_from_dist` finds them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aws_cdk import aws_lambda as lambda_

from audio_transcription.handlers import audio_processor
from audio_transcription.routes import SEND_AUDIO
from infra.services import AUDIO_TRANSCRIPTION, SESSION_MANAGEMENT, MonitoredService
from session_management import store
from session_management.handlers import connection, session_status
from session_management.routes import CONTROL_ACTIONS, GET_SESSION_STATUS
from websocket_service.events import CONNECT, DEFAULT, DISCONNECT

# Where Pants's zip layout puts the entry point.
ZIP_HANDLER = "lambda_function.handler"

# How API Gateway picks a route: the "action" field of the message.
ROUTE_SELECTION_EXPRESSION = "$request.body.action"


class Table(enum.Enum):
    """The DynamoDB tables; the value is the environment variable holding the name."""

    SESSIONS = store.SESSIONS_TABLE_ENV
    CONNECTIONS = store.CONNECTIONS_TABLE_ENV
    RATE_LIMITS = store.RATE_LIMIT_TABLE_ENV

    @property
    def label(self) -> str:
        """The table's construct id and alarm scope, e.g. ``RateLimitsTable``."""
        return "".join(part.capitalize() for part in self.name.split("_")) + "Table"


class ConnectionMethod(enum.Enum):
    """Management API calls on a client connection (execute-api:ManageConnections)."""

    POST = "POST"  # post_to_connection: send a message
    DELETE = "DELETE"  # delete_connection: close it (rate limiting)


@dataclass(frozen=True)
class FunctionSpec:
    label: str  # the handler module's name: Handler dimension value and alarm scope
    handler: str  # module:function, for the description
    service: MonitoredService  # whose namespace it publishes to
    dist_dir: str  # dist/ subdirectory of its zip (the BUILD directory, / as .)
    routes: tuple[str, ...]
    dynamodb: Mapping[Table, tuple[str, ...]]  # DynamoDB actions per table
    queries_session_index: bool  # Query on the connections table's bySession index
    connection_methods: tuple[ConnectionMethod, ...]
    timeout: timedelta
    memory_mb: int
    # Reserved concurrency: the function's own share of the account's quota, so that one
    # function's burst cannot starve the others (and the limit its alarm compares with).
    reserved_concurrency: int
    transcribe_streaming: bool = False
    scheduled: bool = False

    @property
    def zip_path(self) -> str:
        return f"{self.dist_dir}/{self.label}.zip"


_SESSION_HANDLERS = "session-management.src.session_management.handlers"
_AUDIO_HANDLERS = "audio-transcription.src.audio_transcription.handlers"

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        label=connection.HANDLER_NAME,
        handler=f"{connection.__name__}:handler",
        service=SESSION_MANAGEMENT,
        dist_dir=_SESSION_HANDLERS,
        # $default too: a message with an unknown action gets the handler's clear 400 and
        # counts as ControlMessagesReceived{ActionType=Other}.
        routes=(CONNECT, DISCONNECT, DEFAULT, *CONTROL_ACTIONS),
        dynamodb={
            # create (transaction: Put), join (transaction: ConditionCheck), read, change
            Table.SESSIONS: ("PutItem", "ConditionCheckItem", "GetItem", "UpdateItem"),
            # register (transaction: Put), look up, forget (also gone listeners)
            Table.CONNECTIONS: ("PutItem", "GetItem", "DeleteItem"),
            Table.RATE_LIMITS: ("UpdateItem",),
        },
        queries_session_index=True,  # the listeners to notify
        connection_methods=(ConnectionMethod.POST, ConnectionMethod.DELETE),
        timeout=timedelta(seconds=29),  # API Gateway's integration timeout
        memory_mb=256,
        reserved_concurrency=50,
    ),
    FunctionSpec(
        label=session_status.HANDLER_NAME,
        handler=f"{session_status.__name__}:handler",
        service=SESSION_MANAGEMENT,
        dist_dir=_SESSION_HANDLERS,
        routes=(GET_SESSION_STATUS,),
        dynamodb={
            # read; list live sessions (periodic update); end an abandoned session
            Table.SESSIONS: ("GetItem", "Scan", "UpdateItem"),
            # who is asking; remove a gone speaker or listener
            Table.CONNECTIONS: ("GetItem", "DeleteItem"),
            Table.RATE_LIMITS: ("UpdateItem",),
        },
        queries_session_index=True,  # listener counts
        connection_methods=(ConnectionMethod.POST, ConnectionMethod.DELETE),
        timeout=timedelta(seconds=55),  # the next scheduled update starts a minute later
        memory_mb=256,
        reserved_concurrency=10,
        scheduled=True,
    ),
    FunctionSpec(
        label=audio_processor.HANDLER_NAME,
        handler=f"{audio_processor.__name__}:handler",
        service=AUDIO_TRANSCRIPTION,
        dist_dir=_AUDIO_HANDLERS,
        routes=(SEND_AUDIO,),
        dynamodb={
            Table.SESSIONS: ("GetItem",),
            Table.RATE_LIMITS: ("UpdateItem",),
        },
        queries_session_index=False,
        connection_methods=(ConnectionMethod.DELETE,),  # closes rate-limit abusers
        timeout=timedelta(seconds=29),
        memory_mb=512,  # audio buffers and the Transcribe SDK (awscrt)
        reserved_concurrency=100,  # a chunk per speaker every 100 ms: the busiest route
        transcribe_streaming=True,
    ),
)


class MissingLambdaZip(FileNotFoundError):
    """A Lambda zip is not where `./pants package ::` writes it."""


def code_from_dist(
    dist: str | Path, functions: tuple[FunctionSpec, ...] = FUNCTIONS
) -> dict[str, lambda_.Code]:
    """Each function's code from the zips Pants built under ``dist``.

    Checked here because `lambda_.Code.from_asset` only fails deep inside jsii with a bare
    "Cannot find asset" once the stack is being built.
    """
    root = Path(dist)
    missing = [str(root / f.zip_path) for f in functions if not (root / f.zip_path).is_file()]
    if missing:
        raise MissingLambdaZip(
            "Lambda zip(s) not found:\n  "
            + "\n  ".join(missing)
            + "\nBuild them with `./pants package ::` (they go to dist/), or point "
            "INFRA_LAMBDA_DIST (or the CDK context value lambdaDist) at the directory that "
            "holds them."
        )
    return {f.label: lambda_.Code.from_asset(str(root / f.zip_path)) for f in functions}


# What synthesis-only users (tests, the local run) deploy instead of the Pants zips.
INLINE_HANDLER = "def handler(event, context):\n    return {'statusCode': 200}\n"


def inline_code(functions: tuple[FunctionSpec, ...] = FUNCTIONS) -> dict[str, lambda_.Code]:
    """A placeholder handler per function: synthesizes the stack without any zip."""
    return {f.label: lambda_.Code.from_inline(INLINE_HANDLER) for f in functions}


def environment_of(
    spec: FunctionSpec, table_names: Mapping[Table, str], metrics_sink: str
) -> dict[str, str]:
    """What a function reads from its environment (table names, metrics configuration)."""
    env = {
        "METRICS_SINK": metrics_sink,
        "METRICS_NAMESPACE": spec.service.namespace,
    }
    env.update({table.value: name for table, name in table_names.items()})
    return env
