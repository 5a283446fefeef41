"""Imports, in one order (:func:`import_key`): requested by name while a script is built
(:class:`ImportSet`, rendered as sorted blocks), and added to a script a person has edited
(:func:`import_edits`: merged into its imports, or each in its sorted place)."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from collections.abc import Collection, Iterable
from keyword import iskeyword

import libcst as cst

from dumpscript.errors import TransformError
from dumpscript.script.source import Source, TextEdit
from dumpscript.script.walk import module_imports
from dumpscript.values import _literals as lit


def section(module: str) -> int:
    """The import section of ``module``: 0 the standard library, 1 Django, 2 the rest."""
    top = module.split(".")[0]
    return 0 if top in sys.stdlib_module_names else 1 if top == "django" else 2


BY_LABEL = "django.apps.apps.get_model:"
"""The "module" of a model class found by its label (``Name = django.apps.apps.get_model("app.Name")``):
a class the script cannot import by name (nested in a class, made inside a function)."""


def _by_label(module: str, name: str, local: str, comment: str | None) -> cst.SimpleStatementLine:
    call = lit.call(lit.attribute("django.apps.apps.get_model"), [lit.string(module[len(BY_LABEL) :])])
    trailing = cst.Comment(comment) if comment else None
    return cst.SimpleStatementLine(
        [cst.Assign([cst.AssignTarget(cst.Name(local))], call)],
        trailing_whitespace=cst.TrailingWhitespace(cst.SimpleWhitespace("  "), trailing)
        if trailing
        else cst.TrailingWhitespace(),
    )


def _unwritable(module: str) -> bool:
    """A module path ``import`` cannot spell (a part is a keyword: Django's test app ``async``)."""
    return any(iskeyword(part) for part in module.split("."))


class ImportSet:
    """Collects ``import module`` and ``from module import name [as alias]`` requests.

    ``module()`` and ``name()`` return the local name to use in code. Two different objects
    that want the same local name get an alias (``from shop.models import User as ShopUser``).
    Imports of stdlib and Django go in the head of the script; imports of models (which need
    Django to be set up) go after the standalone preamble, ``late=True``.
    """

    def __init__(self) -> None:
        self._modules: set[str] = set()
        self._names: dict[tuple[str, str], str] = {}
        self._taken: dict[str, tuple[str, str]] = {}
        self._late: set[str] = set()
        self._adopted: set[tuple[str, str]] = set()

    def adopt(self, module: str, name: str, local: str) -> None:
        """Record an import a script already has (``from module import name as local``; for
        ``import module``, ``name`` is empty): code uses it, and it is not added again."""
        key = (module, name)
        self._adopted.add(key)
        if name:
            self._names.setdefault(key, local)
        else:
            self._modules.add(module)
        self._taken.setdefault(local, key)

    def reserve(self, names: Iterable[str]) -> None:
        """Names a new import must not bind (aliases are found around them)."""
        for local in names:
            self._taken.setdefault(local, ("", local))

    def added(self) -> tuple[list[str], list[tuple[str, str, str, bool]]]:
        """The imports requested beyond the adopted ones: modules, and ``(module, name, local,
        late)`` for names."""
        modules = sorted(m for m in self._modules if (m, "") not in self._adopted)
        names = sorted(
            (module, name, local, module in self._late)
            for (module, name), local in self._names.items()
            if (module, name) not in self._adopted
        )
        return modules, names

    def module(self, module: str) -> str:
        self._modules.add(module)
        self._taken.setdefault(module.split(".")[0], (module, ""))
        return module

    def name(self, module: str, name: str, *, late: bool = False, alias_prefix: str = "") -> str:
        key = (module, name)
        local = self._names.get(key)
        if local is None:
            local = name
            if local in self._taken:
                local = alias_prefix + name if alias_prefix else name
                counter = 2
                while local in self._taken:
                    local = f"{alias_prefix}{name}{counter}"
                    counter += 1
            self._names[key] = local
            self._taken[local] = key
            if late:
                self._late.add(module)
                if _unwritable(module):
                    self.module("importlib")
        return local

    def _block(self, late: bool) -> list[cst.SimpleStatementLine]:
        from_imports: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for (module, name), local in self._names.items():
            if (module in self._late) == late:
                from_imports[module].append((name, local))
        plain = sorted(self._modules) if not late else []
        sections: dict[str, list[cst.SimpleStatementLine]] = {"stdlib": [], "third": [], "first": []}
        by_label: list[cst.SimpleStatementLine] = []

        kinds = ("stdlib", "third", "first")

        for module in plain:
            plain_import = cst.Import(names=[cst.ImportAlias(name=lit.attribute(module))])  # type: ignore[arg-type]
            sections[kinds[section(module)]].append(cst.SimpleStatementLine([plain_import]))
        for module in sorted(from_imports):
            if module.startswith(BY_LABEL):  # after the imports
                by_label += [_by_label(module, name, local, "# noqa: E402") for name, local in from_imports[module]]
                continue
            if _unwritable(module):  # local = importlib.import_module("async.models").Name
                for name, local in sorted(from_imports[module]):
                    found = cst.Attribute(
                        lit.call(lit.attribute("importlib.import_module"), [lit.string(module)]), cst.Name(name)
                    )
                    assign = cst.Assign([cst.AssignTarget(cst.Name(local))], found)
                    comment = cst.TrailingWhitespace(cst.SimpleWhitespace("  "), cst.Comment("# noqa: E402"))
                    sections[kinds[section(module)]].append(
                        cst.SimpleStatementLine([assign], trailing_whitespace=comment)
                    )
                continue
            line = from_import(module, from_imports[module], "# noqa: E402" if late else None)
            sections[kinds[section(module)]].append(line)
        lines: list[cst.SimpleStatementLine] = []
        for key in ("stdlib", "third", "first"):
            block = sections[key]
            if block and lines and not late:
                block[0] = block[0].with_changes(leading_lines=[cst.EmptyLine()])
            lines += block
        return lines + by_label

    def head(self) -> list[cst.SimpleStatementLine]:
        """Imports that work before Django is set up: stdlib and Django itself."""
        return self._block(late=False)

    def late(self) -> list[cst.SimpleStatementLine]:
        """Imports of models, placed after the standalone preamble (``noqa: E402``)."""
        return self._block(late=True)


def from_import(
    module: str, names: list[tuple[str, str]], comment: str | None = None, *, sort: bool = True
) -> cst.SimpleStatementLine:
    """``from module import a, b as c`` (``(name, local)`` pairs, sorted unless ``sort`` is
    false), wrapped in parentheses one name per line when wider than 88 columns; ``comment``
    trails the line."""
    pairs = sorted(names, key=lambda pair: (pair[0].lower(), pair[0], pair[1])) if sort else names
    if module.startswith(BY_LABEL):  # one class per "module"
        ((name, local),) = pairs
        return _by_label(module, name, local, comment)
    aliases = [
        cst.ImportAlias(name=cst.Name(name), asname=cst.AsName(cst.Name(local)) if local != name else None)
        for name, local in pairs
    ]
    node = cst.ImportFrom(module=lit.attribute(module), names=aliases)  # type: ignore[arg-type]
    trailing = cst.Comment(comment) if comment else None
    line = cst.SimpleStatementLine(
        [node],
        trailing_whitespace=cst.TrailingWhitespace(whitespace=cst.SimpleWhitespace("  "), comment=trailing)
        if trailing
        else cst.TrailingWhitespace(),
    )
    if _width(line) > 88:
        line = cst.SimpleStatementLine([_wrap(node, trailing)])
    return line


def _width(node: cst.CSTNode) -> int:
    return max(len(text) for text in cst.Module(body=[]).code_for_node(node).splitlines())


def _wrap(node: cst.ImportFrom, comment: cst.Comment | None) -> cst.ImportFrom:
    """``from module import (`` one name per line ``)``; a noqa comment on the first line."""
    names = list(node.names)  # type: ignore[arg-type]
    newline = cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(), indent=False, last_line=cst.SimpleWhitespace("    ")
    )
    items = [alias.with_changes(comma=cst.Comma(whitespace_after=newline)) for alias in names[:-1]]
    items.append(
        names[-1].with_changes(
            comma=cst.Comma(
                whitespace_after=cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), indent=False)
            )
        )
    )
    first = cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(
            whitespace=cst.SimpleWhitespace("  ") if comment else cst.SimpleWhitespace(""), comment=comment
        ),
        indent=False,
        last_line=cst.SimpleWhitespace("    "),
    )
    return node.with_changes(names=items, lpar=cst.LeftParen(whitespace_after=first), rpar=cst.RightParen())


