"""App and model labels → the concrete models to dump."""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.db import models

from dumpscript.errors import SelectionError

# Rows that migrations create; scripts look them up by natural key instead of creating them.
LOOKUP_MODELS = ("contenttypes.ContentType", "auth.Permission")


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
