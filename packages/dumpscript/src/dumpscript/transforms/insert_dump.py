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
import copy
import dataclasses
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import libcst as cst

from dumpscript.errors import NothingToInsert, TransformError
from dumpscript.script.source import Change, Source, TextEdit, apply_edits

if TYPE_CHECKING:
    from django.db import models

    from dumpscript._progress import Progress
    from dumpscript.graph import Graph
    from dumpscript.options import DumpOptions
    from dumpscript.plan import Existing, Plan
    from dumpscript.writer import Scope

_MANAGER_METHODS = frozenset({"create"})


@dataclass
class _Point:
    """Where the new statements go."""

    offset: int
    line: int
    indent: str
    body: list[ast.stmt]
    index: int
    """The new statements go before ``body[index]``."""
    using: str | None
    at_start: bool
    """Nothing of the block precedes the insertion point."""


@dataclass
class _Block:
    """``var = Model(...)`` or ``var = Model.objects.create(...)`` that the script runs
    before the insertion point."""

    var: str
    """The variable; empty for an element of a ``bulk_create`` list (it gets one when reused)."""
    model: type[models.Model]
    keywords: dict[str, str]
    """Keyword → ``ast.dump`` of its value."""
    element: ast.Call | None = None
    statement: ast.stmt | None = None
    """For a list element: the element and the ``bulk_create`` statement."""
    used: bool = False


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
    from dumpscript.writer import Scope, ScriptWriter

    source = Source(text, name)
    point = _insertion_point(source, line)
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
        bound = _bound_names(source.tree)
        scope = Scope(using=point.using, taken=taken)
        scope.imports.reserve(bound)
        adopted_modules = _adopt_imports(scope, source.tree)
        scope.register(plan.classes)
        classes = _classes(source)
        blocks = _blocks(source, point, {k: v for k, v in classes.items() if v in dumped})
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
            known_links=_known_links(source, point, classes),
            progress=progress or NO_PROGRESS,
        )
        body = _reindent(writer.statements_text().lstrip("\n"), point.indent)
    if not body:
        raise NothingToInsert(
            f"{name}: nothing to insert: the script already creates the {selected} selected object"
            f"{'s' if selected != 1 else ''} and their links"
        )
    edits = [  # in this order where two insert at one offset
        *_import_edits(source, scope, point, adopted_modules, bound),
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


def _sub_bodies(statement: ast.stmt) -> list[list[ast.stmt]]:
    found: list[list[ast.stmt]] = []
    for attribute in ("body", "handlers", "orelse", "finalbody", "cases"):
        value = getattr(statement, attribute, None)
        if not isinstance(value, list) or not value:
            continue
        if isinstance(value[0], ast.stmt):
            found.append(value)
        else:  # except handlers, match cases
            found.extend(item.body for item in value if item.body)
    return sorted(found, key=lambda body: body[0].lineno)


def _insertion_point(source: Source, line: int | None) -> _Point:
    """Where the new code goes: before ``line``, or at the end of ``run()`` (of the file).
    Never where it would use a name before it is bound: a point at module level goes to the
    end of the script's ``run()`` when it has one (its objects are created there, with
    ``using``), else after the module's imports."""
    point = _requested_point(source, line)
    if line is None or point.body is not source.tree.body:
        return point
    body = source.tree.body
    if any(isinstance(s, ast.FunctionDef) and s.name == "run" for s in body):
        return _requested_point(source, None)
    imports = [s for s in body if isinstance(s, ast.Import | ast.ImportFrom)]
    if imports and point.line <= (imports[-1].end_lineno or imports[-1].lineno):
        end = imports[-1].end_lineno or imports[-1].lineno
        return _point(source, body, body.index(imports[-1]) + 1, end + 1, [])
    return point


def _requested_point(source: Source, line: int | None) -> _Point:
    tree = source.tree
    count = len(source.lines)
    functions: list[ast.stmt] = []
    if line is None:
        run = next((s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == "run"), None)
        if run is None:
            return _point(source, tree.body, len(tree.body), count + 1, [])
        end = run.body[-1].end_lineno or run.body[-1].lineno
        point = _point(source, run.body, len(run.body), end + 1, [run])
        point.offset = source.line_end(end)
        return point
    if not 1 <= line <= count + 1:
        raise TransformError(f"{source.name}: cannot insert at line {line}: the script has lines 1 to {count + 1}")
    body: list[ast.stmt] = tree.body
    while True:
        inside = next((s for s in body if s.lineno < line <= (s.end_lineno or s.lineno)), None)
        if inside is None:
            index = sum(1 for s in body if s.lineno < line)
            previous = body[index - 1] if index else None
            if previous is not None and _continues(source, previous, line):
                functions.append(previous)
                body = _sub_bodies(previous)[-1]
                continue
            return _point(source, body, index, line, functions)
        inner = [b for b in _sub_bodies(inside) if b[0].lineno <= line]
        if not inner or inner[-1][0].lineno == inside.lineno:
            raise TransformError(
                f"{source.name}: cannot insert at line {line}: it is inside the statement at lines "
                f"{inside.lineno}-{inside.end_lineno}; choose a line between statements"
            )
        functions.append(inside)
        body = inner[-1]


def _continues(source: Source, previous: ast.stmt, line: int) -> bool:
    """A blank line (or a comment indented deeper than ``previous``) right after a compound
    statement continues that statement's last block."""
    sub = _sub_bodies(previous)
    if not sub or sub[-1][0].lineno == previous.lineno:
        return False
    end = previous.end_lineno or previous.lineno
    between = source.lines[end : line - 1]
    if any(text.strip() for text in between):
        return False
    text = source.lines[line - 1] if line - 1 < len(source.lines) else ""
    if not text.strip():
        return True
    return text.lstrip().startswith("#") and len(source.indent_of(line)) > len(source.indent_of(previous.lineno))


def _point(source: Source, body: list[ast.stmt], index: int, line: int, owners: list[ast.stmt]) -> _Point:
    indent = source.indent_of(body[0].lineno) if body and owners else ""
    using = None
    for owner in reversed(owners):
        if isinstance(owner, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = owner.args
            names = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
            using = "using" if "using" in names else None
            break
    return _Point(source.line_start(line), line, indent, body, index, using, at_start=index == 0)


def _reindent(text: str, indent: str) -> str:
    """``text`` written one level in (four spaces) moved to ``indent``; the values of a dump
    are single-line literals, so every line that starts with four spaces is code."""
    from dumpscript.script import layout as fmt

    if indent == fmt.INDENT:
        return text
    out = []
    for text_line in text.splitlines(keepends=True):
        if text_line.startswith(fmt.INDENT):
            text_line = indent + text_line[len(fmt.INDENT) :]
        out.append(text_line)
    return "".join(out)


def _body_edit(source: Source, point: _Point, body: str) -> TextEdit:
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


def _targets(statement: ast.stmt) -> set[str]:
    """The names a statement binds itself (not inside its nested blocks)."""
    nodes: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        nodes = list(statement.targets)
    elif isinstance(statement, ast.AugAssign | ast.AnnAssign | ast.For | ast.AsyncFor):
        nodes = [statement.target]
    elif isinstance(statement, ast.With | ast.AsyncWith):
        nodes = [item.optional_vars for item in statement.items if item.optional_vars is not None]
    elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    elif isinstance(statement, ast.Import | ast.ImportFrom):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    names: set[str] = set()
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Tuple | ast.List):
            nodes.extend(node.elts)
        elif isinstance(node, ast.Starred):
            nodes.append(node.value)
    return names


def _bound_names(tree: ast.Module) -> set[str]:
    """Every name the script binds with a statement (assignments, loops, definitions and their
    parameters, imports); one pass over the statements, not over every expression."""
    names: set[str] = set()
    work: list[ast.stmt] = list(tree.body)
    while work:
        statement = work.pop()
        names |= _targets(statement)
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = statement.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            names.update(a.arg for a in every)
        for attribute in ("body", "orelse", "finalbody"):
            value = getattr(statement, attribute, None)
            if isinstance(value, list):
                work.extend(v for v in value if isinstance(v, ast.stmt))
        for handler in getattr(statement, "handlers", []) or []:
            if handler.name:
                names.add(handler.name)
            work.extend(handler.body)
    return names


def _module_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    return [s for s in tree.body if isinstance(s, ast.Import | ast.ImportFrom)]


def _adopt_imports(scope: Scope, tree: ast.Module) -> set[str]:
    """Tell the writer's scope the script's module-level imports; the names bound to modules."""
    modules: set[str] = set()
    for statement in _module_imports(tree):
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


def model_index() -> dict[tuple[str, str], type[models.Model]]:
    """``(module, class name) → model`` for every installed model, by the module that defines it
    and by the module scripts import it from (its app's ``models``)."""
    from django.apps import apps

    from dumpscript.writer import import_module_of

    index: dict[tuple[str, str], type[models.Model]] = {}
    for model in apps.get_models(include_auto_created=False):
        index[(model.__module__, model.__name__)] = model
        index[(import_module_of(model), model.__name__)] = model
    return index


def _classes(source: Source) -> dict[str, type[models.Model]]:
    """The script's names for model classes (from its module-level imports)."""
    index = model_index()
    classes: dict[str, type[models.Model]] = {}
    for statement in _module_imports(source.tree):
        if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            for alias in statement.names:
                model = index.get((statement.module, alias.name))
                if model is not None:
                    classes[alias.asname or alias.name] = model
    return classes


def _known_links(source: Source, point: _Point, classes: dict[str, type[models.Model]]) -> set[tuple[str, str, str]]:
    """``(field, a, b)`` for what the script sets before the insertion point between two
    variables: ``a.field = b``, ``a.field.add(b, ...)``, and rows ``T(x=a, y=b)`` of a through
    model ``T = Model.field.through``."""
    links: set[tuple[str, str, str]] = set()
    throughs: dict[str, tuple[str, str, str]] = {}  # alias → (field, source kwarg, target kwarg)
    for statement in point.body[: point.index]:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and isinstance(value, ast.Name):
                links.add((target.attr, target.value.id, value.id))
            through = _through_of(value, classes)
            if isinstance(target, ast.Name) and through is not None:
                throughs[target.id] = through
            continue
        if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
            continue
        call = statement.value
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "add"
            and isinstance(func.value, ast.Attribute)
            and isinstance(func.value.value, ast.Name)
        ):
            links.update((func.value.attr, func.value.value.id, a.id) for a in call.args if isinstance(a, ast.Name))
        listed = _bulk_create_list(statement)
        for element in listed.elts if listed is not None else ():
            if not (isinstance(element, ast.Call) and isinstance(element.func, ast.Name)):
                continue
            field = throughs.get(element.func.id)
            values = {k.arg: k.value.id for k in element.keywords if isinstance(k.value, ast.Name)}
            if field is not None and field[1] in values and field[2] in values:
                links.add((field[0], values[field[1]], values[field[2]]))
    return links


