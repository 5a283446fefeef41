"""The ordering's algorithms on plain arrays: levels, components, deferral, the cycle path.

Objects are numbers; ``edges`` maps an object to the objects it points at (they must exist
first), each with a field id; field ``NULL`` may be deferred, field ``HARD`` may not.
"""

from __future__ import annotations

from array import array

import pytest

from dumpscript.ordering import Cycle, components, cycle_path, defer, levels

NULL, HARD = 0, 1
FIELDS = [True, False]  # by field id: may it be deferred


def arrays(total: int, edges: dict[int, list[tuple[int, int]]]) -> tuple[array[int], array[int], array[int]]:
    """``starts``, ``deps`` and ``fields`` for objects ``0 .. total - 1``."""
    starts, deps, fields = array("q", [0]), array("q"), array("q")
    for node in range(total):
        for target, field in edges.get(node, []):
            deps.append(target)
            fields.append(field)
        starts.append(len(deps))
    return starts, deps, fields


def test_levels_put_every_object_after_what_it_points_at() -> None:
    # 0 ← 1 ← 2, 0 ← 3, and 4 alone: a tree given children first.
    starts, deps, _ = arrays(5, {1: [(0, NULL)], 2: [(1, NULL)], 3: [(0, NULL)]})
    assert list(levels(5, starts, deps)) == [0, 1, 2, 1, 0]


def test_levels_refuse_a_cycle() -> None:
    starts, deps, _ = arrays(2, {0: [(1, NULL)], 1: [(0, NULL)]})
    with pytest.raises(Cycle):
        levels(2, starts, deps)
    starts, deps, _ = arrays(1, {0: [(0, NULL)]})  # an object that points at itself
    with pytest.raises(Cycle):
        levels(1, starts, deps)


def test_components_find_cycles_and_self_references() -> None:
    # 0 ⇄ 1 is a cycle, 2 points at itself, 3 → 0 is not in a cycle.
    starts, deps, _ = arrays(4, {0: [(1, NULL)], 1: [(0, NULL)], 2: [(2, NULL)], 3: [(0, NULL)]})
    component, cyclic = components(4, starts, deps)
    assert component[0] == component[1] != component[2] != component[3]
    assert cyclic[component[0]] and cyclic[component[2]] and not cyclic[component[3]]


def test_defer_drops_nullable_references_inside_cycles_only() -> None:
    # 0 → 1 (nullable) and 1 → 0 (required) close a cycle; 2 → 0 (nullable) is outside it.
    starts, deps, fields = arrays(3, {0: [(1, NULL)], 1: [(0, HARD)], 2: [(0, NULL)]})
    kept_starts, kept, kept_fields, deferred = defer(3, starts, deps, fields, FIELDS)
    assert deferred == [(0, NULL, 1)]
    assert list(kept) == [0, 0] and list(kept_fields) == [HARD, NULL]
    assert list(levels(3, kept_starts, kept)) == [0, 1, 1]


def test_a_cycle_of_required_references_stays_and_its_path_is_named() -> None:
    # 3 → 1 → 2 → 1 (all required) and 0 → 3: the cycle is 1 → 2 → 1.
    starts, deps, fields = arrays(4, {0: [(3, HARD)], 1: [(2, HARD)], 2: [(1, HARD)], 3: [(1, HARD)]})
    starts, deps, fields, deferred = defer(4, starts, deps, fields, FIELDS)
    assert deferred == []
    with pytest.raises(Cycle):
        levels(4, starts, deps)
    assert cycle_path(4, starts, deps, fields) == [(1, HARD), (2, HARD)]


def test_cycle_path_follows_references_that_stay_in_the_cycle() -> None:
    # 0 points first outside its cycle (at 3), then at 1; 1 → 2 → 0.
    starts, deps, fields = arrays(4, {0: [(3, HARD), (1, NULL)], 1: [(2, HARD)], 2: [(0, HARD)]})
    assert cycle_path(4, starts, deps, fields) == [(0, NULL), (1, HARD), (2, HARD)]


def test_components_come_out_targets_first() -> None:
    """How models are ordered: a component's number is after the numbers of what it points at."""
    # 0 → 1 ⇄ 2, and 3 alone.
    starts, deps, _ = arrays(4, {0: [(1, NULL)], 1: [(2, NULL)], 2: [(1, NULL)]})
    component, cyclic = components(4, starts, deps)
    assert component[1] == component[2] < component[0] < component[3]
    assert cyclic[component[1]] and not cyclic[component[0]]
