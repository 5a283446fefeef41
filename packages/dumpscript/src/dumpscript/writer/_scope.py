"""What the parts of the writer share: the script's imports and names for model classes, the
variable that holds the database alias, the names already taken, and how looked-up rows are
written."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable
from typing import Any

import libcst as cst
from django.db.models import QuerySet
from django.db.models.manager import BaseManager

from dumpscript.meta import Lookup, Model
from dumpscript.script.imports import BY_LABEL, ImportSet
from dumpscript.script.render import render_expression
from dumpscript.values import EncodeContext, encode_python
from dumpscript.values import _literals as lit
from dumpscript.writer._text import import_module_of


class Scope:
    """The names of one script."""

    def __init__(self, using: str | None = "using", taken: Iterable[str] = ()) -> None:
        self.imports = ImportSet()
        self.using = using
        """The variable that holds the database alias, or None to use the default database
        (``Model.objects.bulk_create(...)``): code inserted where no ``using`` is defined."""
        self.taken: set[str] = set(taken)
        """Names the script already uses: helper variables (through models) avoid them."""
        self.helpers: set[str] = set()
        """The functions of the script the statements call (``save_raw``)."""
        self._class_names: dict[Model, str] = {}
        self._lookups: dict[Lookup, str] = {}

    def register(self, models_: Iterable[Model]) -> None:
        """Import the classes of ``models_`` (in label order, so aliases are stable)."""
        for model in sorted(set(models_), key=lambda m: m._meta.label):
            self.class_name(model)

    def class_name(self, model: Model) -> str:
        """The name the script uses for ``model`` (imported once, aliased if taken)."""
        if model not in self._class_names:
            module, name = import_module_of(model), model.__name__
            if getattr(sys.modules.get(module), name, None) is not model:  # nested, made in a function
                self.imports.module("django")
                name = str(model._meta.object_name)
                module = f"{BY_LABEL}{model._meta.app_label}.{name}"
            prefix = "".join(part.capitalize() for part in model._meta.app_label.split("_"))
            self._class_names[model] = self.imports.name(module, name, late=True, alias_prefix=prefix)
        return self._class_names[model]

    def manager_text(self, model: Model, method: str = "using", reads: bool = False) -> str:
        """``Model.objects.using(using)`` (or ``.db_manager(using)``); ``Model.objects`` without a
        ``using`` variable; ``QuerySet(Model).using(using)`` to write rows past a default manager
        that changes what its writes store (django-ordered-model renumbers in ``bulk_create``)
        or, for a statement that ``reads`` rows (a match, an update), that hides rows."""
        if method == "using" and (_custom_writes(model) or (reads and _hides_rows(model))):
            objects = f"{self.imports.name('django.db.models', 'QuerySet')}({self.class_name(model)})"
        else:
            objects = f"{self.class_name(model)}.{model._default_manager.name}"
        return objects if self.using is None else f"{objects}.{method}({self.using})"

    def save_raw(self, var: str) -> str:
        """``save_raw(var, using)``: a multi-table object saved as ``loaddata`` does."""
        self.helpers.add("save_raw")
        return f"save_raw({var}, {self.using})" if self.using is not None else f"save_raw({var})"

    def manager(self, model: Model, method: str = "using", reads: bool = False) -> cst.BaseExpression:
        """:meth:`manager_text` as a node."""
        return cst.parse_expression(self.manager_text(model, method, reads))

    def fresh(self, wanted: str) -> str:
        """``wanted``, or ``wanted_2``…: a name not taken (then taken)."""
        name, number = wanted, 2
        while name in self.taken:
            name, number = f"{wanted}_{number}", number + 1
        self.taken.add(name)
        return name

    def lookup(self, target: Lookup) -> cst.BaseExpression:
        """``Model.objects.db_manager(using).get_by_natural_key(...)`` or ``.get(field=...)``."""
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

    def target_text(self, target: Any) -> str:
        """A reference's value: an object's variable, or the lookup of a row (written once per
        row looked up: many objects point at the same content type)."""
        if isinstance(target, str):
            return target
        try:
            text = self._lookups.get(target)
        except TypeError:  # a natural key with an unhashable part
            return render_expression(self.lookup(target))
        if text is None:
            text = self._lookups[target] = render_expression(self.lookup(target))
        return text


_WRITES = ("bulk_create", "bulk_update", "update", "update_or_create")


def _hides_rows(model: Model) -> bool:
    """The default manager of ``model`` has its own ``get_queryset()`` (it may hide rows that an
    update or a match must find)."""
    return type(model._default_manager).get_queryset is not BaseManager.get_queryset


@functools.cache
def _custom_writes(model: Model) -> bool:
    """The default manager of ``model``, or its queryset, overrides a method the script writes
    rows with (the methods a manager copies from its queryset do not count)."""
    manager = model._default_manager
    queryset = type(manager.get_queryset())
    for name in _WRITES:
        if getattr(queryset, name, None) is not getattr(QuerySet, name):
            return True
        for klass in type(manager).__mro__:
            method = vars(klass).get(name)
            if method is not None and not hasattr(method, "__wrapped__") and not klass.__module__.startswith("django."):
                return True
    return False
