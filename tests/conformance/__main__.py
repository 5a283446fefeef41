"""``python -m conformance [--backend sqlite|postgres] [--apps NAME,...] [--jobs N] [--docs DIR]``:
run the corpus (or some of its apps), print the table and the totals."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from conformance.corpus import by_name, corpus

TESTS = Path(__file__).resolve().parent.parent
RESULTS = ("exact", "diff", "limit", "defect")


def run_one(name: str, backend: str) -> dict[str, Any]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    with tempfile.TemporaryDirectory(prefix="conformance-") as folder:
        database = "conf_" + "".join(ch if ch.isalnum() else "_" for ch in name.lower())[:40]
        if backend == "postgres":
            _admin(f"DROP DATABASE IF EXISTS {database}_default WITH (FORCE)")
            _admin(f"DROP DATABASE IF EXISTS {database}_target WITH (FORCE)")
            _admin(f"CREATE DATABASE {database}_default")
            _admin(f"CREATE DATABASE {database}_target")
        try:
            done = subprocess.run(
                [sys.executable, "-m", "conformance.run_app", name, backend, folder],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
        except subprocess.TimeoutExpired:
            return {"name": name, "backend": backend, "result": "defect", "detail": "timed out after 600 s"}
        finally:
            if backend == "postgres":
                _admin(f"DROP DATABASE IF EXISTS {database}_default WITH (FORCE)")
                _admin(f"DROP DATABASE IF EXISTS {database}_target WITH (FORCE)")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"name": name, "backend": backend, "result": "defect", "detail": f"crashed: {last}"}
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(
        host=os.environ["DUMPSCRIPT_PG_HOST"],
        port=os.environ.get("DUMPSCRIPT_PG_PORT", "5432"),
        user="postgres",
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(sql)


def run(names: list[str], backend: str, jobs: int) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda name: run_one(name, backend), names))


def table(results: list[dict[str, Any]]) -> str:
    rows = [("app", "models", "rows", "result", "subset", "first difference or error")]
    for result in results:
        detail = result.get("detail", "")
        subset = result.get("subset", "")
        if subset not in ("", "ok"):
            detail = f"{detail}; {subset}" if detail else subset
            subset = "defect"
        rows.append(
            (
                result["name"],
                str(result.get("models", "")),
                str(result.get("rows", "")),
                result["result"],
                subset,
                detail,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = []
    for number, row in enumerate(rows):
        lines.append(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + " | " + row[5])
        if number == 0:
            lines.append("-|-".join("-" * width for width in widths) + "-|-" + "-" * 26)
    return "\n".join(lines)


def totals(results: list[dict[str, Any]]) -> str:
    counts = Counter(result["result"] for result in results)
    corpus_size = sum(counts[name] for name in RESULTS)
    parts = ", ".join(f"{counts[name]} {name}" for name in RESULTS)
    outside = f"{counts['setup']} outside the corpus (no models, or not installable)"
    subsets = [result.get("subset") for result in results if result.get("subset")]
    whole = sum(1 for subset in subsets if subset == "ok")
    return (
        f"{counts['exact']} of {corpus_size} apps exact ({parts}); {outside}; "
        f"subsets (one row and what belongs to it) loaded alone: {whole} of {len(subsets)} ok"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--apps", help="comma-separated app names (default: the whole corpus)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--docs", help="write the table and totals to DOCS/<backend>.txt (the docs include it)")
    args = parser.parse_args(argv)
    names = args.apps.split(",") if args.apps else [app.name for app in corpus()]
    by_name(names)  # unknown names fail before anything runs
    server = None
    if args.backend == "postgres" and "DUMPSCRIPT_PG_HOST" not in os.environ:
        import pgserver

        server = pgserver.start()
        os.environ["DUMPSCRIPT_PG_HOST"], os.environ["DUMPSCRIPT_PG_PORT"] = server.host, str(server.port)
    try:
        results = run(names, args.backend, args.jobs)
    finally:
        if server is not None:
            server.stop()
    print(table(results))
    print(f"\n{args.backend}: {totals(results)}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    if args.docs:
        folder = Path(args.docs)
        folder.mkdir(parents=True, exist_ok=True)
        text = f"{table(results)}\n\n{args.backend}: {totals(results)}\n"
        (folder / f"{args.backend}.txt").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
