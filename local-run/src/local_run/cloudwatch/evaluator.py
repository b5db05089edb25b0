"""CloudWatch alarm semantics over metric data held in memory.

An alarm's datapoint for a period is the statistic its query reads
(`local_run.cloudwatch.metric_store` holds the data, `local_run.cloudwatch.metric_statistics`
computes the statistic) or its metric math over those (`local_run.cloudwatch.metric_math`; per
period, a missing series is ``None``).

Alarm evaluation (CloudWatch User Guide, "Configuring how CloudWatch alarms treat missing
data", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html,
section "How alarm state is evaluated when data is missing"): at each evaluation time the
alarm reads the datapoints of the most recent complete periods of its *evaluation range*
(more than EvaluationPeriods N; AWS does not give the exact number, its example retrieves 5
for N = 3: `evaluation_range` defaults to N + 2). Then `decide`:

1. At least N real datapoints: the most recent N real ones decide, whatever the
   missing-data treatment: ALARM if at least M (DatapointsToAlarm) breach, else OK.
2. No real datapoint: ``missing`` -> INSUFFICIENT_DATA, ``ignore`` -> the current state,
   ``breaching`` -> ALARM, ``notBreaching`` -> OK.
3. Fewer than N real datapoints: ``breaching``/``notBreaching`` fill the N - k missing ones
   (as few as possible) and count. ``missing``/``ignore`` count only the real ones: ALARM if
   at least M breach; otherwise OK if any real datapoint does not breach; otherwise (only
   breaching datapoints, fewer than M) ``ignore`` keeps the current state and ``missing``
   gives ALARM when the oldest breaching datapoint is at least M periods old (the newest
   period is 1 old: "premature alarm state", "alarms are designed to always go into ALARM
   state when the oldest available breaching datapoint during the Evaluation Periods number
   of data points is at least as old as the value of Datapoints to Alarm, and all other more
   recent data points are breaching or missing") and INSUFFICIENT_DATA when it is younger.

This reproduces every row of the two tables on that page, as published in 2019 and as last
published (user guide source at b355497, 2023; see the tests). Alarms start in
INSUFFICIENT_DATA. An alarm on AWS/DynamoDB metrics only always ignores missing data, whatever
its TreatMissingData says (PutMetricAlarm reference: "alarms based on DynamoDB metrics ...
always ignore missing data"). Not modelled: late-arriving data,
EvaluateLowSampleCountPercentile, anomaly detection.

Composite alarms are evaluated whenever a child alarm changes state: the rule over the
children's current states gives ALARM or OK (they start in INSUFFICIENT_DATA, before the
first evaluation).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from local_run.cloudwatch import metric_math
from local_run.cloudwatch.alarm_model import (
    CompositeAlarm,
    MetricAlarm,
    TemplateAlarms,
    TreatMissingData,
)
from local_run.cloudwatch.alarm_rule import AllOf, AnyOf, Constant, Not, Rule, StateIs
from local_run.cloudwatch.metric_statistics import aligned, stat_value
from local_run.cloudwatch.metric_store import EvaluationError, MetricStore


class AlarmState(enum.Enum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


# -- datapoints -------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _parsed(expression: str) -> metric_math.Node:
    return metric_math.parse(expression)


def datapoint(alarm: MetricAlarm, store: MetricStore, period_start: float) -> float | None:
    """The value the alarm compares for the period starting at ``period_start``."""
    queries = {q.id: q for q in alarm.queries}
    values: dict[str, float | None] = {}

    def value_of(query_id: str) -> float | None:
        if query_id not in values:
            q = queries[query_id]
            if q.metric_stat is not None:
                values[query_id] = stat_value(store, q.metric_stat, period_start)
            else:
                node = _parsed(q.expression or "")
                env = {ref: value_of(ref) for ref in metric_math.references(node)}
                values[query_id] = metric_math.evaluate(node, env)
        return values[query_id]

    return value_of(alarm.returned.id)


# -- the state machine ------------------------------------------------------------------------


def decide(
    window: Sequence[bool | None],
    evaluation_periods: int,
    datapoints_to_alarm: int,
    treat_missing_data: TreatMissingData,
    current: AlarmState,
) -> AlarmState:
    """The new state from the evaluation range, oldest first (True breaching, False not
    breaching, None missing). See the module docstring for the rules."""
    n, m = evaluation_periods, datapoints_to_alarm
    if not 1 <= m <= n:
        raise EvaluationError(f"need 1 <= DatapointsToAlarm ({m}) <= EvaluationPeriods ({n})")
    if len(window) < n:
        raise EvaluationError(f"evaluation range ({len(window)}) shorter than N ({n})")
    real = [b for b in window if b is not None]
    breaching = sum(real)
    if len(real) >= n:
        return AlarmState.ALARM if sum(real[-n:]) >= m else AlarmState.OK
    treat = treat_missing_data
    if not real:
        return {
            TreatMissingData.MISSING: AlarmState.INSUFFICIENT_DATA,
            TreatMissingData.IGNORE: current,
            TreatMissingData.BREACHING: AlarmState.ALARM,
            TreatMissingData.NOT_BREACHING: AlarmState.OK,
        }[treat]
    if treat is TreatMissingData.BREACHING:
        breaching += n - len(real)
    if breaching >= m:
        return AlarmState.ALARM
    if treat in (TreatMissingData.BREACHING, TreatMissingData.NOT_BREACHING):
        return AlarmState.OK
    if not all(real):
        return AlarmState.OK
    if treat is TreatMissingData.IGNORE:
        return current
    # Premature alarm state: ALARM once the oldest (breaching) datapoint is M periods old.
    oldest = next(i for i, b in enumerate(window) if b is not None)
    return AlarmState.ALARM if len(window) - oldest >= m else AlarmState.INSUFFICIENT_DATA


@dataclass(frozen=True)
class StateChange:
    timestamp: float  # the evaluation time (end of the newest period read)
    alarm: str  # alarm name
    logical_id: str
    old: AlarmState
    new: AlarmState
    reason: str


DYNAMODB_NAMESPACE = "AWS/DynamoDB"
MINUTE = 60


def effective_missing_data(alarm: MetricAlarm) -> TreatMissingData:
    """``ignore`` for an alarm on AWS/DynamoDB metrics only, else the alarm's own setting."""
    metrics = alarm.metrics
    if metrics and all(m.namespace == DYNAMODB_NAMESPACE for m in metrics):
        return TreatMissingData.IGNORE
    return alarm.treat_missing_data


