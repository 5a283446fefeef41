"""Many-to-many links: rows of the automatic through model, one ``bulk_create`` per field (or,
with ``save_each``, ``source.field.add(...)`` so that ``m2m_changed`` is sent), in creation
order of their objects; the pairs kept as packed integers, not objects."""

from __future__ import annotations

import bisect
import itertools
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import libcst as cst

from dumpscript._types import AnyManyToMany
from dumpscript.graph import Graph, Links
from dumpscript.meta import Model, by_key, concrete_of
from dumpscript.plan import Names, Plan
from dumpscript.script import layout as fmt
from dumpscript.values import _literals as lit
from dumpscript.writer._scope import Scope
from dumpscript.writer._text import BATCH, call_text, element_text, exploded_list_call_text, keyword, lead_text

Piece = cst.SimpleStatementLine | str


class _Positions:
    """Creation positions over all the objects of a plan (the order of the script)."""

    def __init__(self, plan: Plan, names: Names) -> None:
        self.plan, self.names = plan, names
        self.starts: list[int] = []
        self.plain: dict[Model, int] = {}
        self.by_level: dict[tuple[Model, int], int] = {}
        position = 0
        for span in plan.spans:
            self.starts.append(position)
            placement = plan.placements.get(span.model)
            if placement is None:
                self.plain[span.model] = position
            else:
                level = placement.level[placement.order[span.start]]
                self.by_level[(span.model, level)] = position - span.start
            position += span.stop - span.start
        self.total = max(position, 1)

    def of(self, model: Model, rank: int) -> int:
        placement = self.plan.placements.get(model)
        if placement is None:
            return self.plain[model] + rank
        return self.by_level[(model, placement.level[rank])] + placement.pos[rank]

    def at(self, position: int) -> tuple[Model, int]:
        """The model and key rank of the object at a creation position."""
        number = bisect.bisect_right(self.starts, position) - 1
        span = self.plan.spans[number]
        return span.model, self.plan.rank(span.model, span.start + position - self.starts[number])

    def name(self, position: int) -> str:
        return self.names.var(*self.at(position))


