"""Inserting a dump into a script a person has edited: the exact text, and the loaded contents."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from conftest import Databases
from dumpscript import DumpOptions, dump_script, load_script
from dumpscript.transforms import TransformError, insert_dump
from testproject import sample
from testproject.snapshot import Snapshot
from testproject.testapp import models as m


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _authors_and_books() -> None:
    ann = m.Author.objects.create(name="Ann", email="ann@example.com")
    bob = m.Author.objects.create(name="Bob", email="bob@example.com")
    red = m.Tag.objects.create(name="red")
    first = m.Book.objects.create(title="First", author=ann)
    first.tags.add(red)
    m.Book.objects.create(title="Second", author=bob)


def _load_into_other(dbs: Databases, text: str, name: str = "edited_data.py") -> object:
    path = dbs.workdir / name
    path.write_text(text, encoding="utf-8")
    load_script(path, using="other")
    return Snapshot("other").contents()


HAND_WRITTEN = src(
    '''
    """Demo data, written by hand."""

    from testproject.testapp.models import Author  # our authors

    ANN_EMAIL = "ann@example.com"


    def run(using="default"):
        # The first author; book_1 is a name used in this comment only.
        ann = Author.objects.using(using).create(name='Ann', email=ANN_EMAIL.lower())
        author_3 = Author.objects.using(using).create(name="Bob", email='bob@example.com')
        return ann

    '''
)


def test_insert_into_a_hand_written_script(dbs: Databases) -> None:
    _authors_and_books()
    change = insert_dump(HAND_WRITTEN, "testapp.Book", line=12, name="demo.py")
    # Bob's block matches the dump exactly: reused. Ann's email is an expression, not the
    # dumped literal: she is created again (under a new name, numbered after author_3).
    assert change.text == src(
        '''
        """Demo data, written by hand."""

        from testproject.testapp.models import Author, Book, Tag  # our authors

        ANN_EMAIL = "ann@example.com"


        def run(using="default"):
            # The first author; book_1 is a name used in this comment only.
            ann = Author.objects.using(using).create(name='Ann', email=ANN_EMAIL.lower())
            author_3 = Author.objects.using(using).create(name="Bob", email='bob@example.com')

            # testapp.Author
            author_4 = Author(name="Ann", email="ann@example.com")
            Author.objects.using(using).bulk_create([author_4])

            # testapp.Book
            book_2 = Book(title="First", author=author_4)
            Book.objects.using(using).bulk_create([
                book_2,
                Book(title="Second", author=author_3),
            ])

            # testapp.Tag
            tag_1 = Tag(name="red")
            Tag.objects.using(using).bulk_create([tag_1])

            # testapp.Book.tags
            Book_tags = Book.tags.through
            Book_tags.objects.using(using).bulk_create([
                Book_tags(book=book_2, tag=tag_1),
            ])

            return ann

        '''
    )
    assert change.summary == (
        "Inserted 5 rows (testapp.Author: 1, testapp.Book: 2, testapp.Book_tags: 1, testapp.Tag: 1) at line 12; "
        "reused 1 the script already creates (author_3)"
    )


def test_reuses_what_the_script_creates_and_loads_the_same_contents(dbs: Databases) -> None:
    sample.fill("default")
    expected = Snapshot("default").contents()
    # A person dumped the authors and tags, then edited the script.
    text = dump_script("testapp.Author", "testapp.Tag")
    text = text.replace('    """Create the objects', '    # Edited by hand.\n    """Create the objects', 1)
    text = text.replace("import django\n", "import django  # the framework\n", 1)
    # Now everything else goes in too: nothing the script creates may be created twice
    # (authors' e-mails and tags' names are unique: a duplicate fails to load).
    change = insert_dump(text, "testapp", name="edited_data.py")
    assert "reused" in change.summary
    assert "# Edited by hand.\n" in change.text and "import django  # the framework\n" in change.text
    assert _load_into_other(dbs, change.text) == expected
    # Inserting the same rows once more adds nothing.
    with pytest.raises(TransformError, match="nothing to insert: the script already creates"):
        insert_dump(change.text, "testapp", name="edited_data.py")


def test_the_summary_counts_what_a_load_creates(dbs: Databases) -> None:
    """The insertion's summary, the script's docstring and the load count the same rows (links
    included; a multi-table child once), per model: the editor shows all three."""
    sample.fill("default")
    for text in (dump_script("testapp"), src("def run(using):\n    pass\n")):
        change = insert_dump(text, "testapp", "auth", name="counted_data.py") if "pass" in text else None
        script = change.text if change else text
        path = dbs.workdir / "counted_data.py"
        path.write_text(script, encoding="utf-8")
        created = load_script(path, using="other", dry_run=True).created
        if change:
            said = re.search(r"Inserted (\d+) rows \((.*)\) at line", change.summary)
        else:
            said = re.search(r"Recreate (\d+) rows through .*?\n\n(.*?)\n\n", script, re.S)
        assert said is not None, change.summary if change else script[:300]
        pairs = re.findall(r"([\w.]+): (\d+)", said.group(2))
        assert {label: int(count) for label, count in pairs} == created
        assert int(said.group(1)) == sum(created.values()) > 40


