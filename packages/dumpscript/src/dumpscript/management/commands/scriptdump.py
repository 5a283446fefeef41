"""``manage.py scriptdump``: ``manage.py dumpscript`` under a name no other app has (with
django-extensions before dumpscript in ``INSTALLED_APPS``, ``dumpscript`` runs its command)."""

from dumpscript.management.commands.dumpscript import Command as DumpscriptCommand


class Command(DumpscriptCommand):
    pass
