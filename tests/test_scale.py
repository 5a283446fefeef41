"""The script's shape at scale: batches, defaults left out, loading a long script in pieces.

Counts only (statements, queries, megabytes), never wall-clock times: the timings live in
``nox -s bench``.
"""

from __future__ import annotations

import decimal
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

from conftest import TESTS, Databases, dump, write
from dumpscript import ScriptError, load_script
from dumpscript.load import _pieces as loading
from testproject import bulk, sample
from testproject.snapshot import Snapshot
from testproject.testapp import models as m

pytestmark = pytest.mark.once  # heavy or wide: runs on the default Python/Django pair only (noxfile)


def test_values_equal_to_the_model_default_are_left_out(dbs: Databases) -> None:
    objects = m.Sample.objects.using("default")
    objects.create(label="plain")  # every other field at its default
    objects.create(label="set", integer=7, flag=True, size=m.Sample.Size.LARGE, text="words", data={})
    text = dump("testapp.Sample")
    assert 'Sample(label="plain"),' in text
    assert re.search(r'Sample\(\s*label="set",\s*text="words",\s*flag=True,\s*integer=7,\s*data={},', text)
    assert 'size="L"' in text and 'size="S"' not in text
    full = dump("testapp.Sample", all_fields=True)
    assert "integer=0" in full and 'size="S"' in full and "nothing=None" in full
    for script in (text, full):
        load_script(write(dbs, script), using="other")
        assert Snapshot("other").contents() == Snapshot("default").contents()
        m.Sample.objects.using("other").all().delete()


@pytest.mark.parametrize(
    ("value", "default", "same"),
    [
        (0, 0, True),
        (False, 0, False),  # a different type is always written
        (-0.0, 0.0, False),
        (float("nan"), float("nan"), True),
        (decimal.Decimal("0E-10"), decimal.Decimal("0"), False),
        (decimal.Decimal("1.50"), decimal.Decimal("1.50"), True),
        ("", "", True),
        (None, None, True),
    ],
)
def test_default_comparison_is_exact(value: object, default: object, same: bool) -> None:
    from dumpscript.writer._arguments import is_default

    assert is_default(value, default) is same


