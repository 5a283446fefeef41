"""The selection → the graph: the objects to dump (compact arrays per model), what each points
at, and the many-to-many links. The one place that knows the kinds of relation."""

from dumpscript.graph._graph import RANGE_ROWS, Graph, Links
from dumpscript.graph._objects import Objects, sort_key
from dumpscript.graph._relations import (
    Lookup,
    Model,
    Reference,
    by_key,
    concrete_of,
    deferrable,
    generic_fks,
    nullable,
    parent_link,
    root_model,
)

__all__ = [
    "RANGE_ROWS",
    "Graph",
    "Links",
    "Lookup",
    "Model",
    "Objects",
    "Reference",
    "by_key",
    "concrete_of",
    "deferrable",
    "generic_fks",
    "nullable",
    "parent_link",
    "root_model",
    "sort_key",
]
