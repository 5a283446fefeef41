"""Upgrade a script to the current models along the migrations written since it was dumped
(:class:`~dumpscript.replay.Changes`): the codemod of what a load of it replays, so that the
file says what it loads.

* a renamed model's class is imported and called by its new name;
* a renamed field's keyword (a foreign key's ``_id`` too) takes the new name, a renamed
  many-to-many field's ``Model.field.through`` too, and the rows of an automatic through
  table the renamed model's column;
* a removed field's keyword is removed with its value (as the migration removed the column);
* a field added with a one-off default is given it in every constructor call;
* a literal value of an altered field is converted (``votes=3`` → ``votes="3"``);
* ``MIGRATIONS`` moves to the migrations the models are at now.

Everything else stays as written: comments, loops, generated values. What it cannot rewrite
(rows of a deleted model, a value the altered field cannot take, a one-off default that is not
a plain literal) is named with its line, and the upgrade refuses while one is left; so does a
data migration in between (``RunPython``, ``RunSQL``), whose changes only a database can make.
"""

from __future__ import annotations

import ast
from typing import Any

import libcst as cst
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models

from dumpscript.errors import TransformError
from dumpscript.replay import Changes, ModelChange
from dumpscript.script.literals import NotALiteral, read_literal
from dumpscript.script.source import Change, Source, TextEdit, apply_edits
from dumpscript.values import _literals as lit

__all__ = ["upgrade_script"]

_PLAIN = (str, int, float, bool, type(None))


def upgrade_script(text: str, changes: Changes, *, name: str = "<script>") -> Change:
    """The script ``text`` rewritten along ``changes``; raises :class:`TransformError` naming
    what it cannot rewrite, each with its line."""
    if changes.data_migrations:
        raise TransformError(
            f"{name}: {', '.join(changes.data_migrations)} changed rows with code since the script was written, "
            "which a rewrite of its values cannot do: load it into a database at its state and migrate that, or "
            "dump again"
        )
    source = Source(text, name)
    upgrade = _Upgrade(source, changes)
    upgrade.walk()
    if upgrade.refused:
        raise TransformError(f"{name}: cannot upgrade: " + "; ".join(upgrade.refused))
    edits = [*upgrade.edits, *_migrations_edit(source, changes)]
    if not edits:
        raise TransformError(f"{name}: nothing to upgrade: the script is at the models' migrations")
    lines = sorted(source.position(edit.start)[0] + 1 for edit in edits)
    summary = f"Upgraded along {len(changes.replayed)} migration{'s' if len(changes.replayed) != 1 else ''}"
    summary += f" ({', '.join(changes.replayed)})" if changes.replayed else ""
    return Change(apply_edits(text, edits), tuple(sorted(edits, key=lambda e: e.start)), summary, lines[0], lines[-1])


