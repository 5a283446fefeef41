"""What the parts of the writer share: the script's imports and names for model classes, the
variable that holds the database alias, the names already taken, and how looked-up rows are
written."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import libcst as cst

from dumpscript.cst import ImportSet
from dumpscript.cst._render import render_expression
from dumpscript.errors import DumpscriptError
from dumpscript.graph import Lookup, Model
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
            module = import_module_of(model)
            if getattr(sys.modules.get(module), model.__name__, None) is not model:
                raise DumpscriptError(
                    f"Cannot dump {model._meta.label}: the script cannot import its class as "
                    f"{module}.{model.__name__} (a model class made inside a function, or renamed)"
                )
            prefix = "".join(part.capitalize() for part in model._meta.app_label.split("_"))
            self._class_names[model] = self.imports.name(module, model.__name__, late=True, alias_prefix=prefix)
        return self._class_names[model]

    def manager_text(self, model: Model, method: str = "using") -> str:
        """``Model.objects.using(using)`` (or ``.db_manager(using)``); ``Model.objects`` without a
        ``using`` variable."""
        objects = f"{self.class_name(model)}.{model._default_manager.name}"
        return objects if self.using is None else f"{objects}.{method}({self.using})"

    def save_raw(self, var: str) -> str:
        """``save_raw(var, using)``: a multi-table object saved as ``loaddata`` does."""
        self.helpers.add("save_raw")
        return f"save_raw({var}, {self.using})" if self.using is not None else f"save_raw({var})"

    def manager(self, model: Model, method: str = "using") -> cst.BaseExpression:
        """:meth:`manager_text` as a node."""
        objects = cst.Attribute(lit.name(self.class_name(model)), cst.Name(model._default_manager.name))
        if self.using is None:
            return objects
        return lit.call(cst.Attribute(objects, cst.Name(method)), [lit.name(self.using)])

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
