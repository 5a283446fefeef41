"""The selection → its closure: the rows that belong to the selected rows, added to them.

A subset (``dumpscript shop.Customer --pks 3``) is "this customer and everything that belongs
to it": the rows that point at the selected ones through a relation that a delete would
cascade along (``on_delete=CASCADE``, generic relations), transitively, and the reverse
relations the options ``follow``; not the models and relations they ``no_follow``, and at
most ``depth`` reverse hops. Forward relations are not followed here: the graph includes the
rows every dumped row points at, as for any dump. Only primary keys are read and kept.
"""

from __future__ import annotations

import dataclasses

from dumpscript.closure._preview import StoppedRelation, SubsetPreview, SubsetStep
from dumpscript.closure._relations import Reverse, reverse_relations
from dumpscript.closure._rules import Rules, relation, rules, wanted
from dumpscript.closure._walk import Walk
from dumpscript.options import DumpOptions
from dumpscript.selection import Selection, resolve

__all__ = [
    "Reverse",
    "Rules",
    "StoppedRelation",
    "SubsetPreview",
    "SubsetStep",
    "close",
    "preview",
    "relation",
    "reverse_relations",
]


def _walk(selection: Selection, options: DumpOptions, *, preview: bool) -> tuple[Walk, bool]:
    expand = wanted(options, selection.subset)
    excluded = frozenset(resolve(options.exclude)) if options.exclude else frozenset()
    walk = Walk(selection, rules(options, excluded), options.using, expand=expand, count_stopped=preview)
    return walk, expand


def close(selection: Selection, options: DumpOptions) -> Selection:
    """``selection`` with the keys of every row of its closure (:attr:`Selection.keys`), or
    as it is when the options do not ask for the closure (whole models, by default)."""
    if not wanted(options, selection.subset):
        rules(options)  # the names are checked all the same
        return selection
    walk, _ = _walk(selection, options, preview=False)
    keys = {model: found.sorted() for model, found in walk.keys.items() if found or model in selection.selected}
    return dataclasses.replace(selection, selected=sorted(keys, key=lambda m: m._meta.label), keys=keys)


def preview(selection: Selection, options: DumpOptions) -> SubsetPreview:
    """The closure of ``selection`` as :func:`close` computes it, step by step, with the rows
    of the relations it does not follow counted."""
    walk, expand = _walk(selection, options, preview=True)
    if expand:
        counted = {model: len(found) for model, found in walk.keys.items()}
    else:
        counted = {step.model: step.rows for step in walk.steps}
    totals = {
        model._meta.label: rows
        for model, rows in sorted(counted.items(), key=lambda item: item[0]._meta.label)
        if rows or model in selection.selected
    }
    return SubsetPreview(tuple(step.done() for step in walk.steps), totals, expand, options.depth)
