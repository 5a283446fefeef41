"""Scripts compared byte for byte with scripts recorded in ``tests/golden/``.

The recorded scripts are the output of the code before the dump pipeline was unified (two
implementations that agreed byte for byte); they hold every option on the test project's
sample data. A change that alters the output on purpose records them again:
``DUMPSCRIPT_UPDATE_GOLDEN=1 pytest tests/test_golden.py`` (and says so in its note).
SQLite only: PostgreSQL's sample data differs (no NUL in text, a NaN row).
"""

from __future__ import annotations

import datetime
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps

from conftest import Databases, dump
from dumpscript import DumpOptions, dump_script
from testproject import bulk, sample

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DUMPSCRIPT_UPDATE_GOLDEN") == "1"
if UPDATE and os.environ.get("CI") == "true":
    raise pytest.UsageError("DUMPSCRIPT_UPDATE_GOLDEN rewrites the golden scripts: it refuses to run under CI=true")

pytestmark = pytest.mark.sqlite_only


def _auth() -> None:
    from django.contrib.auth.models import Group, Permission, User

    editors = Group.objects.create(name="editors")
    editors.permissions.set(Permission.objects.filter(codename__in=["add_book", "change_book"]))
    joined = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
    user = User.objects.create(username="ada", email="ada@example.com", is_staff=True, date_joined=joined)
    user.groups.add(editors)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_tag", "delete_note"]))


def _testapp_models() -> list[str]:
    return [model._meta.label for model in apps.get_app_config("testapp").get_models()]


# name → (labels, options)
CASES: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "testapp": (("testapp",), {}),
    "auth": (("auth",), {}),
    "testapp_auth": (("testapp", "auth"), {}),
    "review_place": (("testapp.Review", "testapp.Place"), {}),
    "limit": (("testapp",), {"limit": 2}),
    # Without the closure (dependents=False): what --filter and --pks selected before subsets.
    "filter": (("testapp",), {"filter": {"pk__gt": 1}, "dependents": False}),
    "keep_pks": (("testapp",), {"keep_pks": True}),
    "all_fields": (("testapp",), {"all_fields": True}),
    "default_manager": (("testapp",), {"use_default_manager": True}),
    "exclude": (("testapp",), {"exclude": ["testapp.Book"]}),
    "pks": (("testapp.Author",), {"pks": [5, 6], "dependents": False}),
    "subset_pks": (("testapp.Author",), {"pks": [5, 6]}),  # the authors and what belongs to them
    "subset_follow": (
        ("testapp.Author",),
        {"filter": {"name": "Ada Lovelace"}, "follow": ["testapp.Author.mentees"], "no_follow": ["testapp.Edition"]},
    ),
    "save_each": (("testapp",), {"save_each": True}),
    "save_each_auth": (("auth",), {"save_each": True}),
    "natural_foreign_book": (("testapp.Book",), {"natural_foreign": True}),
    "natural_foreign_all": (("testapp",), {"natural_foreign": True}),
    "lookup_author": (("testapp.Book", "testapp.Edition"), {"lookups": {"testapp.Author": ["email"]}}),
    "lookup_place": (("testapp.Review",), {"lookups": {"testapp.Place": ["name"]}}),
    "lookup_save_each": (("testapp.Membership",), {"lookups": {"testapp.Author": ["email"]}, "save_each": True}),
    **{f"model_{label}": ((label,), {}) for label in ["auth.User", "auth.Group"]},
}


def _check(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.py.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    recorded = path.read_text(encoding="utf-8")
    assert text == recorded, f"{name}: the script differs from {path.name}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_script_is_the_recorded_one(dbs: Databases, name: str) -> None:
    sample.fill()
    _auth()
    labels, options = CASES[name]
    _check(name, dump_script(*labels, options=DumpOptions(**options)))


def test_every_model_alone_is_the_recorded_script(dbs: Databases) -> None:
    sample.fill()
    for label in _testapp_models():
        if label in ("testapp.Celebrity", "testapp.BookProxy"):
            continue
        _check(f"model_{label}", dump_script(label))


def test_bulk_data_is_the_recorded_script(dbs: Databases) -> None:
    """Several chunks per model, trees by level; recorded as a digest (the script is large)."""
    bulk.build(6000)
    for name, options in [("bulk", {}), ("bulk_save_each", {"save_each": True})]:
        text = dump_script("testapp", options=DumpOptions(**options))
        digest = hashlib.sha256(text.encode()).hexdigest()
        path = GOLDEN / f"{name}.sha256"
        if UPDATE:
            path.write_text(digest + "\n", encoding="utf-8")
        assert digest == path.read_text(encoding="utf-8").strip(), name


def test_a_script_records_the_migrations_it_was_written_at(dbs: Databases) -> None:
    """``MIGRATIONS`` names the latest migrations applied in the database dumped, per app whose
    rows the script creates: after ``migrate testapp 0001`` it says 0001."""
    import ast

    from testproject.testapp import models as m

    def recorded(text: str) -> object:
        tree = ast.parse(text)
        (value,) = [n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "MIGRATIONS"]  # type: ignore[attr-defined]
        return ast.literal_eval(value)

    m.Tag.objects.create(name="red")
    assert recorded(dump("testapp.Tag")) == {"testapp": ["0002_contact"]}
    back = dbs.manage("migrate", "testapp", "0001", "--database", "other", "-v", "0")
    assert back.returncode == 0, back.stderr
    m.Tag.objects.using("other").create(name="blue")
    assert recorded(dump("testapp.Tag", using="other")) == {"testapp": ["0001_initial"]}
