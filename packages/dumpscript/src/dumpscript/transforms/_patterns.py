"""Patterns in the values of one field across a run of blocks.

For the values ``v0 … vn-1`` of a field, find an expression of the loop counter ``i`` that
gives every one of them exactly: a constant, an arithmetic progression (integers, decimals,
floats when exact, dates and datetimes in steps), a string that embeds counters
(``f"Question #{i + 1}"``), a short cycle (``("red", "green")[i % 2]``), or a value that
steps every ``k`` blocks (``polls[i // 3]``). What has no pattern goes into the loop's table.
Every candidate is checked by computing it for each ``i`` and comparing with the value read.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import libcst as cst

from dumpscript.script.literals import NotALiteral, read_literal, same
from dumpscript.values import _literals as lit

MAX_CYCLE = 8

# -- building expressions of the counter ------------------------------------------------------


def _paren(node: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(node, cst.BinaryOperation):
        return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return node


def _index(counter: str, every: int) -> cst.BaseExpression:
    """``i`` or ``i // every``."""
    if every == 1:
        return cst.Name(counter)
    return cst.BinaryOperation(cst.Name(counter), cst.FloorDivide(), cst.Integer(str(every)))


def _affine(index: cst.BaseExpression, step: int, start: int) -> cst.BaseExpression:
    """``start + step * index`` written as a person would: ``i``, ``i + 1``, ``2 * i - 3``."""
    term: cst.BaseExpression = index
    if step != 1:
        term = cst.BinaryOperation(lit.integer(step), cst.Multiply(), _paren(index))
    if start == 0:
        return term
    operator: cst.BaseBinaryOp = cst.Add() if start > 0 else cst.Subtract()
    return cst.BinaryOperation(term, operator, cst.Integer(str(abs(start))))


@dataclass
class Pattern:
    """How one field's value is written in the loop."""

    kind: str
    """``constant``, ``formula`` or ``table``."""
    build: Callable[[str], cst.BaseExpression] | None = None
    """For a constant or a formula: the expression, given the counter's name."""
    uses_counter: bool = False


@dataclass
class Column:
    """The values of one field across the run: nodes and their source text."""

    nodes: list[ast.expr]
    texts: list[str]


def infer(column: Column) -> Pattern:
    """The simplest pattern that gives every value of ``column``."""
    texts = column.texts
    nodes = column.nodes
    n = len(nodes)
    dumps = [ast.dump(node) for node in nodes]
    if all(d == dumps[0] for d in dumps):
        first = texts[0]
        return Pattern("constant", lambda _counter: cst.parse_expression(first))
    try:
        values = [read_literal(node) for node in nodes]
    except NotALiteral:
        values = None
    for every in _steps(dumps):
        if values is not None:
            found = _progression(values, texts, every) or _counted_string(values, every)
            if found is not None:
                return found
        indexed = _indexed_reference(nodes, every)
        if indexed is not None:
            return indexed
        if every == 1:
            cycle = _cycle(dumps, texts, n)
            if cycle is not None:
                return cycle
    return Pattern("table")


def _steps(dumps: list[str]) -> list[int]:
    """Counter divisors worth trying: 1, and the length of the first run of equal values."""
    run = 1
    while run < len(dumps) and dumps[run] == dumps[0]:
        run += 1
    return [1, run] if 1 < run < len(dumps) else [1]


