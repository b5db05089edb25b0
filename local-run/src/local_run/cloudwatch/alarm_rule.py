"""A composite alarm's AlarmRule, parsed into a small tree (no ``eval``).

Grammar (CloudWatch's AlarmRule syntax, as far as composite alarms of a template use it)::

    rule    := unary (("AND" | "OR") unary)*     (AND and OR not mixed without parentheses)
    unary   := "NOT" unary | "(" rule ")" | "TRUE" | "FALSE" | STATE "(" alarm ")"
    STATE   := "ALARM" | "OK" | "INSUFFICIENT_DATA"

An ``alarm`` is rendered first (`local_run.cloudwatch.intrinsics.render`), then resolved to the
logical id of an alarm resource of the template: a token ``{GetAtt:X.Arn}`` or ``{Ref:X}``, or a
plain alarm name or ARN (optionally in double quotes) of an alarm in the template. The leaves of the
tree (`StateIs`) name the child alarms by logical id. Anything else raises
`local_run.cloudwatch.intrinsics.TemplateAlarmError`, naming the composite alarm.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from local_run.cloudwatch.intrinsics import TemplateAlarmError, render


@dataclass(frozen=True)
class StateIs:
    """``ALARM(x)``, ``OK(x)`` or ``INSUFFICIENT_DATA(x)``; ``alarm`` is a logical id."""

    state: str
    alarm: str


@dataclass(frozen=True)
class Not:
    operand: Rule


@dataclass(frozen=True)
class AllOf:
    operands: tuple[Rule, ...]


@dataclass(frozen=True)
class AnyOf:
    operands: tuple[Rule, ...]


@dataclass(frozen=True)
class Constant:
    value: bool


Rule = StateIs | Not | AllOf | AnyOf | Constant


def rule_children(rule: Rule) -> frozenset[str]:
    """The logical ids of the alarms the rule reads."""
    if isinstance(rule, StateIs):
        return frozenset({rule.alarm})
    if isinstance(rule, Not):
        return rule_children(rule.operand)
    if isinstance(rule, AllOf | AnyOf):
        return frozenset().union(*(rule_children(r) for r in rule.operands))
    return frozenset()


_RULE_TOKEN = re.compile(
    r'\s*(?:(?P<func>ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?P<arg>"[^"]*"|[^()"\s]+)\s*\)'
    r"|(?P<word>AND|OR|NOT|TRUE|FALSE)\b|(?P<paren>[()]))"
)
_ARN_ALARM = re.compile(r"^arn:[^:]+:cloudwatch:[^:]*:[^:]*:alarm:(?P<name>.+)$")
_TOKEN_REF = re.compile(r"^\{(?:GetAtt:(?P<getatt>[^.{}]+)\.Arn|Ref:(?P<ref>[^{}]+))\}$")


def parse_rule(logical_id: str, raw: Any, alarm_ids: set[str], names: Mapping[str, str]) -> Rule:
    """The AlarmRule ``raw`` of composite alarm ``logical_id``; ``alarm_ids``: the template's
    alarm resources, ``names``: alarm name -> logical id."""
    where = f"composite alarm {logical_id}"
    if raw is None:
        raise TemplateAlarmError(f"{where}: no AlarmRule")
    try:
        text = render(raw)
    except TemplateAlarmError as exc:
        raise TemplateAlarmError(f"{where}: {exc}") from None

    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _RULE_TOKEN.match(text, pos)
        if m is None:
            raise TemplateAlarmError(f"{where}: cannot parse AlarmRule at {text[pos:pos + 40]!r}")
        if m.group("func"):
            tokens.append((m.group("func"), _rule_target(where, m.group("arg"), alarm_ids, names)))
        elif m.group("word"):
            tokens.append((m.group("word"), ""))
        else:
            tokens.append((m.group("paren"), ""))
        pos = m.end()

    index = 0

    def peek() -> str | None:
        return tokens[index][0] if index < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal index
        if index >= len(tokens):
            raise TemplateAlarmError(f"{where}: AlarmRule ends early: {text!r}")
        index += 1
        return tokens[index - 1]

    def expression() -> Rule:
        operands = [unary()]
        ops: set[str] = set()
        while peek() in ("AND", "OR"):
            ops.add(take()[0])
            operands.append(unary())
        if len(ops) > 1:
            # AWS documents no precedence between AND and OR; refuse to guess.
            raise TemplateAlarmError(
                f"{where}: AlarmRule mixes AND and OR without parentheses: {text!r}"
            )
        if not ops:
            return operands[0]
        return AllOf(tuple(operands)) if ops == {"AND"} else AnyOf(tuple(operands))

    def unary() -> Rule:
        kind, target = take()
        if kind == "NOT":
            return Not(unary())
        if kind == "(":
            inner = expression()
            if take()[0] != ")":
                raise TemplateAlarmError(f"{where}: unbalanced parentheses in {text!r}")
            return inner
        if kind in ("TRUE", "FALSE"):
            return Constant(kind == "TRUE")
        if kind in ("ALARM", "OK", "INSUFFICIENT_DATA"):
            return StateIs(kind, target)
        raise TemplateAlarmError(f"{where}: unexpected {kind!r} in {text!r}")

    rule = expression()
    if index != len(tokens):
        raise TemplateAlarmError(f"{where}: unexpected {tokens[index][0]!r} in {text!r}")
    return rule


def _rule_target(where: str, arg: str, alarm_ids: set[str], names: Mapping[str, str]) -> str:
    value = arg.strip('"')
    token = _TOKEN_REF.match(value)
    if token:
        target = token.group("getatt") or token.group("ref")
        if target in alarm_ids:
            return target
        raise TemplateAlarmError(f"{where}: AlarmRule refers to {value}, not an alarm resource")
    arn = _ARN_ALARM.match(value)
    name = arn.group("name") if arn else value
    if name in names:
        return names[name]
    raise TemplateAlarmError(f"{where}: AlarmRule refers to unknown alarm {value!r}")
