"""'Convert to generator loop' through a real LSP client over stdio."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import lspclient
from conftest import Databases
from dumpscript import dump_script
from dumpscript.transforms import Source, find_runs, fold_loop
from testproject import bulk


@pytest.fixture
async def editor(dbs: Databases) -> AsyncIterator[lspclient.Editor]:
    editor = await lspclient.start(dbs, dbs.workdir)
    yield editor
    await lspclient.stop(editor)


SCRIPT = """\
def run(using):
    # Polls by hand.
    poll_1 = Poll(question="Question #1", votes=3)
    poll_2 = Poll(question="Question #2", votes=5)
    poll_3 = Poll(question="Question #3", votes=7)
    Poll.objects.using(using).bulk_create([poll_1, poll_2, poll_3])
"""


async def test_offered_inside_a_run_and_applied(editor: lspclient.Editor) -> None:
    uri = editor.open("polls_data.py", SCRIPT)
    actions = await editor.actions(uri, 4, 8)
    assert [a.title for a in actions] == ["Convert to generator loop (3 Poll blocks)"]
    await editor.run(actions[0])
    assert editor.texts[uri] == fold_loop(SCRIPT, 4).text
    assert editor.texts[uri] == (
        "def run(using):\n"
        "    # Polls by hand.\n"
        "    polls = []\n"
        "    for i in range(3):\n"
        '        polls.append(Poll(question=f"Question #{i + 1}", votes=2 * i + 3))\n'
        "    Poll.objects.using(using).bulk_create(polls)\n"
    )


async def test_not_offered_where_it_does_not_apply(editor: lspclient.Editor) -> None:
    uri = editor.open("polls_data.py", SCRIPT)
    assert await editor.actions(uri, 1) == []
    assert await editor.actions(uri, 6) == []  # the bulk_create line holds no run
    # A selection that holds one block (and a comment) holds no run of two.
    assert await editor.actions(uri, 2, 0, end=(4, 0)) == []


async def test_a_selection_folds_only_what_it_covers(editor: lspclient.Editor) -> None:
    uri = editor.open("polls_data.py", SCRIPT)
    (action,) = await editor.actions(uri, 3, 0, end=(5, 0))  # lines 3-4
    assert action.title == "Convert to generator loop (2 Poll blocks)"
    await editor.run(action)
    assert editor.texts[uri] == fold_loop(SCRIPT, 3, 4).text


async def test_a_real_dump_folds_in_the_editor(dbs: Databases, editor: lspclient.Editor) -> None:
    bulk.build(60)
    text = dump_script("testapp")
    uri = editor.open("testapp_data.py", text)
    run = max(find_runs(Source(text)), key=lambda r: len(r.blocks))
    line = run.blocks[len(run.blocks) // 2].first_line
    (action,) = [a for a in await editor.actions(uri, line, 12) if a.title.startswith("Convert")]
    assert action.title == f"Convert to generator loop ({len(run.blocks)} {run.model} blocks)"
    await editor.run(action)
    assert editor.texts[uri] == fold_loop(text, line).text
