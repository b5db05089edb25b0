"""The Lambda context object a local invocation gets, as the Python runtime passes it.

AWS Lambda developer guide, "Using the Lambda context object to retrieve Python function
information" (https://docs.aws.amazon.com/lambda/latest/dg/python-context.html): the context has
``function_name``, ``function_version``, ``invoked_function_arn``, ``memory_limit_in_mb``,
``aws_request_id``, ``log_group_name``, ``log_stream_name`` and ``get_remaining_time_in_millis()``,
"the number of milliseconds left before the execution times out". Here the remaining time is on the
simulated invocation timer (`local_run.simulation.sim_clock.SimClock.timer`), so the metrics
library's deadline flush, armed from it, fires when the simulated invocation nears its timeout, as
it would deployed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from local_run.simulation.sim_clock import SimClock

ACCOUNT = "123456789012"  # the emulator's account


@dataclass(frozen=True)
class LocalLambdaContext:
    function_name: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    region: str
    timeout_seconds: float
    clock: SimClock = field(repr=False)
    started: float  # the clock's timer when the invocation started
    function_version: str = "$LATEST"
    identity: None = None
    client_context: None = None

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = self.clock.timer() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


def request_id(serial: int) -> str:
    """A request id in Lambda's UUID form, the same for the same invocation of a run."""
    return str(uuid.UUID(int=serial, version=4))
