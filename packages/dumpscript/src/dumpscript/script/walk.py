"""A script's statements, walked once: where a new statement goes (:func:`insertion_point`),
the names statements bind (:func:`bound_names`), the objects a script creates before a point
(:func:`constructs`: ``var = Model(...)`` saved later, ``var = Model.objects.create(...)``,
the elements of a ``bulk_create`` list) and the links it sets (:func:`known_links`).

Everything here reads the :mod:`ast` tree of a :class:`~dumpscript.script.source.Source`
(only the lines it was focused on, for a large script) and runs nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dumpscript.errors import TransformError
from dumpscript.script.source import Source

if TYPE_CHECKING:
    from dumpscript.script.models import Model, ModelNames

__all__ = [
    "Construct",
    "Point",
    "bound_names",
    "bulk_create_list",
    "constructs",
    "generated_after",
    "insertion_point",
    "known_links",
    "loaded_names",
    "loop_at",
    "module_imports",
    "names_in_scope",
    "sub_bodies",
    "table_of",
    "targets",
]

_MANAGER_METHODS = frozenset({"create"})


@dataclass
class Point:
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


def sub_bodies(statement: ast.stmt) -> list[list[ast.stmt]]:
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


def insertion_point(source: Source, line: int | None) -> Point:
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


def _requested_point(source: Source, line: int | None) -> Point:
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
                body = sub_bodies(previous)[-1]
                continue
            return _point(source, body, index, line, functions)
        inner = [b for b in sub_bodies(inside) if b[0].lineno <= line]
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
    sub = sub_bodies(previous)
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


def _point(source: Source, body: list[ast.stmt], index: int, line: int, owners: list[ast.stmt]) -> Point:
    indent = source.indent_of(body[0].lineno) if body and owners else ""
    using = None
    for owner in reversed(owners):
        if isinstance(owner, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = owner.args
            names = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
            using = "using" if "using" in names else None
            break
    return Point(source.line_start(line), line, indent, body, index, using, at_start=index == 0)


def targets(statement: ast.stmt) -> set[str]:
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


def bound_names(tree: ast.Module) -> set[str]:
    """Every name the script binds with a statement (assignments, loops, definitions and their
    parameters, imports); one pass over the statements, not over every expression."""
    names: set[str] = set()
    work: list[ast.stmt] = list(tree.body)
    while work:
        statement = work.pop()
        names |= targets(statement)
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


def module_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    return [s for s in tree.body if isinstance(s, ast.Import | ast.ImportFrom)]


@dataclass
class Construct:
    """``var = Model(...)`` or ``var = Model.objects.create(...)`` that the script runs
    before the insertion point."""

    var: str
    """The variable; empty for an element of a ``bulk_create`` list (it gets one when reused)."""
    model: Model
    keywords: dict[str, str]
    """Keyword → ``ast.dump`` of its value."""
    element: ast.Call | None = None
    statement: ast.stmt | None = None
    """For a list element: the element and the ``bulk_create`` statement."""
    used: bool = False


def constructs(point: Point, names: ModelNames, among: Iterable[Model] | None = None) -> dict[Model, list[Construct]]:
    """The objects the statements before ``point`` create and that exist by then (a
    ``Model(...)`` assigned and then saved, a manager's ``create``, a ``bulk_create``
    element), per model; of the models ``among`` when given."""
    wanted = set(among) if among is not None else None
    before = point.body[: point.index]
    found: dict[str, Construct] = {}
    pending: dict[str, Construct] = {}  # built but not saved yet
    elements: list[Construct] = []

    def model_call(call: ast.expr) -> tuple[Model, dict[str, str]] | None:
        if not isinstance(call, ast.Call) or call.args or any(k.arg is None for k in call.keywords):
            return None
        model = names.resolve(call.func)
        if model is None or (wanted is not None and model not in wanted):
            return None
        return model, {k.arg: ast.dump(k.value) for k in call.keywords if k.arg is not None}

    for statement in before:
        if pending:
            for name in loaded_names(statement):
                if name in pending:
                    found[name] = pending.pop(name)
        listed = bulk_create_list(statement)
        for element in listed.elts if listed is not None else ():
            created = model_call(element)
            if created is not None:
                assert isinstance(element, ast.Call)
                elements.append(Construct("", created[0], created[1], element, statement))
        for target in targets(statement):
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
            (found if saved else pending)[var] = Construct(var, *created, statement=statement)
    by_model: dict[Model, list[Construct]] = {}
    for block in sorted([*found.values(), *elements], key=_block_position):
        by_model.setdefault(block.model, []).append(block)
    return by_model


def _block_position(block: Construct) -> tuple[int, int]:
    node = block.element or block.statement
    return (node.lineno, node.col_offset) if node is not None else (0, 0)


def bulk_create_list(statement: ast.stmt) -> ast.List | None:
    """The list literal of ``Model.objects[.using(...)].bulk_create([...])``, if that is the
    statement."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return None
    call = statement.value
    if not isinstance(call.func, ast.Attribute) or call.func.attr != "bulk_create" or not call.args:
        return None
    return call.args[0] if isinstance(call.args[0], ast.List) else None