def test_list_elements_that_are_reused_get_a_variable(dbs: Databases) -> None:
    _authors_and_books()
    text = src(
        """
        from testproject.testapp.models import Author

        Author.objects.bulk_create([
            Author(name="Zed", email="zed@example.com"),
            Author(
                name="Ann",
                email="ann@example.com",
            ),
            Author(name="Bob", email="bob@example.com"),
        ])
        """
    )
    change = insert_dump(text, "testapp.Book")
    assert change.text.startswith(
        src(
            """
            from testproject.testapp.models import Author, Book, Tag

            author_1 = Author(
                name="Ann",
                email="ann@example.com",
            )
            author_2 = Author(name="Bob", email="bob@example.com")
            Author.objects.bulk_create([
                Author(name="Zed", email="zed@example.com"),
                author_1,
                author_2,
            ])

            # testapp.Book
            book_1 = Book(title="First", author=author_1)
            Book.objects.bulk_create([
                book_1,
                Book(title="Second", author=author_2),
            ])
            """
        )
    )


def test_imports_merge_into_what_the_script_has(dbs: Databases) -> None:
    _authors_and_books()
    text = src(
        """
        import datetime

        from testproject.testapp.models import (
            Author as Writer,  # who writes
            Club,
        )

        Tag = "not the model"


        def run(using):
            writer = Writer(name="Ann", email="ann@example.com")
            writer.save(using=using)
        """
    )
    change = insert_dump(text, "testapp.Book")
    assert change.text.startswith(
        src(
            """
            import datetime

            from testproject.testapp.models import (
                Author as Writer,  # who writes
                Club,
                Book,
                Tag as TestappTag,
            )

            Tag = "not the model"
            """
        )
    )
    assert 'book_1 = Book(title="First", author=writer)' in change.text
    assert 'Book(title="Second", author=author_1)' in change.text
    assert 'author_1 = Writer(name="Bob", email="bob@example.com")' in change.text
    assert "TestappTag.objects.using(using).bulk_create([tag_1])" in change.text


def test_new_imports_go_in_sorted_place_among_the_scripts_imports(dbs: Databases) -> None:
    m.Sample.objects.create(label="when", day="2024-02-29")
    text = src(
        '''
        """Doc."""

        import os  # keep

        print(os.sep)

        from testproject.testapp.models import Tag  # noqa: E402


        def run(using):
            pass
        '''
    )
    change = insert_dump(text, "testapp.Sample", line=11)
    assert change.text == src(
        '''
        """Doc."""

        import datetime
        import os  # keep

        print(os.sep)

        from testproject.testapp.models import Sample, Tag  # noqa: E402


        def run(using):
            # testapp.Sample
            Sample.objects.using(using).bulk_create([
                Sample(label="when", day=datetime.date(2024, 2, 29)),
            ])

            pass
        '''
    )


def test_a_name_the_script_binds_to_something_else_is_refused(dbs: Databases) -> None:
    m.Sample.objects.create(label="when", day="2024-02-29")
    text = "datetime = None\n\n\ndef run(using):\n    pass\n"
    with pytest.raises(TransformError, match=r"needs the module 'datetime'.*uses the name 'datetime' for something"):
        insert_dump(text, "testapp.Sample", name="s.py")


def test_where_the_code_goes(dbs: Databases) -> None:
    m.Tag.objects.create(name="red")
    text = src(
        """
        def run(using):
            for number in range(3):
                print(
                    number,
                )

        x = 1
        """
    )
    # Inside a statement: refused, naming the lines.
    with pytest.raises(TransformError, match=r"s.py: cannot insert at line 4: it is inside the statement at lines 3-5"):
        insert_dump(text, "testapp.Tag", line=4, name="s.py")
    with pytest.raises(TransformError, match=r"cannot insert at line 99: the script has lines 1 to 8"):
        insert_dump(text, "testapp.Tag", line=99, name="s.py")
    # A blank line right after a block continues it (the loop's body, indented).
    inside = insert_dump(text, "testapp.Tag", line=6).text
    assert "        )\n\n        # testapp.Tag\n        Tag.objects.using(using).bulk_create([\n" in inside
    # At module level of a script with ``run()``: into ``run()``, with ``using`` (at module
    # level the rows went to the default database, whatever database the load was for).
    top = insert_dump(text, "testapp.Tag", line=8).text
    assert "        )\n\n    # testapp.Tag\n    Tag.objects.using(using).bulk_create([\n" in top
    assert top.endswith("\nx = 1\n")
    assert top.startswith("from testproject.testapp.models import Tag\n\ndef run")


