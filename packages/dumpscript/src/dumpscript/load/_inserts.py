"""What a load wrote, counted from its INSERT statements (no table is read to count), and
the guard that keeps every other database read-only during a load."""

from __future__ import annotations

import contextlib
import re
from collections import Counter, deque
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.db import connections, models

from dumpscript._progress import Progress


class Inserts:
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


_INSERT = re.compile(r"\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+[\"`\[]?([^\"`\]\s(]+)", re.IGNORECASE)
"""An INSERT and its table (SQLite's ``INSERT OR IGNORE`` of links and upserts too)."""


def reset_sequences(using: str, touched: list[type[models.Model]]) -> None:
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
def count_inserts(using: str, progress: Progress, inserted: Inserts) -> Iterator[None]:
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
