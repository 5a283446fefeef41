"""The graph → the ordering: who is created first, and which references are set afterwards.

Models are ordered by their references (targets first). Models whose objects reference each
other (a cycle of models, or a model that references itself) are ordered object by object: an
object comes after every object it points at, level by level, so that each level is created in
one batch. A reference inside a cycle of objects is *deferred* (set once both objects exist)
when it is nullable; a cycle whose references are all NOT NULL cannot be created in any order
and is a :class:`~dumpscript.errors.CycleError` naming the objects and fields.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field

from django.db import connections

from dumpscript.errors import CycleError
from dumpscript.graph import Graph
from dumpscript.meta import Model, deferrable, nullable, parent_link, root_model
from dumpscript.ordering._arrays import Cycle, components, cycle_path, defer, levels

__all__ = [
    "Cycle",
    "DeferredLink",
    "Ordering",
    "Placement",
    "Section",
    "Span",
    "components",
    "cycle_path",
    "defer",
    "levels",
    "order",
]


@dataclass(frozen=True)
class Span:
    """Objects of one model created together: the model's creation positions ``start`` to
    ``stop`` (all of its objects, or one level of a model ordered object by object)."""

    model: Model
    start: int
    stop: int


@dataclass(frozen=True)
class DeferredLink:
    """A reference set once both objects exist (it closes a cycle of objects)."""

    position: int
    """The source's creation position in its section (links are set in creation order)."""
    name: str
    source: Model
    source_rank: int
    target: Model
    target_rank: int


@dataclass
class Section:
    """The spans of a set of models that reference each other, then their deferred links."""

    spans: list[Span]
    deferred: list[DeferredLink] = field(default_factory=list)


@dataclass(frozen=True)
class Placement:
    """Where the objects of a model ordered object by object are created."""

    pos: array[int]
    """Key rank → creation position among the model's objects."""
    order: array[int]
    """Creation position → key rank (the inverse of ``pos``)."""
    level: array[int]
    """Key rank → level (the longest chain of kept references below the object)."""


@dataclass
class Ordering:
    """The sections in creation order, and the placement of the models ordered by object (the
    others are created in key order)."""

    sections: list[Section]
    placements: dict[Model, Placement]


def _label(model: Model) -> str:
    return model._meta.label


def order(graph: Graph) -> Ordering:
    """Order the objects of ``graph``: models by their references (components of models that
    reference each other come out targets first), objects within such components by level."""
    present = graph.present()
    number = {model: position for position, model in enumerate(present)}
    starts, deps = array("q", [0]), array("q")
    for model in present:
        deps.extend(number[target] for target in sorted(graph.model_succ[model], key=_label) if target in number)
        starts.append(len(deps))
    component_of, cyclic = components(len(present), starts, deps)
    members: dict[int, list[Model]] = {}
    for position, model in enumerate(present):
        members.setdefault(component_of[position], []).append(model)
    sections: list[Section] = []
    placements: dict[Model, Placement] = {}
    for component in range(len(members)):
        models_ = members[component]
        if cyclic[component]:
            sections.append(_order_objects(graph, models_, placements))
        else:
            sections.append(Section([Span(models_[0], 0, len(graph.by_model[models_[0]]))]))
    return Ordering(sections, placements)


class _References:
    """The references between the objects of a component, numbered ``0 .. total - 1`` (models
    in component order, keys in rank order), as arrays."""

    def __init__(self, graph: Graph, component: list[Model]) -> None:
        self.component = component
        self.offsets: dict[Model, int] = {}
        self.total = 0
        for model in component:
            self.offsets[model] = self.total
            self.total += len(graph.by_model[model])
        self.starts = array("q", [0])
        self.deps = array("q")
        self.fields = array("q")
        self.field_info: list[tuple[str, bool, bool]] = []
        """Field id → its name, whether it may be None, and whether it can be set after both
        objects exist (a placeholder meanwhile, for a NOT NULL one)."""
        self._deferred_checks = bool(connections[graph.using].features.can_defer_constraint_checks)
        self._field_ids: dict[tuple[Model, str], int] = {}
        for model in component:
            self._read(graph, model)

    def _field_id(self, model: Model, name: str) -> int:
        if (model, name) not in self._field_ids:
            self._field_ids[(model, name)] = len(self.field_info)
            self.field_info.append((name, nullable(model, name), deferrable(model, name, self._deferred_checks)))
        return self._field_ids[(model, name)]

    def _read(self, graph: Graph, model: Model) -> None:
        inside = set(self.component)
        objects = graph.by_model[model]
        columns, refs = graph.references(model)
        rows = graph.rows(model, objects.keys, columns) if refs else iter(())
        row = next(rows, None)
        family = len(graph.families[root_model(model)]) > 1
        for key in objects.keys:
            primary = graph.primary(objects, key) if family else None
            if primary is not None and primary[0].model in inside:
                self.deps.append(self.offsets[primary[0].model] + primary[1])
                self.fields.append(self._field_id(model, parent_link(model, primary[0].model)))
            if row is not None and row[0] == key:
                for name, target_model, target_key in graph.targets_of(row, refs):
                    found = None if graph.is_lookup(target_model) else graph.find(target_model, target_key)
                    if found is not None and found[0].model in inside:
                        self.deps.append(self.offsets[found[0].model] + found[1])
                        self.fields.append(self._field_id(model, name))
                row = next(rows, None)
            self.starts.append(len(self.deps))

    def locate(self, number: int) -> tuple[Model, int]:
        """The model and key rank of object ``number``."""
        bounds = [self.offsets[model] for model in self.component]
        model = self.component[bisect.bisect_right(bounds, number) - 1]
        return model, number - self.offsets[model]


