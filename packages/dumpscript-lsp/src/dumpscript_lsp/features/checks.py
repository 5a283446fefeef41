"""Diagnostics for the traps django-extensions' dumpscript documents (a script shadowing a
module, models that changed since the dump), in scripts that look like dumpscript's.

* a script file whose module name shadows an installed app or an importable module
  (importing the script would import it instead, and the other way round);
* schema evolution: a script that imports a model the project no longer has, or sets a
  field the model no longer has. Each comes with quick fixes (``Diagnostic.data["fixes"]``):
  for a keyword near a field's name, a rename to it (preferred: the value is kept), then its
  removal (which says it deletes the value); for a missing model, the removal of the import
  and the statements that use it.

Runs off the protocol loop (it parses the whole document); reads Django's model registry,
never the database.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import re
from collections.abc import Iterable
from typing import Any

from lsprotocol import types

from dumpscript.transforms import Source

SOURCE = "dumpscript"
_LOOKS_LIKE_SCRIPT = re.compile(r"written by dumpscript|\.bulk_create\(|^def run\(", re.MULTILINE)


def looks_like_script(text: str) -> bool:
    return bool(_LOOKS_LIKE_SCRIPT.search(text))


def check(text: str, path: str | None, django_ready: bool, encoding: str = "utf-16") -> list[types.Diagnostic]:
    """The diagnostics of ``text``; positions in ``encoding``, the one agreed with the client."""
    if not looks_like_script(text) or not django_ready:
        return []
    found: list[types.Diagnostic] = []
    if path is not None:
        found += _shadowing(path)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return found  # the editor's Python support reports syntax errors
    source = Source(text)
    found += _schema(source, tree, encoding)
    return found


def _shadowing(path: str) -> list[types.Diagnostic]:
    from dumpscript import OutputNameError, check_output_name

    try:
        check_output_name(path)
    except OutputNameError as error:
        message = str(error).replace("Refusing to write", "This script is named", 1)
        return [
            types.Diagnostic(
                range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                message=message,
                severity=types.DiagnosticSeverity.Warning,
                source=SOURCE,
                code="shadowing-name",
            )
        ]
    return []


def _range(source: Source, start: int, end: int, encoding: str) -> types.Range:
    from dumpscript_lsp.documents import to_position

    return types.Range(to_position(source, start, encoding), to_position(source, end, encoding))


def _edit(source: Source, encoding: str, start: int, end: int, text: str = "") -> list[Any]:
    r = _range(source, start, end, encoding)
    return [r.start.line, r.start.character, r.end.line, r.end.character, text]


def _schema(source: Source, tree: ast.Module, encoding: str) -> list[types.Diagnostic]:
    from django.apps import apps

    from dumpscript.transforms import model_index

    index = model_index()  # (module, class name) → model
    models_modules = {module for module, _ in index} | {f"{config.name}.models" for config in apps.get_app_configs()}
    classes: dict[str, Any] = {}
    missing: dict[str, tuple[str, ast.ImportFrom, ast.alias]] = {}
    for statement in tree.body:
        if not isinstance(statement, ast.ImportFrom) or statement.level or not statement.module:
            continue
        if statement.module not in models_modules:
            continue
        for alias in statement.names:
            local = alias.asname or alias.name
            found_model = index.get((statement.module, alias.name))
            if found_model is not None:
                classes[local] = found_model
            elif alias.name[:1].isupper() and not hasattr(_module(statement.module), alias.name):
                missing[local] = (statement.module, statement, alias)  # gone from the module
    found = [_missing_model(source, encoding, tree, local, *entry) for local, entry in missing.items()]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in classes:
            found += _unknown_fields(source, encoding, node, classes[node.func.id])
    return found


def _module(name: str) -> Any:
    """The imported module (models modules are imported by Django already), or None."""
    try:
        return importlib.import_module(name)
    except Exception:
        return None


def _field_names(model: Any) -> set[str]:
    names: set[str] = set()
    for field in model._meta.get_fields():
        if field.concrete or (getattr(field, "is_relation", False) and not field.auto_created):
            names.add(field.name)
            attname = getattr(field, "attname", None)
            if attname:
                names.add(attname)
    names.add("pk")
    return names


def _unknown_fields(source: Source, encoding: str, call: ast.Call, model: Any) -> list[types.Diagnostic]:
    known = _field_names(model)
    found = []
    keywords = [k for k in call.keywords if k.arg is not None]
    for position, keyword in enumerate(keywords):
        if keyword.arg in known:
            continue
        start, end = source.span(keyword)  # type: ignore[arg-type]
        if position + 1 < len(keywords):  # up to the next keyword
            cut = (start, source.span(keywords[position + 1])[0])  # type: ignore[arg-type]
        elif position > 0:  # from the end of the previous value
            cut = (source.span(keywords[position - 1])[1], end)  # type: ignore[arg-type]
        else:
            cut = (start, end)
        label = model._meta.label
        value = source.text[slice(*source.span(keyword.value))]  # type: ignore[arg-type]
        shown = value if len(value) <= 30 else value[:27] + "..."
        fixes = []
        near = _nearest(str(keyword.arg), known)
        given = {k.arg for k in keywords}
        if near is not None and near not in given:  # a typo: keep the value under the right name
            name_end = start + len(str(keyword.arg))
            fixes.append(
                {
                    "title": f"Rename {keyword.arg}= to {near}= (the nearest field of {label})",
                    "edits": [_edit(source, encoding, start, name_end, near)],
                    "preferred": True,
                }
            )
        fixes.append(
            {
                "title": f"Remove {keyword.arg}={shown} (deletes this value; not a field of {label})",
                "edits": [_edit(source, encoding, *cut)],
                "preferred": not fixes,
            }
        )
        found.append(
            types.Diagnostic(
                range=_range(source, start, end, encoding),
                message=_unknown_field(label, str(keyword.arg), known),
                severity=types.DiagnosticSeverity.Error,
                source=SOURCE,
                code="unknown-field",
                data={"fixes": fixes},
            )
        )
    return found


def _missing_model(
    source: Source,
    encoding: str,
    tree: ast.Module,
    local: str,
    module: str,
    statement: ast.ImportFrom,
    alias: ast.alias,
) -> types.Diagnostic:
    edits = []
    if len(statement.names) == 1:  # the whole import line
        edits.append(
            _edit(
                source,
                encoding,
                source.line_start(statement.lineno),
                source.line_end(statement.end_lineno or statement.lineno),
            )
        )
    else:
        names = statement.names
        index = names.index(alias)
        start, end = source.span(alias)  # type: ignore[arg-type]
        if index + 1 < len(names):
            end = source.span(names[index + 1])[0]  # type: ignore[arg-type]
        else:
            start = source.span(names[index - 1])[1]  # type: ignore[arg-type]
        edits.append(_edit(source, encoding, start, end))
    users = _statements_using(tree, local)
    for statement_node in users:
        edits.append(
            _edit(
                source,
                encoding,
                source.line_start(statement_node.lineno),
                source.line_end(statement_node.end_lineno or statement_node.lineno),
            )
        )
    start, end = source.span(alias)  # type: ignore[arg-type]
    lines = f" and the {len(users)} statement{'s' if len(users) != 1 else ''} that use it" if users else ""
    return types.Diagnostic(
        range=_range(source, start, end, encoding),
        message=f"{module} has no model {alias.name!r} (removed or renamed since this script was written)",
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
        code="unknown-model",
        data={"fixes": [{"title": f"Remove {alias.name}{lines}", "edits": edits, "preferred": True}]},
    )


def _statements_using(tree: ast.Module, name: str) -> list[ast.stmt]:
    """The simple statements (at any depth) that mention ``name``."""
    found = []
    work: list[ast.stmt] = list(tree.body)
    while work:
        statement = work.pop(0)
        children = [
            child
            for attribute in ("body", "orelse", "finalbody", "handlers")
            for child in getattr(statement, attribute, []) or []
        ]
        if children:
            for child in children:
                work.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
            continue
        if isinstance(statement, ast.Import | ast.ImportFrom):
            continue
        if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(statement)):
            found.append(statement)
    return sorted(found, key=lambda s: s.lineno)


def _nearest(name: str, known: Iterable[str]) -> str | None:
    near = difflib.get_close_matches(name, sorted(known), n=1)
    return near[0] if near else None


def _unknown_field(label: str, name: str, known: Iterable[str]) -> str:
    """Most often a typo: the nearest field, if one is near; else a field renamed or removed."""
    near = _nearest(name, known)
    if near:
        return f"{label} has no field {name!r}: did you mean {near!r}?"
    return f"{label} has no field {name!r} (a typo, or a field renamed or removed since this script was written)"
