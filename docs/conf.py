"""Sphinx configuration for the dumpscript documentation."""

import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "dumpscript"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
)
django.setup()

project = "dumpscript"
author = "the dumpscript team"
copyright = "2026, the dumpscript team"
extensions = ["sphinx.ext.autodoc"]
autodoc_member_order = "bysource"
autodoc_typehints = "none"
exclude_patterns = ["_build"]
# Furo, as many Django packages use: a wide, responsive column, so the code blocks of dumped
# scripts do not scroll sideways.
html_theme = "furo"
nitpicky = False
