"""Fold a run of similar object blocks into a ``for`` loop that creates the same objects.

A *block* is a constructor call with keyword arguments only, either a statement
``poll_1 = Poll(question=..., author=author_1)`` (optionally followed by
``poll_1.save(using=using)``) or an element of a list (``Choice(poll=poll_1, votes=3),``
inside ``bulk_create([...])``). A *run* is a sequence of blocks next to each other with the
same model and the same keyword names in the same order.

The loop appends the objects to a list named after the model (``polls``), in the original
order. Each field becomes a constant, an expression of the counter ``i`` (see
:mod:`dumpscript.transforms._patterns`) or a column of a table of tuples the loop iterates.
Later references to a folded variable are rewritten to index the list (``poll_2`` →
``polls[1]``; a list literal of all of them → ``polls``; a stretch of them → ``*polls[2:5]``).

Does not handle: blocks with positional or ``**`` arguments; a run whose variables are
assigned again later (an error says where); blocks sharing a line with other statements;
statements between blocks other than each block's own ``var.save(...)``; comments inside the
folded region are kept, but moved above the loop.
"""

from __future__ import annotations

import ast
import builtins
import keyword as _keyword_module
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from dumpscript.errors import TransformError
from dumpscript.naming import plural, snake
from dumpscript.script import layout as fmt
from dumpscript.script.literals import NotALiteral, dotted
from dumpscript.script.source import Change, Source, TextEdit, apply_edits, bodies, overlaps
from dumpscript.script.walk import names_in_scope
from dumpscript.transforms._patterns import Column, Pattern, infer
from dumpscript.values import _literals as lit

_TABLE = "__dumpscript_table__"
_BUILTINS = frozenset(dir(builtins))


@dataclass(eq=False)
class Block:
    call: ast.Call
    model: str
    keywords: tuple[str, ...]
    first_line: int
    last_line: int
    start: int
    end: int
    var: str | None = None
    save: ast.stmt | None = None
    statement: ast.stmt | None = None


@dataclass(eq=False)
class Run:
    """Blocks next to each other with the same model and keywords."""

    kind: str  # "statement" or "element"
    blocks: list[Block]
    owner: ast.stmt | None = None  # element runs: the statement that holds the list
    container: ast.List | ast.Tuple | None = None
    body: list[ast.stmt] = field(default_factory=list)

    @property
    def first_line(self) -> int:
        return self.blocks[0].first_line

    @property
    def last_line(self) -> int:
        return self.blocks[-1].last_line

    @property
    def model(self) -> str:
        return self.blocks[0].model

    def describe(self) -> str:
        return f"{len(self.blocks)} {self.model} blocks (lines {self.first_line}-{self.last_line})"


def _block_call(node: ast.expr) -> tuple[ast.Call, str] | None:
    if not isinstance(node, ast.Call) or node.args or not node.keywords:
        return None
    if any(keyword.arg is None for keyword in node.keywords):
        return None
    try:
        model = dotted(node.func)
    except NotALiteral:
        return None
    if not model.split(".")[-1][:1].isupper():  # a class, by convention
        return None
    return node, model


def _save_of(statement: ast.stmt, var: str) -> bool:
    """``var.save(...)``."""
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Attribute)
        and statement.value.func.attr == "save"
        and isinstance(statement.value.func.value, ast.Name)
        and statement.value.func.value.id == var
    )


def _save_shape(source: Source, block: Block) -> str:
    if block.save is None:
        return ""
    assert isinstance(block.save, ast.Expr) and isinstance(block.save.value, ast.Call)
    call = block.save.value
    return ast.dump(ast.Call(func=ast.Name("_"), args=call.args, keywords=call.keywords))