def test_one_bulk_create_per_thousand_objects(dbs: Databases) -> None:
    bulk.build(12000)
    books = m.Book.objects.using("default").count()
    assert books > 1000
    text = dump("testapp")
    assert text.count("Book.objects.using(using).bulk_create([") == -(-books // 1000)
    links = m.Book.tags.through.objects.using("default").count()
    assert text.count("Book_tags.objects.using(using).bulk_create([") == -(-links // 1000)
    script = write(dbs, text)
    with CaptureQueriesContext(connections["other"]) as queries:
        result = load_script(script, using="other")
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    rows = result.total
    # a bulk_create is one INSERT per batch the backend allows (SQLite caps the parameters)
    # one INSERT per batch the backend allows (SQLite caps the parameters of one statement);
    # only multi-table models (places, restaurants) are saved one by one
    assert text.count(".bulk_create(") <= len(inserts) < rows // 10
    assert Snapshot("other").contents() == Snapshot("default").contents()


def test_a_long_script_loads_in_pieces_with_the_same_result(dbs: Databases, monkeypatch: pytest.MonkeyPatch) -> None:
    sample.fill("default")
    bulk.build(1000)
    text = dump("testapp")
    compiled: list[int] = []
    original = loading._compile_at

    def counting(lines: list[str], first: int, path: Path, indented: bool = False):  # type: ignore[no-untyped-def]
        if indented:
            compiled.append(len(lines))
        return original(lines, first, path, indented)

    monkeypatch.setattr(loading, "CHUNK_LINES", 200)
    monkeypatch.setattr(loading, "_compile_at", counting)
    load_script(write(dbs, text), using="other")
    assert len(compiled) >= 5  # run()'s body was compiled a piece at a time
    assert Snapshot("other").contents() == Snapshot("default").contents()


def test_saved_objects_read_their_links_again_in_later_pieces(dbs: Databases, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between pieces the loader drops the related objects that saved objects cache (memory);
    a hand-edited script that follows a link later gets the same row, and links to objects
    not saved yet are kept."""
    script = textwrap.dedent(
        """
        from django.db import DEFAULT_DB_ALIAS

        from testproject.testapp.models import Author, Book


        def run(using=DEFAULT_DB_ALIAS):
            ada = Author(name="Ada", email="ada@example.com")
            ada.save(using=using)
            book = Book(title="Notes", author=ada)
            book.save(using=using)
            assert "author" not in book._state.fields_cache  # a later piece: dropped
            Book(title=book.author.name + "'s sequel", author=book.author).save(using=using)
            grace = Author(name="Grace", email="grace@example.com")
            book.author = grace  # not saved yet: the link lives in the cache only
            grace.save(using=using)
            book.save(using=using)
        """
    )
    monkeypatch.setattr(loading, "CHUNK_LINES", 1)
    result = load_script(write(dbs, script), using="other")
    assert result.created == {"testapp.Author": 2, "testapp.Book": 2}
    titles = dict(m.Book.objects.using("other").values_list("title", "author__name"))
    assert titles == {"Notes": "Grace", "Ada's sequel": "Ada"}


def test_an_error_in_a_later_piece_names_its_line_and_loads_nothing(
    dbs: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk.build(1000)
    lines = dump("testapp.Tag", "testapp.Author").splitlines(keepends=True)
    body = [n for n, line in enumerate(lines) if line.startswith("    Author.objects")]
    broken = body[-1]
    lines.insert(broken, "    Author.objects.using(using).get(name='nobody')\n")
    monkeypatch.setattr(loading, "CHUNK_LINES", 50)
    with pytest.raises(ScriptError, match=rf"line {broken + 1}: DoesNotExist: .*get\(name='nobody'\)"):
        load_script(write(dbs, "".join(lines)), using="other")
    assert m.Tag.objects.using("other").count() == 0


def test_a_hand_written_run_that_cannot_be_split_still_loads(dbs: Databases, monkeypatch: pytest.MonkeyPatch) -> None:
    script = textwrap.dedent(
        """
        from testproject.testapp.models import Tag


        def run(using="default"):
            made = []
            for number in range(3):
                made.append(Tag(name=f"tag {number}"))
            if made:
                Tag.objects.using(using).bulk_create(made)
            else:
                raise SystemExit("nothing")
            if len(made) < 10:
                return
            Tag.objects.using(using).create(name="never")
        """
    )
    monkeypatch.setattr(loading, "CHUNK_LINES", 1)
    result = load_script(write(dbs, script), using="other")
    assert result.created == {"testapp.Tag": 3}
    assert sorted(m.Tag.objects.using("other").values_list("name", flat=True)) == ["tag 0", "tag 1", "tag 2"]


def _peak_mb(dbs: Databases, *args: str) -> float:
    """Run ``manage.py`` with ``args`` in a child process; its peak resident set in MB."""
    probe = textwrap.dedent(
        """
        import resource, runpy, sys
        sys.argv = [sys.argv[1], *sys.argv[2:]]
        try:
            runpy.run_path(sys.argv[0], run_name="__main__")
        finally:
            # VmHWM is this program's peak; ru_maxrss keeps the peak of the forked parent too.
            try:
                with open("/proc/self/status") as status:
                    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
            except OSError:
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print("PEAK", peak, file=sys.stderr)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(TESTS / "manage.py"), *args],
        cwd=dbs.workdir,
        env=dbs.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    (peak,) = re.findall(r"^PEAK (\d+)$", done.stderr, re.MULTILINE)
    return int(peak) / 1024


def test_load_memory_does_not_grow_with_script_length(dbs: Databases) -> None:
    """Compiling run() whole costs about 25 kB a row; loaded in pieces, a row costs what its
    object costs while it is referenced."""
    small, large = dbs.workdir / "small_data.py", dbs.workdir / "large_data.py"
    bulk.build(1500)
    small.write_text(dump("testapp"), encoding="utf-8")
    call_command("flush", database="default", interactive=False, verbosity=0)
    bulk.build(12000)
    large.write_text(dump("testapp"), encoding="utf-8")
    extra_lines = large.read_text(encoding="utf-8").count("\n") - small.read_text(encoding="utf-8").count("\n")
    assert extra_lines > 50_000
    first = _peak_mb(dbs, "loadscript", str(small), "--database", "other", "--dry-run")
    second = _peak_mb(dbs, "loadscript", str(large), "--database", "other", "--dry-run")
    assert second - first < 60, (first, second)


def test_load_reports_what_it_inserted_without_reading_the_database(dbs: Databases) -> None:
    """The report comes from the INSERTs the load ran: no query counts the rows of any table
    (a COUNT(*) of every table of a large project cost more than the load)."""
    m.Tag.objects.using("other").create(name="already there")
    sample.fill("default")
    path = write(dbs, dump("testapp"))
    with CaptureQueriesContext(connections["other"]) as captured:
        result = load_script(path, using="other")
    assert not [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert result.created["testapp.Tag"] == 4  # not the row that was there before
    assert result.created["testapp.Restaurant"] == 1  # the Italian restaurant is not counted twice
    assert result.created["testapp.Place"] == 1 and result.created["testapp.Bar"] == 2
    assert result.created["testapp.Book_tags"] == m.Book.tags.through.objects.count()


def test_a_script_that_cannot_be_split_runs_once(dbs: Databases, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every piece is compiled before any runs: a later piece that does not compile on its own
    (``return`` in ``run()``'s body) sends the load to the whole-file path before a statement
    ran, so side effects outside the database (a file, a signal, a sequence) happen once."""
    marks = dbs.workdir / "marks.txt"
    script = textwrap.dedent(
        f"""
        from testproject.testapp.models import Tag


        def run(using):
            with open({str(marks)!r}, "a") as marks:
                marks.write("ran\\n")
            Tag.objects.using(using).create(name="first")
            if Tag.objects.using(using).count() > 5:
                return
            Tag.objects.using(using).create(name="second")
        """
    )
    monkeypatch.setattr(loading, "CHUNK_LINES", 1)
    result = load_script(write(dbs, script), using="other")
    assert result.created == {"testapp.Tag": 2}
    assert marks.read_text() == "ran\n"