def _through_of(value: ast.expr, classes: dict[str, type[models.Model]]) -> tuple[str, str, str] | None:
    """For ``Model.field.through``: the field's name and the through model's two field names."""
    if not (isinstance(value, ast.Attribute) and value.attr == "through" and isinstance(value.value, ast.Attribute)):
        return None
    owner = value.value.value
    if not isinstance(owner, ast.Name) or owner.id not in classes:
        return None
    from django.db.models import ManyToManyField

    try:
        field = classes[owner.id]._meta.get_field(value.value.attr)
    except Exception:  # FieldDoesNotExist: not ours to judge here
        return None
    if not isinstance(field, ManyToManyField):
        return None
    return field.name, field.m2m_field_name(), field.m2m_reverse_field_name()


def _blocks(
    source: Source, point: _Point, classes: dict[str, type[models.Model]]
) -> dict[type[models.Model], list[_Block]]:
    """The object blocks before the insertion point whose objects exist by then."""
    before = point.body[: point.index]
    found: dict[str, _Block] = {}
    pending: dict[str, _Block] = {}  # built but not saved yet
    elements: list[_Block] = []

    def model_call(call: ast.expr) -> tuple[type[models.Model], dict[str, str]] | None:
        if not isinstance(call, ast.Call) or call.args or any(k.arg is None for k in call.keywords):
            return None
        if not isinstance(call.func, ast.Name) or call.func.id not in classes:
            return None
        return classes[call.func.id], {k.arg: ast.dump(k.value) for k in call.keywords if k.arg is not None}

    for statement in before:
        if pending:
            for name in _loaded_names(statement):
                if name in pending:
                    found[name] = pending.pop(name)
        listed = _bulk_create_list(statement)
        for element in listed.elts if listed is not None else ():
            created = model_call(element)
            if created is not None:
                assert isinstance(element, ast.Call)
                elements.append(_Block("", created[0], created[1], element, statement))
        for target in _targets(statement):
            found.pop(target, None)
            pending.pop(target, None)
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            continue
        if not isinstance(statement.targets[0], ast.Name):
            continue
        var = statement.targets[0].id
        call = statement.value
        saved = False
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _MANAGER_METHODS:
            manager = call.func.value
            if isinstance(manager, ast.Call) and isinstance(manager.func, ast.Attribute):
                manager = manager.func.value  # Model.objects.using(x).create(...)
            if not isinstance(manager, ast.Attribute):
                continue
            call, saved = ast.Call(manager.value, call.args, call.keywords), True
        created = model_call(call)
        if created is not None:
            (found if saved else pending)[var] = _Block(var, *created, statement=statement)
    by_model: dict[type[models.Model], list[_Block]] = {}
    for block in sorted([*found.values(), *elements], key=_block_position):
        by_model.setdefault(block.model, []).append(block)
    return by_model


