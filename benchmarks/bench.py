"""Benchmark: dumpscript against dumpdata/loaddata and django-extensions' dumpscript.

Every tool runs on the same data in its own process; times are whole-process wall times,
memory is the process's peak resident set. ``python benchmarks/bench.py --sizes 10000,100000``
(``nox -s bench`` does this) prints one table and writes it as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIMEOUT = 900


@dataclass
class Step:
    seconds: float | None = None
    peak_mb: float | None = None
    queries: int | None = None
    error: str = ""


@dataclass
class Row:
    rows: int
    tool: str
    dump: Step = field(default_factory=Step)
    load: Step = field(default_factory=Step)
    script_bytes: int | None = None
    round_trip: str = ""


def run_step(workdir: Path, databases: dict[str, Path], *args: str) -> Step:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure an installed Django: bytecode compiled once
    env.update({"DUMPSCRIPT_DB": "sqlite", "DUMPSCRIPT_BENCH_EXTENSIONS": "1"})
    for alias, path in databases.items():
        env[f"DUMPSCRIPT_{alias.upper()}_NAME"] = str(path)
    command = [sys.executable, str(HERE / "_child.py"), *args]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return Step(error=f"timed out after {TIMEOUT} s")
    seconds = time.perf_counter() - start
    peak = _peak_mb(process.pid)
    if process.returncode != 0:
        lines = stderr.strip().splitlines() + stdout.strip().splitlines()
        last = next((line for line in reversed(lines) if "Error" in line), lines[-1] if lines else "failed")
        return Step(seconds=seconds, peak_mb=peak, error=last[:120])
    result = json.loads(stdout.strip().splitlines()[-1])
    return Step(seconds=round(seconds, 2), peak_mb=peak, queries=result.get("queries"))


_PEAKS: dict[int, float] = {}


def _peak_mb(pid: int) -> float | None:
    return _PEAKS.get(pid)


class _Popen(subprocess.Popen):  # type: ignore[type-arg]
    """Popen that records the child's peak RSS from wait4()."""

    def _try_wait(self, wait_flags):  # type: ignore[no-untyped-def]
        try:
            pid, status, usage = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return (self.pid, 0)
        if pid == self.pid:
            _PEAKS[pid] = round(usage.ru_maxrss / 1024, 1)
        return (pid, status)


subprocess.Popen = _Popen  # type: ignore[misc]


def measure(size: int, workdir: Path, empty: Path, tools: list[str]) -> list[Row]:
    source = workdir / f"source-{size}.sqlite3"
    shutil.copyfile(empty, source)

    def target() -> Path:
        path = workdir / "target.sqlite3"
        shutil.copyfile(empty, path)
        return path

    build = run_step(workdir, {"default": target(), "other": workdir / "target.sqlite3"}, "build", str(size), "other")
    built = run_step(workdir, {"default": source, "other": workdir / "unused.sqlite3"}, "build", str(size), "default")
    if built.error:
        raise SystemExit(f"building {size} rows failed: {built.error}")
    rows = _count_rows(source)
    result = [Row(rows, "bulk_create (hand-written)", load=build)]
    if "dumpdata" in tools:
        data = workdir / "data.json"
        row = Row(rows, "dumpdata/loaddata")
        row.dump = run_step(workdir, {"default": source, "other": target()}, "dumpdata", str(data))
        row.script_bytes = data.stat().st_size if data.exists() else None
        row.load = run_step(workdir, {"default": source, "other": target()}, "loaddata", str(data))
        result.append(row)
    if "extensions" in tools:
        script = workdir / "ext_data.py"
        row = Row(rows, "django-extensions dumpscript")
        row.dump = run_step(workdir, {"default": source, "other": target()}, "ext-dump", str(script))
        row.script_bytes = script.stat().st_size if script.exists() else None
        if script.exists():
            row.load = run_step(workdir, {"default": target(), "other": source}, "ext-load", str(script))
        result.append(row)
    script = workdir / "ours_data.py"
    row = Row(rows, "dumpscript (ours)")
    row.dump = run_step(workdir, {"default": source, "other": target()}, "dumpscript", str(script))
    row.script_bytes = script.stat().st_size if script.exists() else None
    loaded = target()
    row.load = run_step(workdir, {"default": source, "other": loaded}, "loadscript", str(script))
    if not row.load.error and rows <= 200_000:
        compare = subprocess.run(
            [sys.executable, str(HERE / "_child.py"), "compare"], cwd=workdir, capture_output=True, text=True,
            env={**os.environ, "DUMPSCRIPT_DB": "sqlite", "DUMPSCRIPT_DEFAULT_NAME": str(source),
                 "DUMPSCRIPT_OTHER_NAME": str(loaded)},
        )  # fmt: skip
        same = compare.returncode == 0 and json.loads(compare.stdout.strip().splitlines()[-1])["same"]
        row.round_trip = "exact" if same else "DIFFERS"
    result.append(row)
    return result


