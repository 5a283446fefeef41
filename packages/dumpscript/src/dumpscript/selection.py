"""Options → the selection: the concrete models to dump, the rows of each, and the models whose
rows are looked up when the script runs instead of created."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, FieldError, ValidationError
from django.db import connections, models

from dumpscript.errors import SelectionError
from dumpscript.options import DumpOptions, check_database

Model = type[models.Model]

# Rows that migrations create; scripts look them up by natural key instead of creating them.
LOOKUP_MODELS = ("contenttypes.ContentType", "auth.Permission")

MIGRATED_ROWS = {
    "contenttypes.ContentType": ("app_label", "model"),
    "auth.Permission": ("content_type", "codename"),
    "sites.Site": ("pk",),
}
"""Models whose rows ``migrate`` creates in every database (``post_migrate``: content types,
permissions, the default site): a script matches them by these fields, creating or updating
(a site by its key: ``SITE_ID`` names it)."""


def lookup_models() -> set[type[models.Model]]:
    found = set()
    for label in LOOKUP_MODELS:
        try:
            found.add(apps.get_model(label))
        except LookupError:
            continue
    return found


def _dumpable(model: type[models.Model]) -> bool:
    opts = model._meta
    return opts.managed and not opts.swapped


def _concrete(model: type[models.Model]) -> type[models.Model]:
    concrete = model._meta.concrete_model
    assert concrete is not None
    return concrete


def _models_for(label: str) -> list[type[models.Model]]:
    if "." in label:
        app_label, _, model_name = label.partition(".")
        try:
            app_config = apps.get_app_config(app_label)
        except LookupError:
            raise SelectionError(f"Unknown app {app_label!r} in {label!r}") from None
        try:
            model = app_config.get_model(model_name)
        except LookupError:
            raise SelectionError(f"Unknown model {label!r}: app {app_label!r} has no model {model_name!r}") from None
        concrete = _concrete(model)
        if concrete in lookup_models():
            raise SelectionError(
                f"Cannot dump {label}: its rows are created by migrations; scripts look them up by natural key"
            )
        if not concrete._meta.managed:
            raise SelectionError(f"Cannot dump {label}: it is not managed by Django (Meta.managed = False)")
        if concrete._meta.swapped:
            raise SelectionError(f"Cannot dump {label}: it is swapped out for {concrete._meta.swapped}")
        return [concrete]
    try:
        app_config = apps.get_app_config(label)
    except LookupError:
        raise SelectionError(f"Unknown app {label!r}: no installed app has that label") from None
    return [_concrete(model) for model in app_config.get_models() if _dumpable(_concrete(model))]


def resolve(labels: Iterable[str], exclude: Iterable[str] = ()) -> list[type[models.Model]]:
    """The concrete models that ``labels`` name, proxies folded into their concrete model.

    No labels means every model of every app, except the rows migrations create
    (content types and permissions), which scripts look up by natural key.
    """
    labels = list(labels)
    if labels:
        selected = [model for label in labels for model in _models_for(label)]
    else:
        skip = lookup_models()
        selected = [_concrete(model) for model in apps.get_models() if _dumpable(model) and model not in skip]
    excluded = {model for label in exclude for model in _models_for(label)}
    unique: dict[str, type[models.Model]] = {}
    for model in selected:
        if model not in excluded:
            unique.setdefault(model._meta.label, model)
    if not unique:
        raise SelectionError(f"Nothing to dump: {' '.join(labels) or 'all apps'} selects no model")
    return list(unique.values())


@dataclass(frozen=True)
class Selection:
    """What a dump reads: the selected models and their rows, and which rows outside them are
    looked up (found when the script runs) rather than created."""

    selected: list[Model]
    """The selected concrete models."""
    pks: list[Any] | None = None
    filter: dict[str, Any] | None = None
    limit: int | None = None
    use_default_manager: bool = False
    natural_foreign: bool = False
    lookups: dict[Model, tuple[str, ...]] = field(default_factory=dict)
    """Models (and their multi-table children) found by these fields when outside the selection."""
    migrated: frozenset[Model] = field(default_factory=lambda: frozenset(lookup_models()))
    """Models whose rows migrations create: always looked up by natural key."""
    upsert: bool = False
    """Every object is matched in the target (:func:`unique_fields`) and updated, or created."""
    keep_pks: bool = False
    left_out: tuple[str, ...] = ()
    """Models of the selected apps that have no table in the database (not migrated, or a
    model the database cannot create), left out: one line each, for the user."""
    querysets: dict[Model, models.QuerySet[Any]] = field(default_factory=dict)
    """Models selected by a queryset (the Python API): their rows are the queryset's rows."""
    keys: dict[Model, Any] | None = None
    """Set by the closure (:func:`dumpscript.closure.close`): the sorted primary keys of every
    selected model, instead of the rows that :meth:`rows` reads."""

    @property
    def subset(self) -> bool:
        """Rows are picked (by keys, a filter or a queryset), not whole models."""
        return self.pks is not None or bool(self.filter) or bool(self.querysets)

    def rows(self, model: Model, using: str) -> models.QuerySet[Any]:
        """The rows of a selected model, by primary key: the options' keys, filter and limit."""
        manager = model._default_manager if self.use_default_manager else model._base_manager
        queryset = manager.using(using).order_by("pk")
        if model in self.querysets:
            queryset = queryset.filter(pk__in=self.querysets[model].values("pk"))
        if self.pks is not None:
            try:
                queryset = queryset.filter(pk__in=self.pks)
            except (ValueError, TypeError, ValidationError) as error:  # a key its field cannot take
                message = str(error).splitlines()[0] if str(error) else type(error).__name__
                keys = repr(list(self.pks))[:100]
                raise SelectionError(
                    f"Cannot select {model._meta.label} by the keys {keys}: {type(error).__name__}: {message}"
                ) from None
        if self.filter:
            try:
                queryset = queryset.filter(**self.filter)
            except (FieldError, ValueError, TypeError, ValidationError) as error:
                message = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise SelectionError(f"Cannot filter {model._meta.label}: {message}") from None
        if self.limit is not None:
            queryset = queryset[: self.limit]
        return queryset

    def is_lookup(self, model: Model) -> bool:
        """Rows of ``model`` are found when the script runs (by natural key or by the fields the
        options name), not created: content types and permissions, models outside the selection
        with ``natural_foreign``, and models (or their multi-table children) with ``lookups``."""
        if model in self.migrated:
            return True
        if model in self.selected:
            return False
        if self.lookup_fields(model):
            return True
        return (
            self.natural_foreign
            and hasattr(model, "natural_key")
            and hasattr(model._default_manager, "get_by_natural_key")
        )

    def match_fields(self, model: Model) -> tuple[str, ...]:
        """The fields by which the script matches rows of ``model`` that may exist already in
        the target: rows migrations create (:data:`MIGRATED_ROWS`, the ``DUMPSCRIPT_MATCH``
        setting), or every row with ``upsert``; empty for the models whose rows it creates."""
        label = model._meta.label
        declared = {**MIGRATED_ROWS, **getattr(settings, "DUMPSCRIPT_MATCH", {})}
        if label in declared:
            return tuple(declared[label])
        return unique_fields(model, self.keep_pks) if self.upsert else ()

    def lookup_fields(self, model: Model) -> tuple[str, ...]:
        """The fields that find a row of ``model`` (or of a parent model) given by ``lookups``."""
        if model in self.migrated:
            return ()
        for klass in [model, *model._meta.get_parent_list()]:
            if klass in self.lookups:
                return self.lookups[klass]
        return ()


