"""Values → code: every encoded value evaluates back to an equal value of the same type."""

from __future__ import annotations

import ast
import datetime
import decimal
import math
import uuid
import zoneinfo
from typing import Any

import libcst as cst
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dumpscript.script.imports import ImportSet
from dumpscript.script.literals import NotALiteral, read_literal
from dumpscript.script.render import render_expression
from dumpscript.values import EncodeContext, encode_python
from dumpscript.values._text import python_text


def render(value: Any) -> tuple[str, dict[str, Any]]:
    imports = ImportSet()
    expression = encode_python(value, EncodeContext(imports))
    code = cst.Module(body=[]).code_for_node(expression)
    assert render_expression(expression) == code  # the fast renderer agrees with LibCST
    assert python_text(value, EncodeContext(ImportSet())) == code  # the one writer of the value
    namespace: dict[str, Any] = {}
    header = cst.Module(body=imports.head()).code
    exec(header, namespace)
    return code, namespace


def round_trip(value: Any) -> Any:
    code, namespace = render(value)
    found = eval(code, namespace)
    # the one reader of a script's values (the transforms, the editor) reads it without running it
    assert same(read_literal(ast.parse(code, mode="eval").body), found)
    return found


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, decimal.Decimal):
        return str(a) == str(b)
    if isinstance(a, datetime.datetime | datetime.time):
        return a == b and a.tzinfo == b.tzinfo and a.fold == b.fold
    return bool(a == b)


@given(st.text())
def test_any_text(value: str) -> None:
    code, _ = render(value)
    assert code.startswith('"')
    assert "\n" not in code
    assert round_trip(value) == value


@given(st.binary())
def test_any_bytes(value: bytes) -> None:
    assert round_trip(value) == value
    assert round_trip(memoryview(value)) == value  # BinaryField on PostgreSQL with psycopg2


@given(st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.decimals(allow_nan=False))
def test_any_number(value: Any) -> None:
    assert same(round_trip(value), value)


@given(
    st.datetimes(timezones=st.none() | st.just(datetime.timezone.utc) | st.timezones())
    | st.dates()
    | st.times()
    | st.timedeltas()
)
def test_any_date_and_time(value: Any) -> None:
    assert same(round_trip(value), value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_any_json(value: Any) -> None:
    assert same(round_trip(value), value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ('It\'s "quoted"', '"It\'s \\"quoted\\""'),
        ("a\nb\x00", '"a\\nb\\x00"'),
        (float("inf"), 'float("inf")'),
        (float("-inf"), '-float("inf")'),
        (float("nan"), 'float("nan")'),
        (-0.0, "-0.0"),
        (decimal.Decimal("1.10"), 'Decimal("1.10")'),
        (uuid.UUID(int=1), 'uuid.UUID("00000000-0000-0000-0000-000000000001")'),
        (datetime.datetime(2024, 1, 2, 3, 4), "datetime.datetime(2024, 1, 2, 3, 4)"),  # noqa: DTZ001
        (
            datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc),
            "datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)",
        ),
        (
            datetime.datetime(2024, 1, 2, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
            'datetime.datetime(2024, 1, 2, 0, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))',
        ),
        (datetime.time(1, 2, 3, 4), "datetime.time(1, 2, 3, 4)"),
        (datetime.timedelta(days=-1, microseconds=1), "datetime.timedelta(days=-1, microseconds=1)"),
        (datetime.timedelta(0), "datetime.timedelta()"),
        ({"a": [1, None, True]}, '{"a": [1, None, True]}'),
        ((1,), "(1,)"),
    ],
)
def test_values_read_like_a_person_wrote_them(value: Any, code: str) -> None:
    assert render(value)[0] == code
    assert same(round_trip(value), value)


@pytest.mark.parametrize("code", ["open('x')", "__import__('os').system('true')", "Poll", "f(1)", "{**a}", "[*a]"])
def test_the_reader_runs_no_code(code: str) -> None:
    with pytest.raises(NotALiteral):
        read_literal(ast.parse(code, mode="eval").body)
