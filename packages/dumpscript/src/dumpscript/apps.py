from django.apps import AppConfig


class DumpscriptConfig(AppConfig):
    name = "dumpscript"
    verbose_name = "dumpscript"
