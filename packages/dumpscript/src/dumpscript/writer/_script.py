"""The plan → the script's text: docstring, imports, the standalone preamble, ``run()`` with the
statements that create the objects, and the call that runs it."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import partial

import libcst as cst

from dumpscript._progress import NO_PROGRESS, Progress
from dumpscript.graph import Graph
from dumpscript.plan import Names, Plan
from dumpscript.script import layout as fmt
from dumpscript.script.render import render_statement
from dumpscript.values import _literals as lit
from dumpscript.writer._arguments import Arguments
from dumpscript.writer._links import LinkStatements
from dumpscript.writer._objects import ObjectStatements, Piece
from dumpscript.writer._parallel import Unit, can_fork, write_in_two
from dumpscript.writer._rows import RowFilter, RowReader
from dumpscript.writer._scope import Scope
from dumpscript.writer._text import (
    BATCH,
    MAIN,
    MIGRATIONS_COMMENT,
    PREAMBLE,
    ROWS_COMMENT,
    RUN_DOC,
    SAVE_RAW,
    TextSink,
    migrations_text,
    rows_text,
)


def _parse_statements(source: str) -> list[cst.SimpleStatementLine | cst.BaseCompoundStatement]:
    return list(cst.parse_module(source.lstrip("\n")).body)


def _moved(text: str, indent: str) -> str:
    """Statements written one level in (:data:`~dumpscript.script.layout.INDENT`) moved to
    ``indent``: values are single-line literals, so every line that starts with the level is
    code."""
    level = len(fmt.INDENT)
    return "".join(
        indent + line[level:] if line.startswith(fmt.INDENT) else line for line in text.splitlines(keepends=True)
    )


class ScriptWriter:
    """Writes the script of a plan; each batch's rows are read again when it is written."""

    def __init__(
        self,
        graph: Graph,
        plan: Plan,
        *,
        names: Names | None = None,
        filters: Iterable[RowFilter] = (),
        scope: Scope | None = None,
        save_each: bool = False,
        all_fields: bool = False,
        known_links: Iterable[tuple[str, str, str]] = (),
        workers: int = 1,
        owns_snapshot: bool = False,
        migrations: dict[str, list[str]] | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> None:
        self.graph, self.plan = graph, plan
        self.names = names or Names(plan)
        """The objects' variables (those of the script being edited kept, for an insertion)."""
        self.migrations = migrations
        """The migration state to record in a whole script (None: record none)."""
        self.scope = scope or Scope()
        self.progress = progress
        self.workers = workers
        """Processes that write the script (2: a forked one writes half)."""
        self.owns_snapshot = owns_snapshot
        """The dump's transaction is its own (a forked process can then read the same data)."""
        known = frozenset(known_links)
        self.reader = RowReader(graph, plan, self.names, filters)
        self.arguments = Arguments(self.scope, graph, self.reader, all_fields)
        self.objects = ObjectStatements(
            self.scope,
            graph,
            plan,
            self.reader,
            self.arguments,
            save_each=save_each,
            known_links=known,
            progress=progress,
        )
        self.links = LinkStatements(self.scope, graph, plan, self.names, save_each=save_each, known_links=known)

    # -- statements ------------------------------------------------------------------------

    def register_models(self) -> None:
        """Import the classes the statements use, in label order (stable aliases)."""
        self.scope.register(self.plan.classes)

    def statements(self) -> Iterator[Piece]:
        """The statements that create the objects (``run()``'s body after its docstring)."""
        self.register_models()
        if not self.objects.save_each and any(m._meta.parents and len(o) for m, o in self.graph.by_model.items()):
            self.scope.helpers.add("save_raw")  # known before the statements (a forked writer writes some)
        self.progress.start("writing", self.plan.total())
        units = self._units()
        if self.workers >= 2 and can_fork(self.graph.using, self.owns_snapshot, self.plan.total()):
            yield from write_in_two(units, self.graph.using, self.scope.imports, self.progress.advance, self._quiet)
        else:
            for unit in units:
                yield from unit.render()
        yield from self.links.pieces()

    def _quiet(self) -> None:
        self.progress = self.objects.progress = NO_PROGRESS

    def _units(self) -> list[Unit]:
        """The statements before the many-to-many links, as pieces of work in order: a batch of
        plain objects, a whole other span, the deferred links of a section."""
        units = []
        first = True
        for section in self.plan.sections:
            for span in section.spans:
                model = span.model
                label = model._meta.label
                columns = len(self.graph.fields(model)) + 1
                count = span.stop - span.start
                if self.objects.compiled(model):
                    for offset in range(0, count, BATCH):
                        rows = min(BATCH, count - offset)
                        batch = partial(self.objects.compiled_batch, span, offset, first)
                        units.append(Unit(rows * columns, label, rows, batch))
                else:  # one unit, written as it is read (auto_now values are set after the span)
                    whole = partial(self.objects.general_span, span, first)
                    units.append(Unit(count * columns, label, count, whole))
                first = False
            if section.deferred:
                units.append(Unit(len(section.deferred), "", 0, partial(self.objects.deferred, section.deferred)))
        return units

    def statements_text(self, indent: str = fmt.INDENT) -> str:
        """The text of the statements, without the script around them, at ``indent`` (the
        place of an insertion: the block it goes into)."""
        text = "".join(p if isinstance(p, str) else render_statement(p, fmt.INDENT) for p in self.statements())
        return text if indent == fmt.INDENT else _moved(text, indent)

    # -- the script ------------------------------------------------------------------------

    def _body(self) -> Iterator[Piece]:
        for module in ("argparse", "os", "sys", "django"):
            self.scope.imports.module(module)
        self.scope.imports.name("django.db", "DEFAULT_DB_ALIAS")
        self.scope.imports.name("django.db", "transaction")
        yield cst.SimpleStatementLine([cst.Expr(cst.SimpleString(RUN_DOC))])
        empty = True
        for piece in self.statements():
            empty = False
            yield piece
        if empty:
            yield cst.SimpleStatementLine(
                [cst.Pass()], leading_lines=[cst.EmptyLine(comment=cst.Comment("# The selection holds no rows."))]
            )

    def write(self, out: TextSink) -> int:
        """Write the script to ``out`` without holding it: the body goes to a temporary file
        first (the imports above it are known only once it is written). Returns its lines."""
        lines = 0
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as body:
            for piece in self._body():
                text = piece if isinstance(piece, str) else render_statement(piece, fmt.INDENT)
                lines += text.count("\n")
                body.write(text)
            head, tail = self._frame()
            out.write(head)
            body.seek(0)
            shutil.copyfileobj(body, out, 1 << 20)
            out.write(tail)
        return lines + head.count("\n") + tail.count("\n")

    def created(self) -> Counter[str]:
        """Rows the statements written so far insert, per model label, links included (what a
        load reports); without the rows they match (:meth:`matched`)."""
        matched = self.matched()
        return Counter({k: v for k, v in (self.names.created() + self.links.rows).items() if k not in matched})

    def matched(self) -> Counter[str]:
        """Rows matched in the target by their fields (created only where missing: content
        types, permissions, ``DUMPSCRIPT_MATCH``, ``--upsert``), per model label."""
        created = self.names.created()
        labels = {model._meta.label for model in self.plan.matches}
        return Counter({label: count for label, count in created.items() if label in labels})

    def docstring(self) -> cst.SimpleStatementLine:
        counts, matched = self.created(), self.matched()
        total = sum(counts.values())
        lines = [f"Recreate {total} row{'s' if total != 1 else ''} through the Django ORM (written by dumpscript)."]
        if counts:
            lines += ["", *(f"    {label}: {count}" for label, count in sorted(counts.items()))]
        if matched:
            total_matched = sum(matched.values())
            lines += ["", f"Match {total_matched} rows the database may have already (created where missing):", ""]
            lines += [f"    {label}: {count}" for label, count in sorted(matched.items())]
        if self.plan.left_out:
            lines += ["", *(f"{line}." for line in self.plan.left_out)]
        lines += [
            "",
            "Load it with ``python manage.py loadscript THIS_FILE``, or run it on its own from the",
            "project folder: ``python THIS_FILE --settings mysite.settings``.",
        ]
        text = "\n".join(line.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') for line in lines)
        return cst.SimpleStatementLine([cst.Expr(cst.SimpleString(f'"""{text}\n"""'))])

    def _frame(self) -> tuple[str, str]:
        """The script's text before and after ``run()``'s body (once the body is written)."""
        marker = "# dumpscript: body"
        placeholder = cst.SimpleStatementLine([cst.Pass()], leading_lines=[cst.EmptyLine(comment=cst.Comment(marker))])
        run = cst.FunctionDef(
            name=cst.Name("run"),
            params=cst.Parameters(
                [
                    cst.Param(
                        cst.Name("using"),
                        default=lit.name("DEFAULT_DB_ALIAS"),
                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                    )
                ]
            ),
            body=cst.IndentedBlock([placeholder]),
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )
        head = self.scope.imports.head()
        head[0] = head[0].with_changes(leading_lines=[cst.EmptyLine()])
        preamble = _parse_statements(PREAMBLE)
        preamble[0] = preamble[0].with_changes(leading_lines=[cst.EmptyLine()])
        late = self.scope.imports.late()
        if late:
            late[0] = late[0].with_changes(leading_lines=[cst.EmptyLine()])
        helpers = _parse_statements(SAVE_RAW) if self.scope.helpers else []
        if helpers:
            helpers[0] = helpers[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
            run = run.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        recorded = []
        if self.migrations is not None:
            recorded = _parse_statements(migrations_text(self.migrations) + rows_text(self.created()))
            lead = [cst.EmptyLine(), cst.EmptyLine(), cst.EmptyLine(comment=cst.Comment(MIGRATIONS_COMMENT))]
            recorded[0] = recorded[0].with_changes(leading_lines=lead)
            rows = [cst.EmptyLine(), cst.EmptyLine(comment=cst.Comment(ROWS_COMMENT))]
            recorded[-1] = recorded[-1].with_changes(leading_lines=rows)
        main = _parse_statements(MAIN)
        main[0] = main[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        code = cst.Module(body=[self.docstring(), *head, *preamble, *late, *helpers, run, *recorded, *main]).code
        before, _, after = code.partition(f"{fmt.INDENT}{marker}\n{fmt.INDENT}pass\n")
        return before, after
