"""The main job on the bundled example site, step by step.

1. create two empty SQLite databases (``example.sqlite3`` and ``fresh.sqlite3``);
2. fill the polls app with sample data;
3. ``manage.py dumpscript polls -o polls_data.py`` and show the script;
4. ``manage.py loadscript polls_data.py --database fresh``;
5. compare the two databases object by object, and dump the fresh one again: same script.

Run it from anywhere: ``python example/demo.py`` (``--quiet`` skips printing the script).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def manage(*args: str, capture: bool = False) -> str:
    print(f"$ python manage.py {' '.join(args)}", flush=True)
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=HERE, text=True, capture_output=capture, check=False
    )
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stderr)
        sys.exit(f"demo failed at: manage.py {' '.join(args)}")
    return result.stdout if capture else ""


def contents(using: str) -> dict[str, list[tuple[object, ...]]]:
    """Every object of the polls app as field values, relations followed to their targets."""
    from django.apps import apps

    def describe(obj: object, depth: int = 0) -> tuple[object, ...]:
        values: list[object] = [type(obj).__name__]
        for field in obj._meta.concrete_fields:  # type: ignore[attr-defined]
            if field.primary_key:
                continue  # auto ids are renumbered by the load
            value = getattr(obj, field.name)
            if field.is_relation:
                value = None if value is None else (describe(value, depth + 1) if depth < 2 else str(value))
            values.append((field.name, value))
        for field in obj._meta.many_to_many:  # type: ignore[attr-defined]
            values.append((field.name, sorted(str(t) for t in getattr(obj, field.name).all())))
        return tuple(values)

    result = {}
    for model in apps.get_app_config("polls").get_models():
        result[model._meta.label] = sorted((describe(o) for o in model.objects.using(using).all()), key=repr)
    return result


def main() -> None:
    quiet = "--quiet" in sys.argv
    for name in ("example.sqlite3", "fresh.sqlite3", "polls_data.py"):
        (HERE / name).unlink(missing_ok=True)
    manage("migrate", "-v", "0")
    manage("migrate", "-v", "0", "--database", "fresh")
    manage("fill_sample_data")
    manage("dumpscript", "polls", "-o", "polls_data.py")
    script = (HERE / "polls_data.py").read_text(encoding="utf-8")
    if not quiet:
        print(f"\n----- {HERE / 'polls_data.py'} -----\n{script}----- end of script -----\n")
    manage("loadscript", "polls_data.py", "--database", "fresh")
    again = manage("dumpscript", "polls", "--database", "fresh", capture=True)

    sys.path.insert(0, str(HERE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    import django

    django.setup()
    source, loaded = contents("default"), contents("fresh")
    print()
    for label, objects in source.items():
        status = "match" if loaded[label] == objects else "DIFFER"
        counts = f"{len(objects):>3} objects in example.sqlite3, {len(loaded[label]):>3} in fresh.sqlite3"
        print(f"  {label:<14} {counts}: {status}")
    same_script = again == script
    print(f"  dumping fresh.sqlite3 again gives {'the same' if same_script else 'a DIFFERENT'} script")
    if source != loaded or not same_script:
        sys.exit("\nThe contents differ.")
    print("\nThe contents match: every field and relation of every object was recreated.")


if __name__ == "__main__":
    main()