def default_evaluation_range(alarm: MetricAlarm) -> int:
    """Periods read at each evaluation: N + 2 (AWS's example reads 5 for N = 3)."""
    return alarm.evaluation_periods + 2


def lookback_seconds(alarms: Iterable[MetricAlarm]) -> int:
    """How far before a window's start the first evaluations read data."""
    return max((a.period * default_evaluation_range(a) for a in alarms), default=0)


def evaluate_alarm(
    alarm: MetricAlarm,
    store: MetricStore,
    start: float,
    end: float,
    *,
    evaluation_range: int | None = None,
    every_minute: bool = True,
) -> list[StateChange]:
    """Evaluate ``alarm`` at every minute end in ``(start, end]``, over the periods ending
    there ("For any period of one minute or longer, an alarm is evaluated every minute and the
    evaluation is based on the window of time defined by the Period and EvaluationPeriods": a
    5-minute alarm reads minutes 1-5 at the end of minute 5, 2-6 at the end of minute 6);
    the state changes, oldest first. ``every_minute=False``: at period boundaries only, for
    stores that hold per-period statistics as GetMetricData returns them (epoch-aligned)."""
    if end <= start:
        raise EvaluationError(f"empty window: start {start} >= end {end}")
    period = alarm.period
    n, m = alarm.evaluation_periods, alarm.datapoints_to_alarm
    treat = effective_missing_data(alarm)
    span = evaluation_range if evaluation_range is not None else default_evaluation_range(alarm)
    if span < n:
        raise EvaluationError(f"evaluation_range {span} is shorter than N = {n}")
    cache: dict[float, float | None] = {}

    def value(period_start: float) -> float | None:
        if period_start not in cache:
            cache[period_start] = datapoint(alarm, store, period_start)
        return cache[period_start]

    state = AlarmState.INSUFFICIENT_DATA
    changes: list[StateChange] = []
    step = MINUTE if every_minute else period
    t = aligned(start, step) + step
    while t <= end:
        starts = [t - (span - i) * period for i in range(span)]
        values = [value(s) for s in starts]
        window = [
            None if v is None else alarm.comparison.breaches(v, alarm.threshold) for v in values
        ]
        new = decide(window, n, m, treat, state)
        if new is not state:
            changes.append(
                StateChange(
                    t, alarm.name, alarm.logical_id, state, new, _reason(alarm, values, window)
                )
            )
            state = new
        t += step
    return changes


def _reason(
    alarm: MetricAlarm, values: Sequence[float | None], window: Sequence[bool | None]
) -> str:
    shown = ", ".join("-" if v is None else f"{v:g}" for v in values)
    breaching = sum(1 for b in window if b)
    missing = sum(1 for b in window if b is None)
    return (
        f"datapoints (oldest first) [{shown}]: {breaching} breaching "
        f"{alarm.comparison.symbol} {alarm.threshold:g}, {missing} missing "
        f"(needs {alarm.datapoints_to_alarm} of {alarm.evaluation_periods}, "
        f"missing data: {alarm.treat_missing_data.value})"
    )


