"""A representative part of the conformance corpus (``nox -s conformance`` runs all of it):
schemas nobody on the team wrote, dumped, loaded into a freshly migrated database, compared.

Each app's result is recorded in ``conformance/expected.json``; a change that makes an app
exact, or breaks one, records it again (``DUMPSCRIPT_UPDATE_CONFORMANCE=1``), so the record
always says where the tool stands. The goal is every app ``exact``.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from conformance.__main__ import run_one
from conftest import BACKEND

pytestmark = pytest.mark.once  # heavy or wide: runs on the default Python/Django pair only (noxfile)

EXPECTED = Path(__file__).parent / "conformance" / "expected.json"
UPDATE = os.environ.get("DUMPSCRIPT_UPDATE_CONFORMANCE") == "1"

SUBSET = [
    "contrib:auth",
    "contrib:contenttypes",
    "contrib:sites",
    "contrib:admin",
    "django:constraints",
    "django:custom_pk",
    "django:fixtures",
    "django:generic_relations",
    "django:m2m_through",
    "django:model_inheritance",
    "django:model_inheritance_regress",
    "django:one_to_one",
    "django:postgres_tests",
    "django:select_related",
    "django:select_related_onetoone",
    "django:serializers",
    "django:unmanaged_models",
    "django:queryset_pickle",
    "thirdparty:taggit",
    "thirdparty:filer",
    "thirdparty:ordered_model",
]
"""Inheritance (abstract bases, multi-table, a child's own key), generic relations in cycles,
custom primary keys and fields, through models, rows that migrations create, models that have
no table on the backend; tagging, polymorphic models, a manager that renumbers on
``bulk_create`` (third-party packages); every PostgreSQL field (``postgres_tests``, PostgreSQL only)."""
POSTGRES_ONLY = {"django:postgres_tests"}
KNOWN_LIMITS = {
    "postgres django:postgres_tests": "OtherTypesArrayModel.tags, an ArrayField of a project field type (TagField): "
    "no encoder reaches the array's items (the value_to_string() fallback works for plain fields only)",
}
"""Apps whose recorded goal is ``exact`` but that differ today, with the reason: an ``xfail``
that fails the day the app becomes exact (strict), so the record is then brought up to date."""
IN_CI = os.environ.get("CI") == "true"


def _cases() -> list[object]:
    cases: list[object] = []
    for name in SUBSET:
        reason = KNOWN_LIMITS.get(f"{BACKEND} {name}")
        cases.append(pytest.param(name, marks=pytest.mark.xfail(reason=reason, strict=True)) if reason else name)
    return cases


@pytest.mark.parametrize("name", _cases())
def test_app_result_is_the_recorded_one(name: str) -> None:
    if UPDATE and IN_CI:
        pytest.fail("DUMPSCRIPT_UPDATE_CONFORMANCE rewrites the record: it refuses to run under CI=true", pytrace=False)
    if "DUMPSCRIPT_PG_HOST" not in os.environ and BACKEND == "postgres":
        pytest.skip("needs the test run's PostgreSQL server")
    if name in POSTGRES_ONLY and BACKEND != "postgres":
        pytest.skip("PostgreSQL fields (run with DUMPSCRIPT_DB=postgres)")
    if name.startswith("thirdparty:") and importlib.util.find_spec(name.partition(":")[2]) is None:
        pytest.skip("third-party packages of the corpus are installed on the default Python/Django pair")
    result = run_one(name, BACKEND)
    recorded = json.loads(EXPECTED.read_text(encoding="utf-8")) if EXPECTED.exists() else {}
    key = f"{BACKEND} {name}"
    assert result["result"] != "setup", result.get("detail")
    assert "subset" in result, f"{name}: no subset result ({result['result']}: {result.get('detail')})"
    subset = "ok" if result["subset"] == "ok" else "defect"
    if UPDATE:
        recorded[key] = result["result"]
        recorded[f"{key} subset"] = subset
        EXPECTED.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert result["result"] == recorded.get(key), f"{name}: {result['result']}: {result.get('detail')}"
    # One row and what belongs to it (issue 16), dumped and loaded alone.
    assert subset == recorded[f"{key} subset"], f"{name}: {result.get('subset')}"
