"""How keys are read: as Python values, or as the database stores them for a primary key of a
type of the project that cannot be hashed or ordered (a wrapper)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.models import ExpressionWrapper, F

from dumpscript.graph._relations import Model, concrete_of


class KeyColumns:
    """The ``values_list`` columns that read keys of one database in the form the graph keeps."""

    def __init__(self, using: str) -> None:
        self.using = using
        self._stored: dict[Model, bool] = {}

    def stored_keys(self, model: Model) -> bool:
        """The keys of ``model`` are read as the database stores them: its primary key's
        values are of a type of the project that cannot be hashed or ordered (a wrapper)."""
        if model not in self._stored:
            pk = model._meta.pk
            stored = False
            if pk is not None and not type(pk).__module__.startswith("django.") and hasattr(pk, "from_db_value"):
                value = model._base_manager.using(self.using).values_list("pk", flat=True).first()
                try:
                    hash(value)
                    stored = value is not None and bool(value < value)  # orderable?
                except TypeError:
                    stored = True
            self._stored[model] = stored
        return self._stored[model]

    def columns(self, model: Model, names: Sequence[Any]) -> list[Any]:
        """``names`` as ``values_list`` columns: the keys of models with :meth:`stored_keys` (the
        primary key, foreign keys to it) read as stored, past the field's ``from_db_value``."""
        result = []
        for name in names:
            if isinstance(name, str):
                field: Any = model._meta.pk if name == "pk" else model._meta.get_field(name)
                target = field.target_field if field.is_relation and not field.many_to_many else field
                owner = concrete_of(target.model) if target is not None and target.primary_key else None
                if owner is not None and self.stored_keys(owner):
                    name = ExpressionWrapper(F(name), output_field=models.Field())
            result.append(name)
        return result
