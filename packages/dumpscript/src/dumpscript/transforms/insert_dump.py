"""Insert a dump of rows into a script a person has already edited.

:func:`insert_dump` reads rows from the database (Django must be set up) and inserts the
statements that create them at a line of an existing script:

* the model classes and value helpers (``datetime``, ``Decimal``…) the new code needs are
  imported once: a name goes into the script's existing ``from module import ...`` statement
  when there is one, otherwise a new import line is added after the script's imports;
  imports the script already has are used as they are (``from polls.models import Poll as P``
  makes the new code say ``P``);
* new variables continue the script's numbering (``poll_4`` after ``poll_3``) and never take a
  name the script already uses;
* an object the script already creates, before the insertion point in the same block, as
  ``var = Model(...)`` (saved by a later statement before the insertion point) or
  ``var = Model.objects.create(...)``, with the same values, is not created again: the new
  code refers to ``var``. Values are compared as written: every keyword of the existing
  block must equal the dumped value, and every field the dump would write must be there;
* the code uses the ``using`` variable when the function it goes into has that parameter (as
  a dumped script's ``run(using=...)`` has), the default database otherwise;
* every byte outside the inserted region and the import lines is unchanged.

Not handled: objects created inside loops or list literals are not recognised for reuse
(only ``var = ...`` statements are); an import inside a function or an ``if`` block is not
seen (a module-level one is added); a script that binds a needed module's name
(``datetime``) to something else is refused.
"""

from __future__ import annotations

import ast
import dataclasses
from collections import Counter
from typing import TYPE_CHECKING, Any

from dumpscript.errors import NothingToInsert
from dumpscript.script.imports import anchors, import_edits
from dumpscript.script.source import Change, Source, TextEdit, apply_edits
from dumpscript.script.walk import (
    Construct,
    Point,
    bound_names,
    constructs,
    insertion_point,
    known_links,
    module_imports,
)

if TYPE_CHECKING:
    from django.db import models

    from dumpscript._progress import Progress
    from dumpscript.graph import Graph
    from dumpscript.options import DumpOptions
    from dumpscript.plan import Existing, Plan
    from dumpscript.writer import Scope


def insert_dump(
    text: str,
    *labels: str,
    line: int | None = None,
    options: DumpOptions | None = None,
    queryset: models.QuerySet[Any] | None = None,
    name: str = "<script>",
    progress: Progress | None = None,
) -> Change:
    """Insert the rows of ``labels`` (``app`` or ``app.Model``; or of ``queryset``) into the
    script ``text`` before ``line`` (1-based; by default at the end of its ``run()``, or of
    the file). Raises :class:`TransformError` naming the line and the reason when it cannot."""
    from dumpscript._api import plan_dump, snapshot
    from dumpscript._progress import NO_PROGRESS
    from dumpscript.options import DumpOptions
    from dumpscript.plan import Names
    from dumpscript.script.models import ModelNames
    from dumpscript.writer import Scope, ScriptWriter

    source = Source(text, name)
    point = insertion_point(source, line)
    options = options or DumpOptions()
    if queryset is not None:
        labels = (queryset.model._meta.label,)
        options = dataclasses.replace(options, pks=list(queryset.values_list("pk", flat=True)))
    with snapshot(options.using):  # rows are read again while the statements are written
        graph, plan = plan_dump(tuple(labels), options, progress or NO_PROGRESS)
        dumped = set(graph.present())
        selected = plan.total()
        if not selected:
            raise NothingToInsert(
                f"{name}: nothing to insert: the selection ({', '.join(labels) or 'all apps'}) holds no rows"
            )
        taken = source.identifiers
        bound = bound_names(source.tree)
        scope = Scope(using=point.using, taken=taken)
        scope.imports.reserve(bound)
        adopted_modules = _adopt_imports(scope, source.tree)
        scope.register(plan.classes)
        classes = ModelNames.of(source.tree.body)
        blocks = constructs(point, classes, among=dumped)
        existing, reused = _reuse(graph, plan, scope, blocks, frozenset(taken))
        names = Names(plan, existing)
        named = [(names.var(model, rank), block) for model, rank, block in reused]
        writer = ScriptWriter(
            graph,
            plan,
            names=names,
            scope=scope,
            save_each=options.save_each,
            all_fields=options.all_fields,
            known_links=known_links(point, classes),
            progress=progress or NO_PROGRESS,
        )
        body = writer.statements_text(point.indent).lstrip("\n")
    if not body:
        raise NothingToInsert(
            f"{name}: nothing to insert: the script already creates the {selected} selected object"
            f"{'s' if selected != 1 else ''} and their links"
        )
    edits = [  # in this order where two insert at one offset
        *import_edits(
            source, *scope.imports.added(), before_line=point.line, bound=bound, adopted_modules=adopted_modules
        ),
        *_helper_edits(source, point, body, bound),
        *_name_elements(source, named),
        _body_edit(source, point, body),
    ]
    new_text = apply_edits(text, edits)
    counts = writer.created()
    created = sum(counts.values())
    summary = f"Inserted {created} row{'s' if created != 1 else ''} ({_counts(counts)}) at line {point.line}"
    matched = writer.matched()
    if matched:
        summary += f"; matches {sum(matched.values())} the database may have already ({_counts(matched)})"
    if named:
        summary += f"; reused {len(named)} the script already creates ({', '.join(var for var, _ in named)})"
    lines = [source.position(e.start)[0] + 1 for e in edits]
    return Change(new_text, tuple(sorted(edits, key=lambda e: e.start)), summary, min(lines), max(lines))


