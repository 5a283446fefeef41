"""The script layer: a script's names for model classes come from the app registry, never from
running the script's imports; what it creates is read the same way wherever it is needed
(``--replace``, grow, the editor)."""

from __future__ import annotations

import ast
import re
import sys

import pytest

from conftest import Databases, dump, write
from dumpscript import load_script
from dumpscript.load import created_models
from dumpscript.script.models import ModelNames
from dumpscript.transforms import grow_loop
from testproject import sample
from testproject.testapp import models as m

# A module that does not exist: running the script's imports would fail on it, and a module
# that exists but must not be imported by reading a script (it is not loaded by Django).
FORMS = """\
import datetime
import dumpscript_no_such_module
from testproject import bulk
from testproject.testapp import models
from testproject.testapp.models import Author as Writer, Tag

import django.apps
import importlib

Book = django.apps.apps.get_model("testapp.Book")
Club = importlib.import_module("testproject.testapp.models").Club
Place = django.apps.apps.get_model("testapp", "Place")


def run(using="default"):
    Writer.objects.using(using).create(name="Ada")
    models.Note(text="n").save()
    Book.objects.bulk_create([Book(title="x")])
    Tag.objects.get_or_create(name="t")
    Club(name="c").save()
    Place.objects.using(using).update_or_create(name="p")
"""


def test_names_of_model_classes_are_read_from_the_registry_not_run() -> None:
    sys.modules.pop("testproject.bulk", None)
    names = ModelNames.of(ast.parse(FORMS).body)
    assert names.classes == {"Writer": m.Author, "Tag": m.Tag, "Book": m.Book, "Club": m.Club, "Place": m.Place}
    assert names.resolve("models.Note") is m.Note
    assert names.resolve("testproject.testapp.models.Edition") is None  # testproject is not bound
    assert names.resolve("datetime.datetime") is None
    created = created_models(FORMS.encode(), "forms.py")
    assert {model._meta.label for model in created} == {
        "testapp.Author",
        "testapp.Book",
        "testapp.Club",
        "testapp.Note",
        "testapp.Place",
        "testapp.Tag",
    }
    assert "dumpscript_no_such_module" not in sys.modules and "testproject.bulk" not in sys.modules


def test_a_missing_model_is_named_without_importing() -> None:
    names = ModelNames.of(ast.parse("from testproject.testapp.models import Author, Gone, lowercase\n").body)
    assert [(missing.local, missing.module) for missing in names.missing] == [("Gone", "testproject.testapp.models")]


@pytest.mark.usefixtures("dbs")
def test_growing_a_table_reads_its_values_and_model_without_running_the_script() -> None:
    pytest.importorskip("faker")
    text = (
        "import dumpscript_no_such_module\n"
        "from testproject.testapp.models import Author\n"
        "\n"
        "authors = []\n"
        "for name, email in [\n"
        '    ("Ada Lovelace", "ada@example.com"),\n'
        '    ("Grace Hopper", "grace@example.com"),\n'
        "]:\n"
        "    authors.append(Author(name=name, email=email))\n"
    )
    grown = grow_loop(text, 9, 10).text
    assert "for i in range(2, 10):" in grown
    assert grown.startswith(
        "import random\n\nimport dumpscript_no_such_module\nfrom faker import Faker\n"
        "from testproject.testapp.models import Author\n\nfake = Faker("
    )
    assert "dumpscript_no_such_module" not in sys.modules


def test_a_script_records_the_rows_it_creates_and_an_older_one_says_them_in_its_docstring(dbs: Databases) -> None:
    from dumpscript.load._header import announced_rows

    sample.fill("default")
    text = dump("testapp")
    script = write(dbs, text)
    recorded = announced_rows(script)
    assert text.count("\nROWS = {") == 1 and recorded["testapp.Book_tags"] > 0
    result = load_script(script, using="other")
    assert recorded == {label: count for label, count in result.created.items() if count}
    # ROWS is what is read, not the docstring: a count edited there is the count
    more = re.sub(r'("testapp\.Book_tags": )(\d+)', lambda m: f"{m.group(1)}{int(m.group(2)) + 1000}", text)
    edited = write(dbs, more, "edited_data.py")
    assert announced_rows(edited) == {**recorded, "testapp.Book_tags": recorded["testapp.Book_tags"] + 1000}
    # a script written before ROWS was recorded: its docstring's count lines
    older = write(dbs, re.sub(r"\n# The rows this script creates.*?\n\}\n", "\n", text, flags=re.S), "older_data.py")
    assert "ROWS = " not in older.read_text() and announced_rows(older) == recorded
