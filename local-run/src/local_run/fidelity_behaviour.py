"""One row of the fidelity table (`local_run.fidelity`): a behaviour of AWS the local run
reproduces, the page and sentence it follows, and the tests that hold it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Behaviour:
    """One behaviour of AWS the model reproduces."""

    what: str  # the behaviour, in the model's terms
    url: str  # the AWS documentation page
    sentence: str  # the sentence it follows, quoted; "" where AWS documents nothing
    modelled_in: str  # module (and symbol) that reproduces it
    tests: tuple[str, ...]  # test node ids that hold it
    metrics: tuple[str, ...] = ()  # the AWS metrics it publishes (namespace/name)
    readings: str = ""  # where AWS is silent: the readings the alarms hold under