class LinkStatements:
    """Writes the many-to-many links of a graph."""

    def __init__(
        self,
        scope: Scope,
        graph: Graph,
        plan: Plan,
        names: Names,
        *,
        save_each: bool = False,
        known_links: set[tuple[str, str, str]] | frozenset[tuple[str, str, str]] = frozenset(),
    ) -> None:
        self.scope, self.graph, self.plan, self.names = scope, graph, plan, names
        self.save_each = save_each
        self.known_links = known_links
        self.rows: Counter[str] = Counter()
        """Link rows written so far, per through model label (what a load will create)."""

    def pieces(self) -> Iterator[Piece]:
        positions = _Positions(self.plan, self.names)
        if self.save_each:
            yield from self._adds(positions)
            return
        for links in sorted(self.graph.m2m, key=lambda item: (item.field.model._meta.label, item.field.name)):
            if self.graph.is_lookup(links.target):
                yield from self._lookup_rows(links, positions)
            else:
                yield from self._rows(links, positions)

    def _pairs(self, links: Links, positions: _Positions) -> Iterator[tuple[int, int, int]]:
        """Creation positions ``(source, target)`` of the links between objects of the script,
        with the link's index in ``links``."""
        source_model = concrete_of(links.field.model)
        for index, (source_key, target_key) in enumerate(zip(links.sources, links.targets, strict=True)):
            found_source = self.graph.find(source_model, source_key)
            found_target = self.graph.find(links.target, target_key)
            if found_source is not None and found_target is not None:
                yield (
                    positions.of(found_source[0].model, found_source[1]),
                    positions.of(found_target[0].model, found_target[1]),
                    index,
                )

    def _known(self, m2m: AnyManyToMany, positions: _Positions, a: int, b: int) -> tuple[bool, bool]:
        """Whether both objects are ones the script being edited creates, and whether it links
        them already (symmetrical links count both ways)."""
        (source, source_rank), (target, target_rank) = positions.at(a), positions.at(b)
        names = self.names
        if not (names.is_reused(source, source_rank) and names.is_reused(target, target_rank)):
            return False, False
        first, second = names.var(source, source_rank), names.var(target, target_rank)
        if (m2m.name, first, second) in self.known_links:
            return True, True
        symmetrical = m2m.remote_field.symmetrical and m2m.related_model == m2m.model
        return True, bool(symmetrical) and (m2m.name, second, first) in self.known_links

    def _rows(self, links: Links, positions: _Positions) -> Iterator[Piece]:
        m2m, total = links.field, positions.total
        symmetrical = m2m.remote_field.symmetrical and m2m.related_model == m2m.model
        packed = array("q")
        ids: dict[int, Any] = {}  # with keep_pks: the link row's key, by pair
        for a, b, index in self._pairs(links, positions):
            packed.append(a * total + b)
            if links.ids is not None:
                ids[a * total + b] = links.ids[index]
            if symmetrical:
                packed.append(b * total + a)
        if not packed:
            return
        ordered = array("q", sorted(set(packed)))
        del packed
        conflicts = self.plan.upsert  # a re-runnable script keeps the links already there
        if self.names.reused:
            kept = array("q")
            for key in ordered:
                both, linked = self._known(m2m, positions, key // total, key % total)
                if not linked:
                    kept.append(key)
                    conflicts = conflicts or both
            ordered = kept
            if not ordered:
                return
        names = ((positions.name(key // total), positions.name(key % total), ids.get(key)) for key in ordered)
        yield from self._through(m2m, names, len(ordered), conflicts)

    def _lookup_rows(self, links: Links, positions: _Positions) -> Iterator[Piece]:
        """Links to looked-up rows (a user's permissions): few, sorted by natural key."""
        rows = sorted(self._lookup_links(links, positions).values(), key=lambda row: row[0])
        if rows:
            yield from self._through(links.field, ((a, b, link) for _, a, b, link in rows), len(rows))

    def _lookup_links(
        self, links: Links, positions: _Positions
    ) -> dict[tuple[int, Any], tuple[tuple[int, tuple[str, ...]], str, str, Any]]:
        """``(source position, target key) → (sort key, source variable, lookup text, the link
        row's key with keep_pks)``."""
        graph = self.graph
        source_model = concrete_of(links.field.model)
        texts: dict[Any, str] = {}
        rows: dict[tuple[int, Any], tuple[tuple[int, tuple[str, ...]], str, str, Any]] = {}
        for index, (source_key, target_key) in enumerate(zip(links.sources, links.targets, strict=True)):
            found = graph.find(source_model, source_key)
            lookup = graph.natural.get((links.target, target_key))
            if found is None or lookup is None:
                continue
            if target_key not in texts:
                texts[target_key] = self.scope.target_text(lookup)
            position = positions.of(found[0].model, found[1])
            sort_key = (position, tuple(str(part) for part in lookup.key))
            link = links.ids[index] if links.ids is not None else None
            var = self.names.var(found[0].model, found[1])
            rows.setdefault((position, target_key), (sort_key, var, texts[target_key], link))
        return rows

    def _adds(self, positions: _Positions) -> Iterator[Piece]:
        """``source.field.add(...)`` per object and field, in creation order; a symmetrical
        link once, from the object created first."""
        entries: list[tuple[int, str, tuple[int, Any], str]] = []
        for links in self.graph.m2m:
            m2m = links.field
            if self.graph.is_lookup(links.target):
                for (position, _), (sort_key, _, text, _) in self._lookup_links(links, positions).items():
                    entries.append((position, m2m.name, (1, sort_key[1]), text))
                    self.rows[_through_label(m2m)] += 1
                continue
            pairs = {(a, b) for a, b, _ in self._pairs(links, positions)}
            symmetrical = m2m.remote_field.symmetrical and m2m.related_model == m2m.model
            for a, b in pairs:
                if not (symmetrical and b < a and (b, a) in pairs) and not self._known(m2m, positions, a, b)[1]:
                    entries.append((a, m2m.name, (0, b), ""))
                    self.rows[_through_label(m2m)] += 2 if symmetrical and a != b else 1
        entries.sort(key=lambda entry: entry[:3])
        first = True
        for (source, name), group in itertools.groupby(entries, key=lambda entry: entry[:2]):
            args = [text or positions.name(order[1]) for _, _, order, text in group]
            comment = ["Many-to-many links"] if first else None
            yield lead_text(comment, first) + call_text(f"{positions.name(source)}.{name}.add", args)
            first = False

    def _through(
        self, m2m: AnyManyToMany, pairs: Iterator[tuple[str, str, Any]], count: int, conflicts: bool = False
    ) -> Iterator[Piece]:
        """Rows of the automatic through model; ``conflicts``: some link two objects the script
        being edited creates already (the row may be there: ``ignore_conflicts=True``)."""
        cls = self.scope.class_name(m2m.model)
        through = self.scope.fresh(f"{cls}_{m2m.name}")
        source_name, target_name = _side(m2m, m2m.m2m_field_name()), _side(m2m, m2m.m2m_reverse_field_name())
        using = self.scope.using
        manager = f"{through}.objects" if using is None else f"{through}.objects.using({using})"
        alias = cst.Assign([cst.AssignTarget(lit.name(through))], lit.attribute(f"{cls}.{m2m.name}.through"))
        yield fmt.statement(alias, comment_lines=[f"{m2m.model._meta.label}.{m2m.name}"], blank_before=True)
        tail = ", ignore_conflicts=True" if conflicts else ""
        self.rows[_through_label(m2m)] += count
        key = m2m.remote_field.through._meta.pk.attname  # type: ignore[union-attr]
        for offset in range(0, count, BATCH):
            elements = [
                element_text(
                    through, [*([f"{key}={link!r}"] if link is not None else []), source_name(a), target_name(b)]
                )
                for a, b, link in itertools.islice(pairs, BATCH)
            ]
            yield ("\n" if offset else "") + exploded_list_call_text(f"{manager}.bulk_create", elements, tail)


def _through_label(m2m: AnyManyToMany) -> str:
    return m2m.remote_field.through._meta.label  # type: ignore[union-attr]


def _side(m2m: AnyManyToMany, name: str) -> Callable[[str], str]:
    """How a side of a through row is written: ``name=var``; ``name_id=var.pk`` for a side whose
    rows another model's objects hold (:func:`~dumpscript.meta.by_key`)."""
    field: Any = m2m.remote_field.through._meta.get_field(name)  # type: ignore[union-attr]
    if not by_key(field):
        return keyword(name)
    write = keyword(field.attname)
    return lambda value: write(f"{value}.pk")
