"""Benchmark of the script transforms: fold a 1,000-block run in a 20,000-line script.

``nox -s bench`` runs it after the dump/load table; ``python benchmarks/transforms.py``
alone needs only the dumpscript package (no Django project).
"""

from __future__ import annotations

import datetime
import statistics
import time

from dumpscript.transforms import fold_loop, grow_loop


def script(lines: int, run: int) -> tuple[str, int, int]:
    """A generated-looking script: filler blocks, then a run of ``run`` similar blocks."""
    head = ["import datetime\n", "\n", "\n", "def run(using):\n"]
    body = []
    filler = 0
    while len(head) + len(body) < lines - run - 2:
        filler += 1
        body.append(f'    author_{filler} = Author(name="Author {filler}", email="a{filler}@example.com")\n')
    first = len(head) + len(body) + 1
    for k in range(run):
        day = datetime.date(2024, 1, 1) + datetime.timedelta(days=k)
        body.append(
            f'    poll_{k + 1} = Poll(question="Question #{k + 1}", '
            f"pub_date=datetime.date({day.year}, {day.month}, {day.day}), author=author_{k % 7 + 1})\n"
        )
    last = len(head) + len(body)
    body.append("    Poll.objects.using(using).bulk_create([" + ", ".join(f"poll_{k + 1}" for k in range(run)) + "])\n")
    return "".join(head + body), first, last


def main() -> None:
    text, first, last = script(20_000, 1_000)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        change = fold_loop(text, first, last)
        times.append(time.perf_counter() - start)
    folded = change.text
    start = time.perf_counter()
    grow_loop(folded, first + 1, 2000)
    grow = time.perf_counter() - start
    print(f"fold 1,000 blocks in a {text.count(chr(10)):,}-line script: median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f} s over 5 runs); grow that loop: {grow:.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
