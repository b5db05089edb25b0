"""Composite alarms: the AlarmRule grammar and its truth tables, per CloudWatch's documentation
(User Guide, "Creating a composite alarm",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Composite_Alarm.html,
source awsdocs/amazon-cloudwatch-user-guide doc_source/Create_Composite_Alarm.md; API
reference, PutCompositeAlarm, AlarmRule).

The rules are read from AWS::CloudWatch::CompositeAlarm resources (`read_alarms`) and evaluated
through `evaluate` over metric alarms driven to the child states wanted: a child in ALARM
has a breaching datapoint, one in OK a non-breaching one, one in INSUFFICIENT_DATA none
(missing data treated as missing). Expected values come from the documentation's sentences
and from `holds`, a reference evaluator written in this file from the documented meaning of
the functions and operators, never from the code under test.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local_run.cloudwatch.alarm_model import TemplateAlarms
from local_run.cloudwatch.evaluator import AlarmState, Evaluation, evaluate
from local_run.cloudwatch.intrinsics import TemplateAlarmError
from local_run.cloudwatch.metric_store import InMemoryMetricStore
from local_run.cloudwatch.template_alarms import read_alarms

OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA
STATES = (OK, ALARM, INSUFFICIENT)
NS = "Test/Composite"
BASE = 1_699_999_200.0  # the start of a minute
ACCOUNT_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"


def metric_alarm(name: str) -> dict[str, Any]:
    """A one-minute alarm on its own metric: ALARM when a datapoint is > 10."""
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": name,
            "Namespace": NS,
            "MetricName": name,
            "Statistic": "Maximum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 10,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "missing",
        },
    }


def composite(name: str, rule: str) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::CompositeAlarm",
        "Properties": {"AlarmName": name, "AlarmRule": rule},
    }


def alarms(children: Sequence[str], composites: Mapping[str, str]) -> TemplateAlarms:
    resources = {f"M{i}": metric_alarm(name) for i, name in enumerate(children)}
    resources.update({f"C{i}": composite(n, r) for i, (n, r) in enumerate(composites.items())})
    return read_alarms({"Resources": resources})


VALUE = {ALARM: 100.0, OK: 1.0}


def run_with_states(
    children: Mapping[str, AlarmState], composites: Mapping[str, str]
) -> Evaluation:
    """One evaluation (the end of the first minute) with each child in the state given."""
    store = InMemoryMetricStore()
    for name, state in children.items():
        if state in VALUE:
            store.put(NS, name, BASE + 30, VALUE[state])
    result = evaluate(alarms(list(children), composites), store, BASE, BASE + 60)
    for name, state in children.items():
        assert result.final_states[name] is state  # the children are where they should be
    return result


def composite_state(children: Mapping[str, AlarmState], rule: str) -> AlarmState:
    return run_with_states(children, {"X": rule}).final_states["X"]


def all_states(*names: str) -> list[dict[str, AlarmState]]:
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(STATES, repeat=len(names))
    ]


# -- the documentation's examples --------------------------------------------------------------

CPU, DISK, DEPLOY, NETWORK = (
    "CPUUtilizationTooHigh",
    "DiskReadOpsTooHigh",
    "DeploymentInProgress",
    "NetworkOutTooHigh",
)


@pytest.mark.parametrize("states", all_states(CPU, DISK, NETWORK), ids=str)
def test_and_needs_both(states: dict[str, AlarmState]) -> None:
    """Creating a composite alarm: "`ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)`
    specifies that the composite alarm goes into ALARM state only if both CPUUtilizationTooHigh and
    DiskReadOpsTooHigh alarms are in ALARM state"."""
    want = ALARM if states[CPU] is ALARM and states[DISK] is ALARM else OK
    assert composite_state(states, f"ALARM({CPU}) AND ALARM({DISK})") is want


@pytest.mark.parametrize("states", all_states(CPU, DISK, NETWORK), ids=str)
def test_or_needs_either(states: dict[str, AlarmState]) -> None:
    """Creating a composite alarm: "You can use operators (AND, OR and NOT) to combine multiple
    functions in a single expression"; the console starts a composite from the selected alarms
    "joined by the OR logical operator": ALARM when either child is in ALARM."""
    want = ALARM if states[CPU] is ALARM or states[DISK] is ALARM else OK
    assert composite_state(states, f"ALARM({CPU}) OR ALARM({DISK})") is want


@pytest.mark.parametrize("states", all_states(CPU, DEPLOY, NETWORK), ids=str)
def test_and_not(states: dict[str, AlarmState]) -> None:
    """Creating a composite alarm: "`ALARM(CPUUtilizationTooHigh) AND NOT
    ALARM(DeploymentInProgress)` specifies that the alarm goes to ALARM state if
    CPUUtilizationTooHigh is in ALARM state and DeploymentInProgress is not in ALARM state." (Not in
    ALARM: OK or INSUFFICIENT_DATA.)"""
    want = ALARM if states[CPU] is ALARM and states[DEPLOY] is not ALARM else OK
    assert composite_state(states, f"ALARM({CPU}) AND NOT ALARM({DEPLOY})") is want


