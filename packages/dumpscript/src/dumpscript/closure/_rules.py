"""The user's rules for the closure: ``follow``, ``no_follow`` and ``depth`` of the options,
checked against the models (an unknown name is a one-line error with a suggestion)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.apps import apps

from dumpscript.closure._relations import Reverse, forward_relation, reverse_relations
from dumpscript.errors import SelectionError
from dumpscript.meta.relations import Model, concrete_of
from dumpscript.options import DumpOptions


@dataclass(frozen=True)
class Decision:
    """Whether the closure follows a relation, and why (said in the preview)."""

    followed: bool
    reason: str
    """``CASCADE``, ``generic relation``, ``--follow``; ``SET_NULL``, ``--no-follow shop``, …"""
    hint: str = ""
    """For a relation not followed: how to follow it."""


@dataclass(frozen=True)
class Rules:
    """The relations the closure follows beyond (or short of) the cascading ones."""

    follow: frozenset[tuple[str, ...]] = frozenset()
    no_follow: dict[tuple[str, ...], str] | None = None
    """Relation key → the rule as the user wrote it."""
    no_follow_models: frozenset[Model] = frozenset()
    no_follow_apps: frozenset[str] = frozenset()
    excluded: frozenset[Model] = frozenset()
    """Models the options leave out (``exclude``): not followed into either."""
    depth: int | None = None

    def decide(self, relation: Reverse) -> Decision:
        """The most specific rule wins: a relation's, then a model's, then an app's, then the
        default (follow what a delete would cascade to)."""
        if relation.key in self.follow:
            return Decision(True, "--follow")
        if self.no_follow and relation.key in self.no_follow:
            return Decision(False, f"--no-follow {self.no_follow[relation.key]}")
        related = relation.related
        if related in self.no_follow_models:
            return Decision(False, f"--no-follow {related._meta.label}")
        if related._meta.app_label in self.no_follow_apps:
            return Decision(False, f"--no-follow {related._meta.app_label}")
        if related in self.excluded:
            return Decision(False, f"--exclude {related._meta.label}")
        if relation.cascade:
            return Decision(True, relation.action)
        return Decision(False, relation.action, f"--follow {relation.label} to include")


def wanted(options: DumpOptions, subset: bool) -> bool:
    """The closure runs: asked for (``dependents``), or rows are picked (``subset``), or a rule
    of the closure is given."""
    shaped = bool(options.follow or options.no_follow) or options.depth is not None
    if options.dependents is False and shaped:
        raise SelectionError("--follow, --no-follow and --depth shape the dependents: drop --no-dependents")
    if options.dependents is not None:
        return options.dependents
    return subset or shaped


def rules(options: DumpOptions, excluded: frozenset[Model] = frozenset()) -> Rules:
    """The options' rules, each name checked."""
    if options.depth is not None and options.depth < 0:
        raise SelectionError(f"--depth takes a number of reverse hops, 0 or more, not {options.depth}")
    follow = set()
    for spec in options.follow:
        if spec.count(".") < 2:
            raise SelectionError(
                f"Cannot follow {spec!r}: name a relation as app.Model.relation (shop.Customer.orders)"
            )
        follow.add(relation(spec, "follow").key)
    no_follow: dict[tuple[str, ...], str] = {}
    models_: set[Model] = set()
    apps_: set[str] = set()
    for spec in options.no_follow:
        parts = spec.split(".", 2)
        if len(parts) == 3:
            key = relation(spec, "no-follow").key
            if key in follow:
                raise SelectionError(f"Cannot both follow and not follow {spec}")
            no_follow[key] = spec
        elif len(parts) == 2:
            models_.add(_model(spec, "no-follow"))
        else:
            try:
                apps_.add(apps.get_app_config(spec).label)
            except LookupError:
                raise SelectionError(f"Cannot no-follow {spec!r}: no installed app has that label") from None
    return Rules(frozenset(follow), no_follow, frozenset(models_), frozenset(apps_), excluded, options.depth)


def _model(label: str, verb: str) -> Model:
    app_label, _, model_name = label.partition(".")
    try:
        app_config = apps.get_app_config(app_label)
    except LookupError:
        raise SelectionError(f"Cannot {verb} {label!r}: no installed app has the label {app_label!r}") from None
    try:
        return concrete_of(app_config.get_model(model_name))
    except LookupError:
        raise SelectionError(f"Cannot {verb} {label!r}: app {app_label!r} has no model {model_name!r}") from None


def relation(spec: str, verb: str = "follow") -> Reverse:
    """The reverse relation that ``spec`` (``app.Model.relation``) names: by accessor, related
    query name, or ``Related.field``."""
    app_label, model_name, name = spec.split(".", 2)
    model = _model(f"{app_label}.{model_name}", verb)
    label = model._meta.label
    known = reverse_relations(model)
    for candidate in known:
        if name in candidate.names:
            return candidate
    if forward_relation(model, name):
        raise SelectionError(
            f"Cannot {verb} {spec}: {label}.{name} is a forward relation; the rows it points at are always included"
        )
    names = sorted({n for candidate in known for n in candidate.names})
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        advice = f"did you mean {label}.{close[0]}?"
    elif known:
        advice = f"its reverse relations are {', '.join(candidate.name for candidate in known)}"
    else:
        advice = "no other model points at it"
    raise SelectionError(f"Cannot {verb} {spec}: {label} has no reverse relation {name!r}; {advice}")
