"""Run a script (generated or hand-edited) against a database in one transaction."""

from __future__ import annotations

import ast
import contextlib
import inspect
import os
import re
import traceback
import types
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, models, transaction

from dumpscript._blame import find_culprit
from dumpscript._progress import NO_PROGRESS, Progress
from dumpscript.errors import ConflictError, ScriptError
from dumpscript.graph import root_model
from dumpscript.options import check_database


@dataclass
class LoadResult:
    """What a load did, per model label (``polls.Poll``; auto-created M2M tables too)."""

    created: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.created.values())


def _read(path: Path) -> types.CodeType:
    try:
        source = path.read_bytes()
    except OSError as error:
        raise ScriptError(f"Cannot read script {path}: {error.strerror or error}") from None
    try:
        return compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:
        raise ScriptError(f"Cannot read script {path}: {error.msg} at line {error.lineno}") from None
    except ValueError as error:  # null bytes
        raise ScriptError(f"Cannot read script {path}: {error}") from None


_RUN = re.compile(r"def run\((using(?:=[\w.]+)?)?\):[ \t]*(?:#.*)?\n?")
_STATEMENT = re.compile(r"    (?!(?:else|elif|except|finally)\b)[A-Za-z_#]")
"""A line where a piece of ``run()``'s body may start: a statement of the body itself."""
CHUNK_LINES = 5_000
"""About how many lines of ``run()`` are compiled at a time."""


class _NotChunkable(Exception):
    """The script's ``run()`` cannot be run a piece at a time; compile it whole instead."""


@dataclass
class _Layout:
    run_line: int  # 1-based line of ``def run(...):``
    tail_line: int  # first line after run()'s body (0 if none)
    takes_using: bool


def _layout(path: Path) -> _Layout | None:
    """Where ``run()`` starts and ends, from one pass over the lines (none kept in memory)."""
    run_line = tail_line = 0
    takes_using = False
    with path.open(encoding="utf-8", newline="") as lines:
        for number, line in enumerate(lines, 1):
            if not run_line:
                match = _RUN.fullmatch(line)
                if match:
                    run_line, takes_using = number, bool(match.group(1))
            elif line[:1] not in ("", " ", "\t", "\n", "\r", "#"):
                tail_line = number
                break
    return _Layout(run_line, tail_line, takes_using) if run_line else None


