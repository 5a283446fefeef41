"""The statements that create the objects: per span, a batch at a time, the variables of the
objects that later statements refer to, then one ``bulk_create`` (or a ``save()`` each); the
``auto_now`` values set again; the references set once both objects of a cycle exist."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst
from django.db import connections

from dumpscript._progress import NO_PROGRESS, Progress
from dumpscript.graph import Graph
from dumpscript.meta import Model, by_key, generic_fks
from dumpscript.plan import DeferredLink, Plan, Span
from dumpscript.script import layout as fmt
from dumpscript.values import _literals as lit
from dumpscript.writer._arguments import Arguments
from dumpscript.writer._rows import Obj, RowReader
from dumpscript.writer._scope import Scope
from dumpscript.writer._text import (
    BATCH,
    call_text,
    element_text,
    exploded_list_call_text,
    lead_text,
    list_call_text,
)

Piece = cst.SimpleStatementLine | str
"""A statement of ``run()``: its text, or a LibCST node (rendered by the caller)."""


class ObjectStatements:
    """Writes the statements that create the objects of a plan."""

    def __init__(
        self,
        scope: Scope,
        graph: Graph,
        plan: Plan,
        reader: RowReader,
        arguments: Arguments,
        *,
        save_each: bool = False,
        known_links: set[tuple[str, str, str]] | frozenset[tuple[str, str, str]] = frozenset(),
        progress: Progress = NO_PROGRESS,
    ) -> None:
        self.scope, self.graph, self.plan = scope, graph, plan
        self.reader, self.arguments = reader, arguments
        self.names = reader.names
        self.save_each = save_each
        self.known_links = known_links
        """``(field, source variable, target variable)`` the script being edited sets already."""
        self.progress = progress

    # -- spans -----------------------------------------------------------------------------

    def compiled(self, model: Model) -> bool:
        """Objects of ``model`` are plain: written straight from their rows by the compiled
        writer (no generic relation, auto_now field, inheritance, deferred or reused object)."""
        if self.save_each or model._meta.parents or generic_fks(model) or self.plan.match_fields(model):
            return False
        if len(self.graph.families.get(model, ())) > 1 or self.names.reused.get(model):
            return False
        if any(source is model for source, _ in self.plan.deferred_names):
            return False
        return not any(
            spec.auto or spec.ids or (spec.relation and by_key(spec.field)) for spec in self.arguments.specs(model)
        )

    def span(self, span: Span, first: bool) -> Iterator[Piece]:
        """The statements of a span, a batch at a time; ``first``: the first span of the script."""
        if self.compiled(span.model):
            for offset in range(0, span.stop - span.start, BATCH):
                yield from self.compiled_batch(span, offset, first)
            return
        yield from self.general_span(span, first)

    def general_span(self, span: Span, first: bool) -> Iterator[Piece]:
        model = span.model
        later = False
        # bulk_create cannot save multi-table inheritance: saved a table at a time (raw)
        save_each = self.save_each or bool(model._meta.parents)
        updates: list[tuple[Obj, list[tuple[str, str]]]] = []
        for offset in range(span.start, span.stop, BATCH):
            batch = self.reader.read(model, offset, min(offset + BATCH, span.stop))
            if not batch:  # every object of the batch is one the script being edited creates
                continue
            pieces = self._batch(batch, first, later, save_each, updates)
            later = later or bool(pieces)
            yield from pieces
        manager = self.scope.manager_text(model, reads=True) if updates else ""
        for obj, values in updates:
            # auto_now and auto_now_add fields are overwritten on save(); set the dumped values after.
            comment = ["auto_now fields are set on save(); restore the dumped values"] if obj is updates[0][0] else None
            args = [f"{name}={text}" for name, text in values]
            yield lead_text(comment, False) + call_text(f"{manager}.filter(pk={obj.var}.pk).update", args)

    def _batch(
        self,
        batch: list[Obj],
        first: bool,
        later: bool,
        save_each: bool,
        updates: list[tuple[Obj, list[tuple[str, str]]]],
    ) -> list[Piece]:
        """One batch: the variables, then one ``bulk_create`` (or a save() each). ``later``: an
        earlier batch of the same model precedes this one."""
        model = batch[0].model
        label = model._meta.label
        cls = self.scope.class_name(model)
        statements: list[Piece] = []
        elements: list[str] = []
        inline = False  # some object is written inside the list, not as a variable

        def lead() -> str:
            """The model's comment above its first statement; a blank line above each batch."""
            if statements:
                return ""
            return lead_text(None, True) if later else lead_text([label], not first)

        save = f".save(using={self.scope.using})" if self.scope.using is not None else ".save()"
        raw = not self.save_each and bool(model._meta.parents)
        match = self.plan.match_fields(model)
        if match:
            upsert = self._bulk_upsert(model, match)
            rows: list[str] = []
            for obj in batch:
                self.progress.advance(label)
                if upsert and not obj.referenced and not obj.deferred:  # no variable needed: in bulk
                    args, _ = self.arguments.text(obj, obj.deferred, all_fields=True)
                    rows.append(fmt.INDENT + element_text(cls, args).replace("\n", "\n" + fmt.INDENT).rstrip(" "))
                    continue
                text, auto_now = self._matched(obj, match)
                statements.append(lead() + text)
                if auto_now:
                    updates.append((obj, auto_now))
            if rows:
                head = f"{fmt.INDENT}{self.scope.manager_text(model)}.bulk_create(\n{fmt.INDENT * 2}[\n"
                statements.append(lead() + head + "".join(rows) + f"{fmt.INDENT * 2}],\n{upsert}{fmt.INDENT})\n")
            return statements
        for obj in batch:
            self.progress.advance(label)
            args, auto_now = self.arguments.text(obj, obj.deferred)
            if raw:  # a raw save writes the auto_now values as they are
                args, auto_now = args + [f"{name}={text}" for name, text in auto_now], []
            if save_each or auto_now or obj.referenced:
                statements.append(lead() + call_text(f"{obj.var} = {cls}", args))
                elements.append(f"{fmt.INDENT * 2}{obj.var},\n")
            else:
                inline = True
                elements.append(element_text(cls, args))
            if save_each:
                statements.append(f"{fmt.INDENT}{self.scope.save_raw(obj.var) if raw else obj.var + save}\n")
            if auto_now:
                updates.append((obj, auto_now))
        if save_each:
            return statements
        head = f"{self.scope.manager_text(model)}.bulk_create"
        text = exploded_list_call_text(head, elements) if inline else list_call_text(head, [o.var for o in batch])
        statements.append(lead() + (text or self._names_call(model, [o.var for o in batch])))
        return statements

    def _bulk_upsert(self, model: Model, match: tuple[str, ...]) -> str:
        """With ``upsert``, the keyword lines of one ``bulk_create`` that inserts or updates the
        objects no statement names (``update_conflicts=True``), when ``match`` is unique in the
        database, the database has the feature, and no auto_now field needs setting again;
        else ``""`` (an ``update_or_create`` each)."""
        from dumpscript.selection import is_unique_together

        if not self.plan.upsert or model._meta.parents or not is_unique_together(model, match):
            return ""
        if not connections[self.graph.using].features.supports_update_conflicts_with_target:
            return ""
        if any(spec.auto for spec in self.arguments.specs(model, True)):
            return ""
        unique = [model._meta.pk.name if name == "pk" else name for name in match]  # type: ignore[union-attr]
        updated = [f.name for f in self.graph.fields(model) if f.name not in unique and not f.primary_key]
        indent = fmt.INDENT * 2
        if not updated:
            return f"{indent}ignore_conflicts=True,\n"
        names = ", ".join(lit.string_text(name) for name in unique)
        fields = ", ".join(lit.string_text(name) for name in updated)
        return f"{indent}update_conflicts=True,\n{indent}unique_fields=[{names}],\n{indent}update_fields=[{fields}],\n"

    def _matched(self, obj: Obj, match: tuple[str, ...]) -> tuple[str, list[tuple[str, str]]]:
        """``var, _ = Model.objects.using(using).update_or_create(key=..., defaults={...})``: a
        row that may be in the target already (made by migrations, or by an earlier load of a
        re-runnable script), matched by ``match``; and the auto_now values to set after."""
        args, auto_now = self.arguments.text(obj, obj.deferred, all_fields=True)
        keys = [f"pk={self.arguments.raw(obj.pk, obj.model._meta.pk, obj.pk)}"] if "pk" in match else []  # type: ignore[arg-type]
        defaults = []
        for arg in args:
            name, _, value = arg.partition("=")
            if name in match or name.removesuffix("_id") in match:
                keys.append(arg)
            else:
                defaults.append(f"{lit.string_text(name)}: {value}")
        if defaults:
            keys.append("defaults={" + ", ".join(defaults) + "}")
        head = f"{self.scope.manager_text(obj.model, reads=True)}.update_or_create"
        return call_text(f"{obj.var}, _ = {head}" if obj.referenced or auto_now else head, keys), auto_now

    def _names_call(self, model: Model, names: list[str]) -> str:
        """``bulk_create([...])`` of variables, one name too long for any line: laid out by LibCST."""
        from dumpscript.script.render import render_statement

        method = cst.Attribute(self.scope.manager(model), cst.Name("bulk_create"))
        prefix = fmt.width(method) + len(fmt.INDENT) + 1
        objs = fmt.fill_list([lit.name(name) for name in names], depth=0, used=prefix)
        line = cst.Expr(lit.call(method, [objs]))
        return render_statement(fmt.statement(line, explode=False), fmt.INDENT)

    def compiled_batch(self, span: Span, offset: int, first: bool) -> list[Piece]:
        """The statements of the batch at ``offset`` of a span of plain objects, written by the
        compiled writer: the same text as :meth:`general_span`, without an object per row."""
        model = span.model
        objects = self.graph.by_model[model]
        write = self.arguments.compiled(model)
        label = model._meta.label
        cls = self.scope.class_name(model)
        advance = self.progress.advance
        statements: list[Piece] = []
        elements: list[str] = []
        variables: list[str] = []
        inline = False

        def lead() -> str:
            if statements:
                return ""
            return "\n" if offset else ("" if first else "\n") + f"{fmt.INDENT}# {label}\n"

        start = span.start + offset
        for rank, row in self.reader.rows(objects, start, min(start + BATCH, span.stop)):
            advance(label)
            args = write(row)
            if objects.referenced[rank]:
                var = self.names.var(model, rank)
                statements.append(lead() + call_text(f"{var} = {cls}", args))
                elements.append(f"{fmt.INDENT * 2}{var},\n")
                variables.append(var)
            else:
                inline = True
                elements.append(element_text(cls, args))
        head = f"{self.scope.manager_text(model)}.bulk_create"
        text = exploded_list_call_text(head, elements) if inline else list_call_text(head, variables)
        statements.append(lead() + (text or self._names_call(model, variables)))
        return statements

    # -- links that close cycles ------------------------------------------------------------

    def deferred(self, links: list[DeferredLink]) -> list[Piece]:
        """``a.field = b`` for each link of a section, then one ``bulk_update`` per model."""
        var = self.names.var
        statements: list[Piece] = []
        by_model: dict[Model, tuple[list[str], list[str]]] = {}
        edges = [(link, var(link.source, link.source_rank), var(link.target, link.target_rank)) for link in links]
        if self.known_links:
            edges = [(link, a, b) for link, a, b in edges if (link.name, a, b) not in self.known_links]
        for position, (link, source, target) in enumerate(edges):
            comment = ["Links that close a cycle, set once both objects exist"] if position == 0 else None
            statements.append(lead_text(comment, position == 0) + f"{fmt.INDENT}{source}.{link.name} = {target}\n")
            variables, names = by_model.setdefault(link.source, ([], []))
            if source not in variables:
                variables.append(source)
            gfk = {g.name: g for g in generic_fks(link.source)}.get(link.name)
            for name in [gfk.ct_field.name, gfk.fk_field.name] if gfk else [link.name]:
                if name not in names:
                    names.append(name)
        for model, (variables, names) in by_model.items():
            method = cst.Attribute(self.scope.manager(model, reads=True), cst.Name("bulk_update"))
            call = lit.call(
                method,
                [
                    fmt.fill_list([lit.name(v) for v in variables], depth=0, used=fmt.width(method) + 5),
                    cst.List([cst.Element(lit.string(n)) for n in names]),
                ],
            )
            statements.append(fmt.statement(cst.Expr(call)))
        return statements
