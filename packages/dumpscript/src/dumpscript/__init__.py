"""dumpscript: Django rows as an editable Python script, and back.

``dump_script("polls")`` returns the text of a script that recreates the rows of the
``polls`` app through the ORM; ``dump_module`` returns the same as a ``libcst.Module`` for
tools that edit it further; ``load_script(path)`` runs a script in one transaction.
"""

from dumpscript._api import check_output_name, dump_module, dump_script, preview_subset, write_script
from dumpscript._progress import Progress
from dumpscript.closure import StoppedRelation, SubsetPreview, SubsetStep
from dumpscript.errors import (
    ConflictError,
    CycleError,
    DumpscriptError,
    NothingToInsert,
    OutputError,
    OutputNameError,
    ScriptError,
    SelectionError,
    TransformError,
    UnsupportedValueError,
)
from dumpscript.load import LoadResult, ReplacePreview, load_script, replace_preview
from dumpscript.meta.embedded import register_ids
from dumpscript.options import DumpOptions
from dumpscript.values import EncodeContext, Encoder, encode_python, register_encoder

__all__ = [
    "ConflictError",
    "CycleError",
    "DumpOptions",
    "DumpscriptError",
    "EncodeContext",
    "Encoder",
    "LoadResult",
    "NothingToInsert",
    "OutputError",
    "OutputNameError",
    "Progress",
    "ReplacePreview",
    "ScriptError",
    "SelectionError",
    "StoppedRelation",
    "SubsetPreview",
    "SubsetStep",
    "TransformError",
    "UnsupportedValueError",
    "check_output_name",
    "dump_module",
    "dump_script",
    "encode_python",
    "load_script",
    "preview_subset",
    "register_encoder",
    "register_ids",
    "replace_preview",
    "write_script",
]
