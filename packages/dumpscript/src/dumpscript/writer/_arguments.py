"""An object's keyword arguments as text: ``name=value`` for every field that must be written.

One description of a model's fields (:class:`FieldSpec`: is it a relation, an ``auto_now``
field, which value need not be written, the fast text writers of its value types) drives both
the general writer (:meth:`Arguments.text`) and, for the models whose objects are plain, a
writer compiled from it that goes straight from a row to the arguments (:meth:`Arguments.compiled`).
"""

from __future__ import annotations

import decimal
import enum
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.db import connections
from django.db.models import NOT_PROVIDED

from dumpscript._types import AnyField
from dumpscript.errors import UnsupportedValueError
from dumpscript.graph import Graph
from dumpscript.meta import Model, by_key, generic_fks
from dumpscript.meta.embedded import EmbeddedIds, embedded_ids
from dumpscript.script.render import render_expression
from dumpscript.values import EncodeContext, encode_python
from dumpscript.values import _literals as lit
from dumpscript.values._text import field_value_text, plain_writers
from dumpscript.writer._rows import Obj, RowReader, TypedTarget
from dumpscript.writer._scope import Scope

ALWAYS: Any = object()
"""The default of a field that is always written."""


def static_default(f: AnyField) -> Any:
    """The value ``Model(...)`` gives field ``f`` when the argument is left out, if that value is
    fixed (``ALWAYS`` otherwise: callable or database defaults, primary keys)."""
    if f.primary_key or getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
        return ALWAYS
    if f.has_default():
        default = f.default
        if callable(default) or isinstance(default, list | dict | set):
            return ALWAYS
        if isinstance(default, enum.Enum):  # TextChoices.SMALL: the database gives its value
            default = default.value
        return default
    return None if not f.empty_strings_allowed or f.null else ""


def is_default(value: Any, default: Any) -> bool:
    """``value`` is exactly ``default``: same type, and for numbers the same sign (-0.0) and
    exponent (``Decimal("0E-10")``)."""
    if value is default:
        return True
    if type(value) is not type(default):
        return False
    if isinstance(value, float | decimal.Decimal):
        return repr(value) == repr(default)
    return bool(value == default)


@dataclass(frozen=True)
class FieldSpec:
    """How one field of a model is written."""

    field: AnyField
    relation: bool
    auto: bool
    """``auto_now`` or ``auto_now_add``: set again after saving (save() overwrites it)."""
    default: Any
    """The value that need not be written, or :data:`ALWAYS`."""
    writers: dict[type, Callable[[Any], str | None]]
    """Value type → fast text writer (None: the general encoder writes it)."""
    key: bool = False
    """Part of the primary key: an ``auto`` one is written in ``Model(...)`` too (``bulk_create``
    takes an object whose key has a ``None`` part for one the database numbers)."""
    ids: EmbeddedIds | None = None
    """Keys of other rows inside the value, written as their variables."""