@pytest.mark.parametrize(
    "rule",
    [
        f"(ALARM({CPU}) OR ALARM({DISK})) AND OK({NETWORK})",
        # The console's example, as the page prints it (quoted names, line breaks).
        f'(ALARM("{CPU}") OR \nALARM("{DISK}")) AND \nOK("{NETWORK}")',
    ],
    ids=["api", "console"],
)
@pytest.mark.parametrize("states", all_states(CPU, DISK, NETWORK), ids=str)
def test_parentheses_group(rule: str, states: dict[str, AlarmState]) -> None:
    """Creating a composite alarm: "`(ALARM(CPUUtilizationTooHigh) OR ALARM(DiskReadOpsTooHigh)) AND
    OK(NetworkOutTooHigh)` goes into ALARM state if CPUUtilizationTooHigh OR DiskReadOpsTooHigh is
    in ALARM state, and if NetworkOutTooHigh is in OK state"."""
    want = (
        ALARM if (states[CPU] is ALARM or states[DISK] is ALARM) and states[NETWORK] is OK else OK
    )
    assert composite_state(states, rule) is want


@pytest.mark.parametrize("function", ["ALARM", "OK", "INSUFFICIENT_DATA"])
@pytest.mark.parametrize("state", STATES, ids=str)
def test_each_function_is_true_in_its_own_state_only(function: str, state: AlarmState) -> None:
    """Creating a composite alarm: "`ALARM("alarm-name or alarm-ARN")` is TRUE if the named alarm is
    in ALARM state", "`OK(...)` is TRUE if the named alarm is in OK state",
    "`INSUFFICIENT_DATA(...)` is TRUE if the named alarm is in INSUFFICIENT_DATA state"; NOT of each
    is TRUE in the other two."""
    rule = f'{function}("child")'
    want = ALARM if state.value == function else OK
    assert composite_state({"child": state}, rule) is want
    negated = OK if want is ALARM else ALARM
    assert composite_state({"child": state}, f"NOT {rule}") is negated


@pytest.mark.parametrize(
    "rule, want",
    [
        ("TRUE", ALARM),
        ("FALSE", OK),
        ("NOT TRUE", OK),
        ("NOT FALSE", ALARM),
        ("ALARM(child) OR TRUE", ALARM),
        ("ALARM(child) AND FALSE", OK),
        ("NOT (TRUE AND FALSE)", ALARM),
        ("NOT NOT TRUE", ALARM),
    ],
)
@pytest.mark.parametrize("state", STATES, ids=str)
def test_true_and_false(rule: str, want: AlarmState, state: AlarmState) -> None:
    """Creating a composite alarm: "`TRUE` always evaluates to TRUE." "`FALSE` always evaluates to
    FALSE." "TRUE and FALSE are useful for testing a complex `AlarmRule` structure"."""
    assert composite_state({"child": state}, rule) is want


def test_names_quoted_or_not_and_arns_name_the_same_alarm() -> None:
    """PutCompositeAlarm, AlarmRule: "You can use either alarm names or ARNs to reference the
    other alarms that are to be evaluated." "Alarm names specified in AlarmRule can be
    surrounded with double-quotes ("), but do not have to be"."""
    forms = ["ALARM(a)", 'ALARM("a")', f"ALARM({ACCOUNT_ARN}a)", f'ALARM("{ACCOUNT_ARN}a")']
    for state in STATES:
        wanted = {composite_state({"a": state, "b": OK}, form) for form in forms}
        assert wanted == {ALARM if state is ALARM else OK}
    parsed = {alarms(["a"], {"X": f}).composite_alarms[0].rule for f in forms}
    assert len(parsed) == 1


def test_a_rule_needs_a_child_alarm_or_true_or_false() -> None:
    """Creating a composite alarm: "A rule expression must contain at least one child alarm or at
    least one TRUE statement or FALSE statement"."""
    for rule in ("", "   ", "NOT", "()"):
        with pytest.raises(TemplateAlarmError):
            alarms(["a"], {"X": rule})


# -- composites of composites --------------------------------------------------------------------


@pytest.mark.parametrize("listed_first", ["outer", "inner"])
@pytest.mark.parametrize("states", all_states("a", "b", "c"), ids=str)
def test_a_rule_can_refer_to_another_composite(
    listed_first: str, states: dict[str, AlarmState]
) -> None:
    """Creating a composite alarm: "A rule expression can refer to both metric alarms and other
    composite alarms." The inner composite is `ALARM(a) OR ALARM(b)`; the outer `ALARM(inner) AND
    NOT OK(c)`. Its state does not depend on the order the template lists them in."""
    inner, outer = "ALARM(a) OR ALARM(b)", "ALARM(inner) AND NOT OK(c)"
    pairs = {"inner": inner, "outer": outer}
    if listed_first == "outer":
        pairs = {"outer": outer, "inner": inner}
    result = run_with_states(states, pairs)
    inner_alarm = states["a"] is ALARM or states["b"] is ALARM
    assert result.final_states["inner"] is (ALARM if inner_alarm else OK)
    want = ALARM if inner_alarm and states["c"] is not OK else OK
    assert result.final_states["outer"] is want


