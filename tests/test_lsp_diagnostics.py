"""Diagnostics (shadowing names, schema evolution) and their quick fixes, over stdio."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from lsprotocol import types

import lspclient
from conftest import Databases

OLD_SCRIPT = """\
from testproject.testapp.models import Author, Gadget, Tag


def run(using):
    author_1 = Author(name="Ann", email="ann@example.com", nickname="A")
    gadget_1 = Gadget(name="old")
    Tag.objects.using(using).bulk_create([
        Tag(
            name="red",
            colour="#f00",
        ),
    ])
    Author.objects.using(using).bulk_create([author_1])
"""


@pytest.fixture
async def editor(dbs: Databases) -> AsyncIterator[lspclient.Editor]:
    editor = await lspclient.start(dbs, dbs.workdir)
    yield editor
    await lspclient.stop(editor)


async def _diagnostics(editor: lspclient.Editor, uri: str) -> list[types.Diagnostic]:
    for _ in range(100):
        found = editor.client.diagnostics.get(uri)
        if found is not None:
            return list(found)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no diagnostics published for {uri}")


async def test_fields_and_models_that_no_longer_exist(editor: lspclient.Editor) -> None:
    uri = editor.open("old_data.py", OLD_SCRIPT)
    found = await _diagnostics(editor, uri)
    assert sorted((d.range.start.line + 1, d.code, d.message) for d in found) == [
        (1, "unknown-model", "testproject.testapp.models has no model 'Gadget' (removed or renamed since this script "
         "was written)"),
        (5, "unknown-field", "testapp.Author has no field 'nickname': did you mean 'name'?"),
        (10, "unknown-field", "testapp.Tag has no field 'colour' (a typo, or a field renamed or removed since this "
         "script was written)"),
    ]  # fmt: skip
    # Each has a quick fix that removes what no longer exists.
    for code in ["unknown-field", "unknown-model"]:
        for diagnostic in [d for d in await _diagnostics(editor, uri) if d.code == code]:
            line = diagnostic.range.start.line + 1
            (fix,) = await editor.actions(uri, line, diagnostic.range.start.character, only=["quickfix"],
                                          diagnostics=[diagnostic])  # fmt: skip
            await editor.run(fix)
            editor.client.diagnostics.pop(uri, None)
    assert editor.texts[uri] == (
        "from testproject.testapp.models import Author, Tag\n"
        "\n"
        "\n"
        "def run(using):\n"
        '    author_1 = Author(name="Ann", email="ann@example.com")\n'
        "    Tag.objects.using(using).bulk_create([\n"
        "        Tag(\n"
        '            name="red",\n'
        "        ),\n"
        "    ])\n"
        "    Author.objects.using(using).bulk_create([author_1])\n"
    )
    assert await _diagnostics(editor, uri) == []


async def test_a_script_named_like_an_app(editor: lspclient.Editor) -> None:
    uri = editor.open("testapp.py", "def run(using):\n    pass\n")
    (diagnostic,) = await _diagnostics(editor, uri)
    assert diagnostic.code == "shadowing-name"
    assert diagnostic.message.startswith("This script is named testapp.py: the module name 'testapp' would shadow")
    plain = editor.open("helpers.py", "x = 1\n")  # not a script: nothing to say
    assert await _diagnostics(editor, plain) == []


async def test_other_names_of_a_models_module_are_not_flagged(editor: lspclient.Editor) -> None:
    text = (
        "from django.contrib.auth.models import AnonymousUser, Group\n"
        "from testproject.testapp.models import Tag, TagManager\n\n\n"
        "def run(using):\n"
        '    Group(name="staff")\n'
        "    Tag.objects.using(using).bulk_create([])\n"
    )
    uri = editor.open("auth_data.py", text)
    assert await _diagnostics(editor, uri) == []


async def test_ranges_are_in_the_negotiated_position_encoding(dbs: Databases) -> None:
    """Columns after non-ASCII text: UTF-8 bytes when the client chose UTF-8, not UTF-16 units."""
    line = 'author_1 = Author(name="Zoë ✓ 𝄞", email="z@example.com", nickname="A")'
    text = f"from testproject.testapp.models import Author\n\n\ndef run(using):\n    {line}\n"
    editor = await lspclient.start(dbs, dbs.workdir, position_encodings=["utf-8"])
    try:
        uri = editor.open("enc_data.py", text)
        (found,) = [d for d in await _diagnostics(editor, uri) if d.code == "unknown-field"]
        prefix = "    " + line[: line.index("nickname")]
        assert found.range.start == types.Position(line=4, character=len(prefix.encode("utf-8")))
        assert found.range.start.character != len(prefix.encode("utf-16-le")) // 2
        (edit,) = found.data["fixes"][-1]["edits"]  # the removal: from the end of the previous value
        assert edit[1] == len(("    " + line[: line.index(", nickname")]).encode("utf-8"))
    finally:
        await lspclient.stop(editor)


async def test_a_typo_is_renamed_to_the_nearest_field_and_removing_says_it_deletes(editor: lspclient.Editor) -> None:
    """The preferred fix of a mistyped keyword keeps its value under the nearest field's name;
    removing it is the second choice, and says that the value goes."""
    text = (
        "from testproject.testapp.models import Tag\n\n\n"
        "def run(using):\n"
        '    Tag.objects.using(using).bulk_create([Tag(nmae="The sky (1)")])\n'
    )
    uri = editor.open("typo_data.py", text)
    (diagnostic,) = await _diagnostics(editor, uri)
    assert diagnostic.message == "testapp.Tag has no field 'nmae': did you mean 'name'?"
    fixes = await editor.actions(uri, 5, diagnostic.range.start.character, only=["quickfix"], diagnostics=[diagnostic])
    assert [(fix.title, fix.is_preferred) for fix in fixes] == [
        ("Rename nmae= to name= (the nearest field of testapp.Tag)", True),
        ('Remove nmae="The sky (1)" (deletes this value; not a field of testapp.Tag)', False),
    ]
    await editor.run(fixes[0])
    assert editor.texts[uri] == text.replace('nmae="The sky (1)"', 'name="The sky (1)"')
