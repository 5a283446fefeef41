"""The plan → the script's text (one text writer; rows read again a batch at a time)."""

from dumpscript.writer._arguments import Arguments
from dumpscript.writer._rows import Obj, RowFilter, RowReader, Target
from dumpscript.writer._scope import Scope
from dumpscript.writer._script import ScriptWriter
from dumpscript.writer._text import TextSink, import_module_of
from dumpscript.writer._written import Written, written_objects

__all__ = [
    "Arguments",
    "Obj",
    "RowFilter",
    "RowReader",
    "Scope",
    "ScriptWriter",
    "Target",
    "TextSink",
    "Written",
    "import_module_of",
    "written_objects",
]