def _count_rows(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as connection:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return sum(
            connection.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables if t.startswith("testapp_")
        )


def _fmt(value: float | int | None) -> str:
    return "–" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:.2f}"


def table(rows: list[Row]) -> str:
    header = [
        "rows",
        "tool",
        "dump s",
        "dump peak MB",
        "dump queries",
        "load s",
        "load peak MB",
        "script bytes",
        "round trip",
    ]
    lines = [header]
    for row in rows:
        dump = (row.dump.error and f"fails: {row.dump.error[:40]}") or _fmt(row.dump.seconds)
        load = (row.load.error and f"fails: {row.load.error[:40]}") or _fmt(row.load.seconds)
        lines.append([
            _fmt(row.rows), row.tool, dump, _fmt(row.dump.peak_mb), _fmt(row.dump.queries), load,
            _fmt(row.load.peak_mb), _fmt(row.script_bytes), row.round_trip,
        ])  # fmt: skip
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    text = [" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    text.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(text)


def ratios(rows: list[Row]) -> list[str]:
    out = []
    for size in sorted({r.rows for r in rows}):
        at = {r.tool: r for r in rows if r.rows == size}
        ours = at.get("dumpscript (ours)")
        if ours is None:
            continue
        for name, other in at.items():
            if other is ours:
                continue
            for kind in ("dump", "load"):
                mine, theirs = getattr(ours, kind), getattr(other, kind)
                if mine.seconds and theirs.seconds and not mine.error and not theirs.error:
                    ratio = theirs.seconds / mine.seconds
                    verdict = f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"
                    out.append(f"{size:>9,} rows  {kind}: ours {verdict} than {name} (ours/theirs = {1 / ratio:.2f})")
    return out


def _compile_bytecode() -> None:
    """Compile every installed module once, as ``pip install`` does: without it (this machine
    sets ``PYTHONDONTWRITEBYTECODE``) each measured process would compile Django from source,
    about 0.6 s of every tool's time."""
    import sysconfig

    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], str(ROOT / "packages")}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *sorted(paths)],
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        stdout=subprocess.DEVNULL,
        check=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated row counts (1000000 is an option)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results.json"), help="write the table here")
    parser.add_argument("--tools", default="dumpdata,extensions", help="peers to measure: dumpdata,extensions")
    args = parser.parse_args()
    tools = args.tools.split(",")
    workdir = Path(tempfile.mkdtemp(prefix="dumpscript-bench-"))
    empty = workdir / "empty.sqlite3"
    env = {
        **os.environ,
        "DUMPSCRIPT_DB": "sqlite",
        "DUMPSCRIPT_DEFAULT_NAME": str(empty),
        "DUMPSCRIPT_BENCH_EXTENSIONS": "1",
    }
    subprocess.run([sys.executable, str(ROOT / "tests" / "manage.py"), "migrate", "-v", "0"], env=env, check=True)
    _compile_bytecode()
    rows: list[Row] = []
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            print(f"measuring {size:,} rows…", file=sys.stderr, flush=True)
            rows += measure(size, workdir, empty, tools)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(table(rows))
    print()
    print("\n".join(ratios(rows)))
    Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
