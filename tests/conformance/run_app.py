"""One conformance case, in its own process: ``python -m conformance.run_app APP BACKEND FOLDER``.

Prints one JSON line: the app, its models and rows, and the result: ``exact``; ``diff`` (the
first row that differs); ``limit`` (dumpscript's own one-line error); ``defect`` (any other
error of dump or load); ``setup`` (the app cannot be installed or migrated on this backend, so
it is not in the corpus).
"""

from __future__ import annotations

import json
import os
import random
import sys
import traceback
import zlib
from pathlib import Path
from typing import Any

from conformance.corpus import App, by_name


def _databases(backend: str, folder: Path, name: str) -> dict[str, dict[str, Any]]:
    if backend == "postgres":
        base = {
            "ENGINE": "django.db.backends.postgresql",
            "USER": "postgres",
            "HOST": os.environ["DUMPSCRIPT_PG_HOST"],
            "PORT": os.environ.get("DUMPSCRIPT_PG_PORT", "5432"),
        }
        return {alias: {**base, "NAME": f"{name}_{alias}"} for alias in ("default", "target")}
    return {
        alias: {"ENGINE": "django.db.backends.sqlite3", "NAME": str(folder / f"{alias}.sqlite3")}
        for alias in ("default", "target")
    }


def _configure(app: App, backend: str, folder: Path, name: str) -> None:
    from django.conf import settings

    if app.path:
        sys.path.insert(0, app.path)
    if app.sdist is not None:
        sys.path.insert(0, app.sdist.path())
    settings.configure(
        SECRET_KEY="conformance",
        USE_TZ=False,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        INSTALLED_APPS=[*app.installed, "dumpscript"],
        DATABASES=_databases(backend, folder, name),
        MIGRATION_MODULES=dict.fromkeys(app.migrations_off),
        SITE_ID=1,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        STATIC_URL="static/",
        MEDIA_ROOT=str(folder / "media"),
        **app.settings,
    )


def _models(app: App) -> list[Any]:
    from django.apps import apps

    found = []
    for label in app.labels:
        for model in apps.get_app_config(label).get_models():
            opts = model._meta
            if opts.proxy or not opts.managed or opts.swapped or opts.auto_created:
                continue
            found.append(model)
    return found


def _teach_custom_fields(models_: list[Any]) -> None:
    """A custom field class model_bakery does not know (``custom_pk.MyWrapperField``) gets the
    generator of the built-in field it extends, so that its model has rows to compare."""
    from model_bakery import generators

    known = generators.get_type_mapping()
    for model in models_:
        for f in model._meta.concrete_fields:
            klass = type(f)
            if klass in known or generators.get(klass) is not None or f.is_relation:
                continue
            base = next((b for b in klass.__mro__ if b in known), None)
            if base is not None:
                generators.user_mapping[klass] = known[base]


def _fill(models_: list[Any], seed: int) -> list[str]:
    """Rows for every model: trees grown through their own API, 3 rows of every model made by
    model_bakery (many-to-many links too), then what model_bakery leaves out: nullable
    references pointed at real rows (which closes cycles: a row at itself, two models at each
    other) and generic foreign keys at real rows. Returns what it could not fill, with why."""
    random.seed(seed)
    _teach_custom_fields(models_)
    problems = _grow_trees(models_)
    problems += _bake(models_)
    problems += _close_cycles(models_)
    problems += _point_generic(models_)
    return problems


def _problem(label: str, error: Exception) -> str:
    return f"{label}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def _bake(models_: list[Any]) -> list[str]:
    from django.db import transaction
    from model_bakery import baker

    problems = []
    for model in models_:
        try:
            with transaction.atomic():
                baker.make(model, _quantity=3, make_m2m=True)
        except Exception as error:
            problems.append(_problem(model._meta.label, error))
    return problems