# -- added to an edited script ------------------------------------------------------------


def import_edits(
    source: Source,
    modules: Iterable[str],
    names: Iterable[tuple[str, str, str, bool]],
    *,
    before_line: int | None = None,
    bound: Collection[str] = frozenset(),
    adopted_modules: Collection[str] = frozenset(),
) -> list[TextEdit]:
    """The edits that add ``import module`` for ``modules`` and ``from module import name as
    local`` for ``names`` (``(module, name, local, late)``) to an edited script: a name goes
    into the script's ``from module import ...`` when it has one; a new stdlib or Django
    import in sorted place among the script's first imports (:func:`import_key`); a late one
    (a model) after the last import above ``before_line`` (the end of the file: None).
    Refuses a module whose name the script binds (``bound``) to something else."""
    modules = list(modules)
    tree = source.whole_tree
    for module in modules:
        top = module.split(".")[0]
        if top in bound and top not in adopted_modules:
            raise TransformError(
                f"{source.name}: cannot insert: the new code needs the module {top!r} (import {module}), "
                f"but the script uses the name {top!r} for something else"
            )
    imports = module_imports(tree)
    merged: dict[int, list[tuple[str, str]]] = {}
    statements: dict[int, ast.ImportFrom] = {}
    new_head: list[tuple[tuple[int, int, str], str]] = [
        (import_key(module, False), f"import {module}\n") for module in modules
    ]
    new_late: list[tuple[str, list[tuple[str, str]]]] = []
    by_module: dict[str, list[tuple[str, str]]] = {}
    late_modules: set[str] = set()
    for module, name, local, late in names:
        by_module.setdefault(module, []).append((name, local))
        if late:
            late_modules.add(module)
    for module, pairs in sorted(by_module.items()):
        existing = next(
            (
                s
                for s in imports
                if isinstance(s, ast.ImportFrom)
                and s.module == module
                and not s.level
                and all(a.name != "*" for a in s.names)
            ),
            None,
        )
        if existing is not None:
            merged.setdefault(id(existing), []).extend(pairs)
            statements[id(existing)] = existing
        elif module in late_modules:
            new_late.append((module, pairs))
        else:
            new_head.append((import_key(module, True), cst.Module(body=[from_import(module, pairs)]).code))
    edits = [_merge(source, statements[key], pairs) for key, pairs in merged.items()]
    head_offset, late_offset, late_comment = anchors(source, before_line)
    late_text = "".join(cst.Module(body=[from_import(m, pairs, late_comment)]).code for m, pairs in new_late)
    if not imports and (new_head or late_text):  # the script's first imports: set apart by blank lines
        text = ("\n" if head_offset else "") + "".join(line for _, line in sorted(new_head)) + late_text
        if not source.text[head_offset:].startswith("\n"):
            text += "\n"
        edits.append(TextEdit(head_offset, head_offset, text))
        return edits
    edits += _placed(source, sorted(new_head), head_offset)
    if late_text:
        edits.append(TextEdit(late_offset, late_offset, late_text))
    return edits


