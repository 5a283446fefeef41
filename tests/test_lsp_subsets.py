"""A subset from the editor: the preview of what belongs to the rows, then the dump."""

from __future__ import annotations

import lspclient
from conftest import Databases
from dumpscript import DumpOptions, dump_script, preview_subset
from testproject.testapp import models as m


async def test_preview_then_dump_a_subset(dbs: Databases) -> None:
    ann = m.Author.objects.create(name="Ann", email="ann@example.com")
    bob = m.Author.objects.create(name="Bob", email="bob@example.com")
    for title, author in [("Ann's first", ann), ("Ann's second", ann), ("Bob's", bob)]:
        m.Book.objects.create(title=title, author=author)
    editor = await lspclient.start(dbs, dbs.workdir)
    try:
        asked = {"labels": ["testapp.Author"], "filter": "name__in=Ann,Zoe, email__endswith=example.com"}
        preview = await editor.command("dumpscript.previewSubset", asked)
        options = DumpOptions(filter={"name__in": ["Ann", "Zoe"], "email__endswith": "example.com"})
        assert preview["text"] == preview_subset("testapp.Author", options=options).text()
        assert preview["totals"] == {"testapp.Author": 1, "testapp.Book": 2}
        assert "testapp.Author.books → testapp.Book: 2 rows" in preview["text"]
        path = dbs.workdir / "ann_data.py"
        done = await editor.command("dumpscript.dumpToFile", {**asked, "path": str(path)})
        assert done["lines"] > 0
        text = path.read_text(encoding="utf-8")
        assert text == dump_script("testapp.Author", options=options)
        assert "Ann's second" in text and "Bob" not in text
        bad = await editor.command("dumpscript.previewSubset", {"labels": ["testapp.Author"], "filter": "name"})
        assert bad == {"error": "Cannot filter by 'name': write it as field__lookup=value"}
    finally:
        await lspclient.stop(editor)
