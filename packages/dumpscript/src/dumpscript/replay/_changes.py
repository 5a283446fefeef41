"""The migrations between a script's recorded state and a database's, replayed as operations
(never by diffing two states: Django itself cannot tell a rename from a removal and an
addition): what became of each model and field the script names.

Plain data out (:class:`Changes`), read with Django's migration loader and nothing else: no
database is written, no model is imported from the project's code for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.migrations import operations as ops
from django.db.migrations.loader import MigrationLoader

from dumpscript.errors import ScriptError

__all__ = ["Changes", "FieldAdded", "ModelChange", "changes_since"]

_NO_VALUES = (
    ops.CreateModel,
    ops.AddIndex,
    ops.RemoveIndex,
    ops.AddConstraint,
    ops.RemoveConstraint,
    ops.AlterModelOptions,
    ops.AlterModelManagers,
    ops.AlterModelTable,
    ops.AlterUniqueTogether,
    ops.AlterIndexTogether,
    ops.AlterOrderWithRespectTo,
    *(getattr(ops, name) for name in ("RenameIndex", "AlterModelTableComment") if hasattr(ops, name)),
)
"""Operations that change no value a script writes."""


@dataclass(frozen=True)
class FieldAdded:
    """A field added after the script's state with a one-off default (``preserve_default=False``:
    the rows there were given it, the model's field has none)."""

    value: Any
    migration: str


@dataclass
class ModelChange:
    """What became of one model the script names (by its name at the script's state)."""

    old: str
    """``app.ModelName`` at the script's state."""
    name: str
    """Its model name now (lower case, as the migration state keeps it)."""
    renamed_in: str = ""
    deleted_in: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    """Field name at the script's state → its name now (renamed fields only)."""
    renamed_fields_in: dict[str, str] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    """Field name at the script's state → the migration that removed it."""
    added: dict[str, FieldAdded] = field(default_factory=dict)
    """Field name now → its one-off default."""
    altered: dict[str, str] = field(default_factory=dict)
    """Field name now → the migration that altered it last (values are converted)."""
    defaults: dict[str, Any] = field(default_factory=dict)
    """Field name at the script's state → its default then: the value of a field the script
    leaves out (a dump does not write a value equal to the default)."""

    def current(self, name: str) -> str | None:
        """The name now of the script's field ``name`` (None: removed)."""
        if name in self.removed:
            return None
        return self.fields.get(name, name)


@dataclass
class Changes:
    """The operations between a script's recorded state and a database's, per model."""

    models: dict[tuple[str, str], ModelChange] = field(default_factory=dict)
    """``(app label, model name at the script's state, lower case)`` → what became of it."""
    replayed: list[str] = field(default_factory=list)
    """The migrations replayed, ``"polls 0002_remove_choice_votes"``, in order."""
    data_migrations: list[str] = field(default_factory=list)
    """Migrations that change rows with code (``RunPython``, ``RunSQL``), as ``app name (kind)``."""
    leaves: dict[str, list[str]] = field(default_factory=dict)
    """The latest migrations of the recorded apps in the project (the state an upgrade moves to)."""

    def __bool__(self) -> bool:
        return bool(self.replayed)

    def of(self, app: str, name: str) -> ModelChange | None:
        """The change of the model now named ``name`` (lower case) in ``app``."""
        for (label, _), change in self.models.items():
            if label == app and change.name == name and not change.deleted_in:
                return change
        return None


def _squash(graph: Any, app: str, name: str) -> tuple[str, str] | None:
    """The squashed migration of the graph that replaces a recorded one."""
    for key, migration in graph.nodes.items():
        if key[0] == app and (app, name) in (getattr(migration, "replaces", None) or []):
            return (str(key[0]), str(key[1]))
    return None


def _plan(
    loader: Any, recorded: dict[str, list[str]], on_disk: bool = False
) -> tuple[set[tuple[str, str]], list[tuple[str, Any]]]:
    """The migrations up to the recorded state, and those after it that the database has
    applied, in order, as ``(app name, Migration)``. A recorded migration that a squashed one
    replaces: the squash's originals after it are replayed (while their files are there)."""
    graph = loader.graph
    done: set[tuple[str, str]] = set()
    after_squash: list[tuple[str, str]] = []
    for app, names in recorded.items():
        for name in names:
            if (app, name) in graph.nodes:
                done.update(graph.forwards_plan((app, name)))
                continue
            squash = _squash(graph, app, name)
            if squash is None:
                raise ScriptError(
                    f"the script was written at {app} {name}, a migration this project does not have "
                    "(nor one that replaces it)"
                )
            replaces = [tuple(key) for key in graph.nodes[squash].replaces]
            later = replaces[replaces.index((app, name)) + 1 :]
            missing = [key for key in later if key not in loader.disk_migrations]
            if missing:
                raise ScriptError(
                    f"the script was written at {app} {name}, squashed since into {squash[1]} whose original "
                    f"migrations after it ({', '.join(n for _, n in missing)}) are gone: which of its operations "
                    "came after the script cannot be told"
                )
            done.update(graph.forwards_plan(squash))
            after_squash += [key for key in later if key not in after_squash]
    if on_disk:  # the models as the project's migrations leave them
        applied = sorted(graph.leaf_nodes())
        behind = []
    else:
        applied = sorted(key for key in loader.applied_migrations or {} if key in graph.nodes)
        behind = sorted(key for key in done if key[0] in recorded and key not in loader.applied_migrations)
    if behind:
        raise ScriptError(
            f"the script was written at {', '.join(f'{a} {n}' for a, n in sorted(_leaves(graph, done, recorded)))}, "
            f"but the database has not applied {', '.join(f'{a} {n}' for a, n in behind[:3])}"
            f"{' and more' if len(behind) > 3 else ''}: run manage.py migrate first"
        )
    plan = [(key, loader.disk_migrations[key]) for key in after_squash]
    seen = set(done)
    for leaf in applied:
        for key in graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                plan.append((key, graph.nodes[key]))
    return done, [(f"{key[0]} {key[1]}", migration) for key, migration in plan if key[0] in recorded]