def _order_objects(graph: Graph, component: list[Model], placements: dict[Model, Placement]) -> Section:
    """Levels of the objects of models that reference each other: an object comes after every
    object it points at; inside a cycle of objects, nullable references are set afterwards."""
    refs = _References(graph, component)
    total, starts, deps, fields = refs.total, refs.starts, refs.deps, refs.fields
    deferred: list[tuple[int, int, int]] = []  # (source, field id, target)
    level = None
    # Nullable references first; then, for the cycles left, NOT NULL ones (with placeholders),
    # one field at a time, so that as few objects as possible need a placeholder.
    steps = [[info[1] for info in refs.field_info]]
    steps += [
        [number == field_id for number in range(len(refs.field_info))]
        for field_id, info in enumerate(refs.field_info)
        if info[2] and not info[1]
    ]
    for can_defer in steps:
        try:
            level = levels(total, starts, deps)
            break
        except Cycle:
            starts, deps, fields, more = defer(total, starts, deps, fields, can_defer)
            deferred += more
    if level is None:
        try:
            level = levels(total, starts, deps)
        except Cycle:  # every reference left in a cycle must be set when its object is created
            raise CycleError(_cycle_message(graph, refs, cycle_path(total, starts, deps, fields))) from None
    top = max(level, default=-1)
    per_level: dict[Model, list[int]] = {}
    for model in component:
        base, count = refs.offsets[model], len(graph.by_model[model])
        placements[model], per_level[model] = _place(array("q", level[base : base + count]), top)
    spans: list[Span] = []
    starts_by_model = dict.fromkeys(component, 0)
    section_start: dict[tuple[Model, int], int] = {}
    position = 0
    for depth in range(top + 1):
        for model in component:
            count = per_level[model][depth]
            if count:
                start = starts_by_model[model]
                spans.append(Span(model, start, start + count))
                section_start[(model, depth)] = position - start
                starts_by_model[model] = start + count
                position += count
    links = []
    for source, field_id, target in deferred:
        source_model, source_rank = refs.locate(source)
        target_model, target_rank = refs.locate(target)
        placement = placements[source_model]
        at = section_start[(source_model, placement.level[source_rank])] + placement.pos[source_rank]
        name = refs.field_info[field_id][0]
        links.append(DeferredLink(at, name, source_model, source_rank, target_model, target_rank))
    links.sort(key=lambda link: (link.position, link.name))
    return Section(spans, links)


def _place(model_levels: array[int], top: int) -> tuple[Placement, list[int]]:
    """The creation positions of a model's objects, level by level (key order inside a level),
    and the number of objects at each level."""
    counts = [0] * (top + 1)
    for depth in model_levels:
        counts[depth] += 1
    cursor, position = [], 0
    for count in counts:
        cursor.append(position)
        position += count
    pos = array("q", bytes(8 * len(model_levels)))
    creation = array("q", bytes(8 * len(model_levels)))
    for rank, depth in enumerate(model_levels):
        pos[rank] = cursor[depth]
        creation[cursor[depth]] = rank
        cursor[depth] += 1
    return Placement(pos, creation, model_levels), counts


def _cycle_message(graph: Graph, refs: _References, path: list[tuple[int, int]]) -> str:
    def label(number: int) -> str:
        model, rank = refs.locate(number)
        return f"{model._meta.label}(pk={graph.by_model[model].keys[rank]!r})"

    steps = " → ".join(f"{label(source)}.{refs.field_info[field_id][0]}" for source, field_id in path)
    models_ = sorted({refs.locate(source)[0]._meta.label for source, _ in path})
    return (
        f"Cannot order {', '.join(models_)}: unbreakable cycle {steps} → {label(path[0][0])}; "
        "every field in it must be set when its object is created (NOT NULL and unique, a parent link, "
        "or a database that checks foreign keys at once), so no object can be created first "
        "(make one of these fields nullable, or exclude one of the models)"
    )
