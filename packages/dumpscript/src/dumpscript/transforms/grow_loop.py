"""Change how many objects a folded loop creates: ``for i in range(3)`` → ``range(2000)``.

The promise of django-extensions' dumpscript, "create 1,000s of entries with a for loop", as one edit: every field of
such a loop is a constant or an expression of the counter, so any count keeps working code.

A loop over a table of captured rows (``for name, email in [...]``) keeps its rows and gets a
loop that makes up the rest (:mod:`.grow_table`). Does not handle: loops whose count is not a
literal integer;
shrinking a loop below an index that later code uses (``polls[5]``; an error names the line).
"""

from __future__ import annotations

import ast
import re

from dumpscript.errors import TransformError
from dumpscript.script.source import Change, Source, TextEdit, apply_edits
from dumpscript.script.walk import generated_after, loop_at


class GrowLoop:
    """Set the count of the ``range(N)`` loop at a line."""

    def __init__(self, source: Source, line: int, seed: int = 0) -> None:
        self.source = source
        self.seed = seed
        loop = loop_at(source.tree, line)
        if loop is None:
            raise TransformError(f"{source.name}, line {line}: no for loop here")
        self.loop = loop
        grown = generated_after(source.tree, self.loop)
        if grown is not None:  # a table grown before: change how far its generated loop goes
            self.loop = grown

    def change(self, count: int) -> Change:
        loop, source = self.loop, self.source
        if count < 0:
            raise TransformError(f"{source.name}, line {loop.lineno}: a loop cannot create {count} objects")
        iterable = loop.iter
        if not (
            isinstance(iterable, ast.Call)
            and isinstance(iterable.func, ast.Name)
            and iterable.func.id == "range"
            and len(iterable.args) in (1, 2)
            and all(isinstance(arg, ast.Constant) and type(arg.value) is int for arg in iterable.args)
        ):
            from dumpscript.transforms.grow_table import GrowTable

            return GrowTable(source, loop).change(count, self.seed)
        number = iterable.args[-1]  # range(N), or range(captured, N) after a table
        assert isinstance(number, ast.Constant)
        captured = iterable.args[0].value if len(iterable.args) == 2 else None  # type: ignore[attr-defined]
        if captured is not None and count <= captured:
            raise TransformError(
                f"{source.name}, line {loop.lineno}: the rows above make {captured} already; "
                "to create fewer, delete rows from their table"
            )
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
        if captured is not None:
            summary = (
                f"The loop at line {loop.lineno} now makes up {count - captured:,} objects after the {captured} "
                f"captured rows: {count:,} in all (was {number.value!r})"
            )
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


def grow_loop(text: str, line: int, count: int, *, name: str = "<script>", seed: int = 0) -> Change:
    """Make the loop at ``line`` create ``count`` objects: a ``range(N)`` loop counts to
    ``count``; a loop over a table of captured rows keeps them and gets a loop that makes up
    the rest, a generator per field (needs Django set up: :mod:`.grow_table`), seeded with
    ``seed``."""
    source = Source(text, name)
    # Parse the statement at the line, then the whole loop, then the lines that index its list.
    source.focus([(line, line)])
    loop = GrowLoop(source, line).loop
    source.focus([(loop.lineno, (loop.end_lineno or loop.lineno) + 1)])
    grow = GrowLoop(source, line, seed)
    items = grow._items()
    if items is not None:
        end = source.line_end(grow.loop.end_lineno or grow.loop.lineno)
        pattern = re.compile(rf"\b{re.escape(items)}\s*\[")
        later = sorted({source.position(m.start())[0] + 1 for m in pattern.finditer(source.text, end)})
        if later:
            source.focus([(loop.lineno, loop.lineno), *((n, n) for n in later)])
            grow = GrowLoop(source, line, seed)
    return grow.change(count)
