"""What a local run calls the stack's resources.

The synthesized template names its functions, tables, topics, API and log groups by resource
references (tokens, see `local_run.cloudwatch.intrinsics`); a local run gives them these names
instead, and `local_run.simulation.stack_alarms` maps the tokens to them. A backend other than the
in-process emulator names its tables per run instead
(`local_run.simulation.backend.Backend.remote`).
"""

from __future__ import annotations

from infra.alarm_vocabulary import Severity
from session_management.store import TableNames

STACK_NAME = "ws-local"
TABLES = TableNames(
    sessions="local-sessions", connections="local-connections", rate_limits="local-rl"
)
# What the local API Gateway stage is called in the AWS/ApiGateway dimensions.
LOCAL_API_ID = "local-websocket-api"
LOCAL_STAGE = "prod"


def function_name(stack_name: str, label: str) -> str:
    """The FunctionName a function gets locally (and the backtest's default for a stack)."""
    return f"{stack_name}-{label}"


def log_group_name(function_name: str) -> str:
    """The log group of a local function (Lambda's default name for a function's logs)."""
    return f"/aws/lambda/{function_name}"


def local_topic_name(stack_name: str, severity: Severity) -> str:
    return f"{stack_name}-{severity.value}-alarms"
