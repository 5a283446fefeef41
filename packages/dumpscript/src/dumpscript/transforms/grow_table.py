"""Grow a loop over a table of captured rows: keep the rows, and add a loop that makes up the
rest with a generator per field (:func:`dumpscript.generate.infer`), inferred from the model's
field and the values in that column.

Before (a fold of captured rows)::

    authors = []
    for name, email in [
        ("Ada Lovelace", "ada@example.com"),
        ("Grace Hopper", "grace@example.com"),
    ]:
        authors.append(Author(name=name, email=email))

After ``grow`` to 2,000::

    ...the same loop...
    for i in range(2, 2000):  # 1,998 more, made up like the rows above
        authors.append(Author(
            name=fake.name(),
            email=fake.unique.email(),
        ))

with, once at the top of the script, ``fake = Faker()`` seeded and ``rng = random.Random(0)``:
the same rows on every load. One line per field: change a generator by editing its line. A
reference column (``author=authors[1]``) becomes a choice among the same list
(``rng.choice(authors)``, generated objects included); a column of one-to-one targets
``users[i]``. Needs Django set up (the fields' types); the loaded script needs Faker.
"""

from __future__ import annotations

import ast
from collections import Counter
from typing import Any

from django.db import models

from dumpscript.errors import TransformError
from dumpscript.script.imports import anchors, import_edits
from dumpscript.script.literals import NotALiteral, read_literal
from dumpscript.script.source import Change, Source, TextEdit, apply_edits

SEED = 0
_HEADER = [
    "fake = Faker(use_weighting=False)  # every name as likely as the next: several times faster",
    "fake.seed_instance({seed})  # the same made-up rows on every load; another seed, other rows",
    "rng = random.Random({seed})",
]


class NeedsProject(TransformError):
    """Growing a loop over captured rows without Django set up (the fields' types)."""


