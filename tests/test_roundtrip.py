"""The core truth: dump a database, load the script elsewhere, get the same contents."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

from conftest import BACKEND, Databases, dump, write
from dumpscript import load_script
from testproject import sample
from testproject.snapshot import Snapshot
from testproject.testapp import models as m


def test_round_trip_into_empty_database(dbs: Databases) -> None:
    sample.fill("default")
    script = write(dbs, dump("testapp"))
    result = load_script(script, using="other")
    assert Snapshot("other").contents() == Snapshot("default").contents()
    assert result.created["testapp.Author"] == 5
    assert result.created["testapp.Restaurant"] == 1  # the Italian restaurant is not counted twice
    assert result.created["testapp.Place"] == 1


def test_round_trip_into_database_that_holds_rows(dbs: Databases) -> None:
    sample.fill("other", prefix="pre-")  # renumbers every primary key of the load
    sample.fill("default")
    before = Snapshot("other").contents()
    load_script(write(dbs, dump("testapp")), using="other")
    assert Snapshot("other").contents() - before == Snapshot("default").contents()


def test_dump_is_deterministic_and_redump_of_loaded_database_is_identical(dbs: Databases) -> None:
    sample.fill("default")
    first = dump("testapp")
    assert dump("testapp") == first
    load_script(write(dbs, first), using="other")
    assert dump("testapp", using="other") == first


def test_generic_foreign_keys_follow_renumbered_objects(dbs: Databases) -> None:
    sample.fill("other", prefix="pre-")
    sample.fill("default")
    load_script(write(dbs, dump("testapp")), using="other")
    note = m.Note.objects.using("other").get(text="note on a restaurant")
    assert isinstance(note.content_object, m.ItalianRestaurant)
    assert note.content_object.name == "Trattoria"
    bookmark = m.Bookmark.objects.using("other").get(label="books")
    assert bookmark.target == m.Publisher.objects.using("other").get(code="ACME")


def test_script_shape(dbs: Databases) -> None:
    sample.fill("default")
    text = dump("testapp")
    compile(text, "script.py", "exec")
    assert "import dumpscript" not in text and "dateutil" not in text
    assert "Note(content_object=book_4" in text  # generic FK as a variable, not an id
    assert 'ContentType.objects.db_manager(using).get_by_natural_key("testapp", "book")' in text
    assert not re.search(r"_id=\d", text)  # no raw ids anywhere
    # Many-to-many links are rows of the through model, one bulk_create per field.
    assert "Author_follows = Author.follows.through" in text
    assert "Author_follows(from_author=author_3, to_author=author_1)," in text
    assert not re.search(r"\w+\.\w+\.add\(", text)  # no obj.field.add(...)
    # Objects that nothing refers to later have no variable: they sit in their bulk_create list.
    assert re.search(r"bulk_create\(\[\n        Review\(", text)
    assert "review_1" not in text
    # Multi-table inheritance: one object per row, the parent never written separately.
    assert text.count('name="Trattoria"') == 1
    assert text.count("Place(") == 1
    # Pizza Hut is a bar and a restaurant: the restaurant is linked to the bar's place row.
    assert re.search(r"restaurant_1 = Restaurant\(\s+place_ptr=bar_1,", text)
    assert not re.search(r"\bid=", text)  # auto primary keys are left out


def test_proxy_models_are_dumped_once_as_their_concrete_model(dbs: Databases) -> None:
    sample.fill("default")
    assert dump("testapp.Celebrity") == dump("testapp.Author")
    text = dump("testapp.Author", "testapp.Celebrity", "testapp.BookProxy")
    assert "Celebrity" not in text and "BookProxy" not in text
    assert text.count('email="ada@example.com"') == 1


def test_parent_rows_covered_by_a_child_are_written_once(dbs: Databases) -> None:
    sample.fill("default")
    text = dump("testapp.Place", "testapp.Restaurant")
    assert text.count("Place(") == 2  # the plain place, and a bar (Bar is not selected)
    # Pizza Hut, and the Trattoria: ItalianRestaurant is not selected, so it is dumped as Restaurant.
    assert text.count("Restaurant(") == 2
    load_script(write(dbs, text), using="other")
    assert m.Place.objects.using("other").count() == 4
    assert m.Restaurant.objects.using("other").count() == 2
    assert not m.ItalianRestaurant.objects.using("other").exists()
    assert not m.Bar.objects.using("other").exists()


def test_objects_outside_the_selection_are_included(dbs: Databases) -> None:
    sample.fill("default")
    text = dump("testapp.Review")
    load_script(write(dbs, text), using="other")
    other = Snapshot("other").rows()
    reviews = [row for row in other if row[0][0] == "testapp.Review"]
    source = [row for row in Snapshot("default").rows() if row[0][0] == "testapp.Review"]
    assert sorted(reviews, key=repr) == sorted(source, key=repr)
    # The places came along, as the most derived model a reference needs; no M2M of outsiders.
    assert m.Place.objects.using("other").count() == 3
    assert m.Restaurant.objects.using("other").count() == 2
    assert m.Tag.objects.using("other").count() == 0


def test_natural_foreign_looks_up_outside_objects(dbs: Databases) -> None:
    sample.fill("default")
    text = dump("testapp.Book", natural_foreign=True)
    assert 'Tag.objects.db_manager(using).get_by_natural_key("python")' in text
    assert "tag_1 = Tag(" not in text
    for name in m.Tag.objects.using("default").values_list("name", flat=True):  # tags exist there
        m.Tag.objects.using("other").create(name=name)
    load_script(write(dbs, text), using="other")
    book = m.Book.objects.using("other").get(title="Book 3 by Grace Hopper")
    assert sorted(book.tags.values_list("name", flat=True)) == ["a\"b'c\\d", "django", "python", "ünïcode ✓"]
    assert m.Tag.objects.using("other").count() == 4


def test_keep_pks(dbs: Databases) -> None:
    sample.fill("default")
    text = dump("testapp", keep_pks=True)
    load_script(write(dbs, text), using="other")
    for model in (m.Author, m.Book, m.Tag, m.Place, m.ItalianRestaurant, m.Note):
        source = sorted(model._base_manager.using("default").values_list("pk", flat=True))
        assert sorted(model._base_manager.using("other").values_list("pk", flat=True)) == source
    assert Snapshot("other").contents() == Snapshot("default").contents()


def test_manage_py_dump_and_load(dbs: Databases) -> None:
    sample.fill("default")
    dumped = dbs.manage("dumpscript", "testapp", "-o", "testapp_data.py")
    assert dumped.returncode == 0, dumped.stderr
    assert "Wrote testapp_data.py" in dumped.stderr
    loaded = dbs.manage("loadscript", "testapp_data.py", "--database", "other")
    assert loaded.returncode == 0, loaded.stderr
    assert "Created 5 testapp.Author" in loaded.stdout
    assert Snapshot("other").contents() == Snapshot("default").contents()


def test_stdout_output_is_the_same_script(dbs: Databases) -> None:
    sample.fill("default")
    result = dbs.manage("dumpscript", "testapp")
    assert result.returncode == 0, result.stderr
    assert result.stdout == dump("testapp")


def test_script_runs_standalone(dbs: Databases) -> None:
    sample.fill("default")
    # Named like nothing importable, in a folder of its own; run from the project folder.
    script = write(dbs, dump("testapp"), "standalone_data.py")
    env = dbs.env
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, str(script), "--settings", "testproject.settings", "--database", "other"],
        cwd=Path(__file__).parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert Snapshot("other").contents() == Snapshot("default").contents()


def test_dry_run_reports_and_writes_nothing(dbs: Databases) -> None:
    sample.fill("default")
    script = write(dbs, dump("testapp"))
    result = load_script(script, using="other", dry_run=True)
    assert result.created["testapp.Tag"] == 4
    assert not m.Tag.objects.using("other").exists()
    out = dbs.manage("loadscript", str(script), "--database", "other", "--dry-run")
    assert "Would create 4 testapp.Tag" in out.stdout
    assert "dry run" in out.stdout
    assert not m.Tag.objects.using("other").exists()


def test_replace_deletes_then_loads_in_one_step(dbs: Databases) -> None:
    sample.fill("default")
    script = write(dbs, dump("testapp"))
    load_script(script, using="other")
    result = load_script(script, using="other", replace=True)
    assert result.deleted["testapp.Author"] == 5
    assert Snapshot("other").contents() == Snapshot("default").contents()
    # Without --replace the second load breaks a unique constraint and writes nothing.
    out = dbs.manage("loadscript", str(script), "--database", "other")
    assert out.returncode == 1
    assert Snapshot("other").contents() == Snapshot("default").contents()


def test_replace_knows_the_models_a_hand_written_script_creates(dbs: Databases) -> None:
    """``--replace`` clears the models a script creates rows of, however it creates them:
    ``Tag(...)``, ``Tag.objects.using(using).create(...)``, ``Author.objects.get_or_create``."""
    text = (
        "from testproject.testapp.models import Author, Book, Tag\n\n\n"
        "def run(using):\n"
        '    Tag.objects.using(using).create(name="hand")\n'
        '    ann, _ = Author.objects.db_manager(using).get_or_create(name="Ann", email="ann@example.com")\n'
        "    Book.objects.using(using).bulk_create([Book(title='One', author=ann)])\n"
    )
    script = write(dbs, text, "hand_data.py")
    load_script(script, using="other")
    m.Tag.objects.using("other").create(name="other tag")
    result = load_script(script, using="other", replace=True)
    assert result.deleted == {"testapp.Author": 1, "testapp.Book": 1, "testapp.Tag": 2}
    assert sorted(m.Tag.objects.using("other").values_list("name", flat=True)) == ["hand"]


def test_call_command_writes_file(dbs: Databases) -> None:
    sample.fill("default")
    target = dbs.workdir / "all_testapp.py"
    call_command("dumpscript", "testapp", output=str(target), verbosity=0)
    assert target.read_text(encoding="utf-8") == dump("testapp")


def test_dump_queries_do_not_grow_with_rows(dbs: Databases) -> None:
    sample.fill("default")
    with CaptureQueriesContext(connections["default"]) as small:
        dump("testapp")
    for number in range(3):
        sample.fill("default", prefix=f"more{number}-")
    with CaptureQueriesContext(connections["default"]) as large:
        dump("testapp")
    assert len(large.captured_queries) == len(small.captured_queries)


def test_load_is_one_transaction_of_batched_inserts(dbs: Databases) -> None:
    sample.fill("default")
    for number in range(3):
        sample.fill("default", prefix=f"more{number}-")
    script = write(dbs, dump("testapp.Tag", "testapp.Sample", "testapp.Publisher"))
    with CaptureQueriesContext(connections["other"]) as queries:
        load_script(script, using="other")
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 3  # one bulk_create per model


@pytest.mark.postgres_only
def test_postgres_specific_values(dbs: Databases) -> None:
    sample.fill("default")
    blob = m.Sample.objects.using("default").values_list("blob", flat=True).get(label="extremes")
    assert isinstance(blob, bytes | memoryview)  # psycopg 3 returns bytes, psycopg2 memoryview
    load_script(write(dbs, dump("testapp.Sample")), using="other")
    nan = m.Sample.objects.using("other").get(label="not a number")
    assert nan.real != nan.real

    def samples(using: str) -> list[object]:
        return sorted((row for row in Snapshot(using).rows() if row[0][0] == "testapp.Sample"), key=repr)

    assert samples("other") == samples("default")
    assert len(samples("other")) == 5


def test_backend_is_the_one_asked_for() -> None:
    assert connections["default"].vendor == ("postgresql" if BACKEND == "postgres" else "sqlite")


def test_dump_module_is_the_script_as_a_libcst_module(dbs: Databases) -> None:
    import libcst as cst

    from dumpscript import dump_module

    sample.fill("default")
    module = dump_module("testapp.Review")
    assert isinstance(module, cst.Module)
    assert module.code == dump("testapp.Review")
    assert any(isinstance(s, cst.FunctionDef) and s.name.value == "run" for s in module.body)


def test_outside_rows_that_share_a_parent_row_are_created_once(dbs: Databases) -> None:
    """A review points at a restaurant and a note at a bar that is the same place row: both
    come along, the second links to the parent row the first creates."""
    sample.fill("default")
    pizza = m.Bar.objects.get(name="Pizza Hut")
    m.Note.objects.create(content_object=pizza, text="note on a bar")
    text = dump("testapp.Review", "testapp.Note")
    assert re.search(r"restaurant_\d+ = Restaurant\(\s*place_ptr=bar_\d+,", text), text
    load_script(write(dbs, text), using="other")
    pizza_there = m.Place.objects.using("other").get(name="Pizza Hut")
    assert m.Restaurant.objects.using("other").filter(pk=pizza_there.pk).exists()
    assert m.Bar.objects.using("other").filter(pk=pizza_there.pk).exists()
    note = m.Note.objects.using("other").get(text="note on a bar")
    assert isinstance(note.content_object, m.Bar) and note.content_object.pk == pizza_there.pk
    assert m.Place.objects.using("other").count() == 3  # plain place, Pizza Hut, Trattoria


def test_generic_relations_inside_a_cycle_of_models(dbs: Databases) -> None:
    """Bookmarks that point at bookmarks through their generic relation: a cycle, one link set
    once both exist; one that points at itself."""
    from django.contrib.contenttypes.models import ContentType

    kind = ContentType.objects.get_for_model(m.Tag)
    a = m.Bookmark.objects.create(kind=kind, label="a")
    b = m.Bookmark.objects.create(kind=kind, label="b", target=a)
    a.target = b
    a.save()
    c = m.Bookmark.objects.create(kind=kind, label="c")
    c.target = c
    c.save()
    text = dump("testapp.Bookmark")
    assert "Links that close a cycle" in text
    load_script(write(dbs, text), using="other")
    assert Snapshot("other").contents() == Snapshot("default").contents()
    there = {bookmark.label: bookmark for bookmark in m.Bookmark.objects.using("other")}
    assert there["a"].target == there["b"] and there["b"].target == there["a"] and there["c"].target == there["c"]


@pytest.mark.parametrize(
    ("options", "labels", "first"),
    [
        ({"save_each": True}, ("testapp",), ()),
        ({"natural_foreign": True}, ("testapp.Book",), ("testapp.Tag",)),
        (
            {"lookups": {"testapp.Place": ["name"]}},
            ("testapp.Review",),
            ("testapp.Place", "testapp.Restaurant", "testapp.ItalianRestaurant", "testapp.Bar"),
        ),
    ],
    ids=["save_each", "natural_foreign", "lookups"],
)
def test_round_trip_with_options(
    dbs: Databases, options: dict[str, object], labels: tuple[str, ...], first: tuple[str, ...]
) -> None:
    """Every option writes a script that loads; looked-up rows are loaded into the target first."""
    sample.fill("default")
    if first:
        load_script(write(dbs, dump(*first), "first_data.py"), using="other")
    text = dump(*labels, **options)
    load_script(write(dbs, text), using="other")
    if labels == ("testapp",):
        assert Snapshot("other").contents() == Snapshot("default").contents()
        return
    wanted = set(labels)  # the rows of the dumped models, relations included

    def rows(using: str) -> set[object]:
        return {row for row in Snapshot(using).rows() if row[0][0] in wanted}

    assert rows("other") == rows("default")
    assert rows("other")


def test_not_null_references_in_a_cycle_are_set_after_both_objects_exist(dbs: Databases) -> None:
    """A chicken and an egg that need each other through NOT NULL foreign keys: created with
    their old ids as placeholders, linked once both exist, checked at commit."""
    from testproject.cycleapp.models import Chicken, Egg

    sample.not_null_cycle()
    text = dump("cycleapp")
    assert "Links that close a cycle" in text
    load_script(write(dbs, text, "cycle_data.py"), using="other")
    chicken = Chicken.objects.using("other").get(name="chicken")
    assert chicken.egg.name == "egg" and chicken.egg.chicken == chicken
    assert Egg.objects.using("other").get(name="second egg").chicken == chicken


def test_generic_relations_with_not_null_columns_in_a_cycle(dbs: Databases) -> None:
    """A note about a note about itself (NOT NULL content type and object id): set after both
    exist, with placeholders meanwhile (the object id has no constraint)."""
    from django.contrib.contenttypes.models import ContentType

    kind = ContentType.objects.get_for_model(m.Note)
    first = m.Note.objects.create(content_type=kind, object_id=0, text="first")
    second = m.Note.objects.create(content_object=first, text="second")
    first.content_object = second
    first.save()
    own = m.Note.objects.create(content_type=kind, object_id=0, text="about itself")
    own.content_object = own
    own.save()
    load_script(write(dbs, dump("testapp.Note")), using="other")
    there = {note.text: note for note in m.Note.objects.using("other")}
    assert there["first"].content_object == there["second"] and there["second"].content_object == there["first"]
    assert there["about itself"].content_object == there["about itself"]


def test_a_generic_relation_keeps_its_content_type(dbs: Databases) -> None:
    """A note that stores the Place content type for a row that is a restaurant (a base type
    kept on purpose): the script keeps that type, not the restaurant's."""
    from django.contrib.contenttypes.models import ContentType

    sample.fill("default")
    pizza = m.Restaurant.objects.get(name="Pizza Hut")
    place_type = ContentType.objects.get_for_model(m.Place)
    m.Note.objects.create(content_type=place_type, object_id=pizza.pk, text="about the place")
    text = dump("testapp")
    assert 'content_type=ContentType.objects.db_manager(using).get_by_natural_key("testapp", "place")' in text
    load_script(write(dbs, text), using="other")
    assert Snapshot("other").contents() == Snapshot("default").contents()
    note = m.Note.objects.using("other").get(text="about the place")
    assert note.content_type.model == "place"
    assert note.content_object == m.Place.objects.using("other").get(name="Pizza Hut")


