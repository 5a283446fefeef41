"""Bad input: one clear line naming the problem and the object, a non-zero exit, nothing written."""

from __future__ import annotations

import pytest

from conftest import Databases, dump, write
from dumpscript import (
    CycleError,
    DumpOptions,
    OutputNameError,
    ScriptError,
    SelectionError,
    UnsupportedValueError,
    dump_script,
    load_script,
    register_encoder,
    values,
)
from dumpscript.values import _literals as lit
from testproject import sample
from testproject.badapp.models import Color, ColorField, Paint, Swatch
from testproject.snapshot import Snapshot
from testproject.testapp import models as m


def one_line_error(result: object) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, result.stderr  # type: ignore[attr-defined]
    assert lines[0].startswith("CommandError: ")
    return lines[0]


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("nope", "Unknown app 'nope'"),
        ("testapp.Nope", "Unknown model 'testapp.Nope': app 'testapp' has no model 'Nope'"),
        ("nope.Model", "Unknown app 'nope' in 'nope.Model'"),
    ],
)
def test_unknown_app_or_model(dbs: Databases, label: str, message: str) -> None:
    result = dbs.manage("dumpscript", label, "-o", "out_data.py")
    assert message in one_line_error(result)
    assert not (dbs.workdir / "out_data.py").exists()
    assert list(dbs.workdir.iterdir()) == []


@pytest.mark.parametrize("args", [("--pks", "abc"), ("--pks", "abc", "--plan")])
def test_a_key_the_primary_key_cannot_take(dbs: Databases, args: tuple[str, ...]) -> None:
    result = dbs.manage("dumpscript", "testapp.Author", *args)
    line = one_line_error(result)
    assert line == "CommandError: Cannot select testapp.Author by the key 'abc': “abc” value must be an integer.", line


def test_unsupported_field_names_model_field_and_fix(dbs: Databases) -> None:
    Paint.objects.create(name="red", color=Color("#ff0000"))
    result = dbs.manage("dumpscript", "badapp", "-o", "paint_data.py")
    line = one_line_error(result)
    assert "badapp.Paint.color" in line
    assert "ColorField" in line and "register_encoder" in line
    assert list(dbs.workdir.iterdir()) == []


def test_registered_encoder_round_trips_a_custom_field(dbs: Databases) -> None:
    Paint.objects.create(name="red", color=Color("#ff0000"))
    Paint.objects.create(name="none", color=None)

    def encode_color(value: Color, field: object, context: values.EncodeContext) -> object:
        return lit.call(context.imported("testproject.badapp.models", "Color"), [lit.string(value.hex)])

    register_encoder(ColorField, encode_color)  # type: ignore[arg-type]
    try:
        text = dump_script("badapp")
    finally:
        values._encoders._REGISTRY.pop(ColorField)
    assert 'color=Color("#ff0000")' in text
    path = dbs.workdir / "paint_data.py"
    path.write_text(text)
    load_script(path, using="other")
    assert sorted(Paint.objects.using("other").values_list("name", "color")) == [
        ("none", None),
        ("red", Color("#ff0000")),
    ]


def test_custom_value_without_encoder_goes_through_the_fields_own_text(dbs: Databases) -> None:
    """No encoder, but the field's ``value_to_string()`` (what ``dumpdata`` writes) loads back
    through ``to_python()``: the script does the same, readably (Django's
    ``serializers.TeamField``). A field whose text does not load back stays an error (above)."""
    Swatch.objects.create(name="red", color=Color("#ff0000"))
    Swatch.objects.create(name="none", color=None)
    text = dump_script("badapp.Swatch")
    assert 'color=Swatch._meta.get_field("color").to_python("#ff0000")' in text
    path = dbs.workdir / "swatch_data.py"
    path.write_text(text)
    load_script(path, using="other")
    assert sorted(Swatch.objects.using("other").values_list("name", "color")) == [
        ("none", None),
        ("red", Color("#ff0000")),
    ]


def test_value_of_unexpected_type_names_the_object() -> None:
    field = m.Sample._meta.get_field("integer")
    context = values.EncodeContext(imports=_NoImports(), where="testapp.Sample(pk=3).integer")
    with pytest.raises(UnsupportedValueError, match=r"testapp\.Sample\(pk=3\)\.integer: value of type builtins\.str"):
        values.encode_field_value("12", field, context)


class _NoImports:
    def module(self, module: str) -> str:
        return module

    def name(self, module: str, name: str) -> str:
        return name


def test_unbreakable_cycle_names_models_and_fields(dbs: Databases) -> None:
    sample.unbreakable_cycle("default")
    with pytest.raises(CycleError) as info:
        dump_script("cycleapp")
    message = str(info.value)
    assert "cycleapp.Husband" in message and "cycleapp.Wife" in message
    assert "cycleapp.Husband(pk=1).wife" in message and "cycleapp.Wife(pk=1).husband" in message
    result = dbs.manage("dumpscript", "cycleapp", "-o", "cycle_data.py")
    assert "unbreakable cycle" in one_line_error(result)
    assert list(dbs.workdir.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "shadowed"),
    [
        ("testapp.py", "installed app"),
        ("auth.py", "installed app"),
        ("json.py", "importable module"),
        ("django.py", "installed app"),
        ("dumpscript.py", "installed app"),
        ("testproject.py", "installed app"),
    ],
)
def test_output_name_that_would_shadow_is_refused(dbs: Databases, name: str, shadowed: str) -> None:
    result = dbs.manage("dumpscript", "testapp", "-o", name)
    line = one_line_error(result)
    assert f"Refusing to write {name}" in line and shadowed in line
    assert not (dbs.workdir / name).exists()