def rule_holds(rule: Rule, states: Mapping[str, AlarmState]) -> bool:
    if isinstance(rule, StateIs):
        return states[rule.alarm].value == rule.state
    if isinstance(rule, Not):
        return not rule_holds(rule.operand, states)
    if isinstance(rule, AllOf):
        return all(rule_holds(r, states) for r in rule.operands)
    if isinstance(rule, AnyOf):
        return any(rule_holds(r, states) for r in rule.operands)
    if isinstance(rule, Constant):
        return rule.value
    raise EvaluationError(f"unknown rule {rule!r}")


@dataclass(frozen=True)
class Evaluation:
    changes: tuple[StateChange, ...]  # every alarm's, by time (metric alarms before composites)
    final_states: Mapping[str, AlarmState]  # alarm name -> state at ``end``

    def changes_of(self, name: str) -> tuple[StateChange, ...]:
        return tuple(c for c in self.changes if c.alarm == name)

    def fired(self) -> frozenset[str]:
        """Names of the alarms that entered ALARM at least once."""
        return frozenset(c.alarm for c in self.changes if c.new is AlarmState.ALARM)


def evaluate(
    alarms: TemplateAlarms,
    store: MetricStore,
    start: float,
    end: float,
    *,
    evaluation_range: int | None = None,
    every_minute: bool = True,
) -> Evaluation:
    """Every metric alarm, then every composite alarm, over ``(start, end]`` (``every_minute``:
    see `evaluate_alarm`)."""
    unresolved = alarms.unresolved_dimension_values()
    if unresolved:
        raise EvaluationError(
            f"dimension values still tokens: {sorted(unresolved)}; map them with "
            f"TemplateAlarms.with_dimension_values"
        )
    metric_changes: list[StateChange] = []
    for alarm in alarms.metric_alarms:
        metric_changes.extend(
            evaluate_alarm(
                alarm,
                store,
                start,
                end,
                evaluation_range=evaluation_range,
                every_minute=every_minute,
            )
        )
    metric_changes.sort(key=lambda c: c.timestamp)
    states = {a.logical_id: AlarmState.INSUFFICIENT_DATA for a in alarms.metric_alarms}
    states.update({c.logical_id: AlarmState.INSUFFICIENT_DATA for c in alarms.composite_alarms})
    names = {a.logical_id: a.name for a in alarms.all_alarms()}
    composite_changes = _composites(alarms.composite_alarms, metric_changes, states, start, alarms)
    composite_ids = {x.logical_id for x in alarms.composite_alarms}
    changes = sorted(
        [*metric_changes, *composite_changes],
        key=lambda c: (c.timestamp, c.logical_id in composite_ids),
    )
    return Evaluation(tuple(changes), {names[i]: s for i, s in states.items()})


def _composites(
    composites: Sequence[CompositeAlarm],
    metric_changes: Sequence[StateChange],
    states: dict[str, AlarmState],
    start: float,
    alarms: TemplateAlarms,
) -> list[StateChange]:
    if not composites:
        for c in metric_changes:
            states[c.logical_id] = c.new
        return []
    order = _composite_order(composites)
    changes: list[StateChange] = []
    # The composites' first evaluation: at the first evaluation time of any metric alarm.
    first = min((aligned(start, a.period) + a.period for a in alarms.metric_alarms), default=start)
    times = sorted({first, *(c.timestamp for c in metric_changes)})
    by_time: dict[float, list[StateChange]] = defaultdict(list)
    for c in metric_changes:
        by_time[c.timestamp].append(c)
    for t in times:
        for c in by_time.get(t, ()):
            states[c.logical_id] = c.new
        for composite in order:
            new = AlarmState.ALARM if rule_holds(composite.rule, states) else AlarmState.OK
            old = states[composite.logical_id]
            if new is not old:
                in_alarm = sorted(
                    child for child in composite.children if states[child] is AlarmState.ALARM
                )
                changes.append(
                    StateChange(
                        t,
                        composite.name,
                        composite.logical_id,
                        old,
                        new,
                        f"rule is {new is AlarmState.ALARM}; "
                        f"children in ALARM: {in_alarm or 'none'}",
                    )
                )
                states[composite.logical_id] = new
    return changes


def _composite_order(composites: Sequence[CompositeAlarm]) -> list[CompositeAlarm]:
    """Composites whose children are composites come after those children."""
    by_id = {c.logical_id: c for c in composites}
    order: list[CompositeAlarm] = []
    visiting: set[str] = set()

    def visit(c: CompositeAlarm) -> None:
        if c in order:
            return
        if c.logical_id in visiting:
            raise EvaluationError(f"composite alarms form a cycle through {c.name}")
        visiting.add(c.logical_id)
        for child in sorted(c.children):
            if child in by_id:
                visit(by_id[child])
        visiting.discard(c.logical_id)
        order.append(c)

    for c in composites:
        visit(c)
    return order
