import sys

from django.apps import AppConfig
from django.core import checks


def command_owner() -> str | None:
    """The app whose ``dumpscript`` command ``manage.py dumpscript`` runs (the first app of
    ``INSTALLED_APPS`` that has one: django-extensions has one too)."""
    from django.core.management import get_commands

    return get_commands().get("dumpscript")


CLASH = (
    "manage.py dumpscript runs the dumpscript command of {owner!r}, not this one ({owner!r} comes before "
    "'dumpscript' in INSTALLED_APPS): put 'dumpscript' first, or run manage.py scriptdump"
)


def check_command_owner(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    owner = command_owner()
    if owner in (None, "dumpscript"):
        return []
    return [checks.Warning(CLASH.format(owner=owner), id="dumpscript.W001")]


class DumpscriptConfig(AppConfig):
    name = "dumpscript"
    verbose_name = "dumpscript"

    def ready(self) -> None:
        checks.register(check_command_owner)
        if sys.argv[1:2] == ["dumpscript"] and sys.argv[0].endswith("manage.py"):
            owner = command_owner()
            if owner not in (None, "dumpscript"):  # say it before that command's own errors
                print(f"dumpscript: {CLASH.format(owner=owner)}", file=sys.stderr)
