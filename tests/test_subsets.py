"""Subsets: selected rows and the rows that belong to them (the closure along reverse
relations), ``--follow``/``--no-follow``/``--depth``, the ``--preview`` tree, by chunks of keys."""

from __future__ import annotations

import datetime
import math
import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

from conftest import Databases, dump, write
from dumpscript import DumpOptions, SelectionError, dump_script, load_script, preview_subset
from dumpscript.closure import close
from dumpscript.selection import select
from testproject import sample
from testproject.snapshot import Snapshot
from testproject.testapp import models as m


def _shop(using: str = "default", prefix: str = "") -> None:
    """Two authors ("customers"), each with books ("orders"), editions and notes of those
    ("lines"), a membership, a mentee (SET_NULL) and a note on the author (a generic foreign
    key with no generic relation)."""
    objects = lambda model: model._base_manager.db_manager(using)  # noqa: E731
    publisher = objects(m.Publisher).create(code=f"{prefix}P", name="Press")
    tag = objects(m.Tag).create(name=f"{prefix}tag")
    club = objects(m.Club).create(name=f"{prefix}club")
    for name in ("ann", "bob"):
        author = objects(m.Author).create(name=f"{prefix}{name}", email=f"{prefix}{name}@example.com")
        objects(m.Author).create(name=f"{prefix}{name}'s mentee", email=f"{prefix}{name}.m@example.com", mentor=author)
        objects(m.Note).create(content_object=author, text=f"{prefix}note on {name}")
        objects(m.Membership).create(club=club, author=author, joined=datetime.date(2020, 1, 1), role="member")
        for number in (1, 2):
            book = objects(m.Book).create(title=f"{prefix}{name} {number}", author=author)
            book.tags.add(tag)
            objects(m.Edition).create(book=book, publisher=publisher)
            objects(m.Note).create(content_object=book, text=f"{prefix}note on {name} {number}")


def _ann() -> int:
    return m.Author.objects.using("default").get(name="ann").pk


def _loaded(dbs: Databases, text: str) -> dict[str, int]:
    return load_script(write(dbs, text), using="other").created


def test_a_customer_and_everything_that_belongs_to_it(dbs: Databases) -> None:
    _shop()
    created = _loaded(dbs, dump("testapp.Author", pks=[str(_ann())]))
    other = lambda model: model.objects.using("other")  # noqa: E731
    assert sorted(other(m.Author).values_list("name", flat=True)) == ["ann"]  # not bob, not the mentee
    assert sorted(other(m.Book).values_list("title", flat=True)) == ["ann 1", "ann 2"]
    assert other(m.Edition).count() == 2
    assert sorted(other(m.Note).values_list("text", flat=True)) == ["note on ann 1", "note on ann 2"]
    assert other(m.Membership).get().author.name == "ann"
    assert other(m.Club).count() == other(m.Tag).count() == other(m.Publisher).count() == 1  # pointed at
    assert created["testapp.Book_tags"] == 2


def test_whole_models_do_not_change_unless_asked(dbs: Databases) -> None:
    sample.fill()
    assert dump("testapp.Author") == dump("testapp.Author", dependents=False)
    assert dump("testapp") == dump("testapp", dependents=False)
    with_dependents = dump("testapp.Author", dependents=True)
    assert "Book(" not in dump("testapp.Author").split("def run")[1].split("# testapp.Book\n")[0]
    assert "Membership(" in with_dependents and "Edition(" in with_dependents


def test_the_plan_of_whole_models_counts_their_rows(dbs: Databases) -> None:
    _shop()
    with CaptureQueriesContext(connections["default"]) as queries:
        text = preview_subset("testapp.Author", "testapp.Tag").text()
    assert text == (
        "testapp.Author: 4 rows (selected)\n"
        "testapp.Tag: 1 row (selected)\n"
        "Total: 5 rows of 2 models; the rows they point at (foreign keys, many-to-many links) come along "
        "when the script is written\n"
        "Dependents not added (whole models are selected): add them with --dependents\n"
    )
    assert sum("COUNT(" in query["sql"] for query in queries.captured_queries) == 2
    assert not any('"name"' in query["sql"] for query in queries.captured_queries)