def _placed(source: Source, lines: list[tuple[tuple[int, int, str], str]], head_offset: int) -> list[TextEdit]:
    """Import lines (with their :func:`import_key`) each in sorted place among the script's
    first imports of its kind (isort's order: sections, then ``import x`` before ``from x
    import``); when the script has none of its kind, as a group of its own before the first
    import of a later section, else after the head imports (``head_offset``)."""
    at: dict[int, list[str]] = {}
    apart: set[int] = set()
    head_block = head_imports(source.whole_tree)
    for key, line in lines:
        same = [s for s in head_block if _statement_key(s)[0] == key[0]]
        after = next((s for s in same if _statement_key(s) > key), None)
        later = next((s for s in head_block if _statement_key(s)[0] > key[0]), None)
        if after is not None:
            offset = source.line_start(after.lineno)
        elif same:
            offset = source.line_end(same[-1].end_lineno or same[-1].lineno)
        elif later is not None:
            offset = source.line_start(later.lineno)
            apart.add(offset)
        else:
            offset = head_offset
        at.setdefault(offset, []).append(line)
    return [
        TextEdit(offset, offset, "".join(texts) + ("\n" if offset in apart else "")) for offset, texts in at.items()
    ]


def import_key(module: str, from_import: bool) -> tuple[int, int, str]:
    """The one order of imports (isort's): section (stdlib, Django, the rest), ``import x``
    before ``from x import``, then the module's name."""
    return section(module), int(from_import), module


