"""How the writer would write objects, keyword by keyword, without writing them: what an
insertion compares with the objects a script creates already (:func:`written_objects`)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass

from dumpscript.graph import Graph
from dumpscript.meta import Model
from dumpscript.plan import Names, Plan
from dumpscript.writer._arguments import Arguments
from dumpscript.writer._rows import RowReader
from dumpscript.writer._scope import Scope

BATCH = 1000


@dataclass(frozen=True)
class Written:
    """One object as the writer writes it: ``keyword → value text`` for every field, and the
    keywords a statement that creates it cannot leave out."""

    model: Model
    rank: int
    keywords: dict[str, str]
    required: frozenset[str]


def written_objects(
    graph: Graph, plan: Plan, scope: Scope, models_: Container[Model], names: Callable[[], Names]
) -> Iterator[Written]:
    """The objects of ``models_`` in creation order, written with ``scope``'s imports (a copy:
    nothing is imported for them) and the names ``names()`` gives at the time each batch is
    read (an insertion names an object once it has matched it, and later references say so)."""
    probe = Scope(scope.using)
    probe.imports = copy.deepcopy(scope.imports)
    reader = RowReader(graph, plan, names())
    arguments = Arguments(probe, graph, reader)
    for span in plan.spans:
        if span.model not in models_:
            continue
        for offset in range(span.start, span.stop, BATCH):
            reader.rename(names())
            for obj in reader.read(span.model, offset, min(offset + BATCH, span.stop)):
                full, _ = arguments.text(obj, frozenset(), all_fields=True)
                short, _ = arguments.text(obj, obj.deferred, all_fields=False)
                keywords = dict(argument.partition("=")[::2] for argument in full)
                required = frozenset(argument.partition("=")[0] for argument in short)
                yield Written(obj.model, graph.by_model[obj.model].find(obj.pk), keywords, required)
