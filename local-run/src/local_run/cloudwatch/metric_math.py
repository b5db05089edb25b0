"""A small, safe evaluator for the CloudWatch metric math the alarms use (no ``eval``).

Grammar (what the alarm table's expressions need, e.g.
``IF(attempts > 0, 100 * FILL(errors, 0) / attempts, 0)``, and the logical operators)::

    expr       := logical
    logical    := comparison (("AND" | "&&" | "OR" | "||") comparison)*
    comparison := additive (("<" | "<=" | ">" | ">=" | "==" | "!=") additive)?
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | ID | FUNC "(" expr ("," expr)* ")" | "(" expr ")"

Functions: ``IF(cond, a, b)`` (``b`` is optional, as in CloudWatch) and ``FILL(m, value)``.

Semantics, per period (one value per id, ``None`` when the series has no datapoint in that
period), as the CloudWatch user guide's "Using metric math" page
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html) says:

- Arithmetic: "Missing values in a time series are treated as 0. If the value of a data point
  causes a function to attempt to divide by zero, the data point is dropped." Between two time
  series, a period where only one has a datapoint computes with 0 for the other; where
  neither has one, the result has none either (a time series has datapoints only at its
  timestamps). A time series with a scalar has a datapoint where the time series has one.
- Comparisons and logical operators give 1 or 0; "when comparison operators are used between
  two time series, and only one of the time series has a value for a particular time stamp,
  the function treats the missing value in the other time series as 0" (the page's AND
  example: ``metric1 > 15 AND metric2 > 15`` with metric2 missing gives 0).
- ``IF(cond, a, b)``: dropped where ``cond`` has no datapoint; a true condition takes ``a``,
  which is 0 where ``a`` is a time series without a datapoint; a false one takes ``b``,
  dropped where ``b`` is a time series without a datapoint or is omitted (the page's tables
  for ``IF(metric1, metric2, metric3)`` and its variants).
- ``FILL(m, v)`` is ``v`` where ``m`` is missing, at every period of the range, even when
  ``m`` has no datapoint at all.

A result too large for a float (e.g. ``100 * 1 / 2.2e-308``) is dropped too: the evaluator
never yields inf or NaN. Anything else (other functions, ``SEARCH``, Metrics Insights
queries) raises `MetricMathError`.
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
    r"|(?P<op><=|>=|==|!=|&&|\|\||[-+*/<>(),]))"
)
_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
_LOGICAL = {"AND": "AND", "&&": "AND", "OR": "OR", "||": "OR"}
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
        node = self.logical()
        if self.peek() is not None:
            raise MetricMathError(f"in {self.expression!r}: unexpected {self.peek()!r}")
        return node

    def logical(self) -> Node:
        node = self.comparison()
        # Upper case only, as every keyword of metric math (ids start with a lower-case letter).
        while self.peek() in _LOGICAL:
            op = _LOGICAL[self.take()]
            node = Binary(op, node, self.comparison())
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
            node = self.logical()
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
            args = [self.logical()]
            while self.peek() == ",":
                self.take()
                args.append(self.logical())
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
    "AND": lambda a, b: float(a != 0 and b != 0),
    "OR": lambda a, b: float(a != 0 or b != 0),
}


def is_series(node: Node) -> bool:
    """Whether the node is a time series (it reads a metric or FILLs one), not a scalar."""
    if isinstance(node, Ref):
        return True
    if isinstance(node, Number):
        return False
    if isinstance(node, Unary):
        return is_series(node.operand)
    if isinstance(node, Binary):
        return is_series(node.left) or is_series(node.right)
    return node.function == "FILL" or any(is_series(a) for a in node.args)


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
        if left is None and right is None:
            return None
        if left is None or right is None:
            # Only a time series can be missing. Against another time series the missing
            # value is 0; against a scalar the result has no datapoint at this timestamp.
            other = node.right if left is None else node.left
            if not is_series(other):
                return None
            left, right = left or 0.0, right or 0.0
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
        chosen = evaluate(node.args[1], values)
        return 0.0 if chosen is None else chosen  # a true condition over a missing point: 0
    return evaluate(node.args[2], values) if len(node.args) == 3 else None
