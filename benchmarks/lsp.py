"""Benchmark of the language server, through a real LSP client over stdio (pytest-lsp's).

On a 20,000-line generated script: code actions at a cursor (p95 over 100 requests, after
the document is open), the edit of a fold of a 200-block selection, and "Dump ... rows here"
for 1,000 rows with the project warm. Targets (issue 5): 50 ms, 300 ms, 1 s.
``nox -s bench`` runs it; alone: ``python benchmarks/lsp.py`` with both packages installed.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(HERE))


def _prepare(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="testproject.settings",
        DUMPSCRIPT_DB="sqlite",
        DUMPSCRIPT_DEFAULT_NAME=str(workdir / "default.sqlite3"),
        DUMPSCRIPT_OTHER_NAME=str(workdir / "other.sqlite3"),
        PYTHONPATH=os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")]),
    )
    for alias in ("default", "other"):
        subprocess.run(
            [sys.executable, str(TESTS / "manage.py"), "migrate", "--database", alias, "-v", "0"], env=env, check=True
        )
    fill = (
        "import django; django.setup()\n"
        "from testproject.testapp.models import Tag\n"
        "Tag.objects.bulk_create([Tag(name=f'tag {i:04d}') for i in range(1000)])\n"
    )
    subprocess.run([sys.executable, "-c", fill], env=env, check=True)
    return env


async def main() -> None:
    from lsprotocol import types
    from pytest_lsp import client_capabilities, make_test_lsp_client
    from transforms import script

    workdir = Path(tempfile.mkdtemp(prefix="dumpscript-lsp-bench-"))
    env = _prepare(workdir)
    text, first, last = script(20_000, 1_000)
    text = "from testproject.testapp.models import Tag\n" + text
    first, last = first + 1, last + 1
    path = workdir / "big_data.py"
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()

    client = make_test_lsp_client()
    client.feature("dumpscript/status")(lambda params: None)
    await client.start_io(sys.executable, "-m", "dumpscript_lsp", env=env, cwd=str(workdir))
    await client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities("visual-studio-code"), root_uri=workdir.as_uri())
    )
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )

    async def actions(line: int, end: int | None = None, only: list[str] | None = None) -> list[types.CodeAction]:
        start = types.Position(line - 1, 4)
        stop = types.Position(end, 0) if end else start
        result = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start, stop),
                context=types.CodeActionContext(diagnostics=[], only=only),  # type: ignore[arg-type]
            )
        )
        return [a for a in result or [] if isinstance(a, types.CodeAction)]

    start = time.perf_counter()
    await actions(first)  # the first request after open: scans the document once, parses the run
    first_seconds = time.perf_counter() - start
    times = []
    for k in range(100):
        line = first + (k * 7) % (last - first)
        start = time.perf_counter()
        found = await actions(line, only=["refactor.rewrite"])
        times.append(time.perf_counter() - start)
        assert found and found[0].title.startswith("Convert to generator loop"), found
    p95 = statistics.quantiles(times, n=20)[18]

    (fold,) = await actions(first, end=first + 200, only=["refactor.rewrite"])
    start = time.perf_counter()
    resolved = await client.code_action_resolve_async(fold)
    fold_seconds = time.perf_counter() - start
    assert resolved.edit is not None

    tail = text.count("\n") - 5
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="dumpscript.status", arguments=[]))
    dumps = [a for a in await actions(tail, only=["refactor.dumpscript"]) if a.title.startswith("Dump Tag")]
    assert dumps, "no Dump Tag action"
    start = time.perf_counter()
    dumped = await client.code_action_resolve_async(dumps[0])
    dump_seconds = time.perf_counter() - start
    assert dumped.edit is not None

    await client.shutdown_session()
    await client.stop()
    lines = text.count("\n")
    print(f"language server on a {lines:,}-line script:")
    print(f"  code actions at a cursor: p95 {p95 * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f} ms"
          f" over 100 requests at lines of one run (target 50 ms); the first request after opening: "
          f"{first_seconds * 1000:.0f} ms")  # fmt: skip
    print(f"  fold a 200-block selection (resolve the edit): {fold_seconds * 1000:.0f} ms (target 300 ms)")
    print(f"  {dumps[0].title} (resolve the edit): {dump_seconds * 1000:.0f} ms (target 1 s)")


if __name__ == "__main__":
    asyncio.run(main())
