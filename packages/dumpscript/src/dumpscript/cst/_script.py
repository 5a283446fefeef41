"""Ordered objects → a ``libcst.Module``: the script a person reads, edits and runs."""

from __future__ import annotations

import decimal
import enum
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import libcst as cst
from django.db import models
from django.db.models import NOT_PROVIDED

from dumpscript._progress import NO_PROGRESS, Progress
from dumpscript._types import AnyField, AnyManyToMany
from dumpscript.cst import _format as fmt
from dumpscript.cst._imports import ImportSet
from dumpscript.cst._render import module_code, render_expression, render_statement
from dumpscript.graph import DumpObject, Lookup, M2MLinks, Target, generic_fks
from dumpscript.ordering import Edge, Group, Section
from dumpscript.values import EncodeContext, encode_field_value, encode_python
from dumpscript.values import _literals as lit
from dumpscript.values._text import field_value_text, plain_writers

PREAMBLE = """
if __name__ == "__main__":  # run on its own: set Django up before importing the models
    parser = argparse.ArgumentParser(description="Create this script's objects in a database.")
    parser.add_argument("--settings", help="settings module (default: $DJANGO_SETTINGS_MODULE)")
    parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias")
    ARGS = parser.parse_args()
    if ARGS.settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = ARGS.settings
    sys.path[0] = os.getcwd()  # import the project, not modules that sit beside this script
    django.setup()
"""

MAIN = """
if __name__ == "__main__":
    with transaction.atomic(using=ARGS.database):
        run(using=ARGS.database)
"""

BATCH = 1000
"""Objects per ``bulk_create`` statement (and per statement of through-model rows)."""

RUN_DOC = '"""Create the objects in the database ``using``; call it inside a transaction."""'


def _parse_statements(source: str) -> list[cst.SimpleStatementLine | cst.BaseCompoundStatement]:
    return list(cst.parse_module(source.lstrip("\n")).body)


class _Arg:
    """A keyword argument's value, written as a LibCST node or, for speed, as text."""

    __slots__ = ("builder", "field", "name", "node", "obj", "raw", "value")

    def __init__(
        self,
        builder: ScriptBuilder,
        value: Any = None,
        field: AnyField | None = None,
        obj: DumpObject | None = None,
        node: cst.BaseExpression | None = None,
        name: str = "",
        raw: bool = False,
    ) -> None:
        self.builder, self.value, self.field, self.obj, self.node = builder, value, field, obj, node
        self.name = name  # a variable
        self.raw = raw  # a plain Python value (a missing row's id), not through the field's encoder

    def where(self) -> str:
        field = self.field.name if self.field is not None else "value"
        return f"{self.obj.label}.{field}" if self.obj is not None else field

    def expr(self) -> cst.BaseExpression:
        if self.name:
            return lit.name(self.name)
        if self.node is not None:
            return self.node
        context = EncodeContext(self.builder.imports, where=self.where)
        if self.raw or self.field is None:
            return encode_python(self.value, context)
        return encode_field_value(self.value, self.field, context)

    def text(self) -> str:
        if self.name:
            return self.name
        if self.node is not None:
            return self.node.value if isinstance(self.node, cst.Name) else render_expression(self.node)
        context = EncodeContext(self.builder.imports, where=self.where)
        if self.raw or self.field is None:
            return render_expression(encode_python(self.value, context))
        return field_value_text(self.value, self.field, context)


_NONE: frozenset[str] = frozenset()
_ALWAYS: Any = object()


def static_default(f: AnyField) -> Any:
    """The value ``Model(...)`` gives field ``f`` when the argument is left out, if that value is
    fixed (``_ALWAYS`` otherwise: callable or database defaults, primary keys)."""
    if f.primary_key or getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
        return _ALWAYS
    if f.has_default():
        default = f.default
        if callable(default) or isinstance(default, list | dict | set):
            return _ALWAYS
        if isinstance(default, enum.Enum):  # TextChoices.SMALL: the database gives its value
            default = default.value
        return default
    return None if not f.empty_strings_allowed or f.null else ""


def _is_default(value: Any, default: Any) -> bool:
    """``value`` is exactly ``default``: same type, and for numbers the same sign (-0.0) and
    exponent (``Decimal("0E-10")``)."""
    if value is default:
        return True
    if type(value) is not type(default):
        return False
    if isinstance(value, float | decimal.Decimal):
        return repr(value) == repr(default)
    return bool(value == default)


def import_module_of(model: type[models.Model]) -> str:
    """The module a script imports ``model`` from: its app's ``models`` module when that
    module holds the class (``polls.models``), else the module that defines it."""
    app_models = getattr(model._meta.app_config, "models_module", None)
    if app_models is not None and getattr(app_models, model.__name__, None) is model:
        return str(app_models.__name__)
    return model.__module__


