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
import re
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from dumpscript.script.source import Source

if TYPE_CHECKING:
    from dumpscript.script.models import MissingModel

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
    from dumpscript.script.models import ModelNames

    names = ModelNames.of(tree.body)  # from the registry: nothing of the script is imported
    found = [_missing_model(source, encoding, tree, missing) for missing in names.missing]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            model = names.resolve(node.func)
            if model is not None:
                found += _unknown_fields(source, encoding, node, model)
    return found


def _unknown_fields(source: Source, encoding: str, call: ast.Call, model: Any) -> list[types.Diagnostic]:
    from dumpscript.meta.fields import nearest_field, unknown_keywords

    found = []
    keywords = [k for k in call.keywords if k.arg is not None]
    unknown = set(unknown_keywords(model, [str(k.arg) for k in keywords]))
    for position, keyword in enumerate(keywords):
        if keyword.arg not in unknown:
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
        near = nearest_field(model, str(keyword.arg))
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
                message=_unknown_field(label, str(keyword.arg), near),
                severity=types.DiagnosticSeverity.Error,
                source=SOURCE,
                code="unknown-field",
                data={"fixes": fixes},
            )
        )
    return found


def _missing_model(source: Source, encoding: str, tree: ast.Module, missing: MissingModel) -> types.Diagnostic:
    local, module, statement, alias = missing.local, missing.module, missing.statement, missing.alias
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


def _unknown_field(label: str, name: str, near: str | None) -> str:
    """Most often a typo: the nearest field, if one is near; else a field renamed or removed."""
    if near:
        return f"{label} has no field {name!r}: did you mean {near!r}?"
    return f"{label} has no field {name!r} (a typo, or a field renamed or removed since this script was written)"
