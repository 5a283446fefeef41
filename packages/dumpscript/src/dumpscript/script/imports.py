"""Imports requested by name while a script is built, rendered as sorted import blocks."""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable
from keyword import iskeyword

import libcst as cst

from dumpscript.values import _literals as lit


def _is_stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


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

        def section(module: str) -> str:
            if _is_stdlib(module):
                return "stdlib"
            return "third" if module.split(".")[0] == "django" else "first"

        for module in plain:
            plain_import = cst.Import(names=[cst.ImportAlias(name=lit.attribute(module))])  # type: ignore[arg-type]
            sections[section(module)].append(cst.SimpleStatementLine([plain_import]))
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
                    sections[section(module)].append(cst.SimpleStatementLine([assign], trailing_whitespace=comment))
                continue
            line = from_import(module, from_imports[module], "# noqa: E402" if late else None)
            sections[section(module)].append(line)
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
