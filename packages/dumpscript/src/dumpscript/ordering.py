"""Who comes first: creation order of the objects, and which references are set afterwards.

Models are ordered by their references (targets first). Models that reference each other
(a cycle between models, or a model that references itself) are ordered object by object:
an object comes after every object it points at, level by level, so that each level can be
saved in one batch. A reference inside a cycle of objects is *deferred* (set once both
objects exist) when it is nullable; a cycle whose references are all NOT NULL cannot be
created by any order and is an error naming the objects and fields.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from django.db import models

from dumpscript.errors import CycleError
from dumpscript.graph import DumpObject, generic_fks

N = TypeVar("N", bound=Hashable)


@dataclass(frozen=True, eq=False)
class Edge:
    source: DumpObject
    name: str
    target: DumpObject
    nullable: bool


@dataclass
class Group:
    """Objects of one model that can be saved together (everything they need exists)."""

    model: type[models.Model]
    objects: list[DumpObject]


@dataclass
class Section:
    """The groups of one set of models that reference each other, then the deferred links."""

    groups: list[Group]
    deferred: list[Edge] = field(default_factory=list)


def strongly_connected(nodes: Iterable[N], successors: Callable[[N], Iterable[N]]) -> list[list[N]]:
    """Tarjan's algorithm, iterative; components come out successors first."""
    index: dict[N, int] = {}
    low: dict[N, int] = {}
    on_stack: set[N] = set()
    stack: list[N] = []
    result: list[list[N]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work: list[tuple[N, Any]] = [(start, None)]
        while work:
            node, it = work[-1]
            if it is None:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
                it = iter(successors(node))
                work[-1] = (node, it)
            advanced = False
            for succ in it:
                if succ not in index:
                    work.append((succ, None))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                result.append(component)
    return result


def _pk_key(obj: DumpObject) -> tuple[str, Any]:
    return (type(obj.pk).__name__, obj.pk)


def edges_of(obj: DumpObject) -> list[Edge]:
    nullable_gfk = {gfk.name: gfk.nullable for gfk in generic_fks(obj.model)}
    edges = []
    for name, target in obj.targets.items():
        if not isinstance(target, DumpObject):
            continue
        nullable = nullable_gfk[name] if name in nullable_gfk else obj.model._meta.get_field(name).null
        edges.append(Edge(obj, name, target, nullable))
    return edges


def _hard_targets(hard: dict[DumpObject, list[Edge]], obj: DumpObject) -> list[DumpObject]:
    return [edge.target for edge in hard[obj]]


def _cycle_message(edges: list[Edge]) -> str:
    path = " → ".join(f"{edge.source.label}.{edge.name}" for edge in edges)
    models_ = sorted({edge.source.model._meta.label for edge in edges})
    return (
        f"Cannot order {', '.join(models_)}: unbreakable cycle {path} → {edges[0].source.label}; "
        "every field in it is NOT NULL, so no object can be created first "
        "(make one of these fields nullable, or exclude one of the models)"
    )


def _find_cycle(members: list[DumpObject], hard: dict[DumpObject, list[Edge]]) -> list[Edge]:
    member_set = set(members)
    start = members[0]
    path: list[Edge] = []
    seen: dict[DumpObject, int] = {start: 0}
    node = start
    while True:  # every member of a hard-cyclic component has a hard successor inside it
        edge = next(e for e in hard[node] if e.target in member_set)
        path.append(edge)
        node = edge.target
        if node in seen:
            return path[seen[node] :]
        seen[node] = len(path)


def order(objects: list[DumpObject]) -> list[Section]:
    """Split ``objects`` into sections of groups in creation order."""
    by_model: dict[type[models.Model], list[DumpObject]] = defaultdict(list)
    for obj in objects:
        by_model[obj.model].append(obj)
    for members in by_model.values():
        members.sort(key=_pk_key)
    edges = {obj: edges_of(obj) for obj in objects}
    model_succ: dict[type[models.Model], set[type[models.Model]]] = defaultdict(set)
    for obj, out in edges.items():
        for edge in out:
            model_succ[obj.model].add(edge.target.model)

    def label(model: type[models.Model]) -> str:
        return model._meta.label

    model_list = sorted(by_model, key=label)
    sections = []
    for component in strongly_connected(model_list, lambda m: sorted(model_succ[m], key=label)):
        component.sort(key=label)
        cyclic = len(component) > 1 or component[0] in model_succ[component[0]]
        if not cyclic:
            sections.append(Section([Group(component[0], by_model[component[0]])]))
        else:
            sections.append(_order_objects(component, by_model, edges))
    return sections


def _order_objects(
    component: list[type[models.Model]],
    by_model: dict[type[models.Model], list[DumpObject]],
    edges: dict[DumpObject, list[Edge]],
) -> Section:
    members = [obj for model in component for obj in by_model[model]]
    member_set = set(members)
    inner = {obj: [e for e in edges[obj] if e.target in member_set] for obj in members}
    deferred: list[Edge] = []
    kept: dict[DumpObject, list[Edge]] = {}
    for scc in strongly_connected(members, lambda o: [e.target for e in inner[o]]):
        scc_set = set(scc)
        cyclic = len(scc) > 1 or any(e.target is scc[0] for e in inner[scc[0]])
        for obj in scc:
            kept[obj] = []
            for edge in inner[obj]:
                if cyclic and edge.target in scc_set and edge.nullable:
                    deferred.append(edge)
                else:
                    kept[obj].append(edge)
        if cyclic:
            hard_inside = {o: [e for e in kept[o] if e.target in scc_set] for o in scc}
            remaining = strongly_connected(scc, partial(_hard_targets, hard_inside))
            for sub in remaining:
                if len(sub) > 1 or any(e.target is sub[0] for e in hard_inside[sub[0]]):
                    ordered = sorted(sub, key=lambda o: (o.model._meta.label, _pk_key(o)))
                    raise CycleError(_cycle_message(_find_cycle(ordered, hard_inside)))
    # Level = longest chain of kept references below an object; Tarjan gave targets first.
    level: dict[DumpObject, int] = {}
    pending = list(members)
    while pending:
        progressed = []
        for obj in pending:
            deps = kept[obj]
            if all(e.target in level for e in deps):
                level[obj] = 1 + max((level[e.target] for e in deps), default=-1)
            else:
                progressed.append(obj)
        if len(progressed) == len(pending):  # pragma: no cover - excluded by the cycle check
            raise CycleError("internal error: cycle left after deferring references")
        pending = progressed
    groups = []
    for depth in range(max(level.values(), default=-1) + 1):
        for model in component:
            at_level = [obj for obj in by_model[model] if level[obj] == depth]
            if at_level:
                groups.append(Group(model, at_level))
    position = {id(obj): n for n, obj in enumerate(obj for group in groups for obj in group.objects)}
    deferred.sort(key=lambda e: (position[id(e.source)], e.name))
    return Section(groups, deferred)
