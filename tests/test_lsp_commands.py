"""Loading a script from the editor, and a server without a Django project, over stdio."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from lsprotocol import types

import lspclient
from conftest import Databases
from dumpscript import dump_script
from testproject.snapshot import Snapshot
from testproject.testapp import models as m


async def test_load_a_script_after_a_dry_run_and_a_confirmation(dbs: Databases) -> None:
    for name in ["red", "green"]:
        m.Tag.objects.using("other").create(name=name)
    text = dump_script("testapp.Tag", options=__import__("dumpscript").DumpOptions(using="other"))
    editor = await lspclient.start(dbs, dbs.workdir)
    try:
        uri = editor.open("tags_data.py", text)
        dry = await editor.command("dumpscript.loadScript", {"uri": uri, "dryRun": True})
        assert dry == {"loaded": False, "dryRun": True, "created": {"testapp.Tag": 2}, "deleted": {}}
        assert m.Tag.objects.count() == 0
        editor.answers.append("Cancel")
        cancelled = await editor.command("dumpscript.loadScript", {"uri": uri})
        assert cancelled["loaded"] is False and cancelled["cancelled"] is True
        assert editor.questions[-1].message == (
            "dumpscript: load tags_data.py into database 'default'? It creates 2 rows (testapp.Tag: 2)."
        )
        assert m.Tag.objects.count() == 0
        editor.answers.append("Load")
        loaded = await editor.command("dumpscript.loadScript", {"uri": uri})
        assert loaded == {"loaded": True, "dryRun": False, "created": {"testapp.Tag": 2}, "deleted": {}}
        assert Snapshot("default").contents() == Snapshot("other").contents()
        assert editor.client.messages[-1].message.startswith("dumpscript: loaded tags_data.py into 'default'")
        # Unsaved changes are not loaded behind the editor's back.
        editor.change(uri, text + "\n# edited\n")
        unsaved = await editor.command("dumpscript.loadScript", {"uri": uri, "confirmed": True})
        assert unsaved == {"error": "tags_data.py has unsaved changes: save it, then load it"}
    finally:
        await lspclient.stop(editor)


@pytest.mark.filterwarnings("ignore:Unknown progress token")  # a token this test client made up, not VS Code's
async def test_rows_already_there_the_way_out_is_replacing_them(dbs: Databases) -> None:
    """Loading a script whose rows are in the database already (unique names): the question
    says so and how many rows a replace deletes; Cancel leaves everything; Replace loads. The
    database is one of DATABASES; the progress goes to the token the client gave."""
    for name in ["red", "green"]:
        m.Tag.objects.using("other").create(name=name)
    text = dump_script("testapp.Tag", options=__import__("dumpscript").DumpOptions(using="other"))
    for name in ["red", "blue", "cyan"]:
        m.Tag.objects.create(name=name)
    editor = await lspclient.start(dbs, dbs.workdir)
    try:
        status = await editor.command("dumpscript.status")
        assert [database["alias"] for database in status["databases"]] == ["default", "other"]
        uri = editor.open("tags_data.py", text)
        editor.answers.append("Cancel")
        cancelled = await editor.command("dumpscript.loadScript", {"uri": uri})
        assert cancelled["cancelled"] is True and cancelled["conflict"] is True
        question = editor.questions[-1].message
        assert question.startswith("dumpscript: database 'default' already has rows that tags_data.py creates (")
        assert "UNIQUE" in question.upper() and "Replace them? It deletes 3 rows (testapp.Tag: 3)" in question
        assert question.endswith("and creates 2 rows (testapp.Tag: 2).")
        assert sorted(m.Tag.objects.values_list("name", flat=True)) == ["blue", "cyan", "red"]
        editor.answers.append("Replace")
        loaded = await editor.command("dumpscript.loadScript", {"uri": uri, "progressToken": "from-the-editor"})
        assert loaded["loaded"] is True and loaded["deleted"]["testapp.Tag"] == 3
        assert sorted(m.Tag.objects.values_list("name", flat=True)) == ["green", "red"]
        kinds = [type(report).__name__ for report in editor.client.progress_reports["from-the-editor"]]
        assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
        assert kinds.count("WorkDoneProgressBegin") == 3  # the dry run, the one with replace, the load
        # The other database of DATABASES, chosen by the editor.
        into_other = await editor.command("dumpscript.loadScript", {"uri": uri, "database": "other", "dryRun": True})
        assert "UNIQUE" in into_other["error"].upper()
    finally:
        await lspclient.stop(editor)


async def test_the_name_of_a_new_script_is_checked_as_it_is_typed(dbs: Databases) -> None:
    editor = await lspclient.start(dbs, dbs.workdir)
    try:
        shadow = await editor.command("dumpscript.checkTarget", {"path": str(dbs.workdir / "testapp.py")})
        assert "would shadow the installed app" in shadow["error"]
        (dbs.workdir / "seed_data.py").write_text("a = 1\nb = 2\n", encoding="utf-8")
        there = await editor.command("dumpscript.checkTarget", {"path": str(dbs.workdir / "seed_data.py")})
        assert there == {"exists": True, "lines": 2}
        new = await editor.command("dumpscript.checkTarget", {"path": str(dbs.workdir / "more_data.py")})
        assert new == {"exists": False, "lines": 0}
    finally:
        await lspclient.stop(editor)


async def test_without_a_django_project(tmp_path: Path) -> None:
    env = {"DJANGO_SETTINGS_MODULE": None}  # and no manage.py in the folder
    editor = await lspclient.start(None, tmp_path, env=env)  # type: ignore[dict-item]
    try:
        for _ in range(100):
            if editor.client.messages:
                break
            await asyncio.sleep(0.05)
        (message,) = editor.client.messages  # said once
        assert message.type == types.MessageType.Warning
        assert message.message.startswith("dumpscript: cannot load the Django project (no manage.py in ")
        assert "Convert to generator loop still works" in message.message
        text = "def run(using):\n    a_1 = A(x=1)\n    a_2 = A(x=2)\n"
        uri = editor.open("a_data.py", text)
        titles = [a.title for a in await editor.actions(uri, 2)]
        assert titles == ["Convert to generator loop (2 A blocks)"]
        result = await editor.command("dumpscript.dumpModel", {"uri": uri, "label": "testapp.Tag"})
        assert result["error"].startswith("No Django project: no manage.py in ")
        status = await editor.command("dumpscript.status")
        assert status["ready"] is False
        assert len(editor.client.messages) == 2  # the error of the command, nothing else
    finally:
        await lspclient.stop(editor)


async def test_a_project_found_by_its_manage_py(dbs: Databases) -> None:
    project = dbs.workdir / "site"
    project.mkdir()
    (project / "manage.py").write_text(
        'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")\n', encoding="utf-8"
    )
    editor = await lspclient.start(dbs, dbs.workdir, env={"DJANGO_SETTINGS_MODULE": None})  # type: ignore[dict-item]
    try:
        status = await editor.command("dumpscript.status")
        assert status["ready"] is True and status["foundBy"] == "manage.py"
        assert status["managePy"] == str(project / "manage.py")
        assert editor.status and editor.status[-1]["ready"] is True
    finally:
        await lspclient.stop(editor)
    assert os.environ.get("DJANGO_SETTINGS_MODULE") == "testproject.settings"  # the test process is unchanged


async def test_a_database_that_does_not_answer(tmp_path: Path) -> None:
    # The project loads (settings import fine) but its database cannot be opened.
    env = {"DUMPSCRIPT_DB": "sqlite", "DUMPSCRIPT_DEFAULT_NAME": str(tmp_path / "missing" / "db.sqlite3")}
    editor = await lspclient.start(None, tmp_path, env=env)
    try:
        text = "from testproject.testapp.models import Tag\n\n\ndef run(using):\n    pass\n"
        uri = editor.open("tags_data.py", text)
        assert await editor.actions(uri, 5, 4) == []  # no Dump actions, and one explanation
        assert await editor.actions(uri, 5, 4) == []
        warnings = [m.message for m in editor.client.messages if m.type == types.MessageType.Warning]
        assert warnings == [
            "dumpscript: cannot read the database (OperationalError: unable to open database file); "
            "the Dump actions are off until it answers."
        ]
        result = await editor.command("dumpscript.dumpModel", {"uri": uri, "label": "testapp.Tag"})
        assert result == {"error": "cannot use the database: OperationalError: unable to open database file"}
        assert (await editor.command("dumpscript.status"))["ready"] is True  # the server goes on
    finally:
        await lspclient.stop(editor)


async def test_nothing_to_insert_is_news_not_an_error(dbs: Databases) -> None:
    """A dump that finds no rows says so as information (it was an error message)."""
    editor = await lspclient.start(dbs, dbs.workdir)
    try:
        uri = editor.open("seed_data.py", "def run(using):\n    pass\n")
        result = await editor.command("dumpscript.dumpModel", {"uri": uri, "label": "testapp.Tag"})
        assert "nothing to insert" in result["error"]
        (message,) = [m for m in editor.client.messages if "nothing to insert" in m.message]
        assert message.type == types.MessageType.Info
    finally:
        await lspclient.stop(editor)