def _counts(counts: Counter[str]) -> str:
    return ", ".join(f"{label}: {count}" for label, count in sorted(counts.items()))


# -- where --------------------------------------------------------------------------------


def _body_edit(source: Source, point: Point, body: str) -> TextEdit:
    before = source.text[: point.offset]
    after = source.text[point.offset :]
    if before and not before.endswith("\n"):
        body = "\n" + body
        before += "\n"
    previous_blank = not before or before.endswith("\n\n") or not before.rstrip("\n").split("\n")[-1].strip()
    if not point.at_start and not previous_blank:
        body = "\n" + body
    next_line = after.split("\n", 1)[0]
    if point.index < len(point.body) and next_line.strip():
        body += "\n"
    return TextEdit(point.offset, point.offset, body)


# -- what the script already has ----------------------------------------------------------


def _adopt_imports(scope: Scope, tree: ast.Module) -> set[str]:
    """Tell the writer's scope the script's module-level imports; the names bound to modules."""
    modules: set[str] = set()
    for statement in module_imports(tree):
        if isinstance(statement, ast.ImportFrom):
            if statement.level or not statement.module:
                continue
            for alias in statement.names:
                if alias.name != "*":
                    scope.imports.adopt(statement.module, alias.name, alias.asname or alias.name)
        else:
            for alias in statement.names:
                if alias.asname is None:
                    scope.imports.adopt(alias.name, "", alias.name.split(".")[0])
                    modules.add(alias.name.split(".")[0])
    return modules


def _reuse(
    graph: Graph, plan: Plan, scope: Scope, blocks: dict[type[models.Model], list[Construct]], taken: frozenset[str]
) -> tuple[Existing, list[tuple[type[models.Model], int, Construct]]]:
    """The dumped objects that a block of the script already creates (a variable's block
    gives them its name), as the names' input: a block is the object when every keyword it
    has equals the value the writer would write, and it has every keyword the writer cannot
    leave out. Objects come targets first, so a reference compares by the variable: until the
    numbering, only reused objects have a name."""
    from dumpscript.plan import Existing, Names
    from dumpscript.writer import written_objects

    existing = Existing(provisional=True)
    reused: list[tuple[type[models.Model], int, Construct]] = []
    names = lambda: Names(plan, existing)  # noqa: E731 (the names at the time each batch is read)
    for obj in written_objects(graph, plan, scope, blocks, names):
        values = {name: _dump_expression(text) for name, text in obj.keywords.items()}
        for block in blocks[obj.model]:
            if block.used or not obj.required <= block.keywords.keys() <= values.keys():
                continue
            if all(values[key] == value for key, value in block.keywords.items()):
                block.used = True
                existing = existing.with_reused(obj.model, obj.rank, block.var)
                reused.append((obj.model, obj.rank, block))
                break
    return dataclasses.replace(existing, taken=taken, provisional=False), reused


def _name_elements(source: Source, reused: list[tuple[str, Construct]]) -> list[TextEdit]:
    """Give the reused elements of ``bulk_create`` lists their variable: ``var = Model(...)``
    above the statement, and ``var`` in the list."""
    edits = []
    above: dict[int, list[str]] = {}
    for var, block in reused:
        if block.element is None or block.statement is None:
            continue
        start, end = source.span(block.element)
        indent = source.indent_of(block.statement.lineno)
        extra = block.element.col_offset - len(indent)
        lines = source.text[start:end].split("\n")
        lines[1:] = [line[min(extra, len(line) - len(line.lstrip(" "))) :] for line in lines[1:]]
        above.setdefault(block.statement.lineno, []).append(f"{indent}{var} = " + "\n".join(lines) + "\n")
        edits.append(TextEdit(start, end, var))
    for line, assignments in above.items():
        offset = source.line_start(line)
        edits.append(TextEdit(offset, offset, "".join(assignments)))
    return edits


def _dump_expression(text: str) -> str:
    if not text:
        return ""
    try:
        return ast.dump(ast.parse(text, mode="eval").body)
    except SyntaxError:
        return ""


# -- imports ------------------------------------------------------------------------------


def _helper_edits(source: Source, point: Point, body: str, bound: set[str]) -> list[TextEdit]:
    """The script's ``save_raw`` function (multi-table objects), after its imports, when the
    new code calls it and the script has none."""
    from dumpscript.writer._text import SAVE_RAW

    if "save_raw(" not in body or "save_raw" in bound:
        return []
    _, offset, _ = anchors(source, point.line)
    return [TextEdit(offset, offset, "\n" + SAVE_RAW)]


__all__ = ["insert_dump"]