def _statement_key(statement: ast.Import | ast.ImportFrom) -> tuple[int, int, str]:
    if isinstance(statement, ast.ImportFrom):
        return import_key("." * statement.level + (statement.module or ""), True)
    return import_key(statement.names[0].name, False)


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def head_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The imports at the top of the module (after its docstring), before any other statement."""
    body = tree.body
    position = 1 if body and _is_docstring(body[0]) else 0
    found: list[ast.Import | ast.ImportFrom] = []
    while position < len(body) and isinstance(body[position], ast.Import | ast.ImportFrom):
        found.append(body[position])  # type: ignore[arg-type]
        position += 1
    return found


def anchors(source: Source, before_line: int | None = None) -> tuple[int, int, str | None]:
    """Offsets where new head imports (stdlib, Django) and new model imports go, and the
    comment model imports carry (``# noqa: E402`` when the script's own have it)."""
    body = source.whole_tree.body
    head = head_imports(source.whole_tree)
    head_end: ast.stmt | None = head[-1] if head else body[0] if body and _is_docstring(body[0]) else None
    head_offset = source.line_end(head_end.end_lineno or head_end.lineno) if head_end is not None else 0
    earlier = [
        s for s in module_imports(source.whole_tree) if before_line is None or (s.end_lineno or s.lineno) < before_line
    ]
    if not earlier:
        return head_offset, head_offset, None
    last = earlier[-1]
    end = last.end_lineno or last.lineno
    comment = "# noqa: E402" if "noqa: E402" in source.lines[end - 1] and last is not head_end else None
    return head_offset, source.line_end(end), comment


def _merge(source: Source, statement: ast.ImportFrom, pairs: list[tuple[str, str]]) -> TextEdit:
    """Add ``pairs`` to an existing ``from module import ...`` statement."""
    start, end = source.span(statement)
    segment = source.text[start:end]
    try:
        node = cst.parse_statement(segment)
    except cst.ParserSyntaxError:
        raise TransformError(f"{source.name}, line {statement.lineno}: cannot read this import statement") from None
    assert isinstance(node, cst.SimpleStatementLine) and isinstance(node.body[0], cst.ImportFrom)
    imported = node.body[0]
    assert not isinstance(imported.names, cst.ImportStar)
    if imported.lpar is None:  # one line: rewritten, sorted if it was, wrapped if too wide
        existing = [(a.name, a.asname or a.name) for a in statement.names]
        keys = [(n.lower(), n) for n, _ in existing]
        ordered = keys == sorted(keys)
        line = from_import(statement.module or "", existing + pairs, sort=ordered)
        return TextEdit(start, end, cst.Module(body=[line]).code.rstrip("\n"))
    # Parenthesized (maybe with comments): the new names go last, laid out like the others.
    names = list(imported.names)
    last = names[-1]
    template = names[-2].comma if len(names) > 1 else cst.MaybeSentinel.DEFAULT
    if not isinstance(template, cst.Comma):
        template = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    after = template.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace):  # a new line, without the comment it may carry
        template = template.with_changes(
            whitespace_after=after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        )
    added = [
        cst.ImportAlias(name=cst.Name(name), asname=cst.AsName(cst.Name(local)) if local != name else None)
        for name, local in pairs
    ]
    new_names = [*names[:-1], last.with_changes(comma=template)]
    new_names += [alias.with_changes(comma=template) for alias in added[:-1]]
    new_names.append(added[-1].with_changes(comma=last.comma))
    return TextEdit(start, end, cst.Module(body=[]).code_for_node(imported.with_changes(names=new_names)))
