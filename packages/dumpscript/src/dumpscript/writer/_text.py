"""How the script's text is laid out: the fixed parts around ``run()``, and calls written as text
the way LibCST would lay out the same nodes (one line when it fits, else one argument a line)."""

from __future__ import annotations

from collections.abc import Callable
from keyword import iskeyword
from typing import Protocol

import libcst as cst
from django.db import models

from dumpscript.script import layout as fmt
from dumpscript.values import _literals as lit

PREAMBLE = """
if __name__ == "__main__":  # run on its own: set Django up before importing the models
    parser = argparse.ArgumentParser(description="Create this script's objects in a database.")
    parser.add_argument("--settings", help="settings module (default: $DJANGO_SETTINGS_MODULE)")
    parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias")
    parser.add_argument("--dry-run", action="store_true", help="create the objects, report, then roll back")
    ARGS = parser.parse_args()
    if ARGS.settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = ARGS.settings
    HINT = f"run it from the project folder: python {sys.argv[0]} --settings mysite.settings"
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        sys.exit(f"{sys.argv[0]}: no Django settings; {HINT}")
    sys.path[0] = os.getcwd()  # import the project, not modules that sit beside this script
    try:
        django.setup()
    except Exception as error:
        sys.exit(f"{sys.argv[0]}: cannot set Django up ({type(error).__name__}: {error}); {HINT}")
"""

MAIN = """
if __name__ == "__main__":
    import traceback

    from django.core.management.color import no_style
    from django.db import connections, models

    # the script's models, and the tables a load writes: counted before and after
    MODELS = {v for v in list(globals().values()) if isinstance(v, type) and issubclass(v, models.Model)}
    MODELS = sorted({m._meta.concrete_model for m in MODELS if not m._meta.abstract}, key=str)
    TABLES = sorted({*MODELS, *(f.remote_field.through for m in MODELS for f in m._meta.local_many_to_many)}, key=str)

    def counts():
        return {m: m._base_manager.using(ARGS.database).count() for m in TABLES}

    before = counts()
    try:
        with transaction.atomic(using=ARGS.database):
            run(using=ARGS.database)
            created = {m: n - before[m] for m, n in counts().items()}
            for m in TABLES:  # a multi-table object once, as its own model
                for parent, link in m._meta.parents.items():
                    if link and parent in created:
                        created[parent] -= created[m]
            if ARGS.dry_run:
                transaction.set_rollback(True, using=ARGS.database)
            else:  # move key sequences past the keys the script gives (as loaddata does)
                connection = connections[ARGS.database]
                with connection.cursor() as cursor:
                    for sql in connection.ops.sequence_reset_sql(no_style(), MODELS):
                        cursor.execute(sql)
    except Exception as error:
        lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == __file__]
        where = f", line {lines[-1]}" if lines else ""
        message = " ".join(str(error).split())  # one line (PostgreSQL adds a DETAIL line)
        sys.exit(f"{sys.argv[0]}{where}: {type(error).__name__}: {message}; nothing was loaded")
    verb = "Would create" if ARGS.dry_run else "Created"
    for m, n in sorted(created.items(), key=lambda item: item[0]._meta.label):
        if n:
            print(f"{verb} {n} {m._meta.label}")
    rolled_back = " (dry run: rolled back, nothing written)" if ARGS.dry_run else ""
    print(f"{verb} {sum(created.values())} rows from {sys.argv[0]}{rolled_back}")
"""

MIGRATIONS_COMMENT = "# The migrations each app was at in the database this script was written from."


ROWS_COMMENT = "# The rows this script creates, per model (what loadscript counts its progress against)."


def rows_text(counts: dict[str, int]) -> str:
    """The statement that records the rows a script creates per model label, links included
    (the comment :data:`ROWS_COMMENT` goes above it); one per line when they do not fit one."""
    entries = [f"{lit.string_text(label)}: {count}" for label, count in sorted(counts.items())]
    single = f"ROWS = {{{', '.join(entries)}}}"
    if len(single) <= fmt.MAX_WIDTH:
        return f"{single}\n"
    return "ROWS = {\n" + "".join(f"{fmt.INDENT}{entry},\n" for entry in entries) + "}\n"


def migrations_text(state: dict[str, list[str]]) -> str:
    """The statement that records the migration state a script was written at (the comment
    :data:`MIGRATIONS_COMMENT` goes above it)."""
    entries = [f"{lit.string_text(app)}: [{', '.join(map(lit.string_text, names))}]" for app, names in state.items()]
    single = f"MIGRATIONS = {{{', '.join(entries)}}}"
    if len(single) <= fmt.MAX_WIDTH:
        return f"{single}\n"
    return "MIGRATIONS = {\n" + "".join(f"{fmt.INDENT}{entry},\n" for entry in entries) + "}\n"


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
