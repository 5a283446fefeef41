"""The options of a dump: the keyword arguments of ``manage.py dumpscript``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from django.db import DEFAULT_DB_ALIAS

from dumpscript.errors import SelectionError

__all__ = ["DumpOptions", "check_database", "options_from", "parse_filters", "parse_lookups", "parse_pks"]

_NEXT_LOOKUP = re.compile(r",\s*(?=\w+=)")
"""Where one lookup of ``"pk__in=1,2, status=open"`` ends: a comma before ``name=``."""


def parse_filters(specs: str | Sequence[str]) -> dict[str, Any]:
    """``["question__startswith=What", "pk__in=1,2"]`` (or the same as one text, separated by
    commas) → ``QuerySet.filter`` keyword arguments; ``__in`` takes a comma-separated list,
    ``__isnull`` true or false."""
    if isinstance(specs, str):
        specs = [part for part in _NEXT_LOOKUP.split(specs.strip()) if part]
    result: dict[str, Any] = {}
    for spec in specs:
        key, equal, value = spec.partition("=")
        key = key.strip()
        if not equal or not key:
            raise SelectionError(f"Cannot filter by {spec!r}: write it as field__lookup=value")
        if key.endswith(("__regex", "__iregex")):
            try:
                re.compile(value)
            except re.error as error:
                raise SelectionError(f"Cannot filter by {spec!r}: not a regular expression ({error})") from None
        if key.endswith("__in"):
            result[key] = [part.strip() for part in value.split(",")]
        elif key.endswith("__isnull"):
            if value.strip().lower() not in ("true", "false"):
                raise SelectionError(f"Cannot filter by {spec!r}: __isnull takes true or false")
            result[key] = value.strip().lower() == "true"
        else:
            result[key] = value
    return result


def check_database(using: str) -> None:
    """Refuse a database alias that ``DATABASES`` does not define, naming those it does."""
    from django.db import connections

    if using not in connections:
        known = ", ".join(repr(alias) for alias in connections) or "none"
        raise SelectionError(f"Unknown database {using!r}: DATABASES defines {known}")


def parse_pks(text: str) -> list[str]:
    """``"1, 2,3"`` → ``["1", "2", "3"]``; refuses a list that names no key."""
    keys = [key.strip() for key in text.split(",") if key.strip()]
    if not keys:
        raise SelectionError(f"--pks {text!r} names no primary key: give one or more, separated by commas")
    return keys


@dataclass(frozen=True)
class DumpOptions:
    """What to dump and how; the keyword arguments of ``manage.py dumpscript``."""

    using: str = DEFAULT_DB_ALIAS
    """Database alias to read from."""
    exclude: Sequence[str] = ()
    """App labels or ``app.Model`` labels to leave out of the selection."""
    keep_pks: bool = False
    """Write auto-increment primary keys too (by default they are left to the database)."""
    natural_foreign: bool = False
    """Look up objects outside the selection by natural key instead of including them."""
    use_default_manager: bool = False
    """Select rows through each model's default manager (as ``dumpdata`` does) instead of the
    base manager, so rows a custom default manager hides are left out."""
    pks: Sequence[Any] | None = None
    """Only these primary keys (with a single model label)."""
    lookups: dict[str, Sequence[str]] | None = None
    """``{"app.Model": ["field", ...]}``: objects of these models outside the selection are
    found by these fields when the script runs (``Model.objects.get(email=...)``), not created.
    The fields should be unique together and not relations."""
    save_each: bool = False
    """Save every object with ``obj.save(using=using)``, sending ``pre_save``/``post_save``,
    instead of one ``bulk_create`` per batch (much slower to load)."""
    limit: int | None = None
    """At most this many rows of each selected model (the first by primary key). Objects
    they point at are still included."""
    filter: dict[str, Any] | None = None
    """Field lookups that select the rows of the selected models, as for
    ``QuerySet.filter(**filter)`` (``{"question__startswith": "What"}``)."""
    workers: int | None = None
    """Processes that write a large script (from 20,000 objects): 2 lets a forked process
    write half of it, reading the same snapshot; 1 writes it in this process. Default: 2 on a
    machine with several cores. Dumps from a thread other than the main one, inside a
    caller's transaction, or of SQLite databases in memory or in WAL mode use one process."""
    upsert: bool = False
    """A script to load again and again (seed data): every object is matched in the target by a
    unique field (or fields unique together; else all its fields) and updated, or created;
    many-to-many links already there are kept. Loading it twice leaves the database as loading
    it once."""
    all_fields: bool = False
    """Write every field. By default a field whose value is what the model sets when the
    argument is left out (``None`` for a nullable field, ``""`` for text, a constant
    ``default=``) is not written."""
    anonymize: bool = False
    """Write fake values in place of personal data (names, e-mails, phones, addresses, free
    text, and the fields the ``DUMPSCRIPT_ANONYMIZE`` setting names), the same fake value for
    the same original every time; the script holds literal values (see :doc:`generate`)."""
    strict: bool = False
    """With ``anonymize``: refuse to dump while a text field that may hold personal data has no
    rule in ``DUMPSCRIPT_ANONYMIZE``, naming each such field."""
    dependents: bool | None = None
    """Add the rows that belong to the selected ones, transitively: the rows that point at them
    through a relation a delete would cascade along (``on_delete=CASCADE``, generic
    relations), and the relations ``follow`` names (see :doc:`subsets`). None (the default):
    on when rows are picked (``pks``, ``filter``, a queryset) or when ``follow``, ``no_follow``
    or ``depth`` is given; off for whole models."""
    follow: Sequence[str] = ()
    """Reverse relations to follow besides the cascading ones, as ``app.Model.relation``
    (the accessor name such as ``shop.Customer.orders``, the related query name, or the field
    that points here as ``shop.Customer.Review.customer``)."""
    no_follow: Sequence[str] = ()
    """Relations (``app.Model.relation``), models (``app.Model``) or apps (``app``) the
    closure does not follow into. The most specific rule wins."""
    depth: int | None = None
    """At most this many reverse hops from the selected rows (None: no limit)."""