class GrowTable:
    """A ``for ... in [rows]`` loop whose body appends ``Model(field=column, ...)`` to a list."""

    def __init__(self, source: Source, loop: ast.For) -> None:
        self.source, self.loop = source, loop
        where = f"{source.name}, line {loop.lineno}"
        iterable, target = loop.iter, loop.target
        self.counter = None
        if isinstance(iterable, ast.Call) and getattr(iterable.func, "id", "") == "enumerate" and iterable.args:
            if not (isinstance(target, ast.Tuple) and len(target.elts) == 2):
                raise TransformError(f"{where}: cannot read this enumerate loop")
            self.counter, target, iterable = target.elts[0], target.elts[1], iterable.args[0]
        if not isinstance(iterable, ast.List) or not iterable.elts:
            raise TransformError(f"{where}: the loop iterates neither range(N) nor a table of rows")
        names = target.elts if isinstance(target, ast.Tuple) else [target]
        if not all(isinstance(name, ast.Name) for name in names):
            raise TransformError(f"{where}: the loop's variables are not plain names")
        self.columns = [name.id for name in names if isinstance(name, ast.Name)]
        self.rows: list[list[ast.expr]] = []
        for row in iterable.elts:
            cells = row.elts if isinstance(row, ast.Tuple) and len(self.columns) > 1 else [row]
            if len(cells) != len(self.columns):
                raise TransformError(f"{source.name}, line {row.lineno}: a row without one value per column")
            self.rows.append(list(cells))
        self.items, self.call = self._append(where)

    def _append(self, where: str) -> tuple[str, ast.Call]:
        body = self.loop.body
        if len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Call):
            append = body[0].value
            func = append.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "append"
                and isinstance(func.value, ast.Name)
                and len(append.args) == 1
                and isinstance(append.args[0], ast.Call)
                and isinstance(append.args[0].func, ast.Name)
                and not append.args[0].args
            ):
                return func.value.id, append.args[0]
        raise TransformError(f"{where}: the loop does not only append Model(field=...) objects to a list")

    def model(self) -> type[models.Model]:
        """The class the loop constructs, found from the script's module-level imports in the
        app registry (nothing of the script is run)."""
        from django.apps import apps

        from dumpscript.script.models import ModelNames

        assert isinstance(self.call.func, ast.Name)
        name = self.call.func.id
        where = f"{self.source.name}, line {self.call.lineno}"
        if not apps.ready:
            raise NeedsProject(
                f"{where}: growing a loop over captured rows needs the Django project, for the fields of {name} "
                "(give --settings, or run it from the editor)"
            )
        model = ModelNames.of(self.source.module_statements()).resolve(self.call.func)
        if model is None:
            raise TransformError(f"{where}: {name} is not a model class the script imports")
        return model

    # -- the generated loop ---------------------------------------------------------------

    def fields(self, model: type[models.Model]) -> list[tuple[str, str, tuple[str, ...]]]:
        """``(keyword, expression, imports)`` of each argument of the generated objects."""
        from dumpscript.generate import infer

        by_name = {f.attname: f for f in model._meta.concrete_fields} | {f.name: f for f in model._meta.fields}
        found: list[tuple[str, str, tuple[str, ...]]] = []
        for keyword in self.call.keywords:
            if keyword.arg is None:
                raise TransformError(f"{self.source.name}, line {keyword.value.lineno}: ** arguments cannot grow")
            value = keyword.value
            used = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)} & set(self.columns)
            if not used:  # a constant or an expression of the counter: as it is
                found.append((keyword.arg, self.source.segment(value), ()))
                continue
            field = by_name.get(keyword.arg)
            if field is None:
                raise TransformError(
                    f"{self.source.name}, line {value.lineno}: {model.__name__} has no field {keyword.arg}"
                )
            if isinstance(value, ast.Name) and field.is_relation:
                found.append((keyword.arg, self._reference(field, self.columns.index(value.id)), ()))
                continue
            values = self._values(self.columns.index(value.id)) if isinstance(value, ast.Name) else []
            try:
                generator = infer(field, values)
            except LookupError as error:
                raise TransformError(
                    f"{self.source.name}, line {value.lineno}: cannot make values for {model.__name__}.{field.name}: "
                    f"{error}; write its generator by hand"
                ) from None
            found.append((keyword.arg, generator.code, generator.imports))
        return found

    def _values(self, column: int) -> list[Any]:
        try:
            return [read_literal(row[column]) for row in self.rows]
        except NotALiteral:
            return []  # not values (names of objects): infer from the field alone

    def _reference(self, field: models.Field[Any, Any], column: int) -> str:
        """A reference column: a choice among the objects the rows refer to, spread like them."""
        texts = [self.source.segment(row[column]) for row in self.rows]
        present = [text for text in texts if text != "None"]
        lists = {row[column].value.id for row in self.rows if _is_item(row[column])}  # type: ignore[attr-defined]
        if field.one_to_one or getattr(field, "unique", False):
            if len(lists) == 1 and len(present) == len(texts):
                return f"{lists.pop()}[i]"
            raise TransformError(
                f"{self.source.name}, line {self.loop.lineno}: {field.name} is one-to-one: each new row needs its "
                "own target (write them in a list, then grow)"
            )
        if not present:
            return "None"
        if len(lists) == 1 and all(
            _is_item(row[column]) for row in self.rows if self.source.segment(row[column]) != "None"
        ):
            code = f"rng.choice({next(iter(lists))})"
        else:
            counts = Counter(present)
            options = sorted(counts, key=lambda text: (-counts[text], text))
            if len(set(counts.values())) <= 1:
                code = f"rng.choice([{', '.join(options)}])"
            else:
                weights = ", ".join(str(counts[text]) for text in options)
                code = f"rng.choices([{', '.join(options)}], weights=[{weights}])[0]"
        if len(present) < len(texts):
            code = f"{code} if rng.random() < {round(len(present) / len(texts), 2)} else None"
        return code

    def change(self, count: int, seed: int = SEED) -> Change:
        source, loop = self.source, self.loop
        captured = len(self.rows)
        if count <= captured:
            raise TransformError(
                f"{source.name}, line {loop.lineno}: the table has {captured} rows; "
                "to create fewer, delete rows from it"
            )
        model = self.model()
        fields = self.fields(model)
        indent = source.indent_of(loop.lineno)
        inner = indent + "    "
        cls = self.call.func.id  # type: ignore[attr-defined]
        lines = [
            f"{indent}for i in range({captured}, {count}):  # {count - captured:,} more, made up like the rows above\n",
            f"{inner}{self.items}.append({cls}(\n",
            *(f"{inner}    {keyword}={code},\n" for keyword, code, _ in fields),
            f"{inner}))\n",
        ]
        end = source.line_end(loop.end_lineno or loop.lineno)
        edits = [
            *self._header(seed, {line for _, _, needed in fields for line in needed}),
            TextEdit(end, end, "".join(lines)),
        ]
        summary = (
            f"The loop at line {loop.lineno} now creates {count:,} {model.__name__} objects: its {captured} rows and "
            f"{count - captured:,} made up like them"
        )
        return Change(
            apply_edits(source.text, edits), tuple(edits), summary, loop.lineno, loop.end_lineno or loop.lineno
        )

    def _header(self, seed: int, needed: set[str]) -> list[TextEdit]:
        """The imports the made-up values need, each in its place among the script's first
        imports (:func:`~dumpscript.script.imports.import_edits`); ``fake`` and ``rng``,
        seeded, after the script's last module-level import. Each only once."""
        statements = self.source.module_statements()
        bound = {
            target.id
            for node in statements
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        imported = {
            (alias.asname or alias.name).split(".")[0]
            for node in statements
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        modules: list[str] = []
        names: list[tuple[str, str, str, bool]] = []
        for line in sorted({*needed, "import random", "from faker import Faker"}):
            words = line.split()
            if words[-1] in imported:
                continue
            if words[0] == "import":
                modules.append(words[1])
            else:
                names.append((words[1], words[3], words[3], False))
        edits = import_edits(self.source, modules, names)
        if "fake" not in bound:
            has_imports = any(isinstance(node, ast.Import | ast.ImportFrom) for node in statements)
            _, at, _ = anchors(self.source)
            text = "".join(line.format(seed=seed) + "\n" for line in _HEADER)
            edits.append(TextEdit(at, at, "\n" + text if has_imports else text + "\n\n"))
        return edits


def _is_item(node: ast.expr) -> bool:
    """``polls[3]``: an object of a folded list."""
    return isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Constant)
