"""dumpscript's row counter, reported to the editor as LSP work-done progress."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from lsprotocol import types

from dumpscript import Progress

if TYPE_CHECKING:
    from dumpscript_lsp.base import DumpscriptServer


class LspProgress(Progress):
    """Rows counted in the Django thread, reported from the server's event loop."""

    def __init__(self, ls: DumpscriptServer, token: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(enabled=True)
        self.ls, self.token, self.loop = ls, token, loop

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn < 0.2:
            return
        self._drawn = now
        message = f"{self.phase} {self.label} {self.done:,}".strip() + " rows"
        percentage = min(99, 100 * self.done // self.total) if self.total else None
        report = types.WorkDoneProgressReport(message=message, percentage=percentage)
        self.loop.call_soon_threadsafe(self.ls.work_done_progress.report, self.token, report)

    def finish(self) -> None:
        pass

    def end(self, message: str) -> None:
        self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
