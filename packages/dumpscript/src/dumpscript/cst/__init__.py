"""LibCST helpers shared by the writer and the transforms: imports, rendering, formatting."""

from dumpscript.cst._imports import ImportSet
from dumpscript.cst._render import module_code

__all__ = ["ImportSet", "module_code"]
