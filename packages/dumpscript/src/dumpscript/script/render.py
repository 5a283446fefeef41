"""Rendering of the LibCST nodes that dumpscript builds.

LibCST's code generator is general and slow (about 50 µs a node). Expressions that encoders
build (a custom field's value, a lookup) are rendered here, the way LibCST would, in a
fraction of the time; any other node makes :func:`render_expression` fall back to LibCST (the
tests compare both). The few statements the writer still builds as nodes go to LibCST.
"""

from __future__ import annotations

import libcst as cst


class _Unsupported(Exception):
    pass


def _ws(node: object, indent: str) -> str:
    if isinstance(node, cst.SimpleWhitespace):
        return node.value
    if isinstance(node, cst.ParenthesizedWhitespace):
        text = _trailing(node.first_line)
        for line in node.empty_lines:
            text += _empty_line(line, indent)
        return text + (indent if node.indent else "") + node.last_line.value
    raise _Unsupported(type(node).__name__)


def _trailing(node: cst.TrailingWhitespace) -> str:
    comment = node.comment.value if node.comment is not None else ""
    newline = node.newline.value if node.newline.value is not None else "\n"
    return node.whitespace.value + comment + newline


def _empty_line(node: cst.EmptyLine, indent: str) -> str:
    comment = node.comment.value if node.comment is not None else ""
    newline = node.newline.value if node.newline.value is not None else "\n"
    return (indent if node.indent else "") + node.whitespace.value + comment + newline


def _comma(node: object, default: bool, indent: str) -> str:
    if isinstance(node, cst.Comma):
        return _ws(node.whitespace_before, indent) + "," + _ws(node.whitespace_after, indent)
    return ", " if default else ""


def _parens(node: cst.BaseExpression, inner: str, indent: str) -> str:
    if not node.lpar and not node.rpar:
        return inner
    left = "".join("(" + _ws(p.whitespace_after, indent) for p in node.lpar)
    right = "".join(_ws(p.whitespace_before, indent) + ")" for p in node.rpar)
    return left + inner + right


def render_expression(node: cst.BaseExpression, indent: str = "") -> str:
    """The source of ``node``; ``indent`` is the indentation of the enclosing block."""
    if isinstance(node, cst.Name | cst.SimpleString | cst.Integer | cst.Float):
        return _parens(node, node.value, indent)
    if isinstance(node, cst.Attribute):
        dot = node.dot
        if not isinstance(dot, cst.Dot):
            raise _Unsupported("dot")
        inner = (
            render_expression(node.value, indent)
            + _ws(dot.whitespace_before, indent)
            + "."
            + _ws(dot.whitespace_after, indent)
            + node.attr.value
        )
        return _parens(node, inner, indent)
    if isinstance(node, cst.Call):
        parts = [render_expression(node.func, indent), _ws(node.whitespace_after_func, indent), "("]
        parts.append(_ws(node.whitespace_before_args, indent))
        last = len(node.args) - 1
        for position, arg in enumerate(node.args):
            if arg.star:
                raise _Unsupported("star")
            if arg.keyword is not None:
                equal = arg.equal
                if not isinstance(equal, cst.AssignEqual):
                    raise _Unsupported("equal")
                parts += [arg.keyword.value, _ws(equal.whitespace_before, indent), "="]
                parts.append(_ws(equal.whitespace_after, indent))
            parts.append(render_expression(arg.value, indent))
            parts.append(_comma(arg.comma, position != last, indent))
            parts.append(_ws(arg.whitespace_after_arg, indent))
        parts.append(")")
        return _parens(node, "".join(parts), indent)
    if isinstance(node, cst.UnaryOperation):
        if not isinstance(node.operator, cst.Minus):
            raise _Unsupported("operator")
        inner = "-" + _ws(node.operator.whitespace_after, indent) + render_expression(node.expression, indent)
        return _parens(node, inner, indent)
    if isinstance(node, cst.List | cst.Tuple):
        if isinstance(node, cst.List):
            left = "[" + _ws(node.lbracket.whitespace_after, indent)
            right = _ws(node.rbracket.whitespace_before, indent) + "]"
        else:
            left = right = ""
        items = []
        last = len(node.elements) - 1
        for position, element in enumerate(node.elements):
            if not isinstance(element, cst.Element):
                raise _Unsupported("starred")
            default_comma = position != last or (isinstance(node, cst.Tuple) and last == 0)
            items.append(render_expression(element.value, indent) + _comma(element.comma, default_comma, indent))
        return _parens(node, left + "".join(items) + right, indent)
    if isinstance(node, cst.Dict):
        items = []
        last = len(node.elements) - 1
        for position, entry in enumerate(node.elements):
            if not isinstance(entry, cst.DictElement):
                raise _Unsupported("double star")
            items.append(
                render_expression(entry.key, indent)
                + _ws(entry.whitespace_before_colon, indent)
                + ":"
                + _ws(entry.whitespace_after_colon, indent)
                + render_expression(entry.value, indent)
                + _comma(entry.comma, position != last, indent)
            )
        inner = (
            "{" + _ws(node.lbrace.whitespace_after, indent) + "".join(items)
            + _ws(node.rbrace.whitespace_before, indent) + "}"
        )  # fmt: skip
        return _parens(node, inner, indent)
    raise _Unsupported(type(node).__name__)


def render_statement(node: cst.SimpleStatementLine, indent: str) -> str:
    """The source of a statement line inside a block indented by ``indent`` (LibCST's own
    code generator: the writer builds few statements as nodes, most as text)."""
    if not indent:
        return cst.Module(body=[node]).code
    wrapper = cst.Module(
        body=[cst.If(test=cst.Name("x"), body=cst.IndentedBlock([node], indent=indent))], default_indent=indent
    )
    return wrapper.code.split("\n", 1)[1]


def width(node: cst.BaseExpression | cst.SimpleStatementLine, indent: str = "") -> int:
    """Width of the widest line of ``node`` rendered at ``indent``."""
    if isinstance(node, cst.SimpleStatementLine):
        text = render_statement(node, indent)
    else:
        try:
            text = indent + render_expression(node, indent)
        except _Unsupported:
            text = indent + cst.Module(body=[]).code_for_node(node)
    return max((len(line) for line in text.splitlines()), default=0)
