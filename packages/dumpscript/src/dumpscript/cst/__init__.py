"""LibCST helpers shared by the writer and the transforms: imports, rendering, formatting."""

from dumpscript.cst._imports import ImportSet

__all__ = ["ImportSet"]
