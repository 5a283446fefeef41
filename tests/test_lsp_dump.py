"""'Dump <Model> rows here' and the dump commands through a real LSP client over stdio."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import lspclient
from conftest import Databases
from dumpscript import DumpOptions
from dumpscript.transforms import insert_dump
from testproject.testapp import models as m

SCRIPT = """\
from testproject.testapp.models import Author


def run(using):
    ann = Author.objects.using(using).create(name="Ann", email="ann@example.com")
    # testapp.Book rows:

    return ann
"""


def _fill() -> None:
    ann = m.Author.objects.create(name="Ann", email="ann@example.com")
    bob = m.Author.objects.create(name="Bob", email="bob@example.com")
    m.Book.objects.create(title="First", author=ann)
    m.Book.objects.create(title="Second", author=bob)
    for name in ["red", "green", "blue", "cyan", "plum"]:
        m.Tag.objects.create(name=name)


@pytest.fixture
async def editor(dbs: Databases) -> AsyncIterator[lspclient.Editor]:
    _fill()
    editor = await lspclient.start(dbs, dbs.workdir, options={"rowLimit": 3})
    yield editor
    await lspclient.stop(editor)


async def test_a_model_named_at_the_cursor(editor: lspclient.Editor) -> None:
    uri = editor.open("books_data.py", SCRIPT)
    actions = await editor.actions(uri, 6, 8)  # on "testapp.Book" in the comment
    assert [a.title for a in actions] == ["Dump Book rows here (2 rows + the rows they refer to)"]
    await editor.run(actions[0])
    expected = insert_dump(SCRIPT, "testapp.Book", line=7, options=DumpOptions(limit=3))
    assert editor.texts[uri] == expected.text
    assert '        Book(title="First", author=ann),\n' in editor.texts[uri]  # Ann reused
    # The dump reported work-done progress: begin, then end.
    kinds = [type(p).__name__ for reports in editor.client.progress_reports.values() for p in reports]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"


async def test_an_imported_model_class(editor: lspclient.Editor) -> None:
    uri = editor.open("authors_data.py", SCRIPT)
    (action,) = await editor.actions(uri, 5, 12, only=["refactor.dumpscript"])  # on "Author"
    assert action.title == "Dump Author rows here (2 rows + the rows they refer to)"


async def test_elsewhere_the_models_of_the_apps_the_file_imports(editor: lspclient.Editor) -> None:
    uri = editor.open("authors_data.py", SCRIPT)
    titles = [a.title for a in await editor.actions(uri, 7, 0)]
    assert "Dump Tag rows here (first 3 of 5 rows)" in titles
    assert "Dump Book rows here (2 rows + the rows they refer to)" in titles
    assert "Dump Author rows here (2 rows + the rows they refer to)" in titles
    assert not any("Club" in title for title in titles)  # no rows: not offered
    (tags,) = [a for a in await editor.actions(uri, 7, 0) if "Tag" in a.title]
    await editor.run(tags)
    assert editor.texts[uri].count("Tag(name=") == 3


VIEW = """\
from django.http import JsonResponse

from testproject.testapp.models import Author, Book


def authors(request):
    names = list(Author.objects.values_list("name", flat=True))
    return JsonResponse({"names": names, "books": Book.objects.count()})
"""


async def test_in_code_that_is_no_script_only_on_a_model_name(editor: lspclient.Editor) -> None:
    """A view or a command that imports models: no dump actions on every line (the light bulb
    offered one per model, each with a COUNT); on a model name, that model's."""
    uri = editor.open("views.py", VIEW)
    assert not [a for a in await editor.actions(uri, 7, 4) if "Dump" in a.title]
    assert not [a for a in await editor.actions(uri, 8, 4) if "Dump" in a.title]
    (action,) = [a for a in await editor.actions(uri, 7, 20) if "Dump" in a.title]  # on "Author"
    assert action.title == "Dump Author rows here (2 rows + the rows they refer to)"


async def test_the_dump_command_with_a_filter_and_a_limit(editor: lspclient.Editor) -> None:
    uri = editor.open("tags_data.py", SCRIPT)
    result = await editor.command(
        "dumpscript.dumpModel",
        {"uri": uri, "line": 7, "label": "testapp.Tag", "filter": {"name__in": ["red", "blue", "plum"]}, "limit": 2},
    )
    assert result["applied"] is True
    assert result["summary"] == "Inserted 2 rows (testapp.Tag: 2) at line 7"
    assert 'Tag(name="red")' in editor.texts[uri] and 'Tag(name="blue")' in editor.texts[uri]
    assert "plum" not in editor.texts[uri] and "green" not in editor.texts[uri]
    bad = await editor.command("dumpscript.dumpModel", {"uri": uri, "line": 7, "label": "testapp.Nope"})
    assert "error" in bad and "Nope" in bad["error"]


async def test_choose_a_model_from_a_question(editor: lspclient.Editor) -> None:
    uri = editor.open("any_data.py", SCRIPT)
    editor.answers.append("testapp.Book")
    result = await editor.command("dumpscript.dumpModelHere", {"uri": uri, "line": 7})
    assert result["applied"] is True
    (question,) = editor.questions
    assert [a.title for a in question.actions or []] == ["testapp.Author", "testapp.Book", "testapp.Tag"]
    assert 'Book(title="Second", author=author_1)' in editor.texts[uri]


async def test_dump_to_a_new_file_and_list_models(editor: lspclient.Editor) -> None:
    target = editor.root / "new_tags_data.py"
    result = await editor.command("dumpscript.dumpToFile", {"labels": ["testapp.Tag"], "path": str(target)})
    assert result["path"] == str(target) and target.exists()
    assert 'Tag(name="plum")' in target.read_text(encoding="utf-8")
    assert [d.uri for d in editor.client.shown_documents] == [target.resolve().as_uri()]
    listed = await editor.command("dumpscript.listModels", {"counts": True})
    assert listed["ready"] is True
    assert {"label": "testapp.Tag", "app": "testapp", "count": 5} in listed["models"]
    status = await editor.command("dumpscript.status")
    assert status["ready"] is True and status["settingsModule"] == "testproject.settings"


async def test_a_file_that_exists_is_replaced_only_when_the_user_says_so(editor: lspclient.Editor) -> None:
    """Dumping to a name that exists replaced a hand-edited script without asking."""
    target = editor.root / "polls_data.py"
    edited = "# hand-edited\n" * 135
    target.write_text(edited, encoding="utf-8")
    editor.answers.append("Cancel")
    result = await editor.command("dumpscript.dumpToFile", {"labels": ["testapp.Tag"], "path": str(target)})
    assert result["cancelled"] is True and target.read_text(encoding="utf-8") == edited
    assert (
        editor.questions[-1].message
        == "dumpscript: polls_data.py exists (135 lines, not written by dumpscript). Replace it with the dump?"
    )
    editor.answers.append("Replace")
    result = await editor.command("dumpscript.dumpToFile", {"labels": ["testapp.Tag"], "path": str(target)})
    assert result["lines"] > 0 and 'Tag(name="plum")' in target.read_text(encoding="utf-8")