class Arguments:
    """Writes objects' keyword arguments for one script (its imports and names)."""

    def __init__(self, scope: Scope, graph: Graph, reader: RowReader, all_fields: bool = False) -> None:
        self.scope, self.graph, self.reader = scope, graph, reader
        self.all_fields = all_fields
        self._specs: dict[tuple[Model, bool], list[FieldSpec]] = {}
        self._specs_imports: object = scope.imports
        self._where = ""
        self._context = EncodeContext(scope.imports, where=lambda: self._where)
        self._compiled: dict[Model, Callable[[tuple[Any, ...]], list[str]]] = {}

    def specs(self, model: Model, all_fields: bool | None = None) -> list[FieldSpec]:
        """The fields the script writes for ``model``, described."""
        if self._specs_imports is not self.scope.imports:  # the writers ask these imports
            self._specs, self._specs_imports = {}, self.scope.imports
            self._context = EncodeContext(self.scope.imports, where=lambda: self._where)
            self._compiled.clear()
        every = self.all_fields if all_fields is None else all_fields
        specs = self._specs.get((model, every))
        if specs is None:
            specs = []
            key = getattr(model._meta, "pk_fields", [model._meta.pk])
            for f in self.graph.fields(model):
                auto = bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
                default = ALWAYS if every or auto else static_default(f)
                writers = plain_writers(f, self.scope.imports)
                specs.append(FieldSpec(f, f.is_relation, auto, default, writers, key=f in key, ids=embedded_ids(f)))
            self._specs[model, every] = specs
        return specs

    def text(
        self, obj: Obj, deferred: set[str] | frozenset[str], all_fields: bool | None = None
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """``name=value`` arguments, and the auto_now values ``(name, value)`` to set after
        saving; ``all_fields`` (default: the dump's setting) writes the default values too."""
        model = obj.model
        values, targets = obj.values, obj.targets
        gfk_parts: dict[str, str | None] = {}
        placeholders: set[str] = set()  # NOT NULL parts of a deferred generic relation
        gfk_fields = {}
        for gfk in generic_fks(model):
            if gfk.name in targets:
                gfk_fields[gfk.name] = (gfk.ct_field, gfk.fk_field)
                gfk_parts[gfk.ct_field.attname] = gfk.name
                gfk_parts[gfk.fk_field.attname] = None
                if gfk.name in deferred and not gfk.nullable:
                    placeholders.update((gfk.ct_field.attname, gfk.fk_field.attname))
        result: list[str] = []
        auto_now: list[tuple[str, str]] = []
        target_text = self.scope.target_text
        if obj.link:
            result.append(f"{obj.link}={target_text(targets[obj.link])}")
        for spec in self.specs(model, all_fields):
            f, default = spec.field, spec.default
            if gfk_parts and f.attname in gfk_parts:
                gfk_name = gfk_parts[f.attname]
                if f.attname in placeholders:  # the old values until the link is set
                    result.append(f"{f.attname}={self.raw(values[f.attname], f, obj.pk, model)}")
                elif gfk_name is not None and gfk_name not in deferred:
                    generic = targets[gfk_name]
                    if isinstance(generic, TypedTarget):  # the stored content type, kept
                        ct, fk = gfk_fields[gfk_name]
                        result.append(f"{ct.name}={target_text(generic.content_type)}")
                        result.append(f"{fk.attname}={generic.var}.{generic.key}")
                    else:
                        result.append(f"{gfk_name}={target_text(generic)}")
                continue
            value = values[f.attname]
            if default is not ALWAYS and (value is default or (value == default and is_default(value, default))):
                continue
            if spec.relation and value is not None:
                if f.name in deferred:
                    if not f.null:  # NOT NULL: its old value until the link is set (checked at commit)
                        result.append(f"{f.attname}={self.raw(value, f, obj.pk, model)}")
                    continue
                target = targets.get(f.name)
                if target is None:  # points at a missing row
                    result.append(f"{f.attname}={self.raw(value, f, obj.pk, model)}")
                elif by_key(f):  # a row another model's object holds: Django wants its own class
                    result.append(f"{f.attname}={target_text(target)}.pk")
                else:
                    result.append(f"{f.name}={target_text(target)}")
                continue
            writer = spec.writers.get(type(value))
            text = writer(value) if writer is not None else None
            if spec.ids is not None and value is not None:
                text = self._with_ids(value, spec.ids, f, obj.pk, model)
            if text is None:
                text = "None" if value is None else self.value(value, f, obj.pk, model)
            if spec.auto:
                auto_now.append((f.name, text))
                if spec.key:  # save() overwrites it all the same, but bulk_create needs the whole key
                    result.append(f"{f.name}={text}")
            else:
                result.append(f"{f.name}={text}")
        return result, auto_now

    def value(self, value: Any, field: AnyField, pk: Any, model: Model | None = None) -> str:
        """A value through the field's encoder (the error names the object and field)."""
        self._where = f"{(model or field.model)._meta.label}(pk={pk!r}).{field.name}"
        try:
            return field_value_text(value, field, self._context)
        except UnsupportedValueError:
            text = self._through_string(value, field, model or field.model)
            if text is None:
                raise
            return text

    def _with_ids(self, value: Any, ids: EmbeddedIds, field: AnyField, pk: Any, model: Model) -> str:
        """A value with keys of other rows inside: each key of a row the script creates (or
        looks up) written as its ``variable.pk``."""
        resolve = self.reader.resolver(ids.model())

        def name(key: Any) -> str | None:
            target = resolve(key)
            return None if target is None else self.scope.target_text(target)

        return ids.text(value, lambda plain: self.value(plain, field, pk, model), name)

    def _through_string(self, value: Any, field: AnyField, model: Model) -> str | None:
        """``Model._meta.get_field("f").to_python("…")``: a value of a type of the project (no
        encoder) written through the field's own text, as ``dumpdata`` does; None when the
        value does not come back the same from that text."""
        connection = connections[self.graph.using]
        try:
            text = field.value_to_string(SimpleNamespace(**{field.attname: value}))  # type: ignore[arg-type]
            back = field.get_db_prep_save(field.to_python(text), connection)
            same = isinstance(text, str) and back == field.get_db_prep_save(value, connection)
        except Exception:  # the field's own code, on a value it may not expect
            return None
        if not same:
            return None
        owner = self.scope.class_name(model)
        return f"{owner}._meta.get_field({lit.string_text(field.name)}).to_python({lit.string_text(text)})"

    def raw(self, value: Any, field: AnyField, pk: Any, model: Model | None = None) -> str:
        """A plain Python value (the id of a missing row), not through the field's encoder."""
        self._where = f"{(model or field.model)._meta.label}(pk={pk!r}).{field.name}"
        return render_expression(encode_python(value, self._context))

    def compiled(self, model: Model) -> Callable[[tuple[Any, ...]], list[str]]:
        """``row → ["name=value", ...]``: :meth:`text` specialised to ``model``'s fields and
        compiled (one ``if`` per field, constants bound as defaults), for plain objects (no
        generic relation, auto_now field, parent link, deferred or reused object)."""
        if model not in self._compiled:
            self.specs(model)
            self._compiled[model] = self._compile(model)
        return self._compiled[model]

    def _compile(self, model: Model) -> Callable[[tuple[Any, ...]], list[str]]:
        names, _ = self.reader.columns(model)
        resolvers = {name: resolve for name, _, resolve in self.reader.resolvers(model)}
        scope: dict[str, Any] = {
            "ALWAYS": ALWAYS,
            "is_default": is_default,
            "str": str,
            "slow": self.value,
            "raw": self.raw,
            "lookup_text": self.scope.target_text,
        }
        lines = ["def fused(row):", "    args = []", "    append = args.append"]
        for number, spec in enumerate(self.specs(model)):
            f = spec.field
            column = names.index(f.attname) + 1
            scope[f"f{number}"], scope[f"d{number}"], scope[f"w{number}"] = f, spec.default, spec.writers
            lines.append(f"    v = row[{column}]")
            body = "    "
            if spec.default is not ALWAYS:
                lines.append(f"    if not (v is d{number} or (v == d{number} and is_default(v, d{number}))):")
                body = "        "
            if spec.relation:
                scope[f"r{number}"] = resolvers[f.name]
                lines += [
                    f"{body}if v is not None:",
                    f"{body}    t = r{number}(v)",
                    f"{body}    if t is None:",
                    f"{body}        append({f.attname + '='!r} + raw(v, f{number}, row[0]))",
                    f"{body}    elif type(t) is str:",
                    f"{body}        append({f.name + '='!r} + t)",
                    f"{body}    else:",
                    f"{body}        append({f.name + '='!r} + lookup_text(t))",
                    f"{body}else:",
                    f"{body}    append({f.name + '=None'!r})",
                ]
                continue
            lines += [
                f"{body}w = w{number}.get(type(v))",
                f"{body}t = w(v) if w is not None else None",
                f"{body}if t is None:",
                f"{body}    t = 'None' if v is None else slow(v, f{number}, row[0])",
                f"{body}append({f.name + '='!r} + t)",
            ]
        lines.append("    return args")
        exec("\n".join(lines), scope)
        return scope["fused"]  # type: ignore[no-any-return]