def _expression_nodes(statement: ast.stmt) -> list[ast.AST]:
    """The nodes of ``statement`` that are not inside a nested statement."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, ast.stmt))
    return found


def _statement_block(source: Source, body: list[ast.stmt], position: int) -> Block | None:
    statement = body[position]
    if not (
        isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)
    ):
        return None
    found = _block_call(statement.value)
    if found is None:
        return None
    var = statement.targets[0].id
    save = body[position + 1] if position + 1 < len(body) else None
    save = save if save is not None and _save_of(save, var) else None
    last = save or statement
    assert last.end_lineno is not None
    start = source.offset(statement.lineno, statement.col_offset)
    end = source.span(last)[1]
    keywords = tuple(k.arg for k in found[0].keywords if k.arg)
    return Block(
        found[0], found[1], keywords, statement.lineno, last.end_lineno, start, end, var, save, statement
    )  # fmt: skip


def find_runs(source: Source, first: int = 1, last: int = 10**9) -> list[Run]:
    """The runs of two or more similar blocks that touch lines ``first`` to ``last`` (whole runs,
    also where they reach beyond those lines); every run of the script by default."""
    runs: list[Run] = []
    for _, body in bodies(source.tree, first, last):
        touching = [k for k, statement in enumerate(body) if overlaps(statement, first, last)]
        if not touching:
            continue
        start, stop = touching[0], touching[-1]
        while start > 0:
            if _statement_block(source, body, start - 1) is not None:
                start -= 1
            elif (
                start > 1
                and _save_of(body[start - 1], getattr(_target(body[start - 2]), "id", ""))
                and _statement_block(source, body, start - 2) is not None
            ):
                start -= 2  # a block and its save()
            else:
                break
        while stop + 1 < len(body) and (
            _statement_block(source, body, stop + 1) is not None
            or _save_of(body[stop + 1], getattr(_target(body[stop]), "id", ""))
        ):
            stop += 1
        current: list[Block] = []
        position = start
        while position <= stop + 1:
            block = _statement_block(source, body, position) if position <= stop else None
            if block is not None and current and _compatible(source, current[-1], block):
                current.append(block)
            else:
                if len(current) >= 2:
                    runs.append(Run("statement", current, body=body))
                current = [block] if block is not None else []
            position += 2 if block is not None and block.save is not None else 1
        for statement in body[touching[0] : touching[-1] + 1]:
            for node in _expression_nodes(statement):
                if isinstance(node, ast.List | ast.Tuple):
                    runs += _element_runs(source, node, statement, body)
    runs.sort(key=lambda run: (run.first_line, -len(run.blocks)))
    return runs


def _nodes_from(tree: ast.Module, line: int) -> Iterator[ast.AST]:
    """The nodes of ``tree`` in statements that end at or after ``line`` (earlier statements
    are skipped whole)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt) and (child.end_lineno or child.lineno) < line:
                continue
            stack.append(child)


def _target(statement: ast.stmt) -> ast.expr | None:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        return statement.targets[0]
    return None


def _element_runs(source: Source, container: ast.List | ast.Tuple, owner: ast.stmt, body: list[ast.stmt]) -> list[Run]:
    runs = []
    current: list[Block] = []
    for element in [*container.elts, None]:
        found = _block_call(element) if element is not None else None
        block = None
        if element is not None and found is not None:
            assert element.end_lineno is not None
            start, end = source.span(element)
            block = Block(found[0], found[1], tuple(k.arg for k in found[0].keywords if k.arg), element.lineno,
                          element.end_lineno, start, end)  # fmt: skip
        if block is not None and current and _compatible(source, current[-1], block):
            current.append(block)
        else:
            if len(current) >= 2:
                runs.append(Run("element", current, owner=owner, container=container, body=body))
            current = [block] if block is not None else []
    return runs


def _compatible(source: Source, a: Block, b: Block) -> bool:
    return a.model == b.model and a.keywords == b.keywords and _save_shape(source, a) == _save_shape(source, b)


def select_run(source: Source, first: int, last: int) -> Run:
    """The run a line range (or, with ``first == last``, a cursor line) asks for."""
    runs = find_runs(source, first, last)
    if first == last:
        touching = [r for r in runs if any(b.first_line <= first <= b.last_line for b in r.blocks)]
        if not touching:  # on the statement that holds a list of blocks: its longest run
            touching = [
                r
                for r in runs
                if r.owner is not None and r.owner.lineno <= first <= (r.owner.end_lineno or r.owner.lineno)
            ]
        if not touching:
            raise TransformError(
                f"{source.name}, line {first}: no run of similar blocks here "
                "(two or more Model(field=...) blocks of one model with the same fields)"
            )
        return max(touching, key=lambda r: len(r.blocks))
    best: Run | None = None
    for run in runs:
        inside = [b for b in run.blocks if first <= b.first_line and b.last_line <= last]
        if len(inside) >= 2 and (best is None or len(inside) > len(best.blocks)):
            best = Run(run.kind, inside, run.owner, run.container, run.body)
    if best is None:
        raise TransformError(
            f"{source.name}, lines {first}-{last}: no run of two or more similar blocks "
            "(Model(field=...) of one model with the same fields) lies inside these lines"
        )
    return best