def test_no_dependents_keeps_the_rows_the_keys_select(dbs: Databases) -> None:
    _shop()
    text = dump("testapp.Author", pks=[str(_ann())], dependents=False)
    assert "Edition(" not in text
    assert "Book(" not in text
    with pytest.raises(SelectionError, match=r"--follow, --no-follow and --depth shape the dependents"):
        dump("testapp.Author", pks=[str(_ann())], dependents=False, depth=1)


def test_follow_a_relation_a_delete_does_not_cascade_along(dbs: Databases) -> None:
    _shop()
    text = dump("testapp.Author", filter={"name": "ann"}, follow=["testapp.Author.mentees"])
    assert "ann's mentee" in text and "bob" not in text
    # the related query name and Related.field name the same relation
    assert dump("testapp.Author", filter={"name": "ann"}, follow=["testapp.Author.Author.mentor"]) == text
    generic = dump("testapp.Author", filter={"name": "ann"}, follow=["testapp.Author.Note.content_object"])
    assert '"note on ann"' in generic and '"note on bob"' not in generic
    assert '"note on ann"' not in dump("testapp.Author", filter={"name": "ann"})


def test_no_follow_a_relation_a_model_or_an_app_and_depth(dbs: Databases) -> None:
    _shop()
    base = {"filter": {"name": "ann"}}
    assert "Edition(" in dump("testapp.Author", **base)
    assert "Edition(" not in dump("testapp.Author", **base, no_follow=["testapp.Edition"])
    assert "Edition(" not in dump("testapp.Author", **base, no_follow=["testapp.Book.edition_set"])
    assert "Book(" not in dump("testapp.Author", **base, no_follow=["testapp"])
    # the most specific rule wins
    only_books = dump("testapp.Author", **base, no_follow=["testapp"], follow=["testapp.Author.books"])
    assert "Book(" in only_books and "Edition(" not in only_books and "Membership(" not in only_books
    one_hop = dump("testapp.Author", **base, depth=1)
    assert "Book(" in one_hop and "Edition(" not in one_hop and 'text="note on ann 1"' not in one_hop
    assert "Book(" not in dump("testapp.Author", **base, depth=0)


def test_a_subtree_of_a_self_referencing_tree(dbs: Databases) -> None:
    sample.fill()
    text = dump("testapp.Category", filter={"name": "middle"})
    assert sorted(re.findall(r'Category\(name="(\w+)"', text)) == ["leaf", "middle", "root"]  # root: pointed at
    load_script(write(dbs, text), using="other")
    leaf = m.Category.objects.using("other").get(name="leaf")
    assert leaf.parent is not None and leaf.parent.name == "middle"
    everything = dump("testapp.Category", filter={"name": "root"})
    assert sorted(re.findall(r'Category\(name="(\w+)"', everything)) == ["leaf", "middle", "root", "sibling"]
    preview = preview_subset("testapp.Category", options=DumpOptions(filter={"name": "root"})).text()
    assert preview.startswith(
        "testapp.Category: 1 row (selected)\n"
        "└── testapp.Category.children → testapp.Category: 3 rows (CASCADE, recursively)\n"
    )


def test_a_parent_row_brings_its_multi_table_children_and_their_reviews(dbs: Databases) -> None:
    sample.fill()
    text = dump_script(m.Place.objects.filter(name="Pizza Hut"))  # a queryset selects the rows
    load_script(write(dbs, text), using="other")
    assert m.Restaurant.objects.using("other").get().name == "Pizza Hut"
    assert m.Bar.objects.using("other").get().name == "Pizza Hut"
    assert list(m.Review.objects.using("other").values_list("text", flat=True)) == ["awful"]
    assert m.Place.objects.using("other").count() == 1


