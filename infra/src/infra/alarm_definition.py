"""What an alarm is made of: a definition (one row of `alarm_table.ALARMS`), the source it
reads (`MetricSource`, the interface every kind of source implements), and a definition
placed on one scope (`PlannedAlarm`), with its description.

A description reads ``<Severity>: <condition>. <meaning> First check: <runbook>``, then the
drill-down rule and query to open (`drilldown.drilldown_text`). The condition is spelled out
from the alarm as placed (the namespace, function or resource, the resolved threshold and the
window in words), so a page says what breached without opening the console.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from infra.alarm_scopes import AlarmTargets, MonitoredFunction, Resources, Scope
from infra.alarm_vocabulary import MissingData, Severity, Window
from infra.drilldown import drilldown_text
from infra.services import MonitoredService
from shared_metrics import MetricSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from aws_cdk import Duration
    from aws_cdk import aws_cloudwatch as cw

# CloudWatch's limit for an alarm description.
MAX_DESCRIPTION_CHARS = 1024

# (namespace, metric name, dimension names): one CloudWatch series.
Series = tuple[str, str, tuple[str, ...]]


class AlarmPlanError(ValueError):
    """The alarm table and the spec modules (or the resources it is placed on) disagree."""


class DashboardRow(enum.Enum):
    """Where the dashboard draws what an alarm reads."""

    SERVICES = "the service rows, by spec"
    REACHABILITY = "the canary's row, first"
    PLATFORM = "the platform rows, last"


class MetricSource(abc.ABC):
    """What an alarm watches. Each kind of source is a subclass that holds everything that
    depends on the kind: where its alarms are placed (`scopes`), what their descriptions
    say it is (`condition`), how its threshold reads (`unit_suffix`), the CloudWatch metric
    or metric math the alarm evaluates and the dashboard draws (`metric`), and the README's
    words for it. A new kind is a new subclass and its rows in the table."""

    dashboard_row: ClassVar[DashboardRow] = DashboardRow.PLATFORM

    @property
    def specs(self) -> tuple[MetricSpec, ...]:
        """The services' specs it reads on their aggregate series."""
        return ()

    @property
    def unit_suffix(self) -> str:
        """How the threshold reads: ``100 ms``, ``5 %``, ``10``."""
        return ""

    @abc.abstractmethod
    def scopes(self, resources: Resources, services: Sequence[MonitoredService]) -> list[Scope]:
        """Where its alarms go: one per scope."""

    def missing(self) -> str:
        """Why there is no scope for it."""
        return f"no resource of its kind was given ({type(self).__name__})"

    def threshold(self, definition: AlarmDefinition, scope: Scope) -> float:
        return definition.threshold

    def window(self, definition: AlarmDefinition, resources: Resources) -> Window | None:
        """The window as placed, where it is not the definition's."""
        return None

    def watched_series(self, planned: PlannedAlarm) -> tuple[Series, ...]:
        """The services' own series it reads; AWS-namespace metrics are not in it."""
        return ()

    @abc.abstractmethod
    def condition(self, planned: PlannedAlarm) -> str:
        """What breaches, in a description's words, before the threshold."""

    @abc.abstractmethod
    def metric(
        self, planned: PlannedAlarm, targets: AlarmTargets, period: Duration, id_suffix: str
    ) -> cw.IMetric:
        """What the alarm evaluates; ``id_suffix`` keeps metric math ids unique where several
        alarms share one graph."""

    def documented_condition(self, definition: AlarmDefinition) -> str:
        """The README's condition, before the window."""
        d = definition
        return f"{d.statistic} > {d.threshold:g}{self.unit_suffix}"

    def documented_window(self, definition: AlarmDefinition) -> str:
        return definition.window.text()

    def graph_title(self, planned: PlannedAlarm) -> str:
        d = planned.definition
        return f"{d.severity.value} {d.key} ({d.statistic})"


@dataclass(frozen=True)
class AlarmDefinition:
    key: str  # the alarm's part of its name, unique within a scope (service or function)
    severity: Severity
    source: MetricSource
    statistic: str
    threshold: float  # strictly greater than this breaches
    window: Window
    meaning: str  # what it means when it fires
    first_check: str  # the runbook's first step
    missing_data: MissingData = MissingData.NOT_BREACHING

    @property
    def unit_suffix(self) -> str:
        return self.source.unit_suffix


@dataclass(frozen=True)
class PlannedAlarm:
    """One alarm to build: a definition applied to one service, function, the stage, a
    table, a topic or the canary (``scope`` names it), with its threshold resolved."""

    definition: AlarmDefinition
    name: str
    scope: str
    threshold: float
    service: MonitoredService | None = None
    function: MonitoredFunction | None = None
    prefix: str = ""  # the stack's: names the drill-down rule and query in the runbook
    # What the plan was made over: the stage's alarms read every function's error answers.
    resources: Resources = Resources(functions=())
    # The window as placed: the definition's, but a canary alarm's periods are its runs.
    placed_window: Window | None = None

    @property
    def severity(self) -> Severity:
        return self.definition.severity

    @property
    def window(self) -> Window:
        return self.placed_window or self.definition.window

    @property
    def source(self) -> MetricSource:
        return self.definition.source

    def watched_series(self) -> tuple[Series, ...]:
        """The services' own series this alarm reads (namespace, name, dimension names)."""
        return self.source.watched_series(self)

    def description(self) -> str:
        d = self.definition
        condition = (
            f"{self.source.condition(self)} > {self.threshold:g}{d.unit_suffix} "
            f"{self.window.text()}"
        )
        drill = drilldown_text(self.prefix, d.severity.value, d.key)
        return f"{d.severity.value}: {condition}. {d.meaning} First check: {d.first_check}{drill}"
