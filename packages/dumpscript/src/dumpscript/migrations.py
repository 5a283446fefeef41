"""The migration state a dump is written at: for each app whose rows the script creates, the
latest migrations applied in the database read (the leaves of the applied part of Django's
migration graph; one, unless the app has unmerged branches). A script records it
(``MIGRATIONS = {...}``, see :doc:`script`) so that a load or an upgrade knows which
operations came after it. A squashed migration that replaces a recorded one keeps its name in
``replaces``, which is how it is found again."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections

__all__ = ["applied_leaves"]


def applied_leaves(using: str, app_labels: Iterable[str]) -> dict[str, list[str]]:
    """``{"polls": ["0002_comment_reply_to"]}``: per app (those with migrations applied in
    ``using``), the applied migrations that no other applied migration of the app follows."""
    from django.db.migrations.loader import MigrationLoader

    wanted = set(app_labels)
    if not wanted:
        return {}
    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    applied = {key for key in loader.applied_migrations or {} if key[0] in wanted and key in loader.graph.node_map}
    found: dict[str, list[str]] = {}
    for app, name in sorted(applied):
        node = loader.graph.node_map[(app, name)]
        if not any(child.key in applied for child in node.children if child.key[0] == app):
            found.setdefault(app, []).append(name)
    return found