def test_code_never_goes_above_the_imports_it_needs(dbs: Databases) -> None:
    """The cursor on a model's import line of a seed file (no ``run()``): the code goes after
    the imports (before: above them, and the script failed with ``NameError``)."""
    red = m.Tag.objects.create(name="red")
    m.Book.objects.create(title="First", author=m.Author.objects.create(name="Ann", email="a@x.org")).tags.add(red)
    text = src(
        """
        from testproject.testapp.models import Author
        from testproject.testapp.models import Tag

        AUTHORS = Author.objects.count()
        """
    )
    for line in (1, 2):
        change = insert_dump(text, "testapp.Tag", line=line)
        imports_end = change.text.index("from testproject.testapp.models import Tag\n")
        assert change.text.index("Tag.objects.bulk_create") > imports_end
        m.Tag.objects.all().delete()
        namespace: dict[str, object] = {}
        exec(compile(change.text, "seed.py", "exec"), namespace)  # no NameError
        assert list(m.Tag.objects.values_list("name", flat=True)) == ["red"]


def test_errors_leave_nothing_to_write(dbs: Databases) -> None:
    with pytest.raises(TransformError, match=r"s.py: nothing to insert: the selection \(testapp.Tag\) holds no rows"):
        insert_dump("x = 1\n", "testapp.Tag", name="s.py")
    with pytest.raises(TransformError, match=r"s.py, line 1: cannot parse the script"):
        insert_dump("def (:\n", "testapp.Tag", name="s.py")


def test_a_queryset_selects_the_rows(dbs: Databases) -> None:
    _authors_and_books()
    with_books = insert_dump("", queryset=m.Author.objects.filter(name="Bob"))
    assert "Book(" in with_books.text  # a subset: Bob and the rows that belong to him
    change = insert_dump("", queryset=m.Author.objects.filter(name="Bob"), options=DumpOptions(dependents=False))
    assert change.text == src(
        """
        from testproject.testapp.models import Author

        # testapp.Author
        Author.objects.bulk_create([
            Author(name="Bob", email="bob@example.com"),
        ])
        """
    )


def test_manage_py_inserts_in_place_or_prints_a_diff(dbs: Databases) -> None:
    _authors_and_books()
    path = dbs.workdir / "demo_data.py"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    dry = dbs.manage("dumpscript", "testapp.Book", "--into", str(path), "--at", "12", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert '+    book_2 = Book(title="First", author=author_4)\n' in dry.stdout
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN
    done = dbs.manage("dumpscript", "testapp.Book", "--into", str(path), "--at", "12")
    assert done.returncode == 0, done.stderr
    assert "Inserted 5 rows" in done.stderr and f"wrote {path}" in done.stderr
    assert path.read_text(encoding="utf-8") == insert_dump(HAND_WRITTEN, "testapp.Book", line=12).text
    bad = dbs.manage("dumpscript", "testapp.Book", "--into", str(path), "--at", "99")
    assert bad.returncode != 0
    assert bad.stderr.strip().splitlines()[-1].startswith("CommandError: ")
    assert "cannot insert at line 99: the script has lines 1 to" in bad.stderr
    assert path.read_text(encoding="utf-8") == insert_dump(HAND_WRITTEN, "testapp.Book", line=12).text
    missing = dbs.manage("dumpscript", "testapp.Book", "--into", str(Path(dbs.workdir / "nope.py")))
    assert missing.returncode != 0 and "Cannot read script" in missing.stderr


def test_links_between_objects_the_script_creates(dbs: Databases) -> None:
    ann = m.Author.objects.create(name="Ann", email="ann@example.com")
    bob = m.Author.objects.create(name="Bob", email="bob@example.com")
    ann.follows.add(bob)
    ann.friends.add(bob)
    text = src(
        """
        from testproject.testapp.models import Author


        def run(using):
            ann = Author.objects.using(using).create(name="Ann", email="ann@example.com")
            bob = Author.objects.using(using).create(name="Bob", email="bob@example.com")
            bob.friends.add(ann)
        """
    )
    # Both authors exist in the script, and so does the symmetrical friendship; the follow
    # is added, in a form that cannot fail if the script had it in a way not recognised.
    change = insert_dump(text, "testapp.Author")
    assert change.text == text + (
        "\n"
        "    # testapp.Author.follows\n"
        "    Author_follows = Author.follows.through\n"
        "    Author_follows.objects.using(using).bulk_create([\n"
        "        Author_follows(from_author=ann, to_author=bob),\n"
        "    ], ignore_conflicts=True)\n"
    )
    assert _load_into_other(dbs, change.text) == Snapshot("default").contents()
    with pytest.raises(TransformError, match="nothing to insert: the script already creates the 2 selected objects"):
        insert_dump(change.text, "testapp.Author")


def test_an_insertion_reads_rows_by_chunks(dbs: Databases) -> None:
    """The editor's *Dump … rows here* goes through the same flat-memory pipeline as a dump:
    queries grow with chunks of rows, not with rows (1,000 books and their authors here)."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from dumpscript import DumpOptions
    from testproject import bulk

    bulk.build(12000)
    with CaptureQueriesContext(connections["default"]) as captured:
        change = insert_dump(HAND_WRITTEN, "testapp.Book", options=DumpOptions(limit=1000), name="demo.py")
    assert change.text.count("Book(title=") == 1000
    assert len(captured.captured_queries) < 40, len(captured.captured_queries)