def test_groups_users_and_permissions(dbs: Databases) -> None:
    editors = Group.objects.create(name="editors")
    editors.permissions.set(Permission.objects.filter(codename__in=["add_book", "change_book"]))
    Group.objects.create(name="others")
    for name in ("ada", "bob"):
        user = User.objects.create(
            username=name, date_joined=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
        )
        user.groups.add(editors)
        user.user_permissions.set(Permission.objects.filter(codename="view_tag"))
    User.objects.create(username="carl", date_joined=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
    alone = dump("auth.Group", filter={"name": "editors"})
    assert "User(" not in alone and 'get_by_natural_key("add_book"' in alone.replace("\n", "").replace(" ", "")
    preview = preview_subset("auth.Group", options=DumpOptions(filter={"name": "editors"}))
    assert (
        "auth.Group.user_set: not followed (many-to-many, 2 links; --follow auth.Group.user_set to include)"
        in preview.text()
    )
    text = dump("auth.Group", filter={"name": "editors"}, follow=["auth.Group.user_set"])
    load_script(write(dbs, text), using="other")
    users = User.objects.using("other").order_by("username")
    assert [u.username for u in users] == ["ada", "bob"]
    assert all(list(u.groups.values_list("name", flat=True)) == ["editors"] for u in users)
    assert all(list(u.user_permissions.values_list("codename", flat=True)) == ["view_tag"] for u in users)
    assert not Group.objects.using("other").filter(name="others").exists()


def test_the_plan_is_a_tree_of_what_the_script_creates(dbs: Databases) -> None:
    _shop()
    options = DumpOptions(filter={"name": "ann"}, follow=["testapp.Author.mentees"])
    with CaptureQueriesContext(connections["default"]) as queries:
        preview = preview_subset("testapp.Author", options=options)
    assert preview.text() == (
        "testapp.Author: 1 row (selected)\n"
        "├── testapp.Author.books → testapp.Book: 2 rows (CASCADE)\n"
        "│   ├── testapp.Book.edition_set → testapp.Edition: 2 rows (CASCADE)\n"
        "│   └── testapp.Book.notes → testapp.Note: 2 rows (generic relation)\n"
        "├── testapp.Author.membership_set → testapp.Membership: 1 row (CASCADE)\n"
        "├── testapp.Author.mentees → testapp.Author: 1 row (--follow)\n"
        "├── testapp.Author.Note.content_object: not followed (generic foreign key, 1 row; "
        "--follow testapp.Author.Note.content_object to include)\n"
        "└── testapp.Author.clubs: not followed (many-to-many, 1 link; --follow testapp.Author.clubs to include)\n"
        "Total: 9 rows of 5 models; the rows they point at (foreign keys, many-to-many links) come along "
        "when the script is written\n"
    )
    for query in queries.captured_queries:  # keys and counts, never the rows' values
        columns = query["sql"].split(" FROM ")[0]
        assert not re.search(r'"(title|text|email|name|joined|role)"', columns), query["sql"]
    created = _loaded(dbs, dump_script("testapp.Author", options=options))
    assert preview.totals == {
        "testapp.Author": 2,
        "testapp.Book": 2,
        "testapp.Edition": 2,
        "testapp.Membership": 1,
        "testapp.Note": 2,
    }
    for label, rows in preview.totals.items():
        assert created[label] == rows, label
    assert created["testapp.Club"] == created["testapp.Publisher"] == 1  # pointed at: not in the plan
    step = preview.steps[0]
    assert (step.model, step.rows, [s.relation for s in step.steps]) == (
        "testapp.Author",
        1,
        ["testapp.Author.books", "testapp.Author.membership_set", "testapp.Author.mentees"],
    )
    assert step.stopped[1].hint == "--follow testapp.Author.clubs to include"


def test_manage_py_plan_writes_no_script(dbs: Databases) -> None:
    _shop()
    result = dbs.manage("dumpscript", "testapp.Author", "--filter", "name=ann", "--preview", "--depth", "1")
    assert result.returncode == 0, result.stderr
    options = DumpOptions(filter={"name": "ann"}, depth=1)
    assert result.stdout == preview_subset("testapp.Author", options=options).text()
    assert "testapp.Book.edition_set: not followed (CASCADE, beyond --depth 1, 2 rows; a larger --depth" in (
        result.stdout
    )
    assert not list(dbs.workdir.iterdir())
    refused = dbs.manage("dumpscript", "testapp.Author", "--plan", "-o", "x_data.py")  # its earlier name
    assert refused.returncode == 1 and "--preview prints the selection" in refused.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--follow", "testapp.Author.book"],
            "CommandError: Cannot follow testapp.Author.book: testapp.Author has no reverse relation 'book'; "
            "did you mean testapp.Author.books?",
        ),
        (
            ["--no-follow", "testapp.Author.zzz"],
            "CommandError: Cannot no-follow testapp.Author.zzz: testapp.Author has no reverse relation 'zzz'; "
            "its reverse relations are Bookmark.target, Edition.editor, ItalianRestaurant.chef, "
            "Note.content_object, books, clubs, followers, membership_set, mentees",
        ),
        (
            ["--follow", "testapp.Book.author"],
            "CommandError: Cannot follow testapp.Book.author: testapp.Book.author is a forward relation; "
            "the rows it points at are always included",
        ),
        (
            ["--follow", "testapp.Auhtor.books"],
            "CommandError: Cannot follow 'testapp.Auhtor': app 'testapp' has no model 'Auhtor'",
        ),
        (["--no-follow", "nope"], "CommandError: Cannot no-follow 'nope': no installed app has that label"),
        (["--depth", "-1"], "CommandError: --depth takes a number of reverse hops, 0 or more, not -1"),
    ],
)
def test_a_wrong_rule_is_a_one_line_error(dbs: Databases, args: list[str], message: str) -> None:
    result = dbs.manage("dumpscript", "testapp.Author", "--pks", "1", *args)
    assert result.returncode == 1
    assert result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_closure_reads_keys_by_chunks(dbs: Databases) -> None:
    """Queries grow with relations and chunks of keys, not with rows: the same for 3 and for
    300 authors; for 2,500, one more per relation followed and extra chunk of keys."""

    def queries(count: int) -> int:
        m.Author.objects.all().delete()
        authors = m.Author.objects.bulk_create(
            m.Author(name=f"a{number}", email=f"a{number}@example.com") for number in range(count)
        )
        m.Book.objects.bulk_create(m.Book(title=f"b{a.pk}", author=a) for a in authors)
        options = DumpOptions(filter={"name__startswith": "a"})
        with CaptureQueriesContext(connections["default"]) as captured:
            selection = close(select(["testapp.Author"], options), options)
        assert selection.keys is not None
        assert len(selection.keys[m.Book]) == len(selection.keys[m.Author]) == count
        return len(captured.captured_queries)

    few, some, many = queries(3), queries(300), queries(2500)
    assert few == some
    chunk = min(connections["default"].features.max_query_params or 999, 999) - 10
    extra_chunks = math.ceil(2500 / chunk) - 1
    # four relations followed (authors: books, memberships; books: editions, notes), one query
    # per chunk of keys each
    assert many == some + 4 * extra_chunks