def _progression(values: list[Any], texts: list[str], every: int) -> Pattern | None:
    """``start + step * (i // every)`` for numbers, dates and datetimes."""
    first, kind = values[0], type(values[0])
    if kind is bool or not all(type(v) is kind for v in values):
        return None
    if len(values) <= every:
        return None
    second = values[every]
    try:
        step = second - first
    except TypeError:
        return None
    if kind in (int, float, decimal.Decimal):
        zero: Any = kind(0)
    elif kind in (datetime.date, datetime.datetime):
        zero = datetime.timedelta(0)
    else:
        return None
    if same(step, zero) or step == zero:
        return None
    for position, value in enumerate(values):
        try:
            if not same(first + step * (position // every), value):
                return None
        except (TypeError, ArithmeticError):
            return None
    start_text = texts[0]

    def build(counter: str) -> cst.BaseExpression:
        index = _index(counter, every)
        if kind is int:
            return _affine(index, step, first)
        start = cst.parse_expression(start_text)
        if kind in (datetime.date, datetime.datetime):
            prefix = "datetime." if start_text.startswith("datetime.") else ""
            delta = _timedelta(prefix, step, index)
            return cst.BinaryOperation(start, cst.Add(), delta)
        if kind is decimal.Decimal:
            callee = start_text.split("(", 1)[0]
            step_node: cst.BaseExpression = cst.parse_expression(f'{callee}("{abs(step)}")')
        else:
            step_node = cst.Float(repr(abs(step)))
        term = cst.BinaryOperation(step_node, cst.Multiply(), _paren(index))
        operator: cst.BaseBinaryOp = cst.Add() if step > 0 else cst.Subtract()
        return cst.BinaryOperation(start, operator, term)

    return Pattern("formula", build, uses_counter=True)


def _timedelta(prefix: str, step: datetime.timedelta, index: cst.BaseExpression) -> cst.BaseExpression:
    """``datetime.timedelta(days=i)``, ``datetime.timedelta(hours=2 * i)``, or for a step of
    mixed units ``datetime.timedelta(days=1, microseconds=1) * i``."""
    seconds = step.days * 86400 + step.seconds
    units = [("weeks", 604800), ("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1)]
    callee = cst.parse_expression(f"{prefix}timedelta")
    if step.microseconds == 0:
        for unit, size in units:
            if seconds % size == 0:
                amount = _affine(index, seconds // size, 0)
                return cst.Call(callee, [cst.Arg(amount, keyword=cst.Name(unit), equal=lit.tight_equal())])
    parts = [("days", step.days), ("seconds", step.seconds), ("microseconds", step.microseconds)]
    args = [cst.Arg(lit.integer(v), keyword=cst.Name(k), equal=lit.tight_equal()) for k, v in parts if v]
    return cst.BinaryOperation(cst.Call(callee, args), cst.Multiply(), _paren(index))


_DIGITS = re.compile(r"(\d+)")


def _counted_string(values: list[Any], every: int) -> Pattern | None:
    """Strings that differ only in embedded numbers that count: ``f"Question #{i + 1}"``."""
    if not all(type(v) is str for v in values):
        return None
    split = [_DIGITS.split(v) for v in values]
    shape = [part for position, part in enumerate(split[0]) if position % 2 == 0]
    if len(split[0]) < 2 or any(len(parts) != len(split[0]) for parts in split):
        return None
    if any([part for position, part in enumerate(parts) if position % 2 == 0] != shape for parts in split):
        return None
    counters: list[tuple[int, int, int]] = []  # (step, start, zero-padded width)
    for position in range(1, len(split[0]), 2):
        digits = [parts[position] for parts in split]
        numbers = [int(d) for d in digits]
        widths = {len(d) for d in digits}
        padded = any(len(d) > 1 and d.startswith("0") for d in digits)
        if padded and len(widths) != 1:
            return None
        width = widths.pop() if padded else 0
        start = numbers[0]
        step = numbers[every] - start if len(numbers) > every else 0
        if any(number != start + step * (k // every) for k, number in enumerate(numbers)):
            return None
        counters.append((step, start, width))
    if all(step == 0 for step, _, _ in counters):
        return None

    def build(counter: str) -> cst.BaseExpression:
        parts: list[cst.BaseFormattedStringContent] = []
        for position, text in enumerate(split[0]):
            if position % 2 == 0:
                if text:
                    escaped = lit.string_text(text)[1:-1].replace("{", "{{").replace("}", "}}")
                    parts.append(cst.FormattedStringText(escaped))
                continue
            step, start, width = counters[position // 2]
            if step == 0:
                parts.append(cst.FormattedStringText(split[0][position]))
                continue
            expression = _affine(_index(counter, every), step, start)
            spec = [cst.FormattedStringText(f"0{width}d")] if width else None
            parts.append(cst.FormattedStringExpression(expression, format_spec=spec))
        return cst.FormattedString(parts, start='f"', end='"')

    return Pattern("formula", build, uses_counter=True)


def _indexed_reference(nodes: list[ast.expr], every: int) -> Pattern | None:
    """``polls[0]``, ``polls[1]``… (objects a fold keeps in a list) → ``polls[i]``."""
    bases = set()
    numbers = []
    for node in nodes:
        if not (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and isinstance(node.slice, ast.Constant)
            and type(node.slice.value) is int
        ):
            return None
        bases.add(node.value.id)
        numbers.append(node.slice.value)
    if len(bases) != 1 or len(numbers) <= every:
        return None
    start, step = numbers[0], numbers[every] - numbers[0]
    if step == 0 or any(number != start + step * (k // every) for k, number in enumerate(numbers)):
        return None
    (base,) = bases

    def build(counter: str) -> cst.BaseExpression:
        index = _affine(_index(counter, every), step, start)
        return cst.Subscript(cst.Name(base), [cst.SubscriptElement(cst.Index(index))])

    return Pattern("formula", build, uses_counter=True)


def _cycle(dumps: list[str], texts: list[str], n: int) -> Pattern | None:
    """Values that repeat with a short period: ``("S", "M", "L")[i % 3]``."""
    for period in range(2, min(MAX_CYCLE, n // 2) + 1):
        if all(dumps[k] == dumps[k % period] for k in range(n)):
            items = texts[:period]

            def build(counter: str, items: list[str] = items, period: int = period) -> cst.BaseExpression:
                elements = [cst.Element(cst.parse_expression(text)) for text in items]
                choices = cst.Tuple(elements)
                index = cst.BinaryOperation(cst.Name(counter), cst.Modulo(), cst.Integer(str(period)))
                return cst.Subscript(choices, [cst.SubscriptElement(cst.Index(index))])

            return Pattern("formula", build, uses_counter=True)
    return None