def _grow_trees(models_: list[Any]) -> list[str]:
    """A root with children and a grandchild, through the model's own API (django-treebeard's
    ``add_root``/``add_child``), so tree columns hold a real tree."""
    from django.db import transaction
    from model_bakery import baker

    problems = []
    for model in models_:
        if not callable(getattr(model, "add_root", None)) or model._meta.proxy:
            continue
        try:
            with transaction.atomic():
                root = model.add_root(instance=baker.prepare(model))
                child = root.add_child(instance=baker.prepare(model))
                child.add_child(instance=baker.prepare(model))
                root.add_child(instance=baker.prepare(model))
        except Exception as error:
            problems.append(_problem(f"{model._meta.label} tree", error))
    return problems


def _close_cycles(models_: list[Any]) -> list[str]:
    """Point nullable foreign keys and one-to-ones that model_bakery left empty at real rows of
    their target (a one-to-one at a row no other points at)."""
    from django.db import transaction

    problems = []
    for model in models_:
        for f in model._meta.concrete_fields:
            if not (f.is_relation and f.null) or getattr(f.remote_field, "parent_link", False):
                continue
            target = f.related_model
            if target._meta.label == "contenttypes.ContentType" or f.target_field != target._meta.pk:
                continue
            keys = list(target._base_manager.order_by("?").values_list("pk", flat=True)[:10])
            if f.unique:
                used = set(model._base_manager.exclude(**{f.attname: None}).values_list(f.attname, flat=True))
                keys = [key for key in keys if key not in used]
            empty = list(model._base_manager.filter(**{f.attname: None}).values_list("pk", flat=True)[:3])
            for pk, key in zip(empty, keys, strict=False):
                try:
                    with transaction.atomic():
                        model._base_manager.filter(pk=pk).update(**{f.attname: key})
                except Exception as error:
                    problems.append(_problem(f"{model._meta.label}.{f.name}", error))
                    break
    return problems


def _point_generic(models_: list[Any]) -> list[str]:
    from django.contrib.contenttypes.fields import GenericForeignKey
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    problems = []
    targets = [m for m in models_ if m._base_manager.exists()]
    for model in models_:
        gfks = [p for p in model._meta.private_fields if isinstance(p, GenericForeignKey)]
        if not gfks or not targets:
            continue
        for obj in model._base_manager.all():
            for gfk in gfks:
                target_model = random.choice(targets)
                target = random.choice(list(target_model._base_manager.all()[:5]))
                setattr(
                    obj, model._meta.get_field(gfk.ct_field).attname, ContentType.objects.get_for_model(target_model).pk
                )
                setattr(obj, gfk.fk_field, target.pk)
            try:
                with transaction.atomic():
                    obj.save_base(raw=True)
            except Exception as error:
                problems.append(f"{model._meta.label} generic relation: {type(error).__name__}")
    return problems


def run(app: App, backend: str, folder: Path, name: str) -> dict[str, Any]:
    result: dict[str, Any] = {"name": app.name, "backend": backend, "models": 0, "rows": 0}
    try:
        _configure(app, backend, folder, name)
        import django
        from django.core.management import call_command

        django.setup()
        for alias in ("default", "target"):
            call_command("migrate", run_syncdb=True, database=alias, verbosity=0, interactive=False)
        models_ = _models(app)
    except BaseException as error:
        return {**result, "result": "setup", "detail": _line(error)}
    result["models"] = len(models_)
    if not models_:
        return {**result, "result": "setup", "detail": "no models"}
    from django.db import connection

    tables = set(connection.introspection.table_names())
    present = [m for m in models_ if m._meta.db_table in tables]
    problems = _fill(present, zlib.crc32(app.name.encode()))
    problems += [f"{m._meta.label}: no table on this backend" for m in models_ if m not in present]
    result["rows"] = sum(m._base_manager.count() for m in present)
    result["fill"] = problems
    from dumpscript import DumpscriptError, load_script, write_script

    script = folder / "conformance_data.py"
    try:
        write_script(script, *app.labels)
    except DumpscriptError as error:
        return {**result, "result": "limit", "detail": f"dump: {_line(error)}"}
    except Exception as error:
        return {**result, "result": "defect", "detail": f"dump: {_line(error)}", "trace": traceback.format_exc()}
    try:
        load_script(script, using="target")
    except DumpscriptError as error:
        return {**result, "result": "defect", "detail": f"load: {_line(error)}"}
    except Exception as error:
        return {**result, "result": "defect", "detail": f"load: {_line(error)}", "trace": traceback.format_exc()}
    from conformance.compare import Picture, first_difference

    try:
        source, target = Picture("default", present).rows(), Picture("target", present).rows()
    except Exception as error:
        return {**result, "result": "defect", "detail": f"compare: {_line(error)}", "trace": traceback.format_exc()}
    result["subset"] = _subset(present, folder)
    if source == target:
        return {**result, "result": "exact", "detail": ""}
    return {**result, "result": "diff", "detail": first_difference(source, target)}


