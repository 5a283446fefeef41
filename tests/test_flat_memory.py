"""Dumps in flat memory: queries that grow with chunks of rows, memory that does not grow with
rows, a large script written by two processes."""

from __future__ import annotations

import io
import math
import re
import tempfile
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from test_scale import _peak_mb

from conftest import Databases
from dumpscript import CycleError, DumpOptions, dump_script
from dumpscript._api import plan_dump
from dumpscript._progress import Progress
from dumpscript.graph import RANGE_ROWS, Graph
from dumpscript.script.imports import ImportSet
from dumpscript.selection import Selection
from dumpscript.writer import ScriptWriter
from dumpscript.writer import _parallel as parallel
from testproject import bulk, sample
from testproject.testapp import models as m

pytestmark = pytest.mark.once  # heavy or wide: runs on the default Python/Django pair only (noxfile)


def test_an_unbreakable_cycle_names_its_objects_and_fields(dbs: Databases) -> None:
    sample.unbreakable_cycle()
    with pytest.raises(CycleError) as raised:
        dump_script("cycleapp")
    assert str(raised.value) == (
        "Cannot order cycleapp.Husband, cycleapp.Wife: unbreakable cycle cycleapp.Husband(pk=1).wife → "
        "cycleapp.Wife(pk=1).husband → cycleapp.Husband(pk=1); every field in it must be set when its object is "
        "created (NOT NULL and unique, a parent link, or a database that checks foreign keys at once), so no "
        "object can be created first (make one of these fields nullable, or exclude one of the models)"
    )


def test_bulk_data_across_chunks(dbs: Databases) -> None:
    """More rows than one query reads (several chunks per model), trees ordered by level; the
    text is compared with the recorded one in ``test_golden``."""
    bulk.build(3 * RANGE_ROWS)
    text = dump_script("testapp")
    # Books are read again a chunk at a time: some chunks by key range, some by key list.
    assert text.count("Book(title=") == m.Book.objects.count()


def _rows() -> dict[str, int]:
    return {model._meta.label: model._base_manager.count() for model in apps.get_app_config("testapp").get_models()}


def test_queries_grow_with_chunks_of_rows_not_with_rows(dbs: Databases) -> None:
    bulk.build(20 * RANGE_ROWS)
    rows = _rows()
    with CaptureQueriesContext(connections["default"]) as captured:
        dump_script("testapp")
    chunks = sum(math.ceil(count / RANGE_ROWS) for count in rows.values())
    links = m.Book.tags.through.objects.count() + m.Place.tags.through.objects.count()
    # Per model: its keys, its references, its values (each by chunks), plus one query per
    # many-to-many field and a few for content types.
    assert len(captured.captured_queries) <= 3 * chunks + 3 * len(rows), len(captured.captured_queries)
    assert len(captured.captured_queries) < sum(rows.values()) / 100
    assert links > 0


MEMORY_CASES = {
    "default": ["testapp"],
    "natural-foreign": ["testapp", "--exclude", "testapp.Tag", "--natural-foreign"],
    "lookup": ["testapp", "--exclude", "testapp.Author", "--lookup", "testapp.Author=email"],
    "save-each": ["testapp", "--save-each"],
    "all-fields": ["testapp", "--all-fields"],
    "keep-pks": ["testapp", "--keep-pks"],
    "filter": ["testapp.Book", "testapp.Sample", "testapp.Note", "--filter", "pk__gt=10"],
    "subset": ["testapp.Author", "--filter", "pk__gt=0", "--follow", "testapp.Author.followers"],
}


def test_dump_memory_does_not_grow_with_rows_with_any_option(dbs: Databases) -> None:
    """Every option dumps in flat memory: 2,000 and 42,000 rows peak within 25 MB of each other
    (an object per row would cost about 65 MB more; what grows is the allocator's slack)."""
    peaks: dict[str, list[float]] = {name: [] for name in MEMORY_CASES}
    sizes: dict[str, list[int]] = {name: [] for name in MEMORY_CASES}
    for rows in (2000, 42000):
        call_command("flush", database="default", interactive=False, verbosity=0)
        bulk.build(rows)
        for name, args in MEMORY_CASES.items():
            output = f"{name.replace('-', '_')}_{rows}_data.py"
            peaks[name].append(_peak_mb(dbs, "dumpscript", *args, "-o", output))
            sizes[name].append((dbs.workdir / output).stat().st_size)
    for name in MEMORY_CASES:
        small, large = peaks[name]
        assert sizes[name][1] > 10 * sizes[name][0], (name, sizes[name])
        assert large - small < 25, (name, small, large)


