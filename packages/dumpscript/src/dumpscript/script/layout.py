"""Line breaking for generated statements: short calls on one line, long ones exploded."""

from __future__ import annotations

import libcst as cst

from dumpscript.script import render as _render

INDENT = "    "
MAX_WIDTH = 88


def _newline(indent: str) -> cst.ParenthesizedWhitespace:
    return cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(), empty_lines=[], indent=True, last_line=cst.SimpleWhitespace(indent)
    )


def width(node: cst.BaseExpression | cst.SimpleStatementLine, indent: str = "") -> int:
    return _render.width(node, indent)


def explode_call(call: cst.Call, depth: int = 0) -> cst.Call:
    """One argument per line with a trailing comma, black style."""
    inner = INDENT * (depth + 1)
    outer = INDENT * depth
    args = []
    for position, arg in enumerate(call.args):
        last = position == len(call.args) - 1
        args.append(arg.with_changes(comma=cst.Comma(whitespace_after=_newline(outer if last else inner))))
    return call.with_changes(whitespace_before_args=_newline(inner), args=args)


def fill_list(elements: list[cst.BaseExpression], depth: int, used: int, block_indent: int = 4) -> cst.List:
    """A list that fits on the line, or that fills lines of ``MAX_WIDTH`` one after another.

    ``used`` is how many columns the line already holds before the list; ``depth`` counts
    indentation levels inside the statement, which itself sits at ``block_indent`` columns.
    """
    single = cst.List([cst.Element(e) for e in elements])
    if used + width(single) <= MAX_WIDTH:
        return single
    inner = INDENT * (depth + 1)
    texts = [_render.render_expression(e) for e in elements]
    items = []
    column = block_indent + len(inner)
    for position, element in enumerate(elements):
        column += len(texts[position]) + 1
        whitespace: cst.BaseParenthesizableWhitespace
        if position == len(elements) - 1:
            whitespace = _newline(INDENT * depth)
        elif column + 1 + len(texts[position + 1]) + 1 <= MAX_WIDTH:
            whitespace = cst.SimpleWhitespace(" ")
            column += 1
        else:
            whitespace = _newline(inner)
            column = block_indent + len(inner)
        items.append(cst.Element(element, comma=cst.Comma(whitespace_after=whitespace)))
    return cst.List(items, lbracket=cst.LeftSquareBracket(whitespace_after=_newline(inner)))


def statement(
    node: cst.BaseSmallStatement,
    depth: int = 1,
    comment_lines: list[str] | None = None,
    blank_before: bool = False,
    explode: bool = True,
) -> cst.SimpleStatementLine:
    """A statement line; a call too wide for the line is exploded one argument per line
    (unless ``explode`` is false: the statement is laid out already)."""
    line = cst.SimpleStatementLine([node])
    if explode and width(line, INDENT * depth) > MAX_WIDTH:
        line = cst.SimpleStatementLine([_explode_outermost(node)])
    leading = [cst.EmptyLine(indent=False)] if blank_before else []
    leading += [cst.EmptyLine(comment=cst.Comment(f"# {text}")) for text in comment_lines or []]
    return line.with_changes(leading_lines=leading)


def _explode_outermost(node: cst.BaseSmallStatement) -> cst.BaseSmallStatement:
    if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call):
        return node.with_changes(value=explode_call(node.value))
    if isinstance(node, cst.Expr) and isinstance(node.value, cst.Call):
        return node.with_changes(value=explode_call(node.value))
    return node