def test_a_subset_round_trips_into_an_empty_database_and_one_with_other_rows(dbs: Databases) -> None:
    sample.fill()
    options = {"filter": {"name": "Ada Lovelace"}}
    text = dump("testapp.Author", **options)
    load_script(write(dbs, text), using="other")
    subset = Snapshot("other").contents()
    assert dump("testapp.Author", using="other", **options) == text  # exactly the same script again
    call_command("flush", database="other", interactive=False, verbosity=0)
    sample.fill("other", prefix="pre-")
    before = Snapshot("other").contents()
    load_script(write(dbs, text, "again_data.py"), using="other")
    after = Snapshot("other").contents()
    assert not before - after  # nothing that was there is touched
    assert after - before == subset


def test_a_queryset_of_another_database_is_refused(dbs: Databases) -> None:
    with pytest.raises(SelectionError, match=r"reads database 'other' and the dump reads 'default'"):
        dump_script(m.Author.objects.using("other").all())
    assert "Author(" not in dump_script(m.Author.objects.using("other").all(), options=DumpOptions(using="other"))


def test_the_walk_keeps_keys_in_a_bitmap_until_they_are_sparse() -> None:
    """A million dense integer keys take a bitmap of 125 KB, not a set of 60 MB; keys that are
    sparse, negative or not integers go to a set, and every key is kept either way."""
    from array import array

    from dumpscript.closure._keyset import KeySet

    dense = KeySet()
    dense.update(range(1, 1_000_001, 1))
    dense.add(5)  # again
    assert len(dense) == 1_000_000 and 1_000_000 in dense and 0 not in dense
    assert len(dense._bits) < 200_000 and dense._other is None
    assert dense.sorted()[:3] == array("q", [1, 2, 3])
    mixed = KeySet()
    mixed.update([3, 1, 2])
    mixed.add(10**12)  # far beyond the keys held: a set from now on
    mixed.add("x-1")
    assert mixed._other is not None and len(mixed) == 5 and 2 in mixed and 10**12 in mixed
    assert list(mixed.sorted())[:3] == [1, 2, 3]
