"""Writing files without destroying anything: the one place that creates or replaces a file.

* A new file gets the mode the umask gives (as ``dumpdata -o`` does); a replaced file keeps
  its mode; a symlink is written through (the file it points at is replaced); a file the
  user cannot write is refused.
* A dump replaces only a script dumpscript wrote (its docstring says so), unless the caller
  says ``force``: never ``models.py``, ``settings.py`` or any other file by accident.
* The text goes to a temporary file beside the target that has no name until it is complete
  (``O_TMPFILE`` where the filesystem has it), then replaces the target in one rename: an
  error, a signal or ``kill -9`` leaves the target as it was and no temporary file behind.
* SIGTERM during a write is turned into an exception, so that the cleanup runs (temporary
  files, a forked writer).
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from dumpscript.errors import OutputError

__all__ = ["HEADER_MARK", "check_target", "terminating_cleanly", "write_atomic", "written_by_dumpscript"]

HEADER_MARK = "(written by dumpscript)"
"""What the first line of every script dumpscript writes holds (its docstring's first line)."""


def written_by_dumpscript(path: Path) -> bool:
    """Whether the file at ``path`` starts the way the scripts dumpscript writes start."""
    try:
        with path.open("rb") as file:
            head = file.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    first = head.lstrip("\ufeff").split("\n", 1)[0]
    return first.startswith('"""') and HEADER_MARK in first


def check_target(path: str | os.PathLike[str], *, force: bool = False, edit: bool = False) -> Path:
    """The file that writing to ``path`` would replace or create (a symlink resolved), or a
    one-line :class:`OutputError` saying why it must not be written: a directory, a folder
    that does not exist, a read-only file, or (unless ``force``, or ``edit``: a script the
    user asked to change) an existing file that dumpscript did not write."""
    given = str(path)
    target = Path(path)
    if given.endswith((os.sep, "/")) or given in {".", ".."} or target.is_dir():
        raise OutputError(f"Cannot write {given}: it is a directory; give a file name, such as {target / 'data.py'}")
    real = Path(os.path.realpath(target))
    directory = real.parent
    if not directory.is_dir():
        shown = target.parent if str(target.parent) else Path(".")
        raise OutputError(f"Cannot write {given}: no such directory {shown}")
    if real.exists():
        if not real.is_file():
            raise OutputError(f"Cannot write {given}: it is not a regular file")
        if not os.access(real, os.W_OK) or not real.stat().st_mode & 0o222:  # root too: it was protected
            raise OutputError(f"Refusing to replace {given}: the file is read-only")
        if not (force or edit) and not written_by_dumpscript(real):
            raise OutputError(
                f"Refusing to replace {given}: dumpscript did not write it (no dumpscript header); "
                "choose another file name, or pass --force to replace it"
            )
    if not os.access(directory, os.W_OK | os.X_OK) or not directory.stat().st_mode & 0o222:
        raise OutputError(f"Cannot write {given}: the directory {directory} is not writable")
    return real


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: read it by setting it back at once
    os.umask(mask)
    return mask


class _Temp:
    """A temporary file in ``directory`` that gets a name only once it is complete."""

    def __init__(self, directory: Path, name: str, mode: int) -> None:
        self.directory, self.name, self.mode = directory, name, mode
        self.path: str | None = None
        try:
            self.fd = os.open(directory, os.O_TMPFILE | os.O_WRONLY, mode)  # type: ignore[attr-defined]
            self.unnamed = True
        except (AttributeError, OSError):  # no O_TMPFILE here: a named one, removed on error
            self.fd, self.path = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
            self.unnamed = False
        os.fchmod(self.fd, mode)

    def commit(self, target: Path) -> None:
        if self.unnamed:  # linkat(AT_SYMLINK_FOLLOW), which Python uses only with a dir_fd
            directory = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                for attempt in range(100):
                    candidate = f".{self.name}.{os.getpid()}.{attempt}.tmp"
                    try:
                        os.link(f"/proc/self/fd/{self.fd}", candidate, dst_dir_fd=directory, follow_symlinks=True)
                    except FileExistsError:
                        continue
                    self.path = str(self.directory / candidate)
                    break
                else:
                    raise FileExistsError(f"no free temporary name beside {target}")
            finally:
                os.close(directory)
        assert self.path is not None
        os.replace(self.path, target)
        self.path = None

    def discard(self) -> None:
        if self.path is not None:
            Path(self.path).unlink(missing_ok=True)
            self.path = None


def write_atomic(
    path: str | os.PathLike[str],
    text: str | Callable[[TextIO], None],
    *,
    force: bool = False,
    edit: bool = True,
) -> Path:
    """Write ``text`` (or what the function writes to the stream it is given) to ``path``
    through :func:`check_target` (``edit``: the caller changes a script the user named, which
    need not have dumpscript's header). On any error, signal or kill the target is left as it
    was. Returns the file written (a symlink's target)."""
    target = check_target(path, force=force, edit=edit)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    with terminating_cleanly():
        try:
            temp = _Temp(target.parent, target.name, mode)
        except OSError as error:
            raise OutputError(f"Cannot write {path}: {error.strerror or error}") from None
        try:
            with os.fdopen(temp.fd, "w", encoding="utf-8", newline="\n", closefd=False) as stream:
                if isinstance(text, str):
                    stream.write(text)
                else:
                    text(stream)
                stream.flush()
                os.fsync(stream.fileno())
            temp.commit(target)
        except OSError as error:
            raise OutputError(f"Cannot write {path}: {error.strerror or error}") from None
        finally:
            os.close(temp.fd)
            temp.discard()
    return target


class Terminated(SystemExit):
    """SIGTERM arrived while a file was being written: the cleanup runs, then the process ends."""


@contextlib.contextmanager
def terminating_cleanly() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while the block runs (in the main thread, where
    signal handlers run), so that ``finally`` clauses remove what the block made."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):  # the program handles SIGTERM itself
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
