"""Scripts that survive migrations: dump → change the models and migrate → load the old script
gives what Django's own ``migrate`` of the source database gives, per operation, on SQLite
and PostgreSQL (the whole run's backend), through the real ``manage.py`` commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from evolve import Project

from dumpscript.load._header import announced_rows

MODELS = """
from django.db import models


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)


class Poll(models.Model):
    question = models.CharField(max_length=100, unique=True)
    tags = models.ManyToManyField(Tag, blank=True)


class Choice(models.Model):
    question = models.ForeignKey(Poll, on_delete=models.CASCADE)
    text = models.CharField(max_length=100, unique=True)
    votes = models.IntegerField(default=0)
    comment = models.CharField(max_length=50, null=True)


class Note(models.Model):
    text = models.CharField(max_length=100, unique=True)
"""

INITIAL = """
from django.db import migrations, models
import django.db.models.deletion


def key():
    return ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False))


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel("Tag", [key(), ("name", models.CharField(max_length=50, unique=True))]),
        migrations.CreateModel(
            "Poll",
            [
                key(),
                ("question", models.CharField(max_length=100, unique=True)),
                ("tags", models.ManyToManyField(blank=True, to="shop.tag")),
            ],
        ),
        migrations.CreateModel(
            "Choice",
            [
                key(),
                ("text", models.CharField(max_length=100, unique=True)),
                ("votes", models.IntegerField(default=0)),
                ("comment", models.CharField(max_length=50, null=True)),
                ("question", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="shop.poll")),
            ],
        ),
        migrations.CreateModel("Note", [key(), ("text", models.CharField(max_length=100, unique=True))]),
    ]
"""

FILL = """
from shop.models import Choice, Note, Poll, Tag
red, blue = Tag.objects.create(name="red"), Tag.objects.create(name="blue")
best = Poll.objects.create(question="Best colour?")
best.tags.set([red, blue])
other = Poll.objects.create(question="Worst colour?")
other.tags.set([blue])
for number, text in enumerate(["Red", "Blue", "Green and a little yellow"]):
    Choice.objects.create(question=best if number < 2 else other, text=text, votes=number + 1, comment=COMMENT)
Note.objects.create(text="first")
Note.objects.create(text="second")
"""


def _migration(operations: str, imports: str = "") -> str:
    return f"""
from django.db import migrations, models
import django.db.models.deletion
{imports}

class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [{operations}]
"""


def _project(tmp_path: Path, comment: str = '"fine"') -> tuple[Project, Path]:
    project = Project(tmp_path)
    project.models("shop", MODELS)
    project.migration("shop", "0001_initial", INITIAL)
    old = project.dump_at_first_state(f"COMMENT = {comment}\n" + FILL)
    assert 'MIGRATIONS = {"shop": ["0001_initial"]}' in old.read_text()
    return project, old


CASES = {
    "remove a field": (
        MODELS.replace("    votes = models.IntegerField(default=0)\n", ""),
        'migrations.RemoveField("choice", "votes")',
        "Dropped 3 values of shop.Choice.votes (removed in shop 0002_change)",
    ),
    "add a NOT NULL field with a one-off default": (
        MODELS.replace("    votes = models.IntegerField(default=0)\n", "    votes = models.IntegerField(default=0)\n"
                       "    rank = models.IntegerField()\n"),
        'migrations.AddField("choice", "rank", models.IntegerField(default=7), preserve_default=False)',
        "Brought forward along 1 migration written after the script: shop 0002_change",
    ),
    "add a text field with a one-off default": (
        MODELS.replace('    text = models.CharField(max_length=100, unique=True)\n"""', "")
        + '    text = models.CharField(max_length=100, unique=True)\n    slug = models.CharField(max_length=20)\n',
        'migrations.AddField("note", "slug", models.CharField(max_length=20, default="n/a"), preserve_default=False)',
        "shop 0002_change",
    ),
    "add a field with a default": (
        MODELS.replace("    votes = models.IntegerField(default=0)\n", "    votes = models.IntegerField(default=0)\n"
                       "    score = models.IntegerField(default=5)\n"),
        'migrations.AddField("choice", "score", models.IntegerField(default=5))',
        "shop 0002_change",
    ),
    "rename a field": (
        MODELS.replace("class Note(models.Model):\n    text =", "class Note(models.Model):\n    body ="),
        'migrations.RenameField("note", "text", "body")',
        "shop 0002_change",
    ),
    "rename a foreign key": (
        MODELS.replace("    question = models.ForeignKey(", "    poll = models.ForeignKey("),
        'migrations.RenameField("choice", "question", "poll")',
        "shop 0002_change",
    ),
    "rename a many-to-many field": (
        MODELS.replace("    tags = models.ManyToManyField(", "    labels = models.ManyToManyField("),
        'migrations.RenameField("poll", "tags", "labels")',
        "shop 0002_change",
    ),
    "rename a model": (
        MODELS.replace("class Tag(", "class Label(").replace("ManyToManyField(Tag,", "ManyToManyField(Label,"),
        'migrations.RenameModel("Tag", "Label")',
        "shop 0002_change",
    ),
    "delete a model": (
        MODELS.split("\n\nclass Note")[0] + "\n",
        'migrations.DeleteModel("Note")',
        "Dropped 2 rows of shop.Note (deleted in shop 0002_change)",
    ),
    "alter a field's type": (
        MODELS.replace("votes = models.IntegerField(default=0)", 'votes = models.CharField(max_length=9, default="0")'),
        'migrations.AlterField("choice", "votes", models.CharField(max_length=9, default="0"))',
        "shop 0002_change",
    ),
    "a state and a database operation apart": (
        MODELS.replace("    votes = models.IntegerField(default=0)\n", ""),
        'migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("choice", "votes")], '
        'database_operations=[migrations.RemoveField("choice", "votes")])',
        "Dropped 3 values of shop.Choice.votes (removed in shop 0002_change)",
    ),
}  # fmt: skip


