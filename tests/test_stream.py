"""The flat-memory dump (``dumpscript.stream``) writes exactly what the in-memory graph writes."""

from __future__ import annotations

import pytest
from django.apps import apps

from conftest import Databases
from dumpscript import DumpOptions
from dumpscript._api import _builder, _stream_builder
from dumpscript._progress import NO_PROGRESS
from testproject import sample


def both(*labels: str, **options: object) -> tuple[str, str]:
    opts = DumpOptions(**options)  # type: ignore[arg-type]
    stream = _stream_builder(labels, opts, NO_PROGRESS, strict=True)
    assert stream is not None
    return stream.build_text(), _builder(labels, opts, NO_PROGRESS).build_text()


def test_every_model_and_app(dbs: Databases) -> None:
    sample.fill()
    labels = [m._meta.label for c in apps.get_app_configs() for m in c.get_models() if c.label in ("testapp", "auth") and m._meta.label != "auth.Permission"]
    for label in [*labels, "testapp", "auth", "cycleapp", "testapp.Review testapp.Place"]:
        stream, memory = both(*label.split())
        assert stream == memory, label