def loaded_names(statement: ast.stmt) -> Iterable[str]:
    return (n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def known_links(point: Point, names: ModelNames) -> set[tuple[str, str, str]]:
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
            through = _through_of(value, names)
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
        listed = bulk_create_list(statement)
        for element in listed.elts if listed is not None else ():
            if not (isinstance(element, ast.Call) and isinstance(element.func, ast.Name)):
                continue
            field = throughs.get(element.func.id)
            values = {k.arg: k.value.id for k in element.keywords if isinstance(k.value, ast.Name)}
            if field is not None and field[1] in values and field[2] in values:
                links.add((field[0], values[field[1]], values[field[2]]))
    return links


def _through_of(value: ast.expr, names: ModelNames) -> tuple[str, str, str] | None:
    """For ``Model.field.through``: the field's name and the through model's two field names."""
    if not (isinstance(value, ast.Attribute) and value.attr == "through" and isinstance(value.value, ast.Attribute)):
        return None
    model = names.resolve(value.value.value)
    if model is None:
        return None
    from django.core.exceptions import FieldDoesNotExist
    from django.db.models import ManyToManyField

    try:
        field = model._meta.get_field(value.value.attr)
    except FieldDoesNotExist:  # not ours to judge here
        return None
    if not isinstance(field, ManyToManyField):
        return None
    return field.name, field.m2m_field_name(), field.m2m_reverse_field_name()


def names_in_scope(source: Source, line: int) -> tuple[set[str], set[str]]:
    """Names bound or used where a statement at ``line`` lands (its function, or the module)
    and the module's; and among them those that are only ever loop variables used inside
    their own loops (an earlier fold's ``i``), which another loop may take again. Counts the
    words of the lines a focused tree leaves out as taken."""
    scope: ast.AST = source.tree
    for node in ast.walk(source.tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            if node.lineno <= line <= node.end_lineno and (
                not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef) or node.lineno > scope.lineno
            ):
                scope = node
    names: set[str] = set()
    loop_targets: dict[str, list[ast.For]] = {}
    for node in [*ast.walk(scope), *source.tree.body]:
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        if isinstance(node, ast.For):
            for target in ast.walk(node.target):
                if isinstance(target, ast.Name):
                    loop_targets.setdefault(target.id, []).append(node)
    names |= source.hidden  # words of the lines the (focused) tree leaves out
    reusable = set()
    for name, loops in loop_targets.items():
        if name in source.hidden:
            continue
        inside: set[int] = set()
        for loop in loops:
            inside.update(id(n) for n in ast.walk(loop) if isinstance(n, ast.Name) and n.id == name)
        uses = [n for n in ast.walk(scope) if isinstance(n, ast.Name) and n.id == name]
        if all(id(n) in inside for n in uses) and name not in {
            a.arg for a in ast.walk(scope) if isinstance(a, ast.arg)
        }:
            reusable.add(name)
    return names, reusable


def loop_at(tree: ast.Module, line: int) -> ast.For | None:
    """The innermost ``for`` loop that holds ``line``."""
    loops = [n for n in ast.walk(tree) if isinstance(n, ast.For) and n.lineno <= line <= (n.end_lineno or n.lineno)]
    return max(loops, key=lambda node: node.lineno) if loops else None


def table_of(loop: ast.For) -> ast.List | None:
    """The rows of a loop over a table, ``for ... in [rows]`` or ``for i, ... in
    enumerate([rows])``; None for any other loop."""
    iterable = loop.iter
    if isinstance(iterable, ast.Call) and getattr(iterable.func, "id", "") == "enumerate" and iterable.args:
        iterable = iterable.args[0]
    return iterable if isinstance(iterable, ast.List) else None


def generated_after(tree: ast.Module, loop: ast.For) -> ast.For | None:
    """The ``for i in range(captured, N)`` loop that a grow added right after a table loop."""
    if table_of(loop) is None:
        return None
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and loop in body:
            index = body.index(loop)
            after = body[index + 1] if index + 1 < len(body) else None
            if (
                isinstance(after, ast.For)
                and isinstance(after.iter, ast.Call)
                and getattr(after.iter.func, "id", "") == "range"
                and len(after.iter.args) == 2
            ):
                return after
    return None
