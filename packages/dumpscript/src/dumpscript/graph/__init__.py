"""The selection → the graph: the objects to dump (compact arrays per model), what each points
at, and the many-to-many links. What the models say (relations, keys) is :mod:`dumpscript.meta`."""

from dumpscript.graph._graph import RANGE_ROWS, Graph, Links
from dumpscript.graph._objects import Objects

__all__ = ["RANGE_ROWS", "Graph", "Links", "Objects"]