class TextSink(Protocol):
    """Where text is written: a text file, ``sys.stdout``, a ``StringIO``."""

    def write(self, text: str, /) -> object: ...


Piece = cst.SimpleStatementLine | str
"""A statement of ``run()``: a LibCST node, or its text when the builder writes text."""


def _call_text(head: str, args: list[str]) -> str:
    """``head(arg, k=v, ...)``, exploded one argument per line when too wide (as the CST path)."""
    indent = fmt.INDENT
    single = f"{indent}{head}({', '.join(args)})"
    if len(single) <= fmt.MAX_WIDTH or not args:
        return single + "\n"
    inner = indent * 2
    return f"{indent}{head}(\n" + "".join(f"{inner}{arg},\n" for arg in args) + f"{indent})\n"


def _list_call_text(head: str, names: list[str]) -> str:
    """``head([a, b, ...])`` with the list filling lines, as :func:`_format.fill_list` lays it out."""
    indent = fmt.INDENT
    single = f"{indent}{head}([{', '.join(names)}])"
    if len(single) <= fmt.MAX_WIDTH:
        return single + "\n"
    inner = indent * 2
    parts = [f"{indent}{head}([\n{inner}"]
    column = len(inner)
    last = len(names) - 1
    for position, name in enumerate(names):
        column += len(name) + 1
        parts.append(name + ",")
        if position == last:
            parts.append(f"\n{indent}])\n")
        elif column + 1 + len(names[position + 1]) + 1 <= fmt.MAX_WIDTH:
            parts.append(" ")
            column += 1
        else:
            parts.append(f"\n{inner}")
            column = len(inner)
    text = "".join(parts)
    if max(len(line) for line in text.splitlines()) > fmt.MAX_WIDTH:
        return ""  # a name too long for any line: let the CST path lay it out
    return text


def _element_text(head: str, args: list[str]) -> str:
    """An element of an exploded list: ``head(k=v, ...),`` on one line, or exploded below it."""
    inner = fmt.INDENT * 2
    single = f"{inner}{head}({', '.join(args)}),\n"
    if len(single) <= fmt.MAX_WIDTH + 1 or not args:
        return single
    deeper = fmt.INDENT * 3
    return f"{inner}{head}(\n" + "".join(f"{deeper}{arg},\n" for arg in args) + f"{inner}),\n"


def _exploded_list_call_text(head: str, elements: list[str], keywords: list[tuple[str, cst.Name]] | None = None) -> str:
    """``head([`` then one element per line (each already indented, with its comma) then
    ``])``, or ``], keyword=value)``."""
    tail = "".join(f", {key}={value.value}" for key, value in keywords or [])
    return f"{fmt.INDENT}{head}([\n" + "".join(elements) + f"{fmt.INDENT}]{tail})\n"


def _lead_text(comment_lines: list[str] | None, blank_before: bool) -> str:
    return ("\n" if blank_before else "") + "".join(f"{fmt.INDENT}# {c}\n" for c in comment_lines or [])