EVERY_PAIR = {"remove a field", "rename a foreign key", "rename a model", "add a NOT NULL field with a one-off default"}
"""The operations tested on every Python/Django pair; the others on the default pair (both databases)."""


@pytest.mark.parametrize(
    "case",
    [case if case in EVERY_PAIR else pytest.param(case, marks=pytest.mark.once) for case in CASES],
    ids=list(CASES),
)
def test_an_old_script_loads_as_django_migrates_its_rows(tmp_path: Path, case: str) -> None:
    models, operations, said = CASES[case]
    project, _ = _project(tmp_path)
    project.models("shop", models)
    project.migration("shop", "0002_change", _migration(operations))
    outcome = project.load_at_new_state()
    assert not outcome.error
    assert outcome.source == outcome.loaded
    assert said in outcome.said


UPGRADE_REFUSES = {"delete a model": "imports shop.Note, deleted in shop 0002_change: remove it and the statements"}


@pytest.mark.once  # the same operations as the loads above, through a rewrite of the text: on the default pair,
@pytest.mark.sqlite_only  # on SQLite (the loads above cover both databases)
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_an_upgraded_script_loads_as_the_old_one_did(tmp_path: Path, case: str) -> None:
    models, operations, _ = CASES[case]
    project, old = _project(tmp_path)
    text = old.read_text().replace("\n\ndef run(", "\n\n# kept by the upgrade\ndef run(", 1)
    old.write_text(text)
    project.models("shop", models)
    project.migration("shop", "0002_change", _migration(operations))
    diff = project.upgrade()
    if case in UPGRADE_REFUSES:
        assert diff.returncode == 1 and UPGRADE_REFUSES[case] in diff.stderr
        return
    assert diff.returncode == 0, diff.stderr
    assert diff.stdout.startswith("--- old_data.py\n+++ old_data.py\n") and old.read_text() == text  # a diff only
    assert '+MIGRATIONS = {"shop": ["0002_change"]}' in diff.stdout
    written = project.upgrade("--write")
    assert written.returncode == 0, written.stderr
    upgraded = old.read_text()
    assert "# kept by the upgrade\ndef run(" in upgraded and 'MIGRATIONS = {"shop": ["0002_change"]}' in upgraded
    outcome = project.load_at_new_state()
    assert not outcome.error
    assert "Brought forward" not in outcome.said  # the script is at the models' state: nothing to replay
    assert outcome.source == outcome.loaded
    created = {line.split()[2]: int(line.split()[1]) for line in outcome.said.splitlines() if line.count(" ") == 2}
    assert announced_rows(old) == created  # its ROWS name the models as they are now


