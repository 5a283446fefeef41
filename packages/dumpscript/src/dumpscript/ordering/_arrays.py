"""Graph algorithms of the ordering, on plain arrays: objects are numbers ``0 .. total - 1`` and
the references of object ``n`` are ``deps[starts[n]:starts[n + 1]]``."""

from __future__ import annotations

from array import array
from collections.abc import Sequence


class Cycle(Exception):
    """Objects reference each other in a cycle (raised by :func:`levels`)."""


def levels(total: int, starts: array[int], deps: array[int]) -> array[int]:
    """Longest chain of references below each object (iterative depth-first search); raises
    :class:`Cycle` if objects reference each other in a cycle."""
    level = array("q", [-1]) * total
    state = bytearray(total)  # 0 new, 1 on the current path, 2 done
    for start in range(total):
        if state[start]:
            continue
        stack = [start]
        while stack:
            node = stack[-1]
            if state[node] == 0:
                state[node] = 1
                for target in deps[starts[node] : starts[node + 1]]:
                    if state[target] == 1:
                        raise Cycle
                    if state[target] == 0:
                        stack.append(target)
                continue
            stack.pop()
            if state[node] == 1:
                state[node] = 2
                level[node] = 1 + max((level[t] for t in deps[starts[node] : starts[node + 1]]), default=-1)
    return level


def components(total: int, starts: array[int], deps: array[int]) -> tuple[array[int], bytearray]:
    """Strongly connected components (Tarjan, iterative, on arrays): the component of each
    object and, per component, whether it is a cycle."""
    index = array("q", [-1]) * total
    low = array("q", [0]) * total
    on_stack = bytearray(total)
    component = array("q", [-1]) * total
    stack: list[int] = []
    counter = count = 0
    for start in range(total):
        if index[start] >= 0:
            continue
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack[start] = 1
        work = [(start, starts[start])]
        while work:
            node, edge = work[-1]
            if edge < starts[node + 1]:
                work[-1] = (node, edge + 1)
                target = deps[edge]
                if index[target] < 0:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack[target] = 1
                    work.append((target, starts[target]))
                elif on_stack[target]:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack[member] = 0
                    component[member] = count
                    if member == node:
                        break
                count += 1
    sizes = [0] * count
    for number in component:
        sizes[number] += 1
    cyclic = bytearray(size > 1 for size in sizes)
    for node in range(total):
        if node in deps[starts[node] : starts[node + 1]]:
            cyclic[component[node]] = 1
    return component, cyclic


def defer(
    total: int, starts: array[int], deps: array[int], dep_fields: array[int], can_defer: Sequence[bool]
) -> tuple[array[int], array[int], array[int], list[tuple[int, int, int]]]:
    """Drop the references inside cycles of objects whose field ``can_defer`` (by field id):
    the references kept (starts, targets, field ids), and the deferred ones ``(source, field
    id, target)``."""
    component, cyclic = components(total, starts, deps)
    kept_starts = array("q", [0])
    kept = array("q")
    kept_fields = array("q")
    deferred = []
    for node in range(total):
        for edge in range(starts[node], starts[node + 1]):
            target = deps[edge]
            field = dep_fields[edge]
            if cyclic[component[node]] and component[node] == component[target] and can_defer[field]:
                deferred.append((node, field, target))
            else:
                kept.append(target)
                kept_fields.append(field)
        kept_starts.append(len(kept))
    return kept_starts, kept, kept_fields, deferred


def cycle_path(total: int, starts: array[int], deps: array[int], dep_fields: array[int]) -> list[tuple[int, int]]:
    """A cycle of references, as ``(object, field id)`` steps: from the lowest-numbered object
    that is in a cycle, each step by its first reference that stays in the cycle's component."""
    component_of, cyclic = components(total, starts, deps)
    start = next(node for node in range(total) if cyclic[component_of[node]])
    path: list[tuple[int, int]] = []
    seen: dict[int, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        edge = next(e for e in range(starts[node], starts[node + 1]) if component_of[deps[e]] == component_of[start])
        path.append((node, dep_fields[edge]))
        node = deps[edge]
    return path[seen[node] :]