def _block_position(block: _Block) -> tuple[int, int]:
    node = block.element or block.statement
    return (node.lineno, node.col_offset) if node is not None else (0, 0)


def _bulk_create_list(statement: ast.stmt) -> ast.List | None:
    """The list literal of ``Model.objects[.using(...)].bulk_create([...])``, if that is the
    statement."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return None
    call = statement.value
    if not isinstance(call.func, ast.Attribute) or call.func.attr != "bulk_create" or not call.args:
        return None
    return call.args[0] if isinstance(call.args[0], ast.List) else None


def _loaded_names(statement: ast.stmt) -> Iterable[str]:
    return (n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def _reuse(
    graph: Graph, plan: Plan, scope: Scope, blocks: dict[type[models.Model], list[_Block]], taken: frozenset[str]
) -> tuple[Existing, list[tuple[type[models.Model], int, _Block]]]:
    """The dumped objects that a block of the script already creates (a variable's block
    gives them its name), as the names' input. Objects come targets first, so a reference
    compares by the variable: until the numbering, only reused objects have a name."""
    from dumpscript.plan import Existing, Names
    from dumpscript.writer import Arguments, RowReader, Scope

    if not blocks:
        return Existing(taken=taken), []
    existing = Existing(provisional=True)
    probe = Scope(scope.using)  # encoding values must not add imports to the script
    probe.imports = copy.deepcopy(scope.imports)
    reader = RowReader(graph, plan, Names(plan, existing))
    arguments = Arguments(probe, graph, reader)
    reused: list[tuple[type[models.Model], int, _Block]] = []
    for span in plan.spans:
        if span.model not in blocks:
            continue
        for offset in range(span.start, span.stop, 1000):
            for obj in reader.read(span.model, offset, min(offset + 1000, span.stop)):
                full, _ = arguments.text(obj, frozenset(), all_fields=True)
                short, _ = arguments.text(obj, obj.deferred, all_fields=False)
                values = dict(_keyword(arg) for arg in full)
                required = {_keyword(arg)[0] for arg in short}
                for block in blocks[obj.model]:
                    if block.used or not required <= block.keywords.keys() <= values.keys():
                        continue
                    if all(values[key] == value for key, value in block.keywords.items()):
                        block.used = True
                        rank = graph.by_model[obj.model].find(obj.pk)
                        existing = existing.with_reused(obj.model, rank, block.var)
                        reader.rename(Names(plan, existing))
                        reused.append((obj.model, rank, block))
                        break
    return dataclasses.replace(existing, taken=taken, provisional=False), reused


def _keyword(argument: str) -> tuple[str, str]:
    """``name=value`` → the name and the ``ast.dump`` of the value."""
    name, _, value = argument.partition("=")
    return name, _dump_expression(value)


def _name_elements(source: Source, reused: list[tuple[str, _Block]]) -> list[TextEdit]:
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


def _import_edits(
    source: Source, scope: Scope, point: _Point, adopted_modules: set[str], bound: set[str]
) -> list[TextEdit]:
    from dumpscript.script.imports import from_import

    modules, names = scope.imports.added()
    tree = source.tree
    for module in modules:
        top = module.split(".")[0]
        if top in bound and top not in adopted_modules:
            raise TransformError(
                f"{source.name}: cannot insert: the new code needs the module {top!r} (import {module}), "
                f"but the script uses the name {top!r} for something else"
            )
    imports = _module_imports(tree)
    merged: dict[int, list[tuple[str, str]]] = {}
    statements: dict[int, ast.ImportFrom] = {}
    new_head: list[tuple[tuple[int, int, str], str]] = [
        (_import_key(module, False), f"import {module}\n") for module in modules
    ]
    new_late: list[tuple[str, list[tuple[str, str]]]] = []
    by_module: dict[str, list[tuple[str, str]]] = {}
    late_modules: set[str] = set()
    for module, name, local, late in names:
        by_module.setdefault(module, []).append((name, local))
        if late:
            late_modules.add(module)
    for module, pairs in sorted(by_module.items()):
        existing = next(
            (
                s
                for s in imports
                if isinstance(s, ast.ImportFrom)
                and s.module == module
                and not s.level
                and all(a.name != "*" for a in s.names)
            ),
            None,
        )
        if existing is not None:
            merged.setdefault(id(existing), []).extend(pairs)
            statements[id(existing)] = existing
        elif module in late_modules:
            new_late.append((module, pairs))
        else:
            new_head.append((_import_key(module, True), cst.Module(body=[from_import(module, pairs)]).code))
    edits = [_merge(source, statements[key], pairs) for key, pairs in merged.items()]
    head_offset, late_offset, late_comment = _anchors(source, point)
    late_text = "".join(cst.Module(body=[from_import(m, pairs, late_comment)]).code for m, pairs in new_late)
    if not imports and (new_head or late_text):  # the script's first imports: set apart by blank lines
        text = ("\n" if head_offset else "") + "".join(line for _, line in sorted(new_head)) + late_text
        if not source.text[head_offset:].startswith("\n"):
            text += "\n"
        edits.append(TextEdit(head_offset, head_offset, text))
        return edits
    # A new stdlib or Django import goes in sorted place among the script's first imports of
    # its kind (isort's order: sections, then ``import x`` before ``from x import``); after them
    # when the script has none of its kind.
    at: dict[int, list[str]] = {}
    head_block = _head_imports(source.tree)
    for key, line in sorted(new_head):
        same = [s for s in head_block if _statement_key(s)[0] == key[0]]
        after = next((s for s in same if _statement_key(s) > key), None)
        if after is not None:
            offset = source.line_start(after.lineno)
        elif same:
            offset = source.line_end(same[-1].end_lineno or same[-1].lineno)
        else:
            offset = head_offset
        at.setdefault(offset, []).append(line)
    edits += [TextEdit(offset, offset, "".join(lines)) for offset, lines in at.items()]
    if late_text:
        edits.append(TextEdit(late_offset, late_offset, late_text))
    return edits


def _helper_edits(source: Source, point: _Point, body: str, bound: set[str]) -> list[TextEdit]:
    """The script's ``save_raw`` function (multi-table objects), after its imports, when the
    new code calls it and the script has none."""
    from dumpscript.writer._text import SAVE_RAW

    if "save_raw(" not in body or "save_raw" in bound:
        return []
    _, offset, _ = _anchors(source, point)
    return [TextEdit(offset, offset, "\n" + SAVE_RAW)]


def _import_key(module: str, from_import: bool) -> tuple[int, int, str]:
    """Sort key of an import: section (stdlib, Django, the rest), plain before ``from``, name."""
    top = module.split(".")[0]
    section = 0 if top in sys.stdlib_module_names else 1 if top == "django" else 2
    return section, int(from_import), module


def _statement_key(statement: ast.Import | ast.ImportFrom) -> tuple[int, int, str]:
    if isinstance(statement, ast.ImportFrom):
        return _import_key("." * statement.level + (statement.module or ""), True)
    return _import_key(statement.names[0].name, False)


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def _head_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The imports at the top of the module (after its docstring), before any other statement."""
    body = tree.body
    position = 1 if body and _is_docstring(body[0]) else 0
    found: list[ast.Import | ast.ImportFrom] = []
    while position < len(body) and isinstance(body[position], ast.Import | ast.ImportFrom):
        found.append(body[position])  # type: ignore[arg-type]
        position += 1
    return found