class FoldIntoLoop:
    """Replace a run of similar blocks with a loop; see the module docstring."""

    def __init__(self, source: Source, run: Run) -> None:
        self.source = source
        self.run = run
        self.taken, self.reusable = names_in_scope(source, run.first_line)

    def _fresh(self, wanted: str, loop_variable: bool = False) -> str:
        if _keyword_module.iskeyword(wanted) or wanted in _BUILTINS:
            wanted += "_"  # PEP 8: class_, type_
        if loop_variable and wanted in self.reusable:
            self.reusable.discard(wanted)
            return wanted
        name = wanted
        number = 2
        while name in self.taken:
            name = f"{wanted}_{number}"
            number += 1
        self.taken.add(name)
        return name

    # -- references to the folded variables -------------------------------------------------

    def _variables(self) -> dict[str, int]:
        if self.run.kind != "statement":
            return {}
        variables = {block.var: k for k, block in enumerate(self.run.blocks) if block.var}
        if len(variables) != len(self.run.blocks):
            raise TransformError(f"{self.source.name}, line {self.run.first_line}: two blocks assign one variable")
        return variables

    def _value(self, node: ast.expr, variables: dict[str, int], position: int, items: str) -> tuple[ast.expr, str]:
        """A value node and its text, with references to earlier blocks of the run indexed."""
        text = self.source.segment(node)
        names = [n for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in variables]
        if not names:
            return node, text
        start = self.source.span(node)[0]
        edits = []
        for name in names:
            if variables[name.id] >= position:
                raise TransformError(
                    f"{self.source.name}, line {name.lineno}: {name.id} is used before the block that creates it"
                )
            a, b = self.source.span(name)
            edits.append(TextEdit(a - start, b - start, f"{items}[{variables[name.id]}]"))
        text = apply_edits(text, edits)
        return ast.parse(f"({text})", mode="eval").body, text

    def _reference_edits(self, variables: dict[str, int], items: str, after: int) -> list[TextEdit]:
        """Later uses of the folded variables, rewritten to index the list."""
        if not variables:
            return []
        edits: list[TextEdit] = []
        covered: list[tuple[int, int]] = []
        names = []
        for node in _nodes_from(self.source.tree, self.run.last_line):
            if isinstance(node, ast.Name) and node.id in variables:
                start, _ = self.source.span(node)
                if start >= after:
                    names.append(node)
            elif isinstance(node, ast.List) and node.elts and self.source.span(node)[0] >= after:
                edits += self._list_edits(node, variables, items, covered)
        for name in names:
            start, end = self.source.span(name)
            if any(a <= start < b for a, b in covered):
                continue
            if not isinstance(name.ctx, ast.Load):
                raise TransformError(
                    f"{self.source.name}, line {name.lineno}: {name.id} is assigned again after the run; "
                    "fold only the blocks before it"
                )
            edits.append(TextEdit(start, end, f"{items}[{variables[name.id]}]"))
        return edits

    def _list_edits(
        self, node: ast.List, variables: dict[str, int], items: str, covered: list[tuple[int, int]]
    ) -> list[TextEdit]:
        """Stretches of the folded variables in order inside a list literal → ``*items[a:b]``."""
        indexes = [variables.get(e.id) if isinstance(e, ast.Name) else None for e in node.elts]
        edits = []
        if len(indexes) == len(variables) and indexes == list(range(len(variables))):
            span = self.source.span(node)
            covered.append(span)
            return [TextEdit(span[0], span[1], items)]
        position = 0
        while position < len(indexes):
            first = indexes[position]
            end = position
            while first is not None and end + 1 < len(indexes) and indexes[end + 1] == (indexes[end] or 0) + 1:
                end += 1
            if first is not None and end > position:
                start = self.source.span(node.elts[position])[0]
                stop = self.source.span(node.elts[end])[1]
                last = indexes[end]
                assert last is not None
                whole = first == 0 and last == len(variables) - 1
                slice_ = "" if whole else f"[{first}:{last + 1}]"
                edits.append(TextEdit(start, stop, f"*{items}{slice_}"))
                covered.append((start, stop))
            position = end + 1
        return edits

    # -- the loop ---------------------------------------------------------------------------

    def change(self) -> Change:
        run, source = self.run, self.source
        blocks = run.blocks
        stem = snake(run.model.split(".")[-1])
        items = self._fresh(plural(stem))
        variables = self._variables()
        columns: list[Column] = []
        for k in range(len(blocks[0].keywords)):
            nodes, texts = [], []
            for position, block in enumerate(blocks):
                node, text = self._value(block.call.keywords[k].value, variables, position, items)
                nodes.append(node)
                texts.append(text)
            columns.append(Column(nodes, texts))
        patterns: list[Pattern] = [infer(column) for column in columns]
        counter = ""
        if any(p.uses_counter for p in patterns):
            free = [name for name in ("i", "n", "index") if name not in self.taken or name in self.reusable]
            counter = self._fresh(free[0] if free else "i", loop_variable=True)
        table = [k for k, p in enumerate(patterns) if p.kind == "table"]
        columns_names = {k: self._fresh(blocks[0].keywords[k], loop_variable=True) for k in table}
        indent = self._indent()
        loop = self._loop(patterns, counter, table, columns_names, items, stem)
        rendered = cst.Module(body=[], default_indent=fmt.INDENT).code_for_node(loop)
        if table:
            rendered = rendered.replace(_TABLE, self._table_text(columns, table), 1)
        edits, first_line, last_line = self._placement(rendered, indent, items, variables)
        text = apply_edits(source.text, edits)
        summary = f"Folded {len(blocks)} {run.model} blocks (lines {run.first_line}-{run.last_line}) into a loop"
        return Change(text, tuple(sorted(edits, key=lambda e: e.start)), summary, first_line, last_line)

    def _indent(self) -> str:
        anchor = self.run.owner if self.run.kind == "element" else self.run.blocks[0].statement
        assert anchor is not None
        indent = self.source.indent_of(anchor.lineno)
        if len(indent) != anchor.col_offset:
            raise TransformError(
                f"{self.source.name}, line {anchor.lineno}: the blocks share their line with another statement"
            )
        return indent

    def _loop(
        self,
        patterns: list[Pattern],
        counter: str,
        table: list[int],
        names: dict[int, str],
        items: str,
        stem: str,
    ) -> cst.SimpleStatementLine | cst.For:
        blocks = self.run.blocks
        kwargs = []
        for k, keyword in enumerate(blocks[0].keywords):
            pattern = patterns[k]
            if pattern.kind == "table":
                value: cst.BaseExpression = cst.Name(names[k])
            else:
                assert pattern.build is not None
                value = pattern.build(counter or "_")
            kwargs.append(cst.Arg(value, keyword=cst.Name(keyword), equal=lit.tight_equal()))
        call = cst.Call(cst.parse_expression(blocks[0].model), kwargs)
        body: list[cst.BaseStatement] = []
        depth = fmt.INDENT * (1 + len(self._indent()) // len(fmt.INDENT))
        if blocks[0].save is not None:
            obj = self._fresh(stem)
            assign = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(obj))], call)])
            if fmt.width(assign, depth) > fmt.MAX_WIDTH:
                assign = cst.SimpleStatementLine(
                    [cst.Assign([cst.AssignTarget(cst.Name(obj))], fmt.explode_call(call))]
                )
            body.append(assign)
            save_text = self.source.segment(blocks[0].save)
            assert blocks[0].var is not None
            body.append(cst.parse_statement(obj + save_text[len(blocks[0].var) :]))
            append = cst.Call(cst.Attribute(cst.Name(items), cst.Name("append")), [cst.Arg(cst.Name(obj))])
            body.append(cst.SimpleStatementLine([cst.Expr(append)]))
        else:
            append = cst.Call(cst.Attribute(cst.Name(items), cst.Name("append")), [cst.Arg(call)])
            line = cst.SimpleStatementLine([cst.Expr(append)])
            if fmt.width(line, depth) > fmt.MAX_WIDTH:
                line = cst.SimpleStatementLine([cst.Expr(append.with_changes(args=[cst.Arg(fmt.explode_call(call))]))])
            body.append(line)
        if table:
            column_names = [cst.Name(names[k]) for k in table]
            target: cst.BaseAssignTargetExpression = (
                column_names[0]
                if len(column_names) == 1
                else cst.Tuple([cst.Element(n) for n in column_names], lpar=[], rpar=[])
            )
            iterable: cst.BaseExpression = cst.Name(_TABLE)
            if counter:
                inner = (
                    target
                    if len(column_names) == 1
                    else target.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
                )  # type: ignore[union-attr]
                target = cst.Tuple([cst.Element(cst.Name(counter)), cst.Element(inner)], lpar=[], rpar=[])  # type: ignore[arg-type]
                iterable = cst.Call(cst.Name("enumerate"), [cst.Arg(iterable)])
        else:
            target = cst.Name(counter or "_")
            iterable = cst.Call(cst.Name("range"), [cst.Arg(cst.Integer(str(len(blocks))))])
        return cst.For(target, iterable, cst.IndentedBlock(body))

    def _table_text(self, columns: list[Column], table: list[int]) -> str:
        """The table of values, at column 0 (the loop's lines are indented afterwards)."""
        inner = fmt.INDENT
        rows = []
        for position in range(len(self.run.blocks)):
            values = [columns[k].texts[position] for k in table]
            row = values[0] if len(values) == 1 else "(" + ", ".join(values) + ")"
            rows.append(f"{inner}{row},\n")
        return "[\n" + "".join(rows) + "]"

    def _placement(
        self, rendered: str, indent: str, items: str, variables: dict[str, int]
    ) -> tuple[list[TextEdit], int, int]:
        run, source = self.run, self.source
        lines = [f"{indent}{items} = []\n"] + [
            f"{indent}{line}" if line.strip() else line for line in rendered.splitlines(keepends=True)
        ]
        if run.kind == "statement":
            start = source.line_start(run.first_line)
            end = source.line_end(run.last_line)
            self._check_alone(start, end)
            comments = [f"{indent}{c}\n" for c in source.comments(start, end)]
            edits = [TextEdit(start, end, "".join(comments + lines))]
            edits += self._reference_edits(variables, items, end)
            return edits, run.first_line, run.last_line
        assert run.owner is not None and run.container is not None
        first, last = run.blocks[0], run.blocks[-1]
        comments = [f"{indent}{c}\n" for c in source.comments(first.start, last.end)]
        insert_at = source.line_start(run.owner.lineno)
        whole = len(run.blocks) == len(run.container.elts) and isinstance(run.container, ast.List)
        if whole:
            a, b = source.span(run.container)
            replacement = TextEdit(a, b, items)
        else:
            replacement = TextEdit(first.start, last.end, f"*{items}")
        edits = [TextEdit(insert_at, insert_at, "".join(comments + lines)), replacement]
        return edits, run.owner.lineno, run.owner.end_lineno or run.owner.lineno

    def _check_alone(self, start: int, end: int) -> None:
        before = self.source.text[start : self.run.blocks[0].start]
        after = self.source.text[self.run.blocks[-1].end : end]
        if before.strip() or (after.strip() and not after.strip().startswith("#")):
            raise TransformError(
                f"{self.source.name}, line {self.run.first_line}: the blocks share their lines with other statements"
            )