def test_a_graph_is_arrays_of_keys(dbs: Databases) -> None:
    """What the flat-memory graph keeps: sorted keys and a byte or two per object."""
    bulk.build(3000)
    graph = Graph(Selection([m.Book, m.Tag]), using="default")
    books = graph.by_model[m.Book]
    assert list(books.keys) == sorted(m.Book.objects.values_list("pk", flat=True))
    assert books.keys.itemsize == 8  # an array of integers, not Python objects
    assert books.outside.count(1) == 0
    authors = graph.by_model[m.Author]  # pulled in by the books
    assert authors.outside.count(1) == len(authors) == m.Author.objects.count()


def test_plain_models_are_written_straight_from_their_rows(dbs: Databases) -> None:
    """Models without generic relations, auto_now fields, inheritance or deferred links take
    the compiled row writer; the others the general one (same text, checked above)."""
    bulk.build(3000)
    graph, plan = plan_dump(("testapp",), DumpOptions())
    writer = ScriptWriter(graph, plan)
    plain = {m._meta.label for m in graph.present() if writer.objects.compiled(m)}
    assert {"testapp.Sample", "testapp.Book", "testapp.Review", "testapp.Category"} <= plain
    assert not plain & {"testapp.Note", "testapp.Restaurant", "testapp.Place"}


def test_two_processes_write_the_same_script(dbs: Databases, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked process writes the second half, reading the same snapshot; its text is used."""
    bulk.build(3 * RANGE_ROWS)
    sample.fill()
    monkeypatch.setattr(parallel, "PARALLEL_ROWS", 100)
    used: list[bool] = []
    original = parallel.Child.result

    def result(self: parallel.Child, imports: ImportSet):  # type: ignore[no-untyped-def]
        text = original(self, imports)
        used.append(text is not None)
        return text

    monkeypatch.setattr(parallel.Child, "result", result)
    one = dump_script("testapp", options=DumpOptions(workers=1))
    assert used == []
    two = dump_script("testapp", options=DumpOptions(workers=2))
    assert used == [True]
    assert two == one


def test_a_second_process_that_fails_leaves_its_half_to_the_first(
    dbs: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk.build(3 * RANGE_ROWS)
    monkeypatch.setattr(parallel, "PARALLEL_ROWS", 100)

    def broken(using: str, snapshot_id: str | None) -> None:
        raise RuntimeError("no connection")

    monkeypatch.setattr(parallel, "reconnect", broken)
    two = dump_script("testapp", options=DumpOptions(workers=2))
    assert two == dump_script("testapp", options=DumpOptions(workers=1))
    assert not list(Path(tempfile.gettempdir()).glob("dumpscript-*.part*"))  # its file is gone


def test_inside_a_callers_transaction_one_process_writes(dbs: Databases, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked process could not see rows the caller has not committed."""
    monkeypatch.setattr(parallel, "PARALLEL_ROWS", 100)
    forks: list[int] = []
    monkeypatch.setattr(parallel, "fork", lambda *args: forks.append(1))
    with transaction.atomic(using="default"):
        bulk.build(3 * RANGE_ROWS)
        text = dump_script("testapp", options=DumpOptions(workers=2))
    assert forks == []
    assert text.count("Book(title=") == m.Book.objects.count()


def test_with_two_processes_the_progress_line_counts_every_row(dbs: Databases, monkeypatch: pytest.MonkeyPatch) -> None:
    bulk.build(3 * RANGE_ROWS)
    monkeypatch.setattr(parallel, "PARALLEL_ROWS", 100)
    seen: list[tuple[str, int, int | None]] = []

    class Recording(Progress):
        def finish(self) -> None:
            seen.append((self.phase, self.done, self.total))
            super().finish()

    text = dump_script("testapp", options=DumpOptions(workers=2), progress=Recording(io.StringIO()))
    phase, done, total = seen[-1]
    docstring = text.partition("\n\nLoad it with")[0]
    listed = {label: int(count) for label, count in re.findall(r"^    ([\w.]+): (\d+)$", docstring, re.M)}
    # The progress counts objects; the docstring rows, many-to-many links included.
    objects = sum(count for label, count in listed.items() if not apps.get_model(label)._meta.auto_created)
    assert phase == "writing"
    assert done == total == objects > 100