def test_a_value_the_altered_field_cannot_take_is_refused_naming_it(tmp_path: Path) -> None:
    project, _ = _project(tmp_path)
    shorter = "text = models.CharField(max_length=10, unique=True)\n    votes"
    project.models("shop", MODELS.replace("text = models.CharField(max_length=100, unique=True)\n    votes", shorter))
    project.migration("shop", "0002_change", _migration('migrations.AlterField("choice", "text", '
                                                        "models.CharField(max_length=10, unique=True))"))  # fmt: skip
    outcome = project.load_at_new_state(oracle=False)  # Django's migrate refuses it too (PostgreSQL)
    assert "old_data.py, line " in outcome.error
    assert "shop.Choice.text holds at most 10 characters since shop 0002_change: this object has 25" in outcome.error
    assert outcome.error.endswith("nothing was loaded")


def test_none_in_a_field_made_not_null_is_refused_naming_it(tmp_path: Path) -> None:
    project, _ = _project(tmp_path, comment="None")
    project.models("shop", MODELS.replace("comment = models.CharField(max_length=50, null=True)",
                                          'comment = models.CharField(max_length=50)'))  # fmt: skip
    project.migration("shop", "0002_change", _migration('migrations.AlterField("choice", "comment", '
                                                        "models.CharField(max_length=50))"))  # fmt: skip
    outcome = project.load_at_new_state(oracle=False)  # Django's migrate refuses it too
    assert "shop.Choice.comment is NOT NULL since shop 0002_change: this object has None" in outcome.error


def test_a_data_migration_in_between_is_refused_naming_it(tmp_path: Path) -> None:
    project, old = _project(tmp_path)
    forwards = "def forwards(apps, schema_editor):\n    apps.get_model('shop', 'Choice').objects.update(votes=0)\n"
    project.migration("shop", "0002_change", _migration("migrations.RunPython(forwards)", imports=forwards))
    outcome = project.load_at_new_state()
    said = f"{old}: it was written at shop 0001_initial; since then shop 0002_change (RunPython) changed rows"
    assert outcome.error.startswith(said)
    assert outcome.error.endswith("nothing was loaded")


def test_a_squashed_history_is_replayed_from_its_originals(tmp_path: Path) -> None:
    project, _ = _project(tmp_path)
    models = MODELS.replace("    votes = models.IntegerField(default=0)\n", "")
    project.models("shop", models.replace("Note(models.Model):\n    text =", "Note(models.Model):\n    body ="))
    project.migration("shop", "0002_remove", _migration('migrations.RemoveField("choice", "votes")'))
    third = _migration('migrations.RenameField("note", "text", "body")').replace('"0001_initial"', '"0002_remove"')
    project.migration("shop", "0003_rename", third)
    replaces = '    replaces = [("shop", "0001_initial"), ("shop", "0002_remove"), ("shop", "0003_rename")]\n'
    squashed = INITIAL.replace("    initial = True\n", replaces)
    squashed = squashed.replace('("votes", models.IntegerField(default=0)),', "")
    note = '("text", models.CharField(max_length=100, unique=True))]),\n    ]'
    squashed = squashed.replace(note, note.replace('"text"', '"body"'))
    project.migration("shop", "0001_squashed_0003", squashed)
    outcome = project.load_at_new_state()
    assert not outcome.error
    assert outcome.source == outcome.loaded
    assert "shop 0002_remove, shop 0003_rename" in outcome.said


CATALOG = """
from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=50, unique=True)
"""

ORDERS = """
from django.db import models


class Order(models.Model):
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE)
    quantity = models.IntegerField()
"""