class _Upgrade:
    def __init__(self, source: Source, changes: Changes) -> None:
        self.source, self.changes = source, changes
        self.edits: list[TextEdit] = []
        self.refused: list[str] = []
        self.classes: dict[str, tuple[ModelChange, type[models.Model]]] = {}
        """The script's local name of a model class → its change and its model now."""
        self.renamed_classes: dict[str, str] = {}
        self.throughs: dict[str, dict[str, str]] = {}
        """A local name bound to ``Model.field.through`` → keyword renames of its rows."""

    def walk(self) -> None:
        tree = self.source.tree
        for statement in tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
                self._import(statement)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self._through(node.targets[0].id, node.value)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in self.renamed_classes:
                self._replace(node, self.renamed_classes[node.id])
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in self.classes:
                    self._call(node, *self.classes[node.func.id])
                elif node.func.id in self.throughs:
                    self._rename_keywords(node, self.throughs[node.func.id])

    def _import(self, statement: ast.ImportFrom) -> None:
        renamed: dict[str, str] = {}
        by_class = {
            (f"{change.old.split('.')[0]}", change.old.rsplit(".", 1)[1]): change
            for change in self.changes.models.values()
        }
        for alias in statement.names:
            app = next((c.label for c in apps.get_app_configs() if statement.module == f"{c.name}.models"), None)
            change = by_class.get((app or "", alias.name))
            if change is None:
                continue
            local = alias.asname or alias.name
            if change.deleted_in:
                self.refused.append(
                    f"line {statement.lineno} imports {change.old}, deleted in {change.deleted_in}: remove it and "
                    "the statements that create its rows"
                )
                continue
            model = apps.get_model(change.old.split(".")[0], change.name)
            self.classes[local] = (change, model)
            if change.renamed_in and alias.name != model.__name__:
                renamed[alias.name] = model.__name__
                if alias.asname is None:
                    self.renamed_classes[local] = model.__name__
                    self.classes[model.__name__] = self.classes[local]

        if renamed:
            self.edits.append(self._renamed_import(statement, renamed))

    def _renamed_import(self, statement: ast.ImportFrom, renamed: dict[str, str]) -> TextEdit:
        """The import with the new class names, sorted as it was."""
        from dumpscript.script.imports import from_import

        start, end = self.source.span(statement)  # type: ignore[arg-type]
        pairs = [(renamed.get(a.name, a.name), a.asname or renamed.get(a.name, a.name)) for a in statement.names]
        keys = [(a.name.lower(), a.name) for a in statement.names]
        line = from_import(statement.module or "", pairs, sort=keys == sorted(keys))
        code = cst.Module(body=[]).code_for_node(line.body[0])  # wrapped when too wide, as dumps are
        return TextEdit(start, end, code)

    def _through(self, local: str, value: ast.expr) -> None:
        """``X = Model.field.through``: the field's new name, and the columns of a renamed model."""
        if not (
            isinstance(value, ast.Attribute) and value.attr == "through" and isinstance(value.value, ast.Attribute)
        ):
            return
        owner = value.value.value
        if not isinstance(owner, ast.Name) or owner.id not in self.classes:
            return
        change, model = self.classes[owner.id]
        new = change.fields.get(value.value.attr, value.value.attr)
        if new != value.value.attr:
            _, end = self.source.span(value.value)  # type: ignore[arg-type]
            self.edits.append(TextEdit(end - len(value.value.attr), end, new))
        try:
            m2m = model._meta.get_field(new)
        except Exception:
            return
        renames: dict[str, str] = {}
        ends: tuple[tuple[str, Any], ...] = (
            (m2m.m2m_field_name(), model),  # type: ignore[union-attr]
            (m2m.m2m_reverse_field_name(), m2m.related_model),  # type: ignore[union-attr]
        )
        for column, target in ends:
            target_change = self.changes.of(target._meta.app_label, str(target._meta.model_name))
            old = target_change.old.rsplit(".", 1)[1].lower() if target_change and target_change.renamed_in else None
            if old and column == target._meta.model_name:
                renames.update({old: column, f"{old}_id": f"{column}_id"})
        if renames:
            self.throughs[local] = renames

    def _rename_keywords(self, call: ast.Call, renames: dict[str, str]) -> None:
        for keyword in call.keywords:
            if keyword.arg in renames:
                start, _ = self.source.span(keyword)  # type: ignore[arg-type]
                self.edits.append(TextEdit(start, start + len(keyword.arg), renames[keyword.arg]))

    def _replace(self, node: ast.Name, new: str) -> None:
        start, end = self.source.span(node)  # type: ignore[arg-type]
        self.edits.append(TextEdit(start, end, new))

    def _call(self, call: ast.Call, change: ModelChange, model: type[models.Model]) -> None:
        renames = dict(change.fields)
        for old, new in change.fields.items():
            target = model._meta.get_field(new)
            if getattr(target, "attname", new) != new:
                renames[f"{old}_id"] = target.attname  # type: ignore[union-attr]
        keywords = [k for k in call.keywords if k.arg is not None]
        for position, keyword in enumerate(keywords):
            if keyword.arg in change.removed or (keyword.arg or "").removesuffix("_id") in change.removed:
                self.edits.append(TextEdit(*self._cut(keywords, position), ""))
            elif keyword.arg in renames:
                start, _ = self.source.span(keyword)  # type: ignore[arg-type]
                self.edits.append(TextEdit(start, start + len(keyword.arg), renames[keyword.arg]))
            name = renames.get(str(keyword.arg), str(keyword.arg))
            if name in change.altered:
                self._convert(keyword, model._meta.get_field(name), change.altered[name])
        given = {renames.get(str(k.arg), str(k.arg)) for k in keywords}
        for name, added in change.added.items():
            if name in given or f"{name}_id" in given:
                continue
            if not isinstance(added.value, _PLAIN):
                self.refused.append(f"line {call.lineno}: give {model._meta.label}.{name} a value (added in "
                                    f"{added.migration} with a one-off default {added.value!r})")  # fmt: skip
                continue
            self.edits.append(self._added(call, keywords, f"{name}={_text(added.value)}"))

    def _convert(self, keyword: ast.keyword, target: Any, where: str) -> None:
        try:
            value = read_literal(keyword.value)
        except NotALiteral:
            return  # an expression (a loop's counter): converted when it runs
        try:
            converted = target.to_python(value)
        except ValidationError:
            converted = _MISSING
        too_long = isinstance(converted, str) and target.max_length is not None and len(converted) > target.max_length
        if converted is _MISSING or too_long or (converted is None and not target.null):
            self.refused.append(
                f"line {keyword.value.lineno}: {target.model._meta.label}.{target.name} cannot take {value!r} since "
                f"{where}"
            )
            return
        if (converted != value or type(converted) is not type(value)) and isinstance(converted, _PLAIN):
            start, end = self.source.span(keyword.value)  # type: ignore[arg-type]
            self.edits.append(TextEdit(start, end, _text(converted)))

    def _cut(self, keywords: list[ast.keyword], position: int) -> tuple[int, int]:
        """The text of a keyword argument with one of the commas beside it."""
        start, end = self.source.span(keywords[position])  # type: ignore[arg-type]
        if position + 1 < len(keywords):
            return start, self.source.span(keywords[position + 1])[0]  # type: ignore[arg-type]
        if position > 0:
            return self.source.span(keywords[position - 1])[1], end  # type: ignore[arg-type]
        return start, end

    def _added(self, call: ast.Call, keywords: list[ast.keyword], text: str) -> TextEdit:
        if not keywords and not call.args:
            _, end = self.source.span(call)  # type: ignore[arg-type]
            return TextEdit(end - 1, end - 1, text)
        last = keywords[-1] if keywords else call.args[-1]
        _, end = self.source.span(last)  # type: ignore[arg-type]
        rest = self.source.text[end : self.source.span(call)[1]]  # type: ignore[arg-type]
        if call.end_lineno != last.lineno and rest.lstrip().startswith(","):  # one argument a line
            indent = " " * last.col_offset
            comma = end + rest.index(",") + 1
            return TextEdit(comma, comma, f"\n{indent}{text},")
        return TextEdit(end, end, f", {text}")