Label = str | models.QuerySet[Any]
"""What names a selection: ``app``, ``app.Model``, or a queryset (its rows)."""


def select(given: Sequence[Label], options: DumpOptions) -> Selection:
    """The selection that ``given`` (``app``, ``app.Model`` or a queryset) and ``options`` make."""
    check_database(options.using)
    querysets = _querysets(given, options.using)
    labels = [label if isinstance(label, str) else label.model._meta.label for label in given]
    models_ = resolve(labels, options.exclude)
    if options.pks is not None and (len(labels) != 1 or "." not in labels[0]):
        raise SelectionError("Primary keys can only be given with a single app.Model label")
    tables = set(connections[options.using].introspection.table_names())
    missing = [model for model in models_ if model._meta.db_table not in tables]
    named = {label for label in labels if "." in label}
    for model in missing:
        if model._meta.label in named or any(label.lower() == model._meta.label_lower for label in named):
            raise SelectionError(
                f"Cannot dump {model._meta.label}: it has no table in database {options.using!r} "
                "(its migrations are not applied there, or the database cannot create it)"
            )
    if missing and len(missing) == len(models_):
        raise SelectionError(
            f"Nothing to dump: no model of {' '.join(labels) or 'all apps'} has a table in database {options.using!r}"
        )
    left_out = tuple(
        f"Left out {model._meta.label}: it has no table in database {options.using!r}" for model in missing
    )
    selected = [model for model in models_ if model not in missing]
    pks = _keys(selected[0], options.pks, options.using) if options.pks is not None else None
    if options.strict and not options.anonymize:
        raise SelectionError("strict goes with anonymize (--strict with --anonymize)")
    return Selection(
        selected,
        left_out=left_out,
        pks=pks,
        filter=options.filter,
        limit=options.limit,
        use_default_manager=options.use_default_manager,
        natural_foreign=options.natural_foreign,
        lookups=_lookup_models(options.lookups or {}),
        upsert=options.upsert,
        keep_pks=options.keep_pks,
        querysets=querysets,
    )