def _anchors(source: Source, point: _Point) -> tuple[int, int, str | None]:
    """Offsets where new head imports (stdlib, Django) and new model imports go, and the
    comment model imports carry (``# noqa: E402`` when the script's own have it)."""
    body = source.tree.body
    head = _head_imports(source.tree)
    head_end: ast.stmt | None = head[-1] if head else body[0] if body and _is_docstring(body[0]) else None
    head_offset = source.line_end(head_end.end_lineno or head_end.lineno) if head_end is not None else 0
    earlier = [s for s in _module_imports(source.tree) if (s.end_lineno or s.lineno) < point.line]
    if not earlier:
        return head_offset, head_offset, None
    last = earlier[-1]
    end = last.end_lineno or last.lineno
    comment = "# noqa: E402" if "noqa: E402" in source.lines[end - 1] and last is not head_end else None
    return head_offset, source.line_end(end), comment


def _merge(source: Source, statement: ast.ImportFrom, pairs: list[tuple[str, str]]) -> TextEdit:
    """Add ``pairs`` to an existing ``from module import ...`` statement."""
    from dumpscript.script.imports import from_import

    start, end = source.span(statement)
    segment = source.text[start:end]
    try:
        node = cst.parse_statement(segment)
    except cst.ParserSyntaxError:
        raise TransformError(f"{source.name}, line {statement.lineno}: cannot read this import statement") from None
    assert isinstance(node, cst.SimpleStatementLine) and isinstance(node.body[0], cst.ImportFrom)
    imported = node.body[0]
    assert not isinstance(imported.names, cst.ImportStar)
    if imported.lpar is None:  # one line: rewritten, sorted if it was, wrapped if too wide
        existing = [(a.name, a.asname or a.name) for a in statement.names]
        keys = [(n.lower(), n) for n, _ in existing]
        ordered = keys == sorted(keys)
        line = from_import(statement.module or "", existing + pairs, sort=ordered)
        return TextEdit(start, end, cst.Module(body=[line]).code.rstrip("\n"))
    # Parenthesized (maybe with comments): the new names go last, laid out like the others.
    names = list(imported.names)
    last = names[-1]
    template = names[-2].comma if len(names) > 1 else cst.MaybeSentinel.DEFAULT
    if not isinstance(template, cst.Comma):
        template = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    after = template.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace):  # a new line, without the comment it may carry
        template = template.with_changes(
            whitespace_after=after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        )
    added = [
        cst.ImportAlias(name=cst.Name(name), asname=cst.AsName(cst.Name(local)) if local != name else None)
        for name, local in pairs
    ]
    new_names = [*names[:-1], last.with_changes(comma=template)]
    new_names += [alias.with_changes(comma=template) for alias in added[:-1]]
    new_names.append(added[-1].with_changes(comma=last.comma))
    return TextEdit(start, end, cst.Module(body=[]).code_for_node(imported.with_changes(names=new_names)))


__all__ = ["insert_dump", "model_index"]
