"""Transforms of a script a person may have edited, keeping everything they wrote.

Each transform takes the script's text and returns a :class:`Change`: the new text and the
text edits that make it (an editor applies those), with every byte outside them unchanged.

* :func:`fold_loop` (:mod:`~dumpscript.transforms.fold_loop`): a run of similar object
  blocks → a ``for`` loop that creates the same objects.
* :func:`grow_loop` (:mod:`~dumpscript.transforms.grow_loop`): set how many objects a
  ``range(N)`` loop creates; a loop over captured rows keeps them and gets a loop that makes
  up the rest (:mod:`~dumpscript.transforms.grow_table`, needs Django set up).
* :func:`insert_dump` (:mod:`~dumpscript.transforms.insert_dump`): insert rows from the
  database into a script (needs Django set up).
* :func:`upgrade_script` (:mod:`~dumpscript.transforms.upgrade`): rewrite a script along the
  migrations written since it was dumped (needs Django set up).
"""

from dumpscript.errors import TransformError
from dumpscript.script.models import model_index
from dumpscript.script.source import Change, Source, TextEdit, apply_edits, parse_lines
from dumpscript.transforms.fold_loop import FoldIntoLoop, Run, find_runs, fold_loop, select_run
from dumpscript.transforms.grow_loop import GrowLoop, grow_loop
from dumpscript.transforms.insert_dump import insert_dump
from dumpscript.transforms.upgrade import upgrade_script

__all__ = [
    "Change",
    "FoldIntoLoop",
    "GrowLoop",
    "Run",
    "Source",
    "TextEdit",
    "TransformError",
    "apply_edits",
    "find_runs",
    "fold_loop",
    "grow_loop",
    "insert_dump",
    "model_index",
    "parse_lines",
    "select_run",
    "upgrade_script",
]