def test_failed_dump_leaves_existing_output_untouched(dbs: Databases) -> None:
    target = dbs.workdir / "paint_data.py"
    target.write_text("# my edits\n")
    Paint.objects.create(name="red", color=Color("#ff0000"))
    one_line_error(dbs.manage("dumpscript", "badapp", "-o", "paint_data.py"))
    assert target.read_text() == "# my edits\n"
    assert [p.name for p in dbs.workdir.iterdir()] == ["paint_data.py"]  # no temporary file left


def test_missing_output_directory(dbs: Databases) -> None:
    line = one_line_error(dbs.manage("dumpscript", "testapp", "-o", "missing/dir/data_out.py"))
    assert "no such directory missing/dir" in line


def test_unreadable_script(dbs: Databases) -> None:
    path = write(dbs, "def run(using):\n    tag = Tag(name='x'\n", "script_data.py")
    line = one_line_error(dbs.manage("loadscript", str(path)))
    assert f"Cannot read script {path}" in line and "line 2" in line
    line = one_line_error(dbs.manage("loadscript", str(dbs.workdir / "missing_data.py")))
    assert "Cannot read script" in line and "No such file" in line


def test_failing_script_names_line_and_object_and_writes_nothing(dbs: Databases) -> None:
    sample.fill("default")
    text = dump_script("testapp", options=DumpOptions())
    # Break one block: an author whose e-mail duplicates another's violates a unique constraint.
    text = text.replace('email="grace@example.com"', 'email="ada@example.com"')
    path = write(dbs, text, "script_data.py")
    before = Snapshot("other").contents()
    result = dbs.manage("loadscript", str(path), "--database", "other")
    line = one_line_error(result)
    number = next(i for i, source in enumerate(text.splitlines(), 1) if "bulk_create([author_4])" in source)
    assert f"{path}, line {number}: IntegrityError" in line
    assert "author_4" in line and "nothing was loaded" in line
    assert Snapshot("other").contents() == before
    assert not m.Author.objects.using("other").exists()


def test_script_error_in_plain_python(dbs: Databases) -> None:
    path = write(
        dbs,
        "from testproject.testapp.models import Tag\n\n\ndef run(using):\n"
        "    Tag.objects.using(using).create(name='kept?')\n    1 / 0\n",
    )
    with pytest.raises(ScriptError, match=r"line 6: ZeroDivisionError: division by zero \(in `1 / 0`\)"):
        load_script(path, using="other")
    assert not m.Tag.objects.using("other").exists()


def test_api_errors_share_one_root() -> None:
    for error in (CycleError, OutputNameError, ScriptError, SelectionError, UnsupportedValueError):
        assert issubclass(error, __import__("dumpscript").DumpscriptError)


def test_a_field_the_model_no_longer_has_names_the_line_and_the_nearest_field(dbs: Databases) -> None:
    """A script written before a migration removed a field (or with a typo): one line with the
    object's line, the model, the field and the nearest field; with --drop-unknown-fields the
    rest loads and every value left out is counted, never silently."""
    for name in ("red", "green", "blue"):
        m.Tag.objects.create(name=name)
    text = dump("testapp.Tag").replace('Tag(name="green")', 'Tag(name="green", colour="#0f0")')
    text = text.replace('Tag(name="blue")', 'Tag(name="blue", colour="#00f", nmae="x")')
    line = next(n for n, source in enumerate(text.splitlines(), 1) if "#0f0" in source)
    write(dbs, text, "tags_data.py")
    result = dbs.manage("loadscript", "tags_data.py", "--database", "other")
    message = one_line_error(result)
    assert message.startswith(f"CommandError: {dbs.workdir / 'tags_data.py'}, line {line}: testapp.Tag has no field ")
    assert "'colour' (removed or renamed since the script was written?" in message
    assert message.endswith("use --drop-unknown-fields; nothing was loaded")
    assert m.Tag.objects.using("other").count() == 0
    dropped = dbs.manage("loadscript", "tags_data.py", "--database", "other", "--drop-unknown-fields")
    assert dropped.returncode == 0, dropped.stderr
    assert "Dropped 2 values of testapp.Tag.colour (no such field)" in dropped.stdout
    assert "Dropped 1 value of testapp.Tag.nmae (no such field)" in dropped.stdout
    assert sorted(m.Tag.objects.using("other").values_list("name", flat=True)) == ["blue", "green", "red"]


def test_the_nearest_field_is_named(dbs: Databases) -> None:
    path = write(dbs, 'from testproject.testapp.models import Tag\n\nTag(nmae="x").save(using="other")\n', "t.py")
    with pytest.raises(ScriptError, match=r"line 3: testapp.Tag has no field 'nmae' .*; the nearest field is 'name'\)"):
        load_script(path, using="other")