def test_rows_that_migrations_create_are_matched_not_duplicated(dbs: Databases) -> None:
    """A dump of ``auth`` holds the permissions ``migrate`` creates in every database: loading
    it into a migrated database matches them (and keeps a permission made by hand)."""
    from django.contrib.auth.models import Group, Permission, User
    from django.contrib.contenttypes.models import ContentType

    book_type = ContentType.objects.get_for_model(m.Book)
    custom = Permission.objects.create(codename="publish_book", name="Can publish books", content_type=book_type)
    editors = Group.objects.create(name="editors")
    editors.permissions.add(custom, Permission.objects.get(codename="add_book"))
    ada = User.objects.create(username="ada")
    ada.user_permissions.add(custom)
    permissions_there = Permission.objects.using("other").count()
    text = dump("auth")
    assert "update_or_create(" in text
    load_script(write(dbs, text, "auth_data.py"), using="other")
    assert Permission.objects.using("other").count() == permissions_there + 1
    group = Group.objects.using("other").get(name="editors")
    assert sorted(group.permissions.values_list("codename", flat=True)) == ["add_book", "publish_book"]
    assert User.objects.using("other").get(username="ada").user_permissions.get().codename == "publish_book"


def test_after_loading_kept_keys_the_application_inserts_without_collision(dbs: Databases) -> None:
    """With ``--keep-pks`` the script gives keys explicitly; the load moves the sequences past
    them (PostgreSQL kept them behind: the next ``create()`` failed on a duplicate key)."""
    sample.fill("default")
    load_script(write(dbs, dump("testapp", keep_pks=True)), using="other")
    tag = m.Tag.objects.using("other").create(name="made by the application")
    assert tag.pk > max(m.Tag.objects.values_list("pk", flat=True))
    author = m.Author.objects.using("other").create(name="New", email="new@example.com")
    assert author.pk > max(m.Author.objects.values_list("pk", flat=True))
    m.Book.tags.through.objects.using("other").create(book=m.Book.objects.using("other").first(), tag=tag)