def test_a_model_renamed_in_another_app_is_followed_by_the_rows_that_point_at_it(tmp_path: Path) -> None:
    project = Project(tmp_path, apps=("catalog", "orders"))
    project.models("catalog", CATALOG)
    project.models("orders", ORDERS)
    key = '("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False))'
    project.migration("catalog", "0001_initial", f"""
        from django.db import migrations, models
        class Migration(migrations.Migration):
            initial = True
            operations = [
                migrations.CreateModel("Product", [{key}, ("name", models.CharField(max_length=50, unique=True))])
            ]
        """)  # fmt: skip
    project.migration("orders", "0001_initial", f"""
        from django.db import migrations, models
        import django.db.models.deletion
        class Migration(migrations.Migration):
            initial = True
            dependencies = [("catalog", "0001_initial")]
            operations = [migrations.CreateModel("Order", [{key}, ("quantity", models.IntegerField()),
                ("product", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="catalog.product"))])]
        """)  # fmt: skip
    old = project.dump_at_first_state("""
        from catalog.models import Product
        from orders.models import Order
        for number, name in enumerate(["tea", "coffee"]):
            Order.objects.create(product=Product.objects.create(name=name), quantity=number + 1)
        """)  # fmt: skip
    assert '"catalog": ["0001_initial"]' in old.read_text() and '"orders": ["0001_initial"]' in old.read_text()
    project.models("catalog", CATALOG.replace("class Product(", "class Item("))
    project.models("orders", ORDERS.replace('"catalog.Product"', '"catalog.Item"'))
    project.migration("catalog", "0002_rename", """
        from django.db import migrations
        class Migration(migrations.Migration):
            dependencies = [("catalog", "0001_initial"), ("orders", "0001_initial")]
            operations = [migrations.RenameModel("Product", "Item")]
        """)  # fmt: skip
    project.migration("orders", "0002_follow", """
        from django.db import migrations, models
        import django.db.models.deletion
        class Migration(migrations.Migration):
            dependencies = [("orders", "0001_initial"), ("catalog", "0002_rename")]
            operations = [migrations.AlterField("order", "product",
                models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="catalog.item"))]
        """)  # fmt: skip
    outcome = project.load_at_new_state()
    assert not outcome.error
    assert outcome.source == outcome.loaded
    assert "catalog 0002_rename" in outcome.said and "orders 0002_follow" in outcome.said


def test_a_database_behind_the_script_is_told_to_migrate(tmp_path: Path) -> None:
    project, old = _project(tmp_path)
    done = project.run(
        'call_command("migrate", "shop", "zero", database="other", verbosity=0)\n'
        'call_command("loadscript", "old_data.py", database="other")\n'
    )
    assert done.returncode != 0
    assert (
        f"{old}: the script was written at shop 0001_initial, but the database has not applied shop 0001_initial: "
        "run manage.py migrate first; nothing was loaded"
    ) in done.stderr


def test_the_page_shows_what_a_load_says(tmp_path: Path) -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "migrations.rst").read_text()
    models, operations, _ = CASES["remove a field"]
    project, _ = _project(tmp_path)
    project.models("shop", models)
    project.migration("shop", "0002_change", _migration(operations))
    said = project.load_at_new_state().said
    shown = [line.strip() for line in page.split("the load says what it did::")[1].split("\n\n")[1].splitlines()]
    assert shown and all(line in said.splitlines() for line in shown)


def test_the_upgrade_commands_the_page_shows_run(tmp_path: Path) -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "migrations.rst").read_text()
    shown = [
        line.split("#")[0].split() for line in page.splitlines() if line.strip().startswith("python -m dumpscript")
    ]
    assert [command[3:] for command in shown] == [
        ["upgrade", "polls_data.py", "--settings", "mysite.settings"],
        ["upgrade", "polls_data.py", "--settings", "mysite.settings", "--write"],
    ]
    models, operations, _ = CASES["rename a field"]
    project, old = _project(tmp_path)
    project.models("shop", models)
    project.migration("shop", "0002_change", _migration(operations))
    before = old.read_text()
    diff = project.upgrade(*shown[0][7:])  # what follows the settings: nothing, then --write
    assert diff.returncode == 0 and old.read_text() == before
    assert any(line.startswith("+") and "Note(body=" in line for line in diff.stdout.splitlines())
    written = project.upgrade(*shown[1][7:])
    assert written.returncode == 0 and "Note(body=" in old.read_text() and "Note(text=" not in old.read_text()


def test_dropping_unknown_fields_never_drops_a_renamed_one(tmp_path: Path) -> None:
    models, operations, _ = CASES["rename a foreign key"]
    project, _ = _project(tmp_path)
    project.models("shop", models)
    project.migration("shop", "0002_change", _migration(operations))
    outcome = project.load_at_new_state("--drop-unknown-fields")
    assert not outcome.error and "Dropped" not in outcome.said
    assert outcome.source == outcome.loaded