class ScriptBuilder:
    """Builds the script for a dump: docstring, imports, standalone preamble, ``run()``."""

    def __init__(
        self,
        sections: list[Section],
        m2m: list[M2MLinks],
        *,
        fields: Callable[[type[models.Model]], list[AnyField]],
        save_each: bool = False,
        all_fields: bool = False,
        progress: Progress = NO_PROGRESS,
    ) -> None:
        self.save_each = save_each
        self.all_fields = all_fields
        self.progress = progress
        self._plans: dict[tuple[type[models.Model], bool], list[tuple[AnyField, bool, bool, Any]]] = {}
        self.fields = fields
        self.text_mode = False
        self.sections = sections
        self.m2m = m2m
        self.imports = ImportSet()
        self.named: set[int] = set()
        self._text_plans: dict[
            tuple[type[models.Model], bool], list[tuple[AnyField, bool, bool, Any, dict[type, Any]]]
        ] = {}
        self._text_plans_imports: ImportSet | None = None
        self._where_obj: DumpObject | None = None
        self._where_field: AnyField | None = None
        self._text_context = EncodeContext(self.imports, where=self._where_now)
        self.deferred_now: defaultdict[int, set[str]] = defaultdict(set)
        """Object id → the names of its references that are set after it is created."""
        self._class_names: dict[type[models.Model], str] = {}
        self.using: str | None = "using"
        """The variable that holds the database alias, or None to use the default database
        (``Model.objects.bulk_create(...)``): code inserted where no ``using`` is defined."""
        self.taken: set[str] = set()
        """Names the script already uses: helper variables (through models) avoid them."""
        self.existing: set[int] = set()
        """Ids of objects the script already creates (as ``obj.var``): not created again. Links
        that close cycles are set again (harmless); many-to-many rows between two of them are
        written with ``ignore_conflicts=True`` (the script may have them already)."""
        self.known_links: set[tuple[str, str, str]] = set()
        """``(field name, source variable, target variable)`` of the references (``a.f = b``)
        and many-to-many links the script already sets: not written again."""

    # -- names ------------------------------------------------------------------------------

    def register_models(self) -> None:
        used: set[type[models.Model]] = set()
        for section in self.sections:
            for group in section.groups:
                used.add(group.model)
                for obj in group.objects:
                    used.update(t.model for t in obj.targets.values() if isinstance(t, Lookup))
        for links in self.m2m:
            used.update(t.model for t in links.targets if isinstance(t, Lookup))
        for model in sorted(used, key=lambda m: m._meta.label):
            self.class_name(model)

    def class_name(self, model: type[models.Model]) -> str:
        """The name the script uses for ``model`` (imported once, aliased if taken)."""
        if model not in self._class_names:
            module = import_module_of(model)
            prefix = "".join(part.capitalize() for part in model._meta.app_label.split("_"))
            self._class_names[model] = self.imports.name(module, model.__name__, late=True, alias_prefix=prefix)
        return self._class_names[model]

    def cls(self, model: type[models.Model]) -> cst.Name:
        return lit.name(self.class_name(model))

    def manager(self, model: type[models.Model], method: str) -> cst.BaseExpression:
        """``Model.objects.using(using)`` (or ``.db_manager(using)``); ``Model.objects``
        without a ``using`` variable."""
        objects = cst.Attribute(self.cls(model), cst.Name(model._default_manager.name))
        if self.using is None:
            return objects
        return lit.call(cst.Attribute(objects, cst.Name(method)), [lit.name(self.using)])

    def manager_text(self, cls: str, model: type[models.Model]) -> str:
        objects = f"{cls}.{model._default_manager.name}"
        return objects if self.using is None else f"{objects}.using({self.using})"

    def save_call(self, var: str) -> cst.Call:
        keywords = [] if self.using is None else [("using", lit.name(self.using))]
        return lit.call(lit.attribute(f"{var}.save"), [], keywords)

    def known_link(self, m2m: AnyManyToMany, source: Target, target: Target) -> bool:
        """The script already links ``source`` to ``target`` through ``m2m`` (symmetrical
        links count both ways)."""
        if not (isinstance(source, DumpObject) and isinstance(target, DumpObject)):
            return False
        if id(source) not in self.existing or id(target) not in self.existing:
            return False
        if (m2m.name, source.var, target.var) in self.known_links:
            return True
        symmetrical = m2m.remote_field.symmetrical and m2m.related_model == m2m.model
        return bool(symmetrical) and (m2m.name, target.var, source.var) in self.known_links

    def fresh(self, wanted: str) -> str:
        """``wanted``, or ``wanted_2``…: a name not in :attr:`taken` (then taken)."""
        name, number = wanted, 2
        while name in self.taken:
            name, number = f"{wanted}_{number}", number + 1
        self.taken.add(name)
        return name

    # -- values -----------------------------------------------------------------------------

    def target(self, target: Target) -> cst.BaseExpression:
        if isinstance(target, DumpObject):
            return lit.name(target.var)
        manager = self.manager(target.model, "db_manager")
        if target.fields:
            context = EncodeContext(self.imports, where=f"lookup of {target.model._meta.label}")
            kwargs = [
                (name, encode_python(value, context)) for name, value in zip(target.fields, target.key, strict=True)
            ]
            return lit.call(cst.Attribute(manager, cst.Name("get")), [], kwargs)
        context = EncodeContext(self.imports, where=f"natural key of {target.model._meta.label}")
        call = cst.Attribute(manager, cst.Name("get_by_natural_key"))
        return lit.call(call, [encode_python(value, context) for value in target.key])

    def target_arg(self, target: Target) -> _Arg:
        if isinstance(target, DumpObject):
            return _Arg(self, name=target.var)
        return _Arg(self, node=self.target(target))

    def _field_plan(self, model: type[models.Model], all_fields: bool) -> list[tuple[AnyField, bool, bool, Any]]:
        """``(field, is a relation, is auto_now, default)`` for the fields the script writes, per
        model; ``default`` is the value that need not be written, or ``_ALWAYS``."""
        plan = self._plans.get((model, all_fields))
        if plan is None:
            plan = []
            for f in self.fields(model):
                auto = bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
                default = _ALWAYS if all_fields or auto else static_default(f)
                plan.append((f, f.is_relation, auto, default))
            self._plans[model, all_fields] = plan
        return plan

    def kwargs(
        self, obj: DumpObject, deferred: set[str] | frozenset[str], all_fields: bool | None = None
    ) -> tuple[list[tuple[str, _Arg]], list[tuple[str, _Arg]]]:
        """Constructor keyword arguments, and the auto_now values that need an update;
        ``all_fields`` (default: the builder's setting) writes the default values too."""
        gfk_parts: dict[str, str | None] = {}
        for gfk in generic_fks(obj.model):
            if gfk.name in obj.targets:
                gfk_parts[gfk.ct_field.attname] = gfk.name
                gfk_parts[gfk.fk_field.attname] = None
        result: list[tuple[str, _Arg]] = []
        auto_now: list[tuple[str, _Arg]] = []
        if obj.link:  # a second child of a parent row that another object creates
            result.append((obj.link, self.target_arg(obj.targets[obj.link])))
        for f, relation, auto, default in self._field_plan(
            obj.model, self.all_fields if all_fields is None else all_fields
        ):
            if gfk_parts and f.attname in gfk_parts:
                gfk_name = gfk_parts[f.attname]
                if gfk_name is not None and gfk_name not in deferred:
                    result.append((gfk_name, self.target_arg(obj.targets[gfk_name])))
                continue
            value = obj.values[f.attname]
            if default is not _ALWAYS and _is_default(value, default):
                continue  # the model writes the same value when the argument is left out
            if relation and value is not None:
                if f.name in deferred:
                    continue
                target = obj.targets.get(f.name)
                if target is not None:
                    result.append((f.name, self.target_arg(target)))
                else:  # points at a missing row
                    result.append((f.attname, _Arg(self, value, f, obj, raw=True)))
                continue
            arg = _Arg(self, value, f, obj)
            if auto:
                auto_now.append((f.name, arg))
            else:
                result.append((f.name, arg))
        return result, auto_now

    def _text_plan(
        self, model: type[models.Model], all_fields: bool | None = None
    ) -> list[tuple[AnyField, bool, bool, Any, dict[type, Any]]]:
        """:meth:`_field_plan` with each field's :func:`plain_writers`."""
        if self._text_plans_imports is not self.imports:  # the writers ask these imports
            self._text_plans, self._text_plans_imports = {}, self.imports
        every = self.all_fields if all_fields is None else all_fields
        plan = self._text_plans.get((model, every))
        if plan is None:
            plan = [(*entry, plain_writers(entry[0], self.imports)) for entry in self._field_plan(model, every)]
            self._text_plans[model, every] = plan
        return plan

    def kwargs_text(
        self, obj: DumpObject, deferred: set[str] | frozenset[str], all_fields: bool | None = None
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """:meth:`kwargs` as text, for the text mode: ``name=value`` arguments, and the
        auto_now values ``(name, value)``; the same text, without a node or ``_Arg`` a value.
        ``all_fields`` (default: the builder's setting) writes the default values too."""
        model = obj.model
        values, targets = obj.values, obj.targets
        gfk_parts: dict[str, str | None] = {}
        for gfk in generic_fks(model):
            if gfk.name in targets:
                gfk_parts[gfk.ct_field.attname] = gfk.name
                gfk_parts[gfk.fk_field.attname] = None
        result: list[str] = []
        auto_now: list[tuple[str, str]] = []
        if obj.link:
            result.append(f"{obj.link}={self.target_arg(targets[obj.link]).text()}")
        context = self._context()
        self._where_obj = obj
        for f, relation, auto, default, writers in self._text_plan(model, all_fields):
            if gfk_parts and f.attname in gfk_parts:
                gfk_name = gfk_parts[f.attname]
                if gfk_name is not None and gfk_name not in deferred:
                    result.append(f"{gfk_name}={self.target_arg(targets[gfk_name]).text()}")
                continue
            value = values[f.attname]
            if default is not _ALWAYS and (value is default or (value == default and _is_default(value, default))):
                continue
            if relation and value is not None:
                self._where_field = f
                if f.name in deferred:
                    continue
                target = targets.get(f.name)
                if target is None:  # points at a missing row
                    result.append(f"{f.attname}={render_expression(encode_python(value, context))}")
                elif isinstance(target, DumpObject):
                    result.append(f"{f.name}={target.var}")
                else:
                    result.append(f"{f.name}={self.target_arg(target).text()}")
                continue
            writer = writers.get(type(value))
            text = writer(value) if writer is not None else None
            if text is None:
                if value is None:
                    text = "None"
                else:
                    self._where_field = f
                    text = field_value_text(value, f, context)
            if auto:
                auto_now.append((f.name, text))
            else:
                result.append(f"{f.name}={text}")
        return result, auto_now

    def _context(self) -> EncodeContext:
        """The context of the text path's encoders (where: the object and field being written)."""
        if self._text_context.imports is not self.imports:  # an insertion swaps the import set
            self._text_context = EncodeContext(self.imports, where=self._where_now)
        return self._text_context

    def _where_now(self) -> str:
        obj, field = self._where_obj, self._where_field
        name = field.name if field is not None else "value"
        return f"{obj.label}.{name}" if obj is not None else name

    # -- statements -------------------------------------------------------------------------

    def group_statements(self, group: Group, deferred: dict[int, set[str]], first: bool) -> list[Piece]:
        return list(self.group_pieces(group, deferred, first))

    def group_pieces(self, group: Group, deferred: dict[int, set[str]], first: bool) -> Iterator[Piece]:
        """The statements of a group, a batch at a time (a batch's objects are read only when
        its turn comes: see :mod:`dumpscript.stream`)."""
        model = group.model
        later = False
        # bulk_create cannot save multi-table inheritance, and sends no signals
        save_each = self.save_each or bool(model._meta.parents)
        updates: list[tuple[DumpObject, list[tuple[str, _Arg | str]]]] = []
        manager = self.manager_text(self.cls(model).value, model)
        objects = [o for o in group.objects if id(o) not in self.existing] if self.existing else group.objects
        for offset in range(0, len(objects), BATCH):
            batch = objects[offset : offset + BATCH]
            if not batch:  # every object of the batch is one the script being edited creates
                continue
            pieces = self._batch_statements(batch, deferred, first, later, save_each, updates)
            later = later or bool(pieces)
            yield from pieces
        for obj, values in updates:
            # auto_now and auto_now_add fields are overwritten on save(); set the dumped values after.
            comment = ["auto_now fields are set on save(); restore the dumped values"] if obj is updates[0][0] else None
            if self.text_mode:
                args = [f"{name}={arg if isinstance(arg, str) else arg.text()}" for name, arg in values]
                head = f"{manager}.filter(pk={obj.var}.pk).update"
                yield _lead_text(comment, False) + _call_text(head, args)
                continue
            query = lit.call(
                cst.Attribute(self.manager(model, "using"), cst.Name("filter")),
                [],
                [("pk", lit.attribute(f"{obj.var}.pk"))],
            )
            arguments = [(n, a.expr() if isinstance(a, _Arg) else cst.parse_expression(a)) for n, a in values]
            update = lit.call(cst.Attribute(query, cst.Name("update")), [], arguments)
            yield fmt.statement(cst.Expr(update), comment_lines=comment)

    def _batch_statements(
        self,
        batch: list[DumpObject],
        deferred: dict[int, set[str]],
        first: bool,
        later: bool,
        save_each: bool,
        updates: list[tuple[DumpObject, list[tuple[str, _Arg | str]]]],
    ) -> list[Piece]:
        """One batch of a group: the variables, then one ``bulk_create`` (or a save() each).

        ``later``: an earlier batch of the same model precedes this one.
        """
        model = batch[0].model
        label = model._meta.label
        cls = self.cls(model).value
        manager = self.manager_text(cls, model)
        statements: list[Piece] = []
        elements: list[str] = []  # text mode: the bulk_create list's elements
        nodes: list[cst.BaseExpression] = []  # CST mode: the same
        inline = False  # some object is written inside the list, not as a variable

        def lead() -> tuple[list[str] | None, bool]:
            """The model's comment above its first statement; a blank line above each batch."""
            if statements:
                return None, False
            return (None, True) if later else ([label], not first)

        for obj in batch:
            self.progress.advance(label)
            skipped = deferred.get(id(obj), _NONE)
            kwargs: list[tuple[str, _Arg]] = []
            auto_now: list[tuple[str, _Arg | str]]
            if self.text_mode:
                args, auto_now_text = self.kwargs_text(obj, skipped)
                auto_now = list(auto_now_text)
            else:
                kwargs, auto_now_args = self.kwargs(obj, skipped)
                auto_now = list(auto_now_args)
            named = save_each or bool(auto_now) or self.is_named(obj)
            if named:
                comments, blank = lead()
                if self.text_mode:
                    statements.append(_lead_text(comments, blank) + _call_text(f"{obj.var} = {cls}", args))
                    elements.append(f"{fmt.INDENT * 2}{obj.var},\n")
                else:
                    call = lit.call(self.cls(model), [], [(name, arg.expr()) for name, arg in kwargs])
                    assign = cst.Assign([cst.AssignTarget(lit.name(obj.var))], call)
                    statements.append(fmt.statement(assign, comment_lines=comments, blank_before=blank))
                    nodes.append(lit.name(obj.var))
            else:
                inline = True
                if self.text_mode:
                    elements.append(_element_text(cls, args))
                else:
                    call = lit.call(self.cls(model), [], [(name, arg.expr()) for name, arg in kwargs])
                    if fmt.width(call) + len(fmt.INDENT) * 2 + 1 > fmt.MAX_WIDTH:
                        call = fmt.explode_call(call, depth=1)
                    nodes.append(call)
            if save_each:
                statements.append(fmt.statement(cst.Expr(self.save_call(obj.var))))
            if auto_now:
                updates.append((obj, auto_now))
        if save_each:
            return statements
        comments, blank = lead()
        text = ""
        if self.text_mode:
            head = f"{manager}.bulk_create"
            text = _exploded_list_call_text(head, elements) if inline else _list_call_text(head, [o.var for o in batch])
        if text:
            statements.append(_lead_text(comments, blank) + text)
        else:
            method = cst.Attribute(self.manager(model, "using"), cst.Name("bulk_create"))
            if inline:
                objs = fmt.exploded_list(nodes)
            else:
                prefix = fmt.width(method) + len(fmt.INDENT) + 1
                objs = fmt.fill_list([lit.name(o.var) for o in batch], depth=0, used=prefix)
            line = cst.Expr(lit.call(method, [objs]))
            statements.append(fmt.statement(line, comment_lines=comments, blank_before=blank, explode=False))
        return statements

    def deferred_statements(self, edges: list[Edge]) -> list[Piece]:
        statements: list[Piece] = []
        by_model: dict[type[models.Model], tuple[list[DumpObject], list[str]]] = {}
        if self.known_links:
            edges = [e for e in edges if (e.name, e.source.var, e.target.var) not in self.known_links]
        for position, edge in enumerate(edges):
            assign = cst.Assign(
                [cst.AssignTarget(cst.Attribute(lit.name(edge.source.var), cst.Name(edge.name)))],
                self.target(edge.target),
            )
            comment = ["Links that close a cycle, set once both objects exist"] if position == 0 else None
            statements.append(fmt.statement(assign, comment_lines=comment, blank_before=position == 0))
            objs, names = by_model.setdefault(edge.source.model, ([], []))
            if edge.source not in objs:
                objs.append(edge.source)
            gfk = {g.name: g for g in generic_fks(edge.source.model)}.get(edge.name)
            for name in [gfk.ct_field.name, gfk.fk_field.name] if gfk else [edge.name]:
                if name not in names:
                    names.append(name)
        for model, (objs, names) in by_model.items():
            method = cst.Attribute(self.manager(model, "using"), cst.Name("bulk_update"))
            call = lit.call(
                method,
                [
                    fmt.fill_list([lit.name(o.var) for o in objs], depth=0, used=fmt.width(method) + 5),
                    cst.List([cst.Element(lit.string(n)) for n in names]),
                ],
            )
            statements.append(fmt.statement(cst.Expr(call)))
        return statements

    def m2m_statements(self) -> list[Piece]:
        order: dict[int, int] = {}
        for section in self.sections:
            for group in section.groups:
                for obj in group.objects:
                    order[id(obj)] = len(order)

        def rank(target: Target) -> tuple[int, Any]:
            if isinstance(target, DumpObject):
                return (0, order[id(target)])
            return (1, tuple(str(part) for part in target.key))

        if not self.save_each:
            return self._through_statements(order, rank)
        statements: list[Piece] = []
        done_pairs: set[tuple[int, int, str]] = set()
        for links in sorted(self.m2m, key=lambda item: (order[id(item.source)], item.field.name)):
            targets = sorted(links.targets, key=rank)
            if self.existing:
                targets = [t for t in targets if not self.known_link(links.field, links.source, t)]
            if links.field.remote_field.symmetrical and links.field.related_model == links.field.model:
                kept = []
                for target in targets:
                    pair = tuple(sorted((id(links.source), id(target))))
                    if (pair[0], pair[1], links.field.name) not in done_pairs:
                        done_pairs.add((pair[0], pair[1], links.field.name))
                        kept.append(target)
                targets = kept
            if not targets:
                continue
            comment = ["Many-to-many links"] if not statements else None
            head = f"{links.source.var}.{links.field.name}.add"
            if self.text_mode:
                args = [self.target_arg(t).text() for t in targets]
                statements.append(_lead_text(comment, not statements) + _call_text(head, args))
                continue
            call = lit.call(lit.attribute(head), [self.target(t) for t in targets])
            line = cst.Expr(call)
            if fmt.width(cst.SimpleStatementLine([line]), fmt.INDENT) > fmt.MAX_WIDTH:
                line = cst.Expr(fmt.explode_call(call))
            statements.append(fmt.statement(line, comment_lines=comment, blank_before=not statements))
        return statements

    def _through_statements(self, order: dict[int, int], rank: Callable[[Target], tuple[int, Any]]) -> list[Piece]:
        """Many-to-many links as rows of the automatic through model, one ``bulk_create`` per field."""
        by_field: dict[AnyManyToMany, list[tuple[Target, Target]]] = {}
        for links in self.m2m:
            pairs = by_field.setdefault(links.field, [])
            symmetrical = links.field.remote_field.symmetrical and links.field.related_model == links.field.model
            for target in links.targets:
                pairs.append((links.source, target))
                if symmetrical and isinstance(target, DumpObject):
                    pairs.append((target, links.source))  # add() writes both directions

        def pair_key(pair: tuple[Target, Target]) -> tuple[tuple[int, Any], tuple[int, Any]]:
            return rank(pair[0]), rank(pair[1])

        statements: list[Piece] = []
        fields = sorted(by_field, key=lambda f: (f.model._meta.label, f.name))
        for m2m in fields:
            pairs = sorted({(id(a), id(b)): (a, b) for a, b in by_field[m2m]}.values(), key=pair_key)
            if not pairs:
                continue
            cls = self.cls(m2m.model).value
            through = self.fresh(f"{cls}_{m2m.name}")
            source_name, target_name = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
            manager = f"{through}.objects" if self.using is None else f"{through}.objects.using({self.using})"
            if self.existing:
                pairs = [(a, b) for a, b in pairs if not self.known_link(m2m, a, b)]
                if not pairs:
                    continue
            # Rows between objects the script already creates may be there already.
            known = any(id(a) in self.existing and id(b) in self.existing for a, b in pairs)
            keywords = [("ignore_conflicts", lit.name("True"))] if known else []
            alias = cst.Assign([cst.AssignTarget(lit.name(through))], lit.attribute(f"{cls}.{m2m.name}.through"))
            label = f"{m2m.model._meta.label}.{m2m.name}"
            statements.append(fmt.statement(alias, comment_lines=[label], blank_before=True))
            for offset in range(0, len(pairs), BATCH):
                batch = pairs[offset : offset + BATCH]
                if self.text_mode:
                    elements = [
                        _element_text(
                            through,
                            [
                                f"{source_name}={self.target_arg(a).text()}",
                                f"{target_name}={self.target_arg(b).text()}",
                            ],
                        )
                        for a, b in batch
                    ]
                    text = _exploded_list_call_text(f"{manager}.bulk_create", elements, keywords)
                    statements.append(("\n" if offset else "") + text)
                    continue
                rows = []
                for a, b in batch:
                    row = lit.call(
                        lit.name(through), [], [(source_name, self.target(a)), (target_name, self.target(b))]
                    )
                    if fmt.width(row) + len(fmt.INDENT) * 2 + 1 > fmt.MAX_WIDTH:
                        row = fmt.explode_call(row, depth=1)
                    rows.append(row)
                objects = lit.attribute(f"{through}.objects")
                if self.using is not None:
                    objects = lit.call(cst.Attribute(objects, cst.Name("using")), [lit.name(self.using)])
                method = cst.Attribute(objects, cst.Name("bulk_create"))
                line = cst.Expr(lit.call(method, [fmt.exploded_list(rows)], keywords))
                statements.append(fmt.statement(line, blank_before=bool(offset), explode=False))
        return statements

    # -- module -----------------------------------------------------------------------------

    def counts(self) -> Counter[str]:
        """Objects created per model label, for the docstring."""
        return Counter(o.model._meta.label for s in self.sections for g in s.groups for o in g.objects)

    def is_named(self, obj: DumpObject) -> bool:
        """``obj`` gets a variable: a later statement mentions it."""
        return id(obj) in self.named

    def docstring(self) -> cst.SimpleStatementLine:
        counts = self.counts()
        total = sum(counts.values())
        lines = [
            f"Recreate {total} object{'s' if total != 1 else ''} through the Django ORM (written by dumpscript).",
            "",
        ]
        lines += [f"    {label}: {count}" for label, count in sorted(counts.items())]
        lines += [
            "",
            "Load it with ``python manage.py loadscript THIS_FILE``, or run it on its own from the",
            "project folder: ``python THIS_FILE --settings mysite.settings``.",
        ]
        text = "\n".join(line.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') for line in lines)
        return cst.SimpleStatementLine([cst.Expr(cst.SimpleString(f'"""{text}\n"""'))])

    def _referenced(self) -> set[int]:
        """Ids of the objects that a later statement mentions: they get a variable; every other
        object is written straight into its ``bulk_create`` list."""
        named: set[int] = set()
        for section in self.sections:
            for group in section.groups:
                for obj in group.objects:
                    named.update(id(t) for t in obj.targets.values() if isinstance(t, DumpObject))
            for edge in section.deferred:
                named.update((id(edge.source), id(edge.target)))
        for links in self.m2m:
            named.add(id(links.source))
            named.update(id(t) for t in links.targets if isinstance(t, DumpObject))
        return named

    def _body(self) -> list[Piece]:
        return list(self._body_pieces())

    def _body_pieces(self) -> Iterator[Piece]:
        for module in ("argparse", "os", "sys", "django"):
            self.imports.module(module)
        self.imports.name("django.db", "DEFAULT_DB_ALIAS")
        self.imports.name("django.db", "transaction")
        yield cst.SimpleStatementLine([cst.Expr(cst.SimpleString(RUN_DOC))])
        empty = True
        for piece in self.iter_statements():
            empty = False
            yield piece
        if empty:
            yield cst.SimpleStatementLine(
                [cst.Pass()], leading_lines=[cst.EmptyLine(comment=cst.Comment("# The selection holds no rows."))]
            )

    def _statements(self) -> list[Piece]:
        """The statements that create the objects (``run()``'s body after its docstring)."""
        return list(self.iter_statements())

    def iter_statements(self) -> Iterator[Piece]:
        """:meth:`_statements`, one at a time."""
        deferred_keys = self._prepare_statements()
        first = True
        for section in self.sections:
            for group in section.groups:
                for piece in self.group_pieces(group, deferred_keys, first):
                    first = False
                    yield piece
            yield from self.deferred_statements(section.deferred)
        yield from self.m2m_pieces()

    def _prepare_statements(self) -> dict[int, set[str]]:
        """Before the first statement: the models' names, the deferred references by object id,
        the objects that get a variable, the progress line."""
        self.register_models()
        deferred_keys = self.deferred_now  # object id → its deferred references
        deferred_keys.clear()
        for section in self.sections:
            for edge in section.deferred:
                deferred_keys[id(edge.source)].add(edge.name)
        self.named = self._referenced()
        self.progress.start("writing", sum(len(g.objects) for s in self.sections for g in s.groups))
        return deferred_keys

    def m2m_pieces(self) -> Iterator[Piece]:
        return iter(self.m2m_statements())

    def statements_text(self) -> str:
        """The text of the statements that create the objects, without the script around them,
        indented one level (:data:`_format.INDENT`): what an insertion into a script adds."""
        self.text_mode = True
        pieces = self._statements()
        return "".join(p if isinstance(p, str) else render_statement(p, fmt.INDENT) for p in pieces)

    def _module(self, body: list[cst.SimpleStatementLine]) -> cst.Module:
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
            body=cst.IndentedBlock(body),
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )
        docstring = self.docstring()
        head = self.imports.head()
        head[0] = head[0].with_changes(leading_lines=[cst.EmptyLine()])
        preamble = _parse_statements(PREAMBLE)
        preamble[0] = preamble[0].with_changes(leading_lines=[cst.EmptyLine()])
        late = self.imports.late()
        if late:
            late[0] = late[0].with_changes(leading_lines=[cst.EmptyLine()])
        main = _parse_statements(MAIN)
        main[0] = main[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        return cst.Module(body=[docstring, *head, *preamble, *late, run, *main])

    def build(self) -> cst.Module:
        """The script as a LibCST module, every statement a node."""
        self.text_mode = False
        body = self._body()
        assert all(isinstance(piece, cst.SimpleStatementLine) for piece in body)
        return self._module(body)  # type: ignore[arg-type]

    def build_text(self) -> str:
        """The script's text: ``build().code``, with the object blocks written as text directly.

        The skeleton (docstring, imports, preamble, ``run()``'s other statements) is still
        LibCST nodes; only the blocks that carry the rows' values skip building nodes.
        """
        self.text_mode = True
        body = self._body()
        head, tail = self._frame()
        indent = fmt.INDENT
        text = "".join(piece if isinstance(piece, str) else render_statement(piece, indent) for piece in body)
        return head + text + tail

    def write_text(self, out: TextSink) -> int:
        """Write :meth:`build_text`'s text to ``out`` without holding it: the body goes to a
        temporary file first (the imports above it are known only once it is written).
        Returns the number of lines."""
        self.text_mode = True
        indent = fmt.INDENT
        lines = 0
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as body:
            for piece in self._body_pieces():
                text = piece if isinstance(piece, str) else render_statement(piece, indent)
                lines += text.count("\n")
                body.write(text)
            head, tail = self._frame()
            out.write(head)
            body.seek(0)
            shutil.copyfileobj(body, out, 1 << 20)
            out.write(tail)
        return lines + head.count("\n") + tail.count("\n")

    def _frame(self) -> tuple[str, str]:
        """The script's text before and after ``run()``'s body (call once the body is built)."""
        marker = "# dumpscript: body"
        placeholder = cst.SimpleStatementLine([cst.Pass()], leading_lines=[cst.EmptyLine(comment=cst.Comment(marker))])
        code = module_code(self._module([placeholder]))
        indent = fmt.INDENT
        head, _, tail = code.partition(f"{indent}{marker}\n{indent}pass\n")
        return head, tail