_MISSING = object()


def _text(value: Any) -> str:
    return lit.string_text(value) if isinstance(value, str) else repr(value)


def _labels(changes: Changes) -> dict[str, str]:
    """Model labels of the script's state → the labels now (many-to-many tables too)."""
    found: dict[str, str] = {}
    for (app, _), change in changes.models.items():
        if change.deleted_in:
            continue
        model = apps.get_model(app, change.name)
        found[change.old] = model._meta.label
        for m2m in model._meta.local_many_to_many:
            old = next((o for o, n in change.fields.items() if n == m2m.name), m2m.name)
            found[f"{change.old}_{old}"] = f"{model._meta.label}_{m2m.name}"
    return {old: new for old, new in found.items() if old != new}


def _migrations_edit(source: Source, changes: Changes) -> list[TextEdit]:
    """``MIGRATIONS = {...}`` moved to the migrations the models are at now, and the labels of
    ``ROWS = {...}`` to the models' names now."""
    from dumpscript.writer._text import migrations_text, rows_text

    edits = []
    labels = _labels(changes)
    for statement in source.tree.body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and statement.targets[0].id in ("MIGRATIONS", "ROWS")
        ):
            continue
        try:
            recorded = read_literal(statement.value)
        except NotALiteral:
            continue
        if not isinstance(recorded, dict):
            continue
        if statement.targets[0].id == "MIGRATIONS":
            new = {**recorded, **{app: changes.leaves[app] for app in recorded if app in changes.leaves}}
            text = migrations_text(new)
        else:
            new = {labels.get(label, label): count for label, count in recorded.items()}
            text = rows_text(new)
        if new != recorded:
            start, end = source.span(statement)  # type: ignore[arg-type]
            edits.append(TextEdit(start, end, text.rstrip("\n")))
    return edits