def fold_loop(text: str, first_line: int, last_line: int | None = None, *, name: str = "<script>") -> Change:
    """Fold the run of similar blocks in lines ``first_line`` to ``last_line`` (1-based, both
    included; a single line means the whole run around that line) into a loop.

    Raises :class:`~dumpscript.errors.TransformError` naming the line and the reason when the
    script does not parse or the lines hold no run of two or more similar blocks.
    """
    source = Source(text, name)
    last = last_line if last_line is not None else first_line
    # Parse only the lines asked for (and, for a cursor line, the run around it), then the
    # statements after the run that use its variables.
    source.focus([(first_line, last)], widen=first_line == last)
    run = select_run(source, first_line, last)
    later = _lines_using(source, run)
    if later:
        source.focus([(first_line, last), *((n, n) for n in later)], widen=first_line == last)
        run = select_run(source, first_line, last)
    return FoldIntoLoop(source, run).change()


def _lines_using(source: Source, run: Run) -> list[int]:
    """The lines after ``run`` where a word is one of its blocks' variables."""
    variables = {block.var for block in run.blocks if block.var}
    if not variables:
        return []
    stems = sorted({re.sub(r"[0-9]+$", "", var) for var in variables})
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(stem) for stem in stems) + r")[A-Za-z0-9_]*")
    start = source.line_end(run.last_line)
    found: list[int] = []
    for match in pattern.finditer(source.text, start):
        if match.group() in variables:
            line = source.position(match.start())[0] + 1
            if not found or found[-1] != line:
                found.append(line)
    return found