def _subset(models_: list[Any], folder: Path) -> str:
    """A subset of the app's rows, from the model whose first row has the most rows belonging to
    it (previewed first; the row named by its key's text, as on the command line): dumped,
    loaded into the emptied target, compared. ``ok``, or what went wrong: the rows loaded must
    be rows of the source (their many-to-many links aside: a row pulled in by reference comes
    without its links to rows outside the subset), and the closure's models must hold at least
    the rows the preview counted."""
    from django.core.management import call_command

    from conformance.compare import Picture
    from dumpscript import DumpOptions, load_script, preview_subset, write_script
    from dumpscript.selection import MIGRATED_ROWS

    try:
        source = Picture("default", models_).rows(links=False)
        best = None
        for model in sorted(models_, key=lambda m: m._meta.label):
            if model._meta.proxy or model._meta.label in MIGRATED_ROWS:
                continue
            first = model._base_manager.using("default").order_by("pk").values_list("pk", flat=True).first()
            key = _key_text(model, first) if first is not None else None
            if key is None:
                continue
            options = DumpOptions(pks=[key])
            preview = preview_subset(model._meta.label, options=options)
            if best is None or sum(preview.totals.values()) > sum(best[2].totals.values()):
                best = (model, options, preview)
        if best is None:
            return "ok"
        model, options, preview = best
        call_command("flush", database="target", interactive=False, verbosity=0)
        migrated = Picture("target", models_).rows(links=False)  # rows post_migrate creates again
        script = folder / "subset_data.py"
        write_script(script, model._meta.label, options=options)
        load_script(script, using="target")
        loaded = Picture("target", models_).rows(links=False) - migrated
        extra = loaded - source
        if extra:
            first = repr(sorted(extra, key=repr)[0])[:200]
            return f"subset of {model._meta.label}: a row that is not in the source: {first}"
        for label, rows in preview.totals.items():
            found = next((m for m in models_ if m._meta.label == label), None)
            if found is not None and found._base_manager.using("target").count() < rows:
                return f"subset of {model._meta.label}: {label} has fewer rows than the preview's {rows}"
        return "ok"
    except Exception as error:
        if os.environ.get("CONFORMANCE_TRACE"):
            traceback.print_exc()
        return f"subset: {_line(error)}"


def _key_text(model: Any, key: Any) -> str | None:
    """A key as a user would type it (``--pks 3``): its text, when the model's key field can
    select by it (some test fields cannot even print their values)."""
    try:
        text = str(key)
        model._base_manager.using("default").filter(pk__in=[text]).exists()
    except Exception:
        return None
    return text


def _line(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    line = f"{type(error).__name__}: {text}" if not text.startswith("Cannot") else text
    return line if len(line) < 300 else line[:297] + "..."


def main() -> None:
    name, backend, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    (app,) = by_name([name])
    database = "conf_" + "".join(ch if ch.isalnum() else "_" for ch in name.lower())[:40]
    result = run(app, backend, folder, database)
    sys.stdout.write("\n" + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