def _compile_at(lines: list[str], first: int, path: Path, indented: bool = False) -> types.CodeType:
    """Compile ``lines`` (the file's lines from line ``first``) with the file's line numbers."""
    # a piece of run()'s body runs as top-level code, inside "if 1:" on the line before it
    text = ("if 1:\n" if indented else "") + "".join(lines)
    try:
        code = compile(text, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        raise _NotChunkable from None
    return _shift(code, first - (2 if indented else 1))


def _shift(code: types.CodeType, lines: int) -> types.CodeType:
    """``code`` (and the functions in it) moved down by ``lines`` lines: cheaper than
    compiling that many newlines in front of each piece."""
    if not lines:
        return code
    consts = tuple(_shift(const, lines) if isinstance(const, types.CodeType) else const for const in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + lines, co_consts=consts)


def _run_in_pieces(path: Path, layout: _Layout, namespace: dict[str, Any], using: str, on_head: Any) -> None:
    """Run the script like ``exec`` of the module then ``run(using)``, compiling ``run()``'s body
    a piece at a time so that memory stays flat however long the script is.

    The body runs as top-level code in the module's namespace (its variables become module
    globals of this private module). Raises :class:`_NotChunkable` before anything runs when a
    piece does not compile on its own (``return`` in the body, an unusual layout).
    """
    with path.open(encoding="utf-8", newline="") as handle:
        head = [handle.readline() for _ in range(layout.run_line - 1)]
        head_code = _compile_at(head, 1, path)
        del head
        tail_code = None
        if layout.tail_line:
            with path.open(encoding="utf-8", newline="") as rest:
                for _ in range(layout.tail_line - 1):
                    rest.readline()
                tail_code = _compile_at(rest.readlines(), layout.tail_line, path)
        handle.readline()  # def run(...):
        number = layout.run_line + 1
        on_head(head_code)
        exec(head_code, namespace)
        if tail_code is not None:
            exec(tail_code, namespace)
        if layout.takes_using:
            namespace["using"] = using
        piece: list[str] = []
        start = number
        while True:
            line = handle.readline()
            ends = not line or (layout.tail_line and number == layout.tail_line)
            if ends or (len(piece) >= CHUNK_LINES and _STATEMENT.match(line)):
                if piece:
                    code = _compile_at(piece, start, path, indented=True)
                    piece = []
                    exec(code, namespace)
                    _drop_cached_relations(namespace, code.co_names)
                    del code
                start = number
                if ends:
                    break
            piece.append(line)
            number += 1


def _drop_cached_relations(namespace: dict[str, Any], names: tuple[str, ...]) -> None:
    """Saved objects that a piece named drop their cached related objects (``book.author``
    keeps ``author_id``; Django reads the author again if the script asks for it): a
    script's variables then hold their rows, not a dictionary of links each."""
    for name in names:
        obj = namespace.get(name)
        if not isinstance(obj, models.Model) or obj._state.adding:
            continue
        cache = obj._state.__dict__.get("fields_cache")
        if not cache:
            continue
        for key, related in list(cache.items()):
            attname = _forward_attname(type(obj), key)
            if attname is None or related is None:
                continue
            if related.pk is not None and obj.__dict__.get(attname) == related.pk:
                del cache[key]
        if not cache:
            del obj._state.__dict__["fields_cache"]


_ATTNAMES: dict[tuple[type[models.Model], str], str | None] = {}


def _forward_attname(model: type[models.Model], name: str) -> str | None:
    """The column attribute of ``model``'s forward foreign key ``name`` (None otherwise)."""
    if (model, name) not in _ATTNAMES:
        try:
            field = model._meta.get_field(name)
        except Exception:
            field = None
        concrete = isinstance(field, models.ForeignKey) and field.concrete
        _ATTNAMES[(model, name)] = field.attname if concrete else None  # type: ignore[union-attr]
    return _ATTNAMES[(model, name)]


class _Inserts:
    """Rows inserted per table, and per parent table the rows inserted as the parent row of a
    multi-table child (a save inserts the parents' rows right before the child's): what a load
    created, without reading the database."""

    def __init__(self) -> None:
        self.rows: Counter[str] = Counter()
        self.as_parent: Counter[str] = Counter()
        self._run: deque[str] = deque(maxlen=16)
        self._parents: dict[str, set[str]] | None = None
        self._all_parents: set[str] = set()  # filled with _parents

    def add(self, table: str, count: int) -> None:
        parents = self._parent_tables().get(table, set())
        if count == 1 and parents:
            seen: set[str] = set()
            for previous in reversed(self._run):
                if previous not in parents or previous in seen:
                    break
                seen.add(previous)
                self.as_parent[previous] += 1
        if count != 1 or table not in self._all_parents:
            self._run.clear()
        self._run.append(table)
        self.rows[table] += count

    def _parent_tables(self) -> dict[str, set[str]]:
        if self._parents is None:
            self._parents = {
                model._meta.db_table: {parent._meta.db_table for parent, link in model._meta.parents.items() if link}
                for model in apps.get_models()
                if model._meta.parents and not model._meta.proxy
            }
            self._all_parents = {table for tables in self._parents.values() for table in tables}
        return self._parents

    def models(self) -> list[type[models.Model]]:
        """The models whose tables received rows."""
        owners = {
            model._meta.db_table: model
            for model in apps.get_models(include_auto_created=True)
            if not model._meta.proxy and model._meta.managed
        }
        return [owners[table] for table in sorted(self.rows) if table in owners]

    def objects(self) -> dict[str, int]:
        """Objects created per model label (a multi-table child once, as its own model)."""
        owners = {
            model._meta.db_table: model
            for model in apps.get_models(include_auto_created=True)
            if not model._meta.proxy and model._meta.managed
        }
        found: dict[str, int] = {}
        for table, count in self.rows.items():
            model = owners.get(table)
            if model is not None and count - self.as_parent[table] > 0:
                label = model._meta.label
                found[label] = found.get(label, 0) + count - self.as_parent[table]
        return dict(sorted(found.items()))


_CREATING = {"create", "bulk_create", "get_or_create", "update_or_create"}


def _created_through(call: ast.Call) -> str | None:
    """``Tag`` for ``Tag.objects.using(using).create(...)`` (and bulk_create, get_or_create,
    update_or_create): the class a manager call creates rows of."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr in _CREATING):
        return None
    node: ast.expr = call.func.value
    while isinstance(node, ast.Attribute | ast.Call):
        node = node.value if isinstance(node, ast.Attribute) else node.func
    return node.id if isinstance(node, ast.Name) else None


def created_models(source: bytes, filename: str) -> list[type[models.Model]]:
    """Models the script creates rows of by name (``Poll(...)``, ``Poll.objects.create(...)``,
    ``bulk_create``, ``get_or_create``, ``update_or_create``): what ``--replace`` clears.

    Names are resolved by running only the script's top-level imports.
    """
    tree = ast.parse(source)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    called = {node.func.id for node in calls if isinstance(node.func, ast.Name)}
    called |= {name for name in map(_created_through, calls) if name}
    imports = ast.Module(
        body=[node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)], type_ignores=[]
    )
    namespace: dict[str, Any] = {"__name__": "dumpscript_imports"}
    exec(compile(imports, filename, "exec", dont_inherit=True), namespace)
    found = []
    for name in sorted(called):
        value = namespace.get(name)
        if isinstance(value, type) and issubclass(value, models.Model) and not value._meta.abstract:
            concrete = value._meta.concrete_model
            if concrete is not None and concrete not in found:
                found.append(concrete)
    return found


def _script(path: str | os.PathLike[str], using: str) -> Path:
    """The script at ``path``, once the database exists and the file is not a fixture."""
    check_database(using)
    script = Path(path).resolve()
    _refuse_fixture(script, path)
    return script


_FIXTURE_SUFFIXES = {".json", ".jsonl", ".xml", ".yaml", ".yml"}


def _refuse_fixture(script: Path, given: str | os.PathLike[str]) -> None:
    """A fixture (JSON, YAML, XML) given to a load of scripts: a one-line error, not a run of
    its text as Python (JSON is a valid Python expression that creates nothing)."""
    suffixes = {suffix.lower() for suffix in script.suffixes}
    try:
        with script.open("rb") as file:
            head = file.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return  # the load says why it cannot read it
    looks_like = head[:1] in (b"[", b"{") or head.startswith(b"<?xml") or head.startswith(b"- model:")
    if suffixes & _FIXTURE_SUFFIXES or looks_like:
        raise ScriptError(
            f"{given} is a fixture, not a dumpscript script: load fixtures with manage.py loaddata; nothing was loaded"
        )


def _exit_failure(path: Path, error: SystemExit) -> ScriptError:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if Path(frame.filename) == path]
    where = f", line {frames[-1].lineno}" if frames else ""
    code = error.code if error.code is not None else 0
    return ScriptError(f"{path}{where}: the script called sys.exit({code!r}) before it finished; nothing was loaded")


def _replaced(script: Path, using: str) -> Iterator[models.QuerySet[Any]]:
    """The rows ``replace`` deletes: every row of each model the script creates, through the
    root of a multi-table chain (so that other children of the same parent rows go too;
    Django leaves them dangling otherwise)."""
    for model in created_models(script.read_bytes(), str(script)):
        root = root_model(model)
        rows = root._base_manager.using(using).all()
        if root is not model:
            rows = rows.filter(pk__in=model._base_manager.using(using).values("pk"))
        yield rows


def _delete_created(script: Path, using: str) -> dict[str, int]:
    deleted: Counter[str] = Counter()
    for rows in _replaced(script, using):
        _, per_label = rows.delete()
        deleted.update({label: count for label, count in per_label.items() if count})
    return dict(sorted(deleted.items()))


def replace_preview(path: str | os.PathLike[str], *, using: str = DEFAULT_DB_ALIAS) -> ReplacePreview:
    """What a load of ``path`` with ``replace`` would delete in ``using``, per model label,
    cascades included (as Django's delete collects them), without deleting anything or
    sending a signal; and which of those models the script creates again."""
    from django.db.models.deletion import Collector, ProtectedError, RestrictedError

    script = _script(path, using)
    try:
        source = script.read_bytes()
        created = {model._meta.label for model in created_models(source, str(script))}
    except OSError as error:
        raise ScriptError(f"Cannot read script {path}: {error.strerror or error}") from None
    except SyntaxError as error:
        raise ScriptError(f"Cannot read script {path}: {error.msg} at line {error.lineno}") from None
    created |= set(_announced(source))  # the links it creates too
    collector = Collector(using=using)
    try:
        for rows in _replaced(script, using):
            collector.collect(rows)
    except (ProtectedError, RestrictedError) as error:
        raise ScriptError(f"{path}: --replace cannot delete the rows: {error.args[0]}") from None
    keys: dict[str, set[Any]] = {}  # a row that two deletes reach is deleted once
    for model, instances in collector.data.items():
        keys.setdefault(model._meta.label, set()).update(obj.pk for obj in instances)
    for queryset in collector.fast_deletes:
        keys.setdefault(queryset.model._meta.label, set()).update(queryset.values_list("pk", flat=True))
    deleted = {label: len(pks) for label, pks in sorted(keys.items()) if pks}
    return ReplacePreview(deleted, frozenset(created))


def _announced(source: bytes) -> dict[str, int]:
    """The rows per model label that a generated script's docstring announces."""
    head = source[: 1 << 16].decode("utf-8", "replace")
    if not head.lstrip().startswith('"""'):
        return {}
    doc = head.lstrip()[3:].partition('"""')[0].partition("\n\nMatch ")[0]
    return {label: int(number) for label, number in _COUNT_LINE.findall(doc)}


@dataclass(frozen=True)
class ReplacePreview:
    """What ``replace`` deletes, per model label, and the labels the script creates again."""

    deleted: dict[str, int]
    created: frozenset[str]

    @property
    def others(self) -> dict[str, int]:
        """Rows deleted of models the script does not create (cascades, links)."""
        return {label: count for label, count in self.deleted.items() if label not in self.created}

    def lines(self, verb: str = "Delete") -> list[str]:
        """One line a model: the rows of models the script does not create first."""
        others = self.others
        lines = [f"{verb} {count} {label} (not in the script)" for label, count in others.items()]
        lines += [f"{verb} {count} {label}" for label, count in self.deleted.items() if label not in others]
        return lines


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {label}" for label, count in counts.items()) or "no rows"


def _failure(path: Path, error: BaseException) -> ScriptError:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if Path(frame.filename) == path]
    message = " ".join(str(error).split()) or type(error).__name__
    if not frames:
        return ScriptError(f"{path}: {type(error).__name__}: {message}; nothing was loaded")
    frame = frames[-1]
    code = (frame.line or "").strip()
    if len(code) > 80:
        code = code[:77] + "..."
    culprit = find_culprit(path, error)
    if culprit is not None:  # the object of a batch, on its own line
        text = (
            f"{path}, {culprit.text()} ({type(error).__name__}: {message}, in the batch at line {frame.lineno}); "
            "nothing was loaded"
        )
        return ScriptError(text)
    text = f"{path}, line {frame.lineno}: {type(error).__name__}: {message} (in `{code}`); nothing was loaded"
    if isinstance(error, IntegrityError) and ("unique" in message.lower() or "duplicate" in message.lower()):
        return ConflictError(
            f"{text} (rows already in the database: a data migration's rows? declare them in DUMPSCRIPT_MATCH, "
            "dump with --upsert, or load with --replace)"
        )
    return ScriptError(text)


_COUNT_LINE = re.compile(r"^    ([\w.]+): (\d+)$", re.MULTILINE)


def _expected_rows(code: types.CodeType) -> int | None:
    """The object count a generated script's docstring announces (None for other scripts)."""
    doc = code.co_consts[0] if code.co_consts and isinstance(code.co_consts[0], str) else ""
    doc = doc.partition("\n\nMatch ")[0]  # rows matched in the target may insert nothing
    counts = [int(number) for _, number in _COUNT_LINE.findall(doc)]
    return sum(counts) or None


_INSERT = re.compile(r"\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+[\"`\[]?([^\"`\]\s(]+)", re.IGNORECASE)
"""An INSERT and its table (SQLite's ``INSERT OR IGNORE`` of links and upserts too)."""


def _reset_sequences(using: str, touched: list[type[models.Model]]) -> None:
    """Move the key sequences of the tables a load wrote to past their largest key (as
    ``loaddata`` does), so that the application's next insert does not collide with keys the
    script gave explicitly (``--keep-pks``)."""
    if not touched:
        return
    from django.core.management.color import no_style

    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(no_style(), touched)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _inserted_rows(sql: str, params: Any, many: bool, rowcount: int | None) -> int:
    """Rows an INSERT wrote: the cursor's count, unless the statement returns rows (the count
    is known only once they are read): then from its parameters."""
    if rowcount is not None and rowcount >= 0 and "RETURNING" not in sql.upper():
        return rowcount
    if not params:
        return 1
    if many:
        return len(params)
    if "UNNEST" in sql.upper() and isinstance(params[0], list | tuple):  # PostgreSQL: one array a column
        return len(params[0])
    start = sql.find("(")
    end = sql.find(")", start)
    columns = sql[start + 1 : end].count(",") + 1 if 0 <= start < end else 1
    return max(len(params) // columns, 1)


@contextlib.contextmanager
def _count_inserts(using: str, progress: Progress, inserted: _Inserts) -> Iterator[None]:
    """Count the rows each INSERT writes, per table, into ``inserted`` (and advance
    ``progress``): what a load reports, without reading the database."""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        result = execute(sql, params, many, context)
        match = _INSERT.match(sql)
        if match:
            rowcount = _inserted_rows(sql, params, many, getattr(context.get("cursor"), "rowcount", -1))
            inserted.add(match.group(1), rowcount)
            progress.advance(match.group(1), max(rowcount, 1))
        return result

    with contextlib.ExitStack() as stack:
        stack.enter_context(connections[using].execute_wrapper(wrapper))
        for alias in connections:
            if alias != using:
                stack.enter_context(connections[alias].execute_wrapper(_read_only(alias, using)))
        yield


class OtherDatabaseWrite(Exception):
    """A script wrote to a database other than the one it is loaded into."""


_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|TRUNCATE|ALTER|DROP|CREATE)\b", re.IGNORECASE)


def _read_only(alias: str, using: str) -> Any:
    """An execute wrapper that refuses writes to ``alias`` while a load goes into ``using``:
    a statement without ``.using(using)`` would write to another database, outside the load's
    transaction (and its dry run)."""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        if _WRITE.match(sql):
            raise OtherDatabaseWrite(
                f"the script writes to database {alias!r} while it is loaded into {using!r} "
                "(a statement without .using(using)?)"
            )
        return execute(sql, params, many, context)

    return wrapper


def load_script(
    path: str | os.PathLike[str],
    *,
    using: str = DEFAULT_DB_ALIAS,
    dry_run: bool = False,
    replace: bool = False,
    expect_deleted: dict[str, int] | None = None,
    progress: Progress = NO_PROGRESS,
) -> LoadResult:
    """Run the script at ``path`` into database ``using``, all in one transaction.

    ``expect_deleted`` (what :func:`replace_preview` counted, shown to the user) makes a
    ``replace`` refuse, deleting nothing, when it would delete anything else.

    The script's module code runs, then its ``run(using=...)`` function if it has one. With
    ``replace`` the rows of the models the script constructs are deleted first (cascading as
    Django does), in the same transaction. With ``dry_run`` everything is rolled back and the
    result says what would have been created. A write to any other database (a statement
    without ``.using(using)``) is refused: it would escape the transaction and the dry run.
    On any error nothing is written and a :class:`ScriptError` names the script line.
    """
    script = _script(path, using)
    try:
        layout = _layout(script)
    except OSError as error:
        raise ScriptError(f"Cannot read script {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, ValueError):
        layout = None
    if layout is not None:
        try:
            return _load(script, layout, None, using, dry_run, replace, expect_deleted, progress)
        except _NotChunkable:
            pass  # rolled back; run it the plain way, which also reports a syntax error well
    return _load(script, None, _read(script), using, dry_run, replace, expect_deleted, progress)


def _load(
    script: Path,
    layout: _Layout | None,
    code: types.CodeType | None,
    using: str,
    dry_run: bool,
    replace: bool,
    expect_deleted: dict[str, int] | None,
    progress: Progress,
) -> LoadResult:
    module = types.ModuleType(f"dumpscript_loaded_{abs(hash(str(script)))}")
    module.__file__ = str(script)
    namespace = module.__dict__
    result = LoadResult(dry_run=dry_run)
    inserted = _Inserts()

    def start_progress(head: types.CodeType) -> None:
        progress.start("loading", _expected_rows(head))

    try:
        with transaction.atomic(using=using):
            if replace:
                result.deleted = _delete_created(script, using)
                if expect_deleted is not None and result.deleted != expect_deleted:
                    raise ScriptError(
                        f"{script}: the rows --replace deletes changed since they were counted "
                        f"({_counts_text(expect_deleted)} then, {_counts_text(result.deleted)} now); "
                        "nothing was deleted or loaded"
                    )
            with _count_inserts(using, progress, inserted):
                if layout is not None:
                    _run_in_pieces(script, layout, namespace, using, start_progress)
                else:
                    assert code is not None
                    start_progress(code)
                    exec(code, namespace)
                    run = namespace.get("run")
                    if callable(run):
                        if "using" in inspect.signature(run).parameters:
                            run(using=using)
                        else:
                            run()
            progress.finish()
            result.created = inserted.objects()
            if not dry_run:  # setval is not rolled back: a dry run leaves the sequences alone
                _reset_sequences(using, inserted.models())
            if dry_run:
                transaction.set_rollback(True, using=using)
    except (ScriptError, _NotChunkable):
        progress.finish()
        raise
    except SystemExit as error:  # exit() in the script: rolled back, and said so
        progress.finish()
        raise _exit_failure(script, error) from None
    except Exception as error:
        progress.finish()
        raise _failure(script, error) from error
    return result
