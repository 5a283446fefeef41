"""Growing with made-up values and anonymised dumps, through a real LSP client over stdio."""

from __future__ import annotations

import re

import pytest

import lspclient
from conftest import Databases
from dumpscript import DumpOptions, dump_script
from dumpscript.transforms import fold_loop, grow_loop
from testproject.testapp import models as m

pytest.importorskip("faker", reason="generated values need Faker (pip install 'dumpscript[generate]')")

SCRIPT = """\
from testproject.testapp.models import Author


def run(using):
    author_1 = Author(name="Ada Lovelace", email="ada@example.com")
    author_2 = Author(name="Grace Hopper", email="grace@example.com")
    author_3 = Author(name="Alan Turing", email="alan@example.com")
    Author.objects.using(using).bulk_create([author_1, author_2, author_3])
"""


async def test_fold_and_grow_with_made_up_values(dbs: Databases) -> None:
    editor = await lspclient.start(dbs, dbs.workdir, options={"growTo": 50})
    try:
        uri = editor.open("authors_data.py", SCRIPT)
        titles = [a.title for a in await editor.actions(uri, 5, 8)]
        assert titles == [
            "Convert to generator loop (3 Author blocks)",
            "Convert to generator loop (3 Author blocks) and grow to 50 (made-up values)",
        ]
        (grow,) = [a for a in await editor.actions(uri, 5, 8) if "grow" in a.title]
        await editor.run(grow)
        folded = fold_loop(SCRIPT, 5).text
        line = next(n for n, text in enumerate(folded.splitlines(), 1) if text.lstrip().startswith("for "))
        assert editor.texts[uri] == grow_loop(folded, line, 50).text
        assert '            email=f"{fake.first_name().lower()}{i}@example.com",\n' in editor.texts[uri]
        # On the grown table loop: grow further, by the command.
        editor.change(uri, editor.texts[uri])
        table = next(n for n, text in enumerate(editor.texts[uri].splitlines(), 1) if "for name, email in" in text)
        (again,) = [a for a in await editor.actions(uri, table + 1) if "Grow" in a.title] or [None]
        assert again is None  # 50 already: nothing more to offer at 50
        result = await editor.command("dumpscript.growLoop", {"uri": uri, "line": table, "count": 80})
        assert result["summary"].endswith("makes up 77 objects after the 3 captured rows: 80 in all (was 50)")
        assert "for i in range(3, 80):" in editor.texts[uri]
    finally:
        await lspclient.stop(editor)


async def test_an_anonymised_dump_from_the_editor(dbs: Databases) -> None:
    m.Author.objects.create(name="Ada Lovelace", email="ada@example.com")
    editor = await lspclient.start(dbs, dbs.workdir)
    try:
        path = dbs.workdir / "people_data.py"
        result = await editor.command(
            "dumpscript.dumpToFile", {"labels": ["testapp.Author"], "path": str(path), "anonymize": True}
        )
        assert result["lines"] > 0
        text = path.read_text(encoding="utf-8")
        assert text == dump_script("testapp.Author", options=DumpOptions(anonymize=True))
        assert "Ada" not in text and "ada@example.com" not in text
        assert re.search(r'Author\(name="[A-Z][a-z]+ [A-Z]', text)
    finally:
        await lspclient.stop(editor)
