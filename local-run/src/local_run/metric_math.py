"""A small, safe evaluator for the CloudWatch metric math the alarms use (no ``eval``).

Grammar (what the alarm table's expressions need, e.g.
``IF(attempts > 0, 100 * FILL(errors, 0) / attempts, 0)``)::

    expr       := comparison
    comparison := additive (("<" | "<=" | ">" | ">=" | "==" | "!=") additive)?
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | ID | FUNC "(" expr ("," expr)* ")" | "(" expr ")"

Functions: ``IF(cond, a, b)`` (``b`` is optional, as in CloudWatch) and ``FILL(m, value)``.

Semantics, per period (one value per id, ``None`` when the series has no datapoint in that
period): arithmetic and comparisons with a missing operand are missing; comparisons give 1 or
0; ``IF`` is missing when its condition is, otherwise picks a branch (non-zero is true; without
``b`` a false condition gives a missing value); ``FILL(m, v)`` is ``v`` where ``m`` is missing.
Division by zero, and any result too large for a float (e.g. ``100 * 1 / 2.2e-308``), give a
missing value: the evaluator never yields inf or NaN. Anything else (other functions,
``SEARCH``, Metrics Insights queries) raises `MetricMathError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Value = float | None


class MetricMathError(ValueError):
    """An expression this evaluator does not support, or cannot parse."""


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Ref:
    id: str


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


Node = Number | Ref | Unary | Binary | Call

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<string>'[^']*'|\"[^\"]*\")"
    r"|(?P<op><=|>=|==|!=|[-+*/<>(),]))"
)
_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
FUNCTIONS = {"IF": (2, 3), "FILL": (2, 2)}


def _tokenize(expression: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = expression.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise MetricMathError(
                f"cannot parse {expression!r} at position {pos}: {text[pos:pos + 10]!r}"
            )
        tokens.append(match.group(match.lastgroup or 0))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokenize(expression)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            want = f"{expected!r}" if expected else "more input"
            raise MetricMathError(f"in {self.expression!r}: expected {want}, got {token!r}")
        self.pos += 1
        return token

    def parse(self) -> Node:
        node = self.comparison()
        if self.peek() is not None:
            raise MetricMathError(f"in {self.expression!r}: unexpected {self.peek()!r}")
        return node

    def comparison(self) -> Node:
        left = self.additive()
        if self.peek() in _COMPARISONS:
            op = self.take()
            left = Binary(op, left, self.additive())
        return left

    def additive(self) -> Node:
        node = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            node = Binary(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return Unary("-", self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token == "(":
            node = self.comparison()
            self.take(")")
            return node
        if token[0].isdigit() or token[0] == ".":
            return Number(float(token))
        if token[0].isalpha() or token[0] == "_":
            if self.peek() != "(":
                return Ref(token)
            name = token.upper()
            if name not in FUNCTIONS:
                raise MetricMathError(
                    f"in {self.expression!r}: function {token} is not supported "
                    f"(supported: {', '.join(sorted(FUNCTIONS))})"
                )
            self.take("(")
            args = [self.comparison()]
            while self.peek() == ",":
                self.take()
                args.append(self.comparison())
            self.take(")")
            low, high = FUNCTIONS[name]
            if not low <= len(args) <= high:
                raise MetricMathError(
                    f"in {self.expression!r}: {name} takes {low}..{high} arguments, "
                    f"got {len(args)}"
                )
            return Call(name, tuple(args))
        if token[0] in "'\"":
            raise MetricMathError(
                f"in {self.expression!r}: string {token} (only functions this evaluator does "
                f"not support take strings)"
            )
        raise MetricMathError(f"in {self.expression!r}: unexpected {token!r}")


def parse(expression: str) -> Node:
    """The expression's syntax tree; raises `MetricMathError`."""
    return _Parser(expression).parse()


def references(node: Node) -> frozenset[str]:
    """The ids an expression reads."""
    if isinstance(node, Ref):
        return frozenset({node.id})
    if isinstance(node, Unary):
        return references(node.operand)
    if isinstance(node, Binary):
        return references(node.left) | references(node.right)
    if isinstance(node, Call):
        return frozenset().union(*(references(a) for a in node.args))
    return frozenset()


_ARITHMETIC: dict[str, Callable[[float, float], Value]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b != 0 else None,
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
}


def evaluate(node: Node, values: Mapping[str, Value]) -> Value:
    """The expression's value for one period; ``values`` holds every referenced id."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Ref):
        if node.id not in values:
            raise MetricMathError(f"unknown id {node.id!r}")
        return values[node.id]
    if isinstance(node, Unary):
        operand = evaluate(node.operand, values)
        return None if operand is None else -operand
    if isinstance(node, Binary):
        left, right = evaluate(node.left, values), evaluate(node.right, values)
        if left is None or right is None:
            return None
        result = _ARITHMETIC[node.op](left, right)
        # Overflow gives inf, and inf - inf NaN; a threshold comparison on either is meaningless.
        return result if result is None or math.isfinite(result) else None
    if node.function == "FILL":
        value = evaluate(node.args[0], values)
        return evaluate(node.args[1], values) if value is None else value
    # IF: only the chosen branch is evaluated.
    condition = evaluate(node.args[0], values)
    if condition is None:
        return None
    if condition != 0:
        return evaluate(node.args[1], values)
    return evaluate(node.args[2], values) if len(node.args) == 3 else None
