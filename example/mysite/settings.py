"""Settings of the example site: SQLite, the polls app and dumpscript."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "example-only"
DEBUG = True
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "dumpscript",
    "polls",
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "example.sqlite3"},
    # An empty database to load the script into.
    "fresh": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "fresh.sqlite3"},
}