# -- random rules against the grammar's definition -----------------------------------------------

CHILDREN = ("a", "b", "c")
Tree = tuple[Any, ...]  # ("state", FUNCTION, child) | ("const", bool) | ("not", t) | (op, [t..])

leaves = st.one_of(
    st.tuples(
        st.just("state"), st.sampled_from(["ALARM", "OK", "INSUFFICIENT_DATA"]),
        st.sampled_from(CHILDREN),
    ),
    st.tuples(st.just("const"), st.booleans()),
)  # fmt: skip
trees = st.recursive(
    leaves,
    lambda sub: st.one_of(
        st.tuples(st.just("not"), sub),
        st.tuples(st.sampled_from(["AND", "OR"]), st.lists(sub, min_size=2, max_size=3)),
    ),
    max_leaves=8,
)


def holds(tree: Tree, states: Mapping[str, AlarmState]) -> bool:
    """The rule's truth, from the page's definitions: a function is TRUE when "the named alarm
    is in" its state; TRUE/FALSE are constants; AND, OR, NOT are the logical operators."""
    kind = tree[0]
    if kind == "state":
        return states[tree[2]].value == tree[1]
    if kind == "const":
        return bool(tree[1])
    if kind == "not":
        return not holds(tree[1], states)
    results = [holds(t, states) for t in tree[1]]
    return all(results) if kind == "AND" else any(results)


def render(tree: Tree, draw: Any, names: Mapping[str, str] | None = None, top: bool = True) -> str:
    """AlarmRule text: names quoted or not, or ARNs; every operand that is itself an AND, OR or
    NOT in parentheses ("You can use parenthesis to logically group the functions").
    ``names`` renames children (child -> the alarm name the text refers to)."""
    kind = tree[0]
    if kind == "state":
        name = (names or {}).get(tree[2], tree[2])
        ref = draw(st.sampled_from([name, f"{ACCOUNT_ARN}{name}"]))
        quote = draw(st.sampled_from(['"', ""]))
        return f"{tree[1]}({quote}{ref}{quote})"
    if kind == "const":
        return "TRUE" if tree[1] else "FALSE"
    if kind == "not":
        text = "NOT " + render(tree[1], draw, names, top=False)
    else:
        space = draw(st.sampled_from([" ", "\n", "  "]))
        text = f"{space}{kind} ".join(render(t, draw, names, top=False) for t in tree[1])
    return text if top else f"({text})"


@given(tree=trees, states=st.tuples(*[st.sampled_from(STATES)] * 3), data=st.data())
def test_random_rules_over_random_child_states(
    tree: Tree, states: tuple[AlarmState, ...], data: st.DataObject
) -> None:
    """Any rule built from the grammar (ALARM(), OK(), INSUFFICIENT_DATA(), TRUE, FALSE, AND,
    OR, NOT, parentheses) puts the composite in ALARM exactly when `holds` says the rule is
    TRUE over the children's states, and in OK otherwise."""
    children = dict(zip(CHILDREN, states, strict=True))
    rule = render(tree, data.draw)
    want = ALARM if holds(tree, children) else OK
    assert composite_state(children, rule) is want, rule


@given(
    inner=trees,
    outer=trees,
    data=st.data(),
    values=st.lists(st.tuples(*[st.sampled_from([None, 1.0, 100.0])] * 3), min_size=1, max_size=8),
)
def test_composites_follow_their_children_over_time(
    inner: Tree, outer: Tree, data: st.DataObject, values: list[tuple[float | None, ...]]
) -> None:
    """Composite alarms "determine their alarm state by watching the alarm states of other
    alarms": after every evaluation, each composite's state is its rule over the current
    states of its children, one of which (for the outer composite) is the inner composite.
    The children's data change minute by minute; the rules are random."""
    # The outer rule reads the inner composite in place of child "c".
    outer_rule = render(outer, data.draw, {"c": "inner"})
    store = InMemoryMetricStore()
    for k, row in enumerate(values):
        for name, value in zip(CHILDREN, row, strict=True):
            if value is not None:
                store.put(NS, name, BASE + 60 * k + 30, value)
    template = alarms(CHILDREN, {"outer": outer_rule, "inner": render(inner, data.draw)})
    result = evaluate(template, store, BASE, BASE + 60 * (len(values) + 3))
    state = dict.fromkeys([*CHILDREN, "inner", "outer"], INSUFFICIENT)
    times = sorted({c.timestamp for c in result.changes})
    assert times, "the composites' first evaluation changes them from INSUFFICIENT_DATA"
    for t in times:
        for c in result.changes:
            if c.timestamp == t:
                state[c.alarm] = c.new
        inner_want = ALARM if holds(inner, state) else OK
        assert state["inner"] is inner_want, t
        outer_states = {"a": state["a"], "b": state["b"], "c": state["inner"]}
        assert state["outer"] is (ALARM if holds(outer, outer_states) else OK), t
    assert result.final_states == state
