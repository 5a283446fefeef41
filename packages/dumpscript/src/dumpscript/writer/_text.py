"""How the script's text is laid out: the fixed parts around ``run()``, and calls written as text
the way LibCST would lay out the same nodes (one line when it fits, else one argument a line)."""

from __future__ import annotations

from collections.abc import Callable
from keyword import iskeyword
from typing import Protocol

import libcst as cst
from django.db import models

from dumpscript.cst import _format as fmt
from dumpscript.values import _literals as lit

PREAMBLE = """
if __name__ == "__main__":  # run on its own: set Django up before importing the models
    parser = argparse.ArgumentParser(description="Create this script's objects in a database.")
    parser.add_argument("--settings", help="settings module (default: $DJANGO_SETTINGS_MODULE)")
    parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias")
    ARGS = parser.parse_args()
    if ARGS.settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = ARGS.settings
    sys.path[0] = os.getcwd()  # import the project, not modules that sit beside this script
    django.setup()
"""

MAIN = """
if __name__ == "__main__":
    with transaction.atomic(using=ARGS.database):
        run(using=ARGS.database)
"""

BATCH = 1000
"""Objects per ``bulk_create`` statement (and per statement of through-model rows)."""

SAVE_RAW = '''
def save_raw(obj, using="default", model=None, saved=None):
    """Save a multi-table object a table at a time, parents first, as ``loaddata`` does: its
    model's ``save()`` does not run, and signals are sent with ``raw=True``."""
    model, saved = model or obj._meta.concrete_model, set() if saved is None else saved
    for parent, link in model._meta.parents.items():
        if getattr(obj, link.attname) is None:  # not a parent row created before
            if parent not in saved:
                save_raw(obj, using, parent, saved)
            setattr(obj, link.attname, getattr(obj, parent._meta.pk.attname))
    fields = [f.attname for f in model._meta.local_concrete_fields if not getattr(f, "generated", False)]
    row = model(**{name: getattr(obj, name) for name in fields})
    row.save_base(raw=True, force_insert=True, using=using)
    setattr(obj, model._meta.pk.attname, row.pk)
    obj._state.adding, obj._state.db = False, using
    saved.add(model)
'''
"""The function a script defines to save multi-table objects (``loaddata``'s raw saves)."""

RUN_DOC = '"""Create the objects in the database ``using``; call it inside a transaction."""'


class TextSink(Protocol):
    """Where text is written: a text file, ``sys.stdout``, a ``StringIO``."""

    def write(self, text: str, /) -> object: ...


Piece = cst.SimpleStatementLine | str
"""A statement of ``run()``: a LibCST node, or its text when the builder writes text."""


def call_text(head: str, args: list[str]) -> str:
    """``head(arg, k=v, ...)``, exploded one argument per line when too wide (as the CST path)."""
    indent = fmt.INDENT
    single = f"{indent}{head}({', '.join(args)})"
    if len(single) <= fmt.MAX_WIDTH or not args:
        return single + "\n"
    inner = indent * 2
    return f"{indent}{head}(\n" + "".join(f"{inner}{arg},\n" for arg in args) + f"{indent})\n"


def list_call_text(head: str, names: list[str]) -> str:
    """``head([a, b, ...])`` with the list filling lines, as :func:`_format.fill_list` lays it out."""
    indent = fmt.INDENT
    single = f"{indent}{head}([{', '.join(names)}])"
    if len(single) <= fmt.MAX_WIDTH:
        return single + "\n"
    inner = indent * 2
    parts = [f"{indent}{head}([\n{inner}"]
    column = len(inner)
    last = len(names) - 1
    for position, name in enumerate(names):
        column += len(name) + 1
        parts.append(name + ",")
        if position == last:
            parts.append(f"\n{indent}])\n")
        elif column + 1 + len(names[position + 1]) + 1 <= fmt.MAX_WIDTH:
            parts.append(" ")
            column += 1
        else:
            parts.append(f"\n{inner}")
            column = len(inner)
    text = "".join(parts)
    if max(len(line) for line in text.splitlines()) > fmt.MAX_WIDTH:
        return ""  # a name too long for any line: let the CST path lay it out
    return text


def element_text(head: str, args: list[str]) -> str:
    """An element of an exploded list: ``head(k=v, ...),`` on one line, or exploded below it."""
    inner = fmt.INDENT * 2
    single = f"{inner}{head}({', '.join(args)}),\n"
    if len(single) <= fmt.MAX_WIDTH + 1 or not args:
        return single
    deeper = fmt.INDENT * 3
    return f"{inner}{head}(\n" + "".join(f"{deeper}{arg},\n" for arg in args) + f"{inner}),\n"


def exploded_list_call_text(head: str, elements: list[str], tail: str = "") -> str:
    """``head([`` then one element per line (each already indented, with its comma) then
    ``])``, or ``], keyword=value)`` with ``tail`` (``", keyword=value"``)."""
    return f"{fmt.INDENT}{head}([\n" + "".join(elements) + f"{fmt.INDENT}]{tail})\n"


def lead_text(comment_lines: list[str] | None, blank_before: bool) -> str:
    return ("\n" if blank_before else "") + "".join(f"{fmt.INDENT}# {c}\n" for c in comment_lines or [])


def keyword(name: str) -> Callable[[str], str]:
    """How a keyword argument ``name`` is written: ``name=value``, or ``**{"class": value}``
    for a name that is a Python keyword (a through model's field named after a model ``Class``)."""
    if name.isidentifier() and not iskeyword(name):
        prefix = f"{name}="
        return lambda value: prefix + value
    quoted = lit.string_text(name)
    return lambda value: f"**{{{quoted}: {value}}}"


def import_module_of(model: type[models.Model]) -> str:
    """The module a script imports ``model`` from: its app's ``models`` module when that
    module holds the class (``polls.models``), else the module that defines it."""
    app_models = getattr(model._meta.app_config, "models_module", None)
    if app_models is not None and getattr(app_models, model.__name__, None) is model:
        return str(app_models.__name__)
    return model.__module__
