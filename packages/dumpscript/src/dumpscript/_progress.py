"""A one-line progress display on a terminal: rows per model and the time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts rows by model and redraws one line on ``stream``, at most ten times a second.

    Disabled (every method a no-op) unless ``enabled``; commands enable it only when standard
    error is a terminal and the verbosity is at least 1.
    """

    def __init__(self, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.phase = ""
        self.total: int | None = None
        self.done = 0
        self.label = ""
        self._started = 0.0
        self._drawn = 0.0
        self._width = 0

    @classmethod
    def for_terminal(cls, stream: TextIO, verbosity: int) -> Progress:
        isatty = getattr(stream, "isatty", None)
        return cls(stream, enabled=verbosity >= 1 and bool(isatty and isatty()))

    def start(self, phase: str, total: int | None = None) -> None:
        self.phase, self.total, self.done, self.label = phase, total, 0, ""
        self._started = time.monotonic()
        self._draw(force=True)

    def advance(self, label: str, rows: int = 1) -> None:
        if not self.enabled:
            return
        self.done += rows
        self.label = label
        self._draw()

    def finish(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        text = f"dumpscript: {self.phase} {self.label} {self.done:,}"
        if self.total:
            text += f"/{self.total:,} rows {100 * self.done // self.total}%"
            elapsed = now - self._started
            if self.done and elapsed > 0.5:
                left = elapsed * (self.total - self.done) / self.done
                text += f", about {int(left) // 60}:{int(left) % 60:02d} left"
        else:
            text += " rows"
        padding = max(0, self._width - len(text))
        self.stream.write("\r" + text + " " * padding)
        self.stream.flush()
        self._width = len(text)


NO_PROGRESS = Progress(enabled=False)