def parse_lookups(specs: Sequence[str]) -> dict[str, Sequence[str]]:
    """``["auth.User=email", "shop.Shop=name,city"]`` → ``{"auth.User": ["email"], ...}``."""
    lookups: dict[str, Sequence[str]] = {}
    for spec in specs:
        label, _, names = spec.partition("=")
        lookups[label.strip()] = [name.strip() for name in names.split(",") if name.strip()]
    return lookups


def options_from(**given: Any) -> DumpOptions:
    """The one way a front end (the command, the language server) turns what a user typed into
    :class:`DumpOptions`: ``filter`` as a dictionary, a list of ``field__lookup=value`` or one
    text of them; ``pks`` as a list or a comma-separated text; ``lookups`` as a dictionary or
    ``app.Model=field,field`` specs; the database checked (once settings are configured); ``None`` values left at their
    defaults. Raises :class:`~dumpscript.errors.SelectionError` naming what it cannot read."""
    filter_ = given.get("filter")
    if filter_ is not None and not isinstance(filter_, dict):
        given["filter"] = parse_filters(filter_) or None
    pks = given.get("pks")
    if isinstance(pks, str):
        given["pks"] = parse_pks(pks)
    lookups = given.get("lookups")
    if lookups is not None and not isinstance(lookups, dict):
        given["lookups"] = parse_lookups(lookups)
    known = {f.name for f in fields(DumpOptions)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise TypeError(f"DumpOptions has no option {unknown[0]!r}")
    from django.conf import settings

    options = DumpOptions(**{name: value for name, value in given.items() if value is not None})
    if settings.configured:  # else there is no database to name yet (an editor before its project)
        check_database(options.using)
    return options