def _leaves(graph: Any, done: set[tuple[str, str]], recorded: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {key for key in done if key[0] in recorded and not any(c.key in done for c in graph.node_map[key].children)}


def changes_since(recorded: dict[str, list[str]], using: str | None) -> Changes:
    """The changes between ``recorded`` (a script's ``MIGRATIONS``) and the migrations applied
    in database ``using`` (None: every migration of the project, the models as they are), for
    the apps ``recorded`` names. Raises :class:`ScriptError` for a recorded migration the
    project does not have (nor replaces), or one the database has not applied."""
    loader = MigrationLoader(connections[using] if using else None, ignore_no_migrations=True)
    done, plan = _plan(loader, recorded, on_disk=using is None)
    changes = Changes(leaves={app: sorted(name for _, name in loader.graph.leaf_nodes(app)) for app in recorded})
    if not plan:  # the script is at the database's state: every load of a current script stops here
        return changes
    state = _state_at(loader, recorded, done)
    for (label, name), model_state in state.items():
        defaults = {field: value.get_default() for field, value in model_state.fields.items() if not value.is_relation}
        changes.models[(label, name)] = ModelChange(f"{label}.{model_state.name}", name, defaults=defaults)
    for where, migration in plan:
        changes.replayed.append(where)
        _replay(changes, migration.app_label, migration.operations, where)
    return changes


def _state_at(loader: Any, recorded: dict[str, list[str]], done: set[tuple[str, str]]) -> dict[Any, Any]:
    """The models of the recorded apps at the script's state (a squash that replaces a recorded
    migration counts up to that migration: its originals from the disk)."""
    from django.db.migrations.state import ProjectState

    state = ProjectState(real_apps=set(loader.unmigrated_apps))
    graph = loader.graph
    for key in _ordered(graph, done):
        migration = graph.nodes[key]
        replaces = [tuple(r) for r in getattr(migration, "replaces", None) or []]
        upto = _recorded_within(recorded, key[0], replaces)
        if upto is None:
            state = migration.mutate_state(state, preserve=False)
            continue
        for original in replaces[: upto + 1]:
            state = loader.disk_migrations[original].mutate_state(state, preserve=False)
    return {key: model for key, model in state.models.items() if key[0] in recorded}


def _recorded_within(recorded: dict[str, list[str]], app: str, replaces: list[tuple[str, ...]]) -> int | None:
    """The position in a squash's ``replaces`` of a recorded migration (None: not recorded there)."""
    for name in recorded.get(app, ()):
        if (app, name) in replaces:
            return replaces.index((app, name))
    return None


def _ordered(graph: Any, nodes: set[tuple[str, str]]) -> list[tuple[str, str]]:
    order: list[tuple[str, str]] = []
    for leaf in sorted(nodes):
        for key in graph.forwards_plan(leaf):
            if key in nodes and key not in order:
                order.append(key)
    return order


def _replay(changes: Changes, app: str, operations: Iterable[Any], where: str) -> None:
    for operation in operations:
        if isinstance(operation, ops.SeparateDatabaseAndState):
            _replay(changes, app, operation.state_operations, where)
        elif isinstance(operation, ops.RunPython):
            if operation.code is not ops.RunPython.noop:
                changes.data_migrations.append(f"{where} (RunPython)")
        elif isinstance(operation, ops.RunSQL):
            if operation.sql not in ("", ops.RunSQL.noop, [], ()):
                changes.data_migrations.append(f"{where} (RunSQL)")
            _replay(changes, app, operation.state_operations, where)
        elif not isinstance(operation, _NO_VALUES):
            _field_operation(changes, app, operation, where)


def _field_operation(changes: Changes, app: str, operation: Any, where: str) -> None:
    if isinstance(operation, ops.RenameModel):
        change = changes.of(app, operation.old_name_lower)
        if change is not None:
            change.name, change.renamed_in = operation.new_name_lower, where
        return
    if isinstance(operation, ops.DeleteModel):
        change = changes.of(app, operation.name_lower)
        if change is not None:
            change.deleted_in = where
        return
    change = changes.of(app, getattr(operation, "model_name_lower", ""))
    if isinstance(operation, ops.RenameField | ops.RemoveField | ops.AddField | ops.AlterField):
        if change is not None:
            _on_field(change, operation, where)
        return
    raise ScriptError(
        f"{where} has a {type(operation).__name__} operation, which dumpscript cannot replay on a script's values"
    )


def _on_field(change: ModelChange, operation: Any, where: str) -> None:
    now = {current: old for old, current in change.fields.items()}
    if isinstance(operation, ops.RenameField):
        old = now.get(operation.old_name, operation.old_name)
        if operation.old_name in change.added:  # added after the script: not a field it sets
            change.added[operation.new_name] = change.added.pop(operation.old_name)
            return
        change.fields[old] = operation.new_name
        change.renamed_fields_in[old] = where
    elif isinstance(operation, ops.RemoveField):
        if change.added.pop(operation.name, None) is not None:
            return
        change.altered.pop(operation.name, None)
        old = now.get(operation.name, operation.name)
        change.fields.pop(old, None)
        change.removed[old] = where
    elif isinstance(operation, ops.AddField):
        if not operation.preserve_default:
            change.added[operation.name] = FieldAdded(operation.field.get_default(), where)
    elif isinstance(operation, ops.AlterField):
        change.altered[operation.name] = where