def _keys(model: Model, given: Sequence[Any], using: str) -> list[Any]:
    """``given`` as the primary key field of ``model`` takes them; a one-line error for a key
    the field cannot take."""
    pk = model._meta.pk
    assert pk is not None
    keys = []
    for key in given:
        try:
            value = pk.to_python(key)
        except (ValueError, TypeError, ValidationError) as error:
            message = error.messages[0] if isinstance(error, ValidationError) else str(error) or type(error).__name__
            raise SelectionError(f"Cannot select {model._meta.label} by the key {key!r}: {message}") from None
        internal = (pk.target_field if isinstance(pk, models.ForeignKey) else pk).get_internal_type()
        low, high = connections[using].ops.integer_field_ranges.get(internal, (None, None))
        if isinstance(value, int) and ((low is not None and value < low) or (high is not None and value > high)):
            raise SelectionError(f"Cannot select {model._meta.label} by the key {key}: out of range for its {internal}")
        keys.append(value)
    return keys


def with_found_keys(selection: Selection, using: str, model: Model) -> Selection:
    """``selection`` with only the keys of ``pks`` (keys of ``model``) that rows have, the
    others named in ``left_out`` (the script's docstring says so); a one-line error when no
    row has any."""
    if selection.pks is None:
        return selection
    found: Any = list(model._base_manager.using(using).filter(pk__in=selection.pks).values_list("pk", flat=True))
    with contextlib.suppress(TypeError):  # keys of a custom field may not hash
        found = set(found)
    if not found:
        shown = ", ".join(map(str, selection.pks))
        raise SelectionError(f"Nothing to dump: no {model._meta.label} row has the key {shown} in database {using!r}")
    absent = [key for key in selection.pks if key not in found]
    if not absent:
        return selection
    note = f"No {model._meta.label} row has the key {', '.join(map(str, absent))}: left out"
    return replace(selection, pks=[key for key in selection.pks if key in found], left_out=(*selection.left_out, note))


def _querysets(given: Sequence[Label], using: str) -> dict[Model, models.QuerySet[Any]]:
    """The querysets among ``given``, by concrete model; each must read database ``using``."""
    result: dict[Model, models.QuerySet[Any]] = {}
    for queryset in given:
        if isinstance(queryset, str):
            continue
        label = queryset.model._meta.label
        chosen = getattr(queryset, "_db", None)  # the database a .using() call chose, if any
        if chosen is not None and chosen != using:
            raise SelectionError(
                f"Cannot dump the {label} queryset: it reads database {chosen!r} and the dump reads "
                f"{using!r}; give DumpOptions(using={chosen!r})"
            )
        (model,) = _models_for(label)
        if model in result:
            raise SelectionError(f"Cannot dump two querysets of {model._meta.label}: combine them with |")
        result[model] = queryset
    return result


def is_unique_together(model: Model, names: tuple[str, ...]) -> bool:
    """``names`` are the key, a unique field, or unique together in the database."""
    opts = model._meta
    if names == ("pk",) or (len(names) == 1 and names[0] == opts.pk.name):  # type: ignore[union-attr]
        return True
    if len(names) == 1:
        field = opts.get_field(names[0])
        return bool(getattr(field, "unique", False))
    wanted = set(names)
    return any(set(together) == wanted for together in opts.unique_together) or any(
        set(constraint.fields) == wanted for constraint in opts.total_unique_constraints
    )


def unique_fields(model: Model, keep_pks: bool = False) -> tuple[str, ...]:
    """How a re-runnable script finds an object already in the target: its key (``keep_pks``,
    or a key that is data), a unique field, fields unique together, or else all its fields."""
    opts = model._meta
    pk = opts.pk
    assert pk is not None
    auto = isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField)
    if (keep_pks and auto) or not (auto or pk.is_relation):
        return (pk.name,)  # a key the script writes (not one renumbered by the load): it finds the row
    for f in opts.concrete_fields:
        if f.unique and not f.primary_key and not getattr(f.remote_field, "parent_link", False):
            return (f.name,)
    for together in opts.unique_together:
        return tuple(together)
    for constraint in opts.total_unique_constraints:
        return tuple(constraint.fields)
    return tuple(
        f.name
        for f in opts.concrete_fields
        if not f.primary_key
        and not getattr(f, "generated", False)
        and not getattr(f.remote_field, "parent_link", False)
    )


def _lookup_models(lookups: dict[str, Sequence[str]]) -> dict[Model, tuple[str, ...]]:
    result = {}
    for label, fields in lookups.items():
        (model,) = resolve([label]) if "." in label else (None,)
        if model is None:
            raise SelectionError(f"Cannot look up {label!r}: give an app.Model label")
        for name in fields:
            try:
                found = model._meta.get_field(name)
            except FieldDoesNotExist:
                raise SelectionError(f"Cannot look up {label} by {name!r}: {label} has no field {name!r}") from None
            if found.is_relation:
                raise SelectionError(f"Cannot look up {label} by {name!r}: it is a relation")
        if not fields:
            raise SelectionError(f"Cannot look up {label}: name at least one field")
        result[model] = tuple(fields)
    return result