def test_keep_pks_keeps_the_keys_of_many_to_many_link_rows(dbs: Databases) -> None:
    sample.fill("default")
    load_script(write(dbs, dump("testapp", keep_pks=True)), using="other")
    for through in (m.Book.tags.through, m.Author.friends.through, m.Author.follows.through):
        columns = [f.attname for f in through._meta.concrete_fields]
        source = sorted(through.objects.using("default").values_list(*columns))
        assert sorted(through.objects.using("other").values_list(*columns)) == source, through


def test_multi_table_objects_are_restored_raw_not_through_the_projects_save(
    dbs: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restore reproduces the rows: a multi-table object is saved a table at a time, as
    ``loaddata`` does: the model's ``save()`` does not run, and signal handlers see ``raw=True``
    (a handler that fills an index inserted rows the script then inserted again)."""
    from django.db.models.signals import post_save

    sample.fill("default")
    text = dump("testapp")
    seen: list[tuple[str, bool]] = []

    def index(sender: type, instance: object, raw: bool, using: str, **kwargs: object) -> None:
        seen.append((sender.__name__, raw))
        if not raw:  # what a project's handler does on a real save
            m.Tag.objects.using(using).create(name=f"indexed {instance.pk}")

    def refuse(self: object, *args: object, **kwargs: object) -> None:
        raise AssertionError("the project's save() ran during a restore")

    monkeypatch.setattr(m.Restaurant, "save", refuse)
    post_save.connect(index, dispatch_uid="test-index")
    try:
        load_script(write(dbs, text), using="other")
    finally:
        post_save.disconnect(dispatch_uid="test-index")
    assert Snapshot("other").contents() == Snapshot("default").contents()
    assert ("ItalianRestaurant", True) in seen and ("Place", True) in seen
    assert all(raw for name, raw in seen if name in {"Place", "Restaurant", "ItalianRestaurant"})


def test_json_null_stays_json_null_and_sql_null_stays_sql_null(dbs: Databases) -> None:
    """A JSONField reads JSON ``null`` and SQL NULL both as None; the script writes the first
    as ``Value(None, JSONField())`` (before: left out, so it loaded as SQL NULL)."""
    from django.db.models import JSONField, Value

    m.Sample.objects.create(label="json null", data=Value(None, JSONField()))
    m.Sample.objects.create(label="sql null", data=None)
    m.Sample.objects.create(label="json object", data={"a": None})
    text = dump("testapp.Sample")
    assert "data=Value(None, JSONField())" in text
    load_script(write(dbs, text), using="other")
    for using in ("default", "other"):
        samples = m.Sample.objects.using(using)
        assert sorted(samples.filter(data__isnull=True).values_list("label", flat=True)) == ["sql null"]
        json_null = [s.label for s in samples.filter(data__isnull=False) if s.data is None]
        assert json_null == ["json null"]
        assert samples.get(label="json object").data == {"a": None}


def test_an_upsert_script_loaded_twice_leaves_what_loading_it_once_leaves(dbs: Databases) -> None:
    """``--upsert``: seed data to apply again and again. Objects are matched by a unique field
    (else all fields) and updated; many-to-many links already there are kept."""
    sample.fill("default")
    text = dump("testapp", upsert=True)
    assert "update_or_create(" in text and "ignore_conflicts=True" in text and "update_conflicts=True" in text
    script = write(dbs, text)
    load_script(script, using="other")
    once = Snapshot("other").contents()
    assert once == Snapshot("default").contents()
    load_script(script, using="other")
    assert Snapshot("other").contents() == once


def test_rows_a_projects_migrations_create_are_matched_by_the_declared_fields(dbs: Databases) -> None:
    """``DUMPSCRIPT_MATCH`` declares the rows a project's data migrations create: a migrated
    database has them already, and the script matches them instead of failing on them."""
    from django.test import override_settings

    from dumpscript import ScriptError

    sample.fill("default")
    m.Tag.objects.using("other").create(name="django")  # what a data migration made there
    before = Snapshot("other").contents()
    with pytest.raises(ScriptError, match=r"IntegrityError: .*declare them in DUMPSCRIPT_MATCH"):
        load_script(write(dbs, dump("testapp"), "undeclared_data.py"), using="other")
    assert Snapshot("other").contents() == before  # nothing loaded, and the error says what to do
    with override_settings(DUMPSCRIPT_MATCH={"testapp.Tag": ["name"]}):
        text = dump("testapp")
    assert 'Tag.objects.using(using).update_or_create(name="django")' in text
    load_script(write(dbs, text), using="other")
    assert Snapshot("other").contents() == Snapshot("default").contents()


def test_keys_declared_inside_json_and_text_follow_renumbered_rows(
    dbs: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``register_ids``: keys of other rows stored inside a value (a page chosen in JSON
    content, a link in text) are followed like foreign keys and written as variables, so they
    point at the same rows after the load renumbers them (before: copied verbatim)."""
    import dumpscript
    from dumpscript.meta import embedded as _embedded

    monkeypatch.setattr(_embedded, "_REGISTRY", {})
    dumpscript.register_ids("testapp.Sample.data", "testapp.Author", path="blocks.*.author")
    dumpscript.register_ids("testapp.Sample.text", "testapp.Author", pattern=r"author #(\d+)")
    sample.fill("other", prefix="pre-")  # the load renumbers every key
    ada = m.Author.objects.create(name="Ada", email="ada@example.org")
    alan = m.Author.objects.create(name="Alan", email="alan@example.org")
    m.Sample.objects.create(
        label="links",
        data={"blocks": [{"author": ada.pk, "size": 1}, {"author": alan.pk}, {"text": "no key"}], "author": 7},
        text=f"by author #{alan.pk}, {{not a key}}, author #99999",
    )
    text = dump("testapp.Sample")
    assert "author_1.pk" in text and ".format(author_2.pk)" in text
    load_script(write(dbs, text), using="other")
    loaded = m.Sample.objects.using("other").get(label="links")
    authors = m.Author.objects.using("other")
    ada_there, alan_there = authors.get(email="ada@example.org"), authors.get(email="alan@example.org")
    assert ada_there.pk != ada.pk or alan_there.pk != alan.pk
    assert loaded.data == {
        "blocks": [{"author": ada_there.pk, "size": 1}, {"author": alan_there.pk}, {"text": "no key"}],
        "author": 7,
    }
    assert loaded.text == f"by author #{alan_there.pk}, {{not a key}}, author #99999"


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_script_that_writes_to_another_database_is_refused(dbs: Databases, dry_run: bool) -> None:
    """Code without ``.using(using)`` (inserted outside ``run()``) wrote to ``default`` while
    the load went into another database, even with ``--dry-run``, and the report said 0 rows.
    Such a write is refused: nothing is written anywhere."""
    from dumpscript import ScriptError

    script = write(
        dbs,
        "from testproject.testapp.models import Tag\n\n"
        "Tag.objects.bulk_create([Tag(name='escaped')])\n\n\n"
        "def run(using='default'):\n"
        "    Tag.objects.using(using).create(name='inside')\n",
        "escaping_data.py",
    )
    with pytest.raises(ScriptError, match=r"line 3: OtherDatabaseWrite: the script writes to database 'default'"):
        load_script(script, using="other", dry_run=dry_run)
    assert not m.Tag.objects.using("default").exists()
    assert not m.Tag.objects.using("other").exists()
