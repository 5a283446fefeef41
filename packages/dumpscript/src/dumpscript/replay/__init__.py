"""A script written at an earlier migration state, brought forward along the migrations
written since: :func:`changes_since` replays the recorded operations into plain data
(:class:`Changes`); :func:`replaying` loads the script with them (old names, removed and
added fields, converted values), as Django's ``migrate`` would have moved its rows."""

from dumpscript.replay._changes import Changes, FieldAdded, ModelChange, changes_since
from dumpscript.replay._load import MigratedValueError, replaying, rewriting_keywords

__all__ = [
    "Changes",
    "FieldAdded",
    "MigratedValueError",
    "ModelChange",
    "changes_since",
    "replaying",
    "rewriting_keywords",
]
