"""Errors raised by dumpscript.

Every error derives from :class:`DumpscriptError` and its message is one line that names the
problem and the object (``app.Model``, ``app.Model.field`` or ``app.Model(pk=…)``), so that a
management command can print it as is.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "CycleError",
    "DumpscriptError",
    "OutputError",
    "OutputNameError",
    "ScriptError",
    "SelectionError",
    "TransformError",
    "UnsupportedValueError",
]


class DumpscriptError(Exception):
    """Root of every error dumpscript raises on bad input."""


class SelectionError(DumpscriptError):
    """An app or model label that does not name something that can be dumped."""


class UnsupportedValueError(DumpscriptError):
    """A field value that no registered encoder can write as Python code."""


class CycleError(DumpscriptError):
    """Objects that reference each other only through NOT NULL fields."""


class OutputError(DumpscriptError):
    """An output file that must not be written: a directory, a missing folder, a read-only
    file, or a file dumpscript did not write (replaced only when the user says so)."""


class OutputNameError(OutputError):
    """An output file whose module name would shadow an installed app or module."""


class ScriptError(DumpscriptError):
    """A script that cannot be read or that failed while loading."""


class ConflictError(ScriptError):
    """A load that met rows already in the database (a unique constraint): loading with
    ``replace`` is a way out."""


class TransformError(DumpscriptError):
    """A script transform that cannot apply: the message names the line and the reason."""


class NothingToInsert(TransformError):
    """An insertion that finds nothing to add (no rows, or the script creates them all):
    news, not a failure."""
