"""Change how many objects a folded loop creates: ``for i in range(3)`` → ``range(2000)``.

The seed's promise, "create 1,000s of entries with a for loop", as one edit: every field of
such a loop is a constant or an expression of the counter, so any count keeps working code.

Does not handle: loops that iterate a table of values (``for name, email in [...]``; add rows
to the table instead, the error says so); loops whose count is not a literal integer;
shrinking a loop below an index that later code uses (``polls[5]``; an error names the line).
"""

from __future__ import annotations

import ast
import re

from dumpscript.errors import TransformError
from dumpscript.transforms._source import Change, Source, TextEdit, apply_edits


class GrowLoop:
    """Set the count of the ``range(N)`` loop at a line."""

    def __init__(self, source: Source, line: int) -> None:
        self.source = source
        loops = [
            node
            for node in ast.walk(source.tree)
            if isinstance(node, ast.For) and node.lineno <= line <= (node.end_lineno or node.lineno)
        ]
        if not loops:
            raise TransformError(f"{source.name}, line {line}: no for loop here")
        self.loop = max(loops, key=lambda node: node.lineno)

    def change(self, count: int) -> Change:
        loop, source = self.loop, self.source
        if count < 0:
            raise TransformError(f"{source.name}, line {loop.lineno}: a loop cannot create {count} objects")
        iterable = loop.iter
        if not (
            isinstance(iterable, ast.Call)
            and isinstance(iterable.func, ast.Name)
            and iterable.func.id == "range"
            and len(iterable.args) == 1
            and isinstance(iterable.args[0], ast.Constant)
            and type(iterable.args[0].value) is int
        ):
            raise TransformError(
                f"{source.name}, line {loop.lineno}: the loop iterates a table of values, not range(N); "
                "add rows to its table to create more objects"
            )
        number = iterable.args[0]
        items = self._items()
        if items is not None:
            for node in ast.walk(source.tree):
                if (
                    isinstance(node, ast.Subscript)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == items
                    and isinstance(node.slice, ast.Constant)
                    and type(node.slice.value) is int
                    and node.slice.value >= count
                ):
                    raise TransformError(
                        f"{source.name}, line {node.lineno}: {items}[{node.slice.value}] is used there; "
                        f"the loop must create at least {node.slice.value + 1} objects"
                    )
        start, end = source.span(number)
        edit = TextEdit(start, end, str(count))
        summary = f"The loop at line {loop.lineno} now creates {count} objects (was {number.value!r})"
        return Change(apply_edits(source.text, [edit]), (edit,), summary, number.lineno, number.lineno)

    def _items(self) -> str | None:
        """The list the loop appends its objects to."""
        for node in ast.walk(self.loop):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "append"
                and isinstance(node.func.value, ast.Name)
            ):
                return node.func.value.id
        return None


def grow_loop(text: str, line: int, count: int, *, name: str = "<script>") -> Change:
    """Make the ``for ... in range(N)`` loop at ``line`` create ``count`` objects."""
    source = Source(text, name)
    # Parse the statement at the line, then the whole loop, then the lines that index its list.
    source.focus([(line, line)])
    loop = GrowLoop(source, line).loop
    source.focus([(loop.lineno, loop.lineno)])
    grow = GrowLoop(source, line)
    items = grow._items()
    if items is not None:
        end = source.line_end(grow.loop.end_lineno or grow.loop.lineno)
        pattern = re.compile(rf"\b{re.escape(items)}\s*\[")
        later = sorted({source.position(m.start())[0] + 1 for m in pattern.finditer(source.text, end)})
        if later:
            source.focus([(loop.lineno, loop.lineno), *((n, n) for n in later)])
            grow = GrowLoop(source, line)
    return grow.change(count)
