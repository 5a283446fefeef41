"""Plan → LibCST: the script module, its imports and its formatting."""

from dumpscript.cst._imports import ImportSet
from dumpscript.cst._render import module_code
from dumpscript.cst._script import ScriptBuilder

__all__ = ["ImportSet", "ScriptBuilder", "module_code"]
