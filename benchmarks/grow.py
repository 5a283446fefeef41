"""Benchmark: loading a grown script (20 captured authors, the rest made up by Faker in a loop)
against loading a dump of the same number of rows (the grown script loaded, then dumped: the
very same values). Whole ``manage.py loadscript`` processes into a fresh SQLite database.

``python benchmarks/grow.py [--count 100000]`` (``nox -s bench`` runs it) prints both times
and their ratio; the target is a ratio of at most 1 (grown loads at least as fast).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANAGE = HERE.parent / "tests" / "manage.py"
CAPTURE = """
import sys
from dumpscript import dump_script
from dumpscript.transforms import fold_loop, grow_loop
from testproject.testapp.models import Author

for n in range(20):
    Author.objects.create(name=f"Person {chr(65 + n)}. Example", email=f"person{n}@example.com")
text = dump_script("testapp.Author")
line = next(n for n, l in enumerate(text.splitlines(), 1) if "Author(name=" in l)
text = fold_loop(text, line, line).text
line = next(n for n, l in enumerate(text.splitlines(), 1) if "authors.append(" in l)
open(sys.argv[1], "w").write(grow_loop(text, line, int(sys.argv[2])).text)
"""


def _env(directory: Path, source: str, target: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(MANAGE.parent), env.get("PYTHONPATH", "")])
    env.update(
        {
            "DUMPSCRIPT_DB": "sqlite",
            "DJANGO_SETTINGS_MODULE": "testproject.settings",
            "DUMPSCRIPT_DEFAULT_NAME": str(directory / source),
            "DUMPSCRIPT_OTHER_NAME": str(directory / target),
        }
    )
    return env


def _run(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"failed: {' '.join(args[:2])}: {done.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - start


def _load(directory: Path, script: Path, runs: int) -> float:
    times = []
    for number in range(runs):
        env = _env(directory, "unused.sqlite3", f"fresh{script.stem}{number}.sqlite3")
        _run(env, str(MANAGE), "migrate", "--database", "other", "-v", "0")
        times.append(_run(env, str(MANAGE), "loadscript", str(script), "--database", "other", "-v", "0"))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        env = _env(directory, "captured.sqlite3", "grown.sqlite3")
        _run(env, str(MANAGE), "migrate", "-v", "0")
        _run(env, str(MANAGE), "migrate", "--database", "other", "-v", "0")
        grown = directory / "grown_data.py"
        _run(env, "-c", "import django; django.setup()\n" + CAPTURE, str(grown), str(args.count))
        # The same rows as real ones: load the grown script, dump it.
        _run(env, str(MANAGE), "loadscript", str(grown), "--database", "other", "-v", "0")
        dumped = directory / "dumped_data.py"
        other = _env(directory, "grown.sqlite3", "unused.sqlite3")
        _run(other, str(MANAGE), "dumpscript", "testapp.Author", "-o", str(dumped), "-v", "0")
        sizes = grown.stat().st_size, dumped.stat().st_size
        grow_time = _load(directory, grown, args.runs)
        dump_time = _load(directory, dumped, args.runs)
    print(
        f"load {args.count:,} authors: grown script ({sizes[0]:,} bytes) {grow_time:.2f} s, "
        f"dumped script ({sizes[1]:,} bytes) {dump_time:.2f} s; ratio grown/dumped {grow_time / dump_time:.2f} "
        f"(target <= 1.00; median of {args.runs})"
    )


if __name__ == "__main__":
    main()
