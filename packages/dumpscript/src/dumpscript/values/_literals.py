"""LibCST nodes for Python literals, written the way a person would write them."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def string_text(value: str) -> str:
    """The source of a double-quoted string literal; printable unicode kept, the rest escaped."""
    if value.isprintable():  # only quotes and backslashes to escape: no per-character loop
        if '"' in value or "\\" in value:
            value = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{value}"'
    escaped = value.translate(_TRANSLATE)
    if escaped.isprintable():  # only the usual escapes (newlines, tabs)
        return f'"{escaped}"'
    return '"' + "".join(_escape_char(ch) for ch in value) + '"'


_TRANSLATE = str.maketrans(_ESCAPES)


def string(value: str) -> cst.SimpleString:
    """A double-quoted string literal; printable unicode is kept, the rest escaped."""
    return cst.SimpleString(string_text(value))


def bytes_text(value: bytes) -> str:
    """The source of a ``b"..."`` literal: printable ASCII kept, every other byte as ``\\xNN``."""
    parts = []
    for byte in value:
        ch = chr(byte)
        if ch in _ESCAPES:
            parts.append(_ESCAPES[ch])
        elif 0x20 <= byte < 0x7F:
            parts.append(ch)
        else:
            parts.append(f"\\x{byte:02x}")
    return 'b"' + "".join(parts) + '"'


def _negate(node: cst.BaseExpression) -> cst.BaseExpression:
    return cst.UnaryOperation(operator=cst.Minus(), expression=node)


def integer(value: int) -> cst.BaseExpression:
    node = cst.Integer(str(abs(value)))
    return _negate(node) if value < 0 else node


def name(identifier: str) -> cst.Name:
    return cst.Name(identifier)


def attribute(dotted: str) -> cst.BaseExpression:
    """``a.b.c`` as nested Attribute nodes."""
    first, *rest = dotted.split(".")
    node: cst.BaseExpression = cst.Name(first)
    for part in rest:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def tight_equal() -> cst.AssignEqual:
    """The ``=`` of a keyword argument, without spaces (``name=value``)."""
    return cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def call(
    func: cst.BaseExpression,
    args: Sequence[cst.BaseExpression] | None = None,
    kwargs: Sequence[tuple[str, cst.BaseExpression]] | None = None,
) -> cst.Call:
    """A call on one line; :mod:`dumpscript.script.layout` explodes long ones when rendering."""
    arguments = [cst.Arg(value=arg) for arg in args or []]
    arguments += [
        cst.Arg(
            value=value,
            keyword=cst.Name(key),
            equal=tight_equal(),
        )
        for key, value in kwargs or []
    ]
    return cst.Call(func=func, args=arguments)
