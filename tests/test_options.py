"""dumpscript's options, as a user of dumpdata would expect them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BACKEND, Databases, dump, write
from dumpscript import DumpOptions, SelectionError, dump_script, load_script
from testproject import sample
from testproject.testapp import models as m


def test_label_order_never_changes_the_script(dbs: Databases) -> None:
    sample.fill("default")
    assert dump("testapp.Book", "testapp.Author") == dump("testapp.Author", "testapp.Book")
    assert dump("testapp.Tag", "testapp.Place", "testapp.Note") == dump("testapp.Note", "testapp.Tag", "testapp.Place")


def test_exclude(dbs: Databases) -> None:
    sample.fill("default")
    text = dump("testapp", exclude=["testapp.Sample", "testapp.Article"])
    assert "Sample(" not in text
    assert "Article(" not in text
    assert "Author(" in text
    result = dbs.manage("dumpscript", "testapp", "-e", "testapp.Sample", "--exclude", "testapp.Article")
    assert result.returncode == 0, result.stderr
    assert result.stdout == text


def test_excluded_model_still_comes_along_when_referenced(dbs: Databases) -> None:
    sample.fill("default")
    text = dump("testapp.Book", exclude=["testapp.Author"])
    assert 'Author(name="Ada Lovelace"' in text  # books need their authors
    load_script(write(dbs, text), using="other")
    assert m.Book.objects.using("other").count() == 4


def test_pks_selects_rows_of_one_model(dbs: Databases) -> None:
    sample.fill("default")
    pks = list(m.Tag.objects.using("default").order_by("pk").values_list("pk", flat=True))[:2]
    text = dump("testapp.Tag", pks=[str(pk) for pk in pks])
    assert text.count("Tag(") == 2
    result = dbs.manage("dumpscript", "testapp.Tag", "--pks", ",".join(str(pk) for pk in pks))
    assert result.stdout == text
    with pytest.raises(SelectionError, match=r"single app\.Model label"):
        dump("testapp", pks=["1"])


def test_every_row_by_default_or_what_the_default_manager_shows(dbs: Databases) -> None:
    sample.fill("default")
    assert "hidden and unreferenced" in dump("testapp.Post")
    shown = dump("testapp.Post", use_default_manager=True)
    assert "visible reply" in shown
    assert 'title="hidden"' in shown  # pointed at by a visible post, so included
    assert "hidden and unreferenced" not in shown
    result = dbs.manage("dumpscript", "testapp.Post", "--default-manager")
    assert result.stdout == shown


def test_no_label_dumps_every_app_but_migration_rows(dbs: Databases) -> None:
    sample.fill("default")
    text = dump()
    assert "Author(" in text
    assert "ContentType(" not in text
    assert "Permission(" not in text


def test_migration_rows_cannot_be_selected(dbs: Databases) -> None:
    with pytest.raises(SelectionError, match=r"contenttypes\.ContentType: its rows are created by migrations"):
        dump("contenttypes.ContentType")


NAIVE = """
import datetime, sys
import django
django.setup()
from django.db import connections
from dumpscript import dump_script, load_script
from testproject.testapp.models import Sample
moment = datetime.datetime(2020, 2, 29, 23, 59, 58, 123456)
Sample.objects.create(label="naive", moment=moment, clock=datetime.time(1, 2, 3, 4))
text = dump_script("testapp.Sample")
assert "datetime.datetime(2020, 2, 29, 23, 59, 58, 123456)," in text, text
open(sys.argv[1], "w").write(text)
load_script(sys.argv[1], using="other")
loaded = Sample.objects.using("other").get(label="naive")
assert loaded.moment == moment and loaded.moment.tzinfo is None, loaded.moment
assert loaded.clock == datetime.time(1, 2, 3, 4)
print("naive ok")
"""


def test_naive_datetimes_with_use_tz_off(dbs: Databases) -> None:
    env = dbs.env
    env["DUMPSCRIPT_USE_TZ"] = "0"
    script = dbs.workdir / "naive_data.py"
    result = subprocess.run(
        [sys.executable, "-c", NAIVE, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent,
    )
    assert result.returncode == 0, result.stderr
    assert "naive ok" in result.stdout


def test_backend() -> None:
    assert BACKEND in {"sqlite", "postgres"}


def test_save_each_sends_signals_bulk_create_does_not(dbs: Databases) -> None:
    from django.db.models.signals import post_save

    sample.fill("default")
    saved: list[str] = []

    def receiver(sender: type, instance: m.Tag, **kwargs: object) -> None:
        saved.append(instance.name)

    post_save.connect(receiver, sender=m.Tag)
    try:
        load_script(write(dbs, dump("testapp.Tag")), using="other")
        assert saved == []
        m.Tag.objects.using("other").all().delete()
        text = dump("testapp.Tag", save_each=True)
        assert "tag_1.save(using=using)" in text
        assert "bulk_create" not in text
        load_script(write(dbs, text), using="other")
        assert sorted(saved) == sorted(m.Tag.objects.using("default").values_list("name", flat=True))
    finally:
        post_save.disconnect(receiver, sender=m.Tag)
    result = dbs.manage("dumpscript", "testapp.Tag", "--save-each")
    assert result.stdout == text


def test_lookup_finds_outside_objects_by_unique_fields(dbs: Databases) -> None:
    sample.fill("default")
    text = dump("testapp.Book", lookups={"testapp.Author": ["email"]})
    assert 'Author.objects.db_manager(using).get(email="ada@example.com")' in text
    assert "Author(" not in text
    for author in m.Author.objects.using("default").all():  # the authors exist there already
        m.Author.objects.using("other").create(name=author.name, email=author.email)
    load_script(write(dbs, text), using="other")
    book = m.Book.objects.using("other").get(title="Book 3 by Grace Hopper")
    assert book.author.email == "grace@example.com"
    result = dbs.manage("dumpscript", "testapp.Book", "--lookup", "testapp.Author=email")
    assert result.stdout == text


@pytest.mark.parametrize(
    ("lookups", "message"),
    [
        ({"testapp.Author": ["nope"]}, "testapp.Author has no field 'nope'"),
        ({"testapp.Author": ["mentor"]}, "it is a relation"),
        ({"testapp": ["name"]}, "give an app.Model label"),
        ({"testapp.Author": []}, "name at least one field"),
    ],
)
def test_bad_lookup(dbs: Databases, lookups: dict[str, list[str]], message: str) -> None:
    with pytest.raises(SelectionError, match=re.escape(message)):
        dump("testapp.Book", lookups=lookups)


def test_limit_and_filter_select_rows(dbs: Databases) -> None:
    for name in ["a", "b", "c"]:
        m.Tag.objects.create(name=name)
    limited = dump_script("testapp.Tag", options=DumpOptions(limit=2))
    assert 'Tag(name="a")' in limited and 'Tag(name="b")' in limited and 'Tag(name="c")' not in limited
    filtered = dump_script("testapp.Tag", options=DumpOptions(filter={"name__in": ["b", "c"]}))
    assert 'Tag(name="a")' not in filtered and 'Tag(name="c")' in filtered
    with pytest.raises(SelectionError, match=r"Cannot filter testapp\.Tag: Cannot resolve keyword 'nope'"):
        dump_script("testapp.Tag", options=DumpOptions(filter={"nope": 1}))
    result = dbs.manage("dumpscript", "testapp.Tag", "--limit", "1")
    assert result.returncode == 0 and 'Tag(name="a")' in result.stdout and 'Tag(name="b")' not in result.stdout


def test_filter_on_the_command_line(dbs: Databases) -> None:
    ann = m.Author.objects.create(name="Ann", email="ann@example.com")
    for title in ["Alpha", "Beta", "Gamma"]:
        m.Book.objects.create(title=title, author=ann)
    result = dbs.manage("dumpscript", "testapp.Book", "--filter", "title__in=Alpha,Gamma", "--filter", "pk__gt=0")
    assert result.returncode == 0, result.stderr
    assert 'title="Alpha"' in result.stdout and 'title="Gamma"' in result.stdout
    assert 'title="Beta"' not in result.stdout
    assert 'Author(name="Ann"' in result.stdout  # what the rows point at comes along
    result = dbs.manage("dumpscript", "testapp.Book", "--filter", "author__isnull=false", "--filter", "title=Beta")
    assert result.returncode == 0 and 'title="Beta"' in result.stdout and "Alpha" not in result.stdout
    for bad, message in [
        ("nope=1", "Cannot filter testapp.Book: Cannot resolve keyword 'nope'"),
        ("title", "Cannot filter by 'title': write it as field__lookup=value"),
        ("author__isnull=maybe", "__isnull takes true or false"),
    ]:
        result = dbs.manage("dumpscript", "testapp.Book", "--filter", bad)
        assert result.returncode == 1 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
