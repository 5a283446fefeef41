"""Nothing lost: files, destructive options and bad input never destroy what the user did not
ask to lose (issue "Nothing lost, part 2"). Real ``manage.py``, real databases, real signals."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import TESTS, Databases, dump, write
from dumpscript import OutputError, ScriptError, load_script
from dumpscript.files import write_atomic
from testproject import sample
from testproject.testapp import models as m


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def authors(using: str = "default") -> None:
    m.Author.objects.using(using).create(name="Ada", email="ada@example.com")
    m.Author.objects.using(using).create(name="Grace", email="grace@example.com")


# -- 1. -o replaces only what dumpscript wrote ---------------------------------------------------


def test_output_refuses_a_file_dumpscript_did_not_write(dbs: Databases) -> None:
    authors()
    source = dbs.workdir / "notes.py"
    source.write_text("SETTING = 1\n", encoding="utf-8")
    result = dbs.manage("dumpscript", "testapp.Author", "-o", "notes.py")
    assert one_line(result) == (
        "CommandError: Refusing to replace notes.py: dumpscript did not write it (no dumpscript header); "
        "choose another file name, or pass --force to replace it"
    )
    assert source.read_text(encoding="utf-8") == "SETTING = 1\n"
    assert sorted(p.name for p in dbs.workdir.iterdir()) == ["notes.py"]  # no temp file either
    assert dbs.manage("dumpscript", "testapp.Author", "-o", "notes.py", "--force").returncode == 0
    assert "(written by dumpscript)" in source.read_text(encoding="utf-8").splitlines()[0]
    again = dbs.manage("dumpscript", "testapp.Author", "-o", "notes.py")  # ours now: replaced
    assert again.returncode == 0, again.stderr


def test_project_source_is_never_replaced_by_a_dump(dbs: Databases) -> None:
    models_py = TESTS / "testproject" / "testapp" / "models.py"
    before = models_py.read_bytes()
    result = dbs.manage("dumpscript", "testapp.Tag", "-o", str(models_py))
    assert "Refusing to replace" in one_line(result) and models_py.read_bytes() == before


# -- 2. modes, umask, symlinks, read-only files -------------------------------------------------


def _dump_with_umask(dbs: Databases, umask: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TESTS / "manage.py"), "dumpscript", "testapp.Author", *args],
        cwd=dbs.workdir,
        env=dbs.env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.umask(umask),
    )


def test_a_new_file_gets_the_umask_and_a_replaced_one_keeps_its_mode(dbs: Databases) -> None:
    authors()
    assert _dump_with_umask(dbs, 0o077, "-o", "secret_data.py").returncode == 0
    target = dbs.workdir / "secret_data.py"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    target.chmod(0o640)
    assert _dump_with_umask(dbs, 0o022, "-o", "secret_data.py").returncode == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_symlink_is_written_through_and_a_read_only_file_is_refused(dbs: Databases) -> None:
    authors()
    real = dbs.workdir / "real_data.py"
    real.write_text(dump("testapp.Tag"), encoding="utf-8")
    link = dbs.workdir / "link_data.py"
    link.symlink_to(real.name)
    assert dbs.manage("dumpscript", "testapp.Author", "-o", "link_data.py").returncode == 0
    assert link.is_symlink() and "testapp.Author" in real.read_text(encoding="utf-8")
    real.chmod(0o444)
    before = real.read_bytes()
    result = dbs.manage("dumpscript", "testapp.Tag", "-o", "real_data.py")
    assert one_line(result) == "CommandError: Refusing to replace real_data.py: the file is read-only"
    assert real.read_bytes() == before


def test_edits_keep_the_mode_and_follow_symlinks(tmp_path: Path) -> None:
    """``--into`` and ``fold/grow --write`` write through :func:`write_atomic` (edit mode)."""
    script = tmp_path / "hand.py"
    script.write_text("x = 1\n", encoding="utf-8")  # a hand-written script: edits may replace it
    script.chmod(0o600)
    link = tmp_path / "alias.py"
    link.symlink_to(script)
    write_atomic(link, "x = 2\n")
    assert link.is_symlink() and script.read_text(encoding="utf-8") == "x = 2\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o600
    with pytest.raises(OutputError, match="it is a directory"):
        write_atomic(tmp_path, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias.py", "hand.py"]


# -- 3. --replace says what it deletes, cascades included, and asks -----------------------------


def _books(using: str = "default") -> None:
    ada = m.Author.objects.using(using).create(name="Ada", email="ada@example.com")
    m.Author.objects.using(using).create(name="Grace", email="grace@example.com")
    for n in range(3):
        m.Book.objects.using(using).create(title=f"Book {n}", author=ada)


def _loadscript(dbs: Databases, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TESTS / "manage.py"), "loadscript", *args],
        cwd=dbs.workdir,
        env=dbs.env,
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin if stdin is not None else "",
    )


def test_replace_names_the_cascades_and_deletes_nothing_without_a_yes(dbs: Databases) -> None:
    _books("other")
    path = write(dbs, dump("testapp.Tag"), "tags_data.py")
    authors_path = write(dbs, dump("testapp.Author", using="other"), "authors_data.py")
    del path
    result = _loadscript(dbs, "authors_data.py", "--replace", "--database", "other")
    assert result.returncode == 1
    assert "Delete 3 testapp.Book (not in the script)" in result.stdout
    assert "Delete 2 testapp.Author" in result.stdout
    assert "Replace cancelled: no answer" in result.stderr
    assert m.Book.objects.using("other").count() == 3  # nothing deleted
    no = _loadscript(dbs, "authors_data.py", "--replace", "--database", "other", stdin="no\n")
    assert no.returncode == 1 and m.Book.objects.using("other").count() == 3
    dry = _loadscript(dbs, "authors_data.py", "--replace", "--database", "other", "--dry-run")
    assert dry.returncode == 0 and "Would delete 3 testapp.Book (not in the script)" in dry.stdout
    yes = _loadscript(dbs, "authors_data.py", "--replace", "--database", "other", stdin="yes\n")
    assert yes.returncode == 0, yes.stderr
    assert "Deleted 3 testapp.Book (not in the script)" in yes.stdout
    assert m.Book.objects.using("other").count() == 0 and m.Author.objects.using("other").count() == 2
    assert authors_path.exists()
    quiet = _loadscript(dbs, "authors_data.py", "--replace", "--database", "other", "--no-input")
    assert quiet.returncode == 0 and "Deleted 2 testapp.Author" in quiet.stdout


def test_replace_refuses_when_the_rows_changed_after_the_question(dbs: Databases) -> None:
    _books("other")
    path = write(dbs, dump("testapp.Author", using="other"), "authors_data.py")
    with pytest.raises(ScriptError, match="changed since they were counted"):
        load_script(path, using="other", replace=True, expect_deleted={"testapp.Author": 2})
    assert m.Book.objects.using("other").count() == 3


# -- 4. a killed dump leaves no process and no file with row data -------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in task.read_text().split()]
    return found


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie has ended: only its entry waits to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


@pytest.mark.once  # 60,000 rows
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_dump_leaves_no_worker_and_no_file(dbs: Databases, tmp_path: Path, how: signal.Signals) -> None:
    if not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2:
        pytest.skip("the forked writer runs on Linux with several cores")
    from testproject import bulk

    bulk.build(60_000)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**dbs.env, "TMPDIR": str(temp)}
    dump_process = subprocess.Popen(
        [sys.executable, str(TESTS / "manage.py"), "dumpscript", "testapp", "-o", "big_data.py", "--workers", "2"],
        cwd=dbs.workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline and not workers and dump_process.poll() is None:
        workers = _children(dump_process.pid)
        time.sleep(0.05)
    assert workers, "the dump never forked its writer"
    dump_process.send_signal(how)
    dump_process.wait(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(map(_alive, workers)):
        time.sleep(0.05)
    assert not any(map(_alive, workers)), "the forked writer outlived the dump"
    assert list(temp.iterdir()) == []
    assert list(dbs.workdir.iterdir()) == []


# -- 5, 9. the script run on its own ------------------------------------------------------------


def _standalone(
    dbs: Databases, path: Path, *args: str, cwd: Path | None = None, path_env: bool = True
) -> subprocess.CompletedProcess[str]:
    env = dict(dbs.env)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if not path_env:  # as from another folder than the project's
        env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, str(path), *args],
        cwd=cwd or TESTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_script_on_its_own_reports_dry_runs_and_says_how_to_run_it(dbs: Databases) -> None:
    sample.fill()
    path = write(dbs, dump("testapp"))
    lost = _standalone(dbs, path, cwd=dbs.workdir)
    assert lost.returncode == 1 and lost.stderr.strip().endswith(
        "no Django settings; run it from the project folder: python " + str(path) + " --settings mysite.settings"
    )
    elsewhere = _standalone(dbs, path, "--settings", "testproject.settings", cwd=dbs.workdir, path_env=False)
    assert elsewhere.returncode == 1 and len(elsewhere.stderr.strip().splitlines()) == 1
    assert "cannot set Django up (ModuleNotFoundError" in elsewhere.stderr
    dry = _standalone(dbs, path, "--settings", "testproject.settings", "--database", "other", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    expected = load_script(path, using="other", dry_run=True).total
    assert dry.stdout.splitlines()[-1] == (
        f"Would create {expected} rows from {path} (dry run: rolled back, nothing written)"
    )
    assert m.Author.objects.using("other").count() == 0
    done = _standalone(dbs, path, "--settings", "testproject.settings", "--database", "other")
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == f"Created {expected} rows from {path}"
    again = _standalone(dbs, path, "--settings", "testproject.settings", "--database", "other")
    assert again.returncode == 1 and "IntegrityError" in again.stderr and "nothing was loaded" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


@pytest.mark.postgres_only
def test_a_keep_pks_script_on_its_own_moves_the_sequences(dbs: Databases) -> None:
    authors()
    path = write(dbs, dump("testapp.Author", keep_pks=True))
    done = _standalone(dbs, path, "--settings", "testproject.settings", "--database", "other")
    assert done.returncode == 0, done.stderr
    m.Author.objects.using("other").create(name="Next", email="next@example.com")  # no key collision
    assert m.Author.objects.using("other").count() == 3


# -- 6. loads that would load nothing ----------------------------------------------------------


def test_a_script_that_exits_or_a_fixture_is_an_error(dbs: Databases) -> None:
    exits = write(dbs, "import sys\nsys.exit(0)\n", "exits.py")
    with pytest.raises(ScriptError, match=r"line 2: the script called sys.exit\(0\) before it finished"):
        load_script(exits)
    fixture = write(dbs, '[{"model": "testapp.tag", "pk": 1, "fields": {"name": "x"}}]\n', "tags.json")
    result = _loadscript(dbs, "tags.json")
    assert one_line(result) == (
        "CommandError: tags.json is a fixture, not a dumpscript script: load fixtures with manage.py loaddata; "
        "nothing was loaded"
    )
    del fixture


# -- 7. counts -------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["save_each", "upsert"])
def test_the_report_counts_every_row_written(dbs: Databases, option: str) -> None:
    """The same rows, written by save() or matched-or-created (SQLite's ``INSERT OR IGNORE``),
    are reported as the plain bulk_create script reports them."""
    sample.fill()
    plain = load_script(write(dbs, dump("testapp"), "plain_data.py"), using="other", dry_run=True)
    result = load_script(write(dbs, dump("testapp", **{option: True})), using="other")
    assert result.created == plain.created and result.total == plain.total


# -- 8. one line, not a traceback --------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--database", "nope"], "CommandError: Unknown database 'nope': DATABASES defines 'default', 'other'"),
        (["-o", "."], "CommandError: Cannot write .: it is a directory; give a file name, such as data.py"),
        (["-o", "newdir/"], "CommandError: Cannot write newdir/: it is a directory; give a file name, such as "),
        (["-o", "nodir/x_data.py"], "CommandError: Cannot write nodir/x_data.py: no such directory nodir"),
        (["--pks", ""], "CommandError: --pks '' names no primary key: give one or more, separated by commas"),
        (
            ["--pks", "99999999999999999999999"],
            "CommandError: Cannot select testapp.Author by the key 99999999999999999999999: out of range for its",
        ),
        (["--pks", "999"], "CommandError: Nothing to dump: no testapp.Author row has the key 999 in database"),
        (["--filter", "name__regex=(("], "CommandError: Cannot filter by 'name__regex=((': not a regular expression"),
    ],
)
def test_bad_input_is_one_line(dbs: Databases, args: list[str], message: str) -> None:
    authors()
    result = dbs.manage("dumpscript", "testapp.Author", *args)
    assert one_line(result).startswith(message)
    assert list(dbs.workdir.iterdir()) == []


def test_unknown_database_on_load_and_a_read_only_folder(dbs: Databases) -> None:
    authors()
    write(dbs, dump("testapp.Author"), "authors_data.py")
    result = _loadscript(dbs, "authors_data.py", "--database", "nope")
    assert one_line(result).startswith("CommandError: Unknown database 'nope'")
    locked = dbs.workdir / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        out = dbs.manage("dumpscript", "testapp.Author", "-o", "locked/a_data.py")
        assert one_line(out).startswith("CommandError: Cannot write locked/a_data.py: the directory")
    finally:
        locked.chmod(0o755)


def test_some_keys_missing_are_said_in_the_script(dbs: Databases) -> None:
    authors()
    pk = m.Author.objects.get(name="Ada").pk
    text = dump("testapp.Author", pks=[str(pk), "999"])
    assert "No testapp.Author row has the key 999: left out." in text


# -- 11. the object of a batch, not the batch ----------------------------------------------------


def test_a_refused_value_names_the_object_and_the_field(dbs: Databases) -> None:
    authors()
    text = dump("testapp.Author")
    text = text.replace('email="grace@example.com"', "email=None")
    path = write(dbs, text)
    line = next(n for n, source in enumerate(text.splitlines(), 1) if "email=None" in source)
    with pytest.raises(ScriptError) as raised:
        load_script(path, using="other")
    message = str(raised.value)
    assert message.startswith(f"{path}, line {line}: testapp.Author")
    assert "email is None, and the column is NOT NULL" in message
    assert message.endswith("nothing was loaded")


# -- 10. the name clash with django-extensions ---------------------------------------------------


def test_django_extensions_first_is_said_in_one_line_and_the_alias_works(dbs: Databases) -> None:
    authors()
    env = {**dbs.env, "DUMPSCRIPT_EXTENSIONS_FIRST": "1"}

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(TESTS / "manage.py"), *args]
        return subprocess.run(command, cwd=dbs.workdir, env=env, capture_output=True, text=True, timeout=300)

    clash = (
        "manage.py dumpscript runs the dumpscript command of 'django_extensions', not this one "
        "('django_extensions' comes before 'dumpscript' in INSTALLED_APPS): put 'dumpscript' first, "
        "or run manage.py scriptdump"
    )
    theirs = manage("dumpscript", "testapp.Author", "-o", "authors_data.py")
    assert theirs.returncode != 0 and theirs.stderr.splitlines()[0] == f"dumpscript: {clash}"
    assert "(dumpscript.W001)" in manage("check").stderr
    ours = manage("scriptdump", "testapp.Author", "-o", "authors_data.py")
    assert ours.returncode == 0, ours.stderr
    assert "(written by dumpscript)" in (dbs.workdir / "authors_data.py").read_text(encoding="utf-8")
