"""Folding runs of blocks into loops: before/after source, and the database contents unchanged."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Databases
from dumpscript import DumpOptions, dump_script, load_script
from dumpscript.script.source import Source
from dumpscript.transforms import TransformError, find_runs, fold_loop, grow_loop
from testproject import bulk, sample
from testproject.snapshot import Snapshot
from testproject.testapp import models as m


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def fold(before: str, first: int, last: int | None = None) -> str:
    return fold_loop(src(before), first, last).text


def test_constants_and_a_table_of_values() -> None:
    before = """
        def run(using):
            # testapp.Author
            author_1 = Author(name="Ada", email="ada@example.com", mentor=None)
            author_2 = Author(name="Grace", email="grace@example.com", mentor=None)  # the admiral
            Author.objects.using(using).bulk_create([author_1, author_2])
            Book.objects.using(using).bulk_create([Book(title="Notes", author=author_2)])
    """
    assert fold(before, 3, 4) == src(
        """
        def run(using):
            # testapp.Author
            # the admiral
            authors = []
            for name, email in [
                ("Ada", "ada@example.com"),
                ("Grace", "grace@example.com"),
            ]:
                authors.append(Author(name=name, email=email, mentor=None))
            Author.objects.using(using).bulk_create(authors)
            Book.objects.using(using).bulk_create([Book(title="Notes", author=authors[1])])
        """
    )


def test_counters_progressions_and_cycles() -> None:
    before = """
        def run(using):
            Item.objects.using(using).bulk_create([
                Item(name="Question #1", code="item-001", votes=3, size="S", day=datetime.date(2024, 1, 30)),
                Item(name="Question #2", code="item-002", votes=5, size="M", day=datetime.date(2024, 1, 31)),
                Item(name="Question #3", code="item-003", votes=7, size="S", day=datetime.date(2024, 2, 1)),
                Item(name="Question #4", code="item-004", votes=9, size="M", day=datetime.date(2024, 2, 2)),
            ])
    """
    assert fold(before, 3) == src(
        """
        def run(using):
            items = []
            for i in range(4):
                items.append(Item(
                    name=f"Question #{i + 1}",
                    code=f"item-{i + 1:03d}",
                    votes=2 * i + 3,
                    size=("S", "M")[i % 2],
                    day=datetime.date(2024, 1, 30) + datetime.timedelta(days=i),
                ))
            Item.objects.using(using).bulk_create(items)
        """
    )


def test_decimals_datetimes_and_references_that_step_every_k_blocks() -> None:
    before = """
        def run(using):
            Line.objects.using(using).bulk_create([
                Line(order=orders[0], price=Decimal("1.50"), at=datetime.datetime(2024, 1, 1, 9, 0, tzinfo=datetime.timezone.utc)),
                Line(order=orders[0], price=Decimal("1.75"), at=datetime.datetime(2024, 1, 1, 11, 0, tzinfo=datetime.timezone.utc)),
                Line(order=orders[1], price=Decimal("2.00"), at=datetime.datetime(2024, 1, 1, 13, 0, tzinfo=datetime.timezone.utc)),
                Line(order=orders[1], price=Decimal("2.25"), at=datetime.datetime(2024, 1, 1, 15, 0, tzinfo=datetime.timezone.utc)),
            ])
    """  # noqa: E501
    after = fold(before, 2, 7)
    assert "order=orders[i // 2]," in after
    assert 'price=Decimal("1.50") + Decimal("0.25") * i,' in after
    assert (
        "at=datetime.datetime(2024, 1, 1, 9, 0, tzinfo=datetime.timezone.utc) + datetime.timedelta(hours=2 * i),"
        in after
    )
    assert "for i in range(4):" in after


def test_part_of_a_list_and_values_without_pattern() -> None:
    before = """
        def run(using):
            Tag.objects.using(using).bulk_create([
                Tag(name="django"),
                Tag(name="python"),
                Tag(name="café ☕"),
                Other(name="x"),
            ])
    """
    assert fold(before, 3, 4) == src(
        """
        def run(using):
            tags = []
            for name in [
                "django",
                "python",
            ]:
                tags.append(Tag(name=name))
            Tag.objects.using(using).bulk_create([
                *tags,
                Tag(name="café ☕"),
                Other(name="x"),
            ])
        """
    )


def test_saved_one_by_one_and_later_references() -> None:
    before = """
        def run(using):
            place_1 = Restaurant(name="A", serves_pizza=True)
            place_1.save(using=using)
            place_2 = Restaurant(name="B", serves_pizza=True)
            place_2.save(using=using)
            place_3 = Restaurant(name="C", serves_pizza=True)
            place_3.save(using=using)
            Review(place=place_2, stars=3).save(using=using)
            Restaurant.objects.using(using).bulk_update([place_1, place_2, place_3, other], ["name"])
            print(place_2.pk, place_3.name)
    """
    after = fold(before, 4)
    assert after.startswith(
        src(
            """
            def run(using):
                restaurants = []
                for name in [
                    "A",
                    "B",
                    "C",
                ]:
                    restaurant = Restaurant(name=name, serves_pizza=True)
            """
        )
    )
    assert "restaurant.save(using=using)" in after
    assert "restaurants.append(restaurant)" in after
    assert "Review(place=restaurants[1], stars=3).save(using=using)" in after
    assert 'bulk_update([*restaurants, other], ["name"])' in after
    assert "print(restaurants[1].pk, restaurants[2].name)" in after
    compile(after, "after.py", "exec")


def test_everything_outside_the_fold_is_byte_for_byte_the_same() -> None:
    before = src(
        """
        import datetime  # keep   this   spacing


        def helper( x ):   # odd formatting stays
            return x


        def run(using):
            '''My edited script.'''
            a_1 = A(n=1)
            a_2 = A(n=2)
            a_3 = A(n=3)
            #   a comment the person wrote
            B.objects.using(using).bulk_create([  B(v=helper( 1 )),  ])
        """
    )
    change = fold_loop(before, 10, 12)
    assert change.text.startswith(before[: before.index("    a_1")])
    assert change.text.endswith(before[before.index("    #   a comment") :])
    assert "    as_ = []\n    for i in range(3):\n        as_.append(A(n=i + 1))\n" in change.text


def test_names_never_collide_with_the_script_s_names() -> None:
    before = """
        def run(using, i=0, tags=None):
            tag_1 = Tag(name="a", rank=1)
            tag_2 = Tag(name="b", rank=2)
            Tag.objects.using(using).bulk_create([tag_1, tag_2])
            return tags, i
    """
    after = fold(before, 2, 3)
    assert "tags_2 = []" in after
    assert "for n, name in enumerate([" in after
    assert "rank=n + 1" in after
    assert "bulk_create(tags_2)" in after


@pytest.mark.parametrize(
    ("script", "lines", "message"),
    [
        ("x = 1\ny = 2\n", (1, 2), r"<script>, lines 1-2: no run of two or more similar blocks"),
        ("x = A(n=1)\ny = B(n=2)\n", (1, 1), r"<script>, line 1: no run of similar blocks here"),
        ("def run(:\n    pass\n", (1, 1), r"<script>, line 1: cannot parse the script"),
        (
            "a_1 = A(n=1)\na_2 = A(n=2)\na_1 = 3\n",
            (1, 2),
            r"<script>, line 3: a_1 is assigned again after the run",
        ),
    ],
)
def test_clear_errors(script: str, lines: tuple[int, int], message: str) -> None:
    with pytest.raises(TransformError, match=message):
        fold_loop(script, *lines)


def test_grow_a_folded_loop() -> None:
    folded = fold(
        """
        def run(using):
            poll_1 = Poll(question="Question #1")
            poll_2 = Poll(question="Question #2")
            Poll.objects.using(using).bulk_create([poll_1, poll_2])
            Choice(poll=poll_2).save(using=using)
        """,
        2,
        3,
    )
    assert "for i in range(2):" in folded
    grown = grow_loop(folded, 4, 2000).text
    assert "for i in range(2000):" in grown
    assert grown.replace("range(2000)", "range(2)") == folded
    with pytest.raises(TransformError, match=r"line 6: polls\[1\] is used there; the loop must create at least 2"):
        grow_loop(folded, 4, 1)
    table = fold("a_1 = A(n='x')\na_2 = A(n='y')\n", 1, 2)
    # A loop over a table grows with made-up values for the model's fields: A is no model.
    with pytest.raises(TransformError, match=r"line 6: A is not a model class the script imports"):
        grow_loop(table, 2, 10)


# -- the same database contents, on real generated scripts ------------------------------------


def _load_into_other(dbs: Databases, text: str, name: str) -> object:
    from django.core.management import call_command

    call_command("flush", database="other", interactive=False, verbosity=0)
    path = dbs.workdir / name
    path.write_text(text, encoding="utf-8")
    load_script(path, using="other")
    return Snapshot("other").contents()


def test_folding_every_run_of_a_real_script_keeps_the_database_contents(dbs: Databases) -> None:
    sample.fill("default")
    bulk.build(400)
    text = dump_script("testapp")
    expected = Snapshot("default").contents()
    folds = 0
    while True:
        runs = find_runs(Source(text))
        if not runs or folds >= 60:
            break
        run = runs[0]
        text = fold_loop(text, run.first_line, run.last_line).text
        folds += 1
    assert folds >= 10
    assert "for " in text
    assert _load_into_other(dbs, text, "folded_data.py") == expected


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12
)  # PostgreSQL text holds no NUL


@st.composite
def _column(draw: st.DrawFn, size: int, kind: st.SearchStrategy[object], step: object) -> list[object]:
    """Values that follow a progression, repeat a short cycle, or are arbitrary."""
    shape = draw(st.sampled_from(["progression", "cycle", "same", "any"]))
    if shape == "progression":
        start = draw(kind)
        return [start + step * k for k in range(size)]  # type: ignore[operator]
    if shape == "cycle":
        items = draw(st.lists(kind, min_size=2, max_size=3))
        return [items[k % len(items)] for k in range(size)]
    if shape == "same":
        return [draw(kind)] * size
    return draw(st.lists(kind, min_size=size, max_size=size))


def test_property_folding_any_run_keeps_the_database_contents(dbs: Databases) -> None:
    import datetime
    import decimal

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        size = data.draw(st.integers(2, 7))
        integers = data.draw(_column(size, st.integers(-1000, 1000), 3))
        decimals = data.draw(
            _column(
                size,
                st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False),
                decimal.Decimal("0.25"),
            )
        )
        days = data.draw(
            _column(size, st.dates(datetime.date(1990, 1, 1), datetime.date(2090, 1, 1)), datetime.timedelta(days=2))
        )
        chars = data.draw(st.one_of(_column(size, _TEXT, ""), st.just([f"Question #{k + 7}" for k in range(size)])))
        m.Sample.objects.using("default").all().delete()
        for k in range(size):
            m.Sample.objects.using("default").create(
                label=f"sample {k}", integer=integers[k], decimal=decimals[k], day=days[k], char=chars[k]
            )
        text = dump_script("testapp.Sample", options=DumpOptions(all_fields=True))
        runs = find_runs(Source(text))
        assert runs, text
        run = runs[0]
        first = data.draw(st.integers(run.first_line, run.last_line))
        last = data.draw(st.integers(first, run.last_line))
        try:
            folded = fold_loop(text, first, last).text
        except TransformError:
            folded = fold_loop(text, run.first_line, run.last_line).text  # fewer than two blocks in range
        assert folded != text
        assert _load_into_other(dbs, folded, "folded_data.py") == _load_into_other(dbs, text, "plain_data.py")

    check()


def test_command_line_prints_a_diff_or_writes(tmp_path: Path) -> None:
    script = tmp_path / "tags_data.py"
    original = src(
        """
        def run(using):
            Tag.objects.using(using).bulk_create([
                Tag(name="tag 1"),
                Tag(name="tag 2"),
            ])
        """
    )
    script.write_text(original, encoding="utf-8")
    command = [sys.executable, "-m", "dumpscript", "fold", str(script), "--lines", "3-4"]
    shown = subprocess.run(command, capture_output=True, text=True, check=True)
    assert '+        tags.append(Tag(name=f"tag {i + 1}"))' in shown.stdout
    assert "Folded 2 Tag blocks (lines 3-4) into a loop" in shown.stderr
    assert script.read_text(encoding="utf-8") == original
    subprocess.run([*command, "--write"], capture_output=True, text=True, check=True)
    assert "for i in range(2):" in script.read_text(encoding="utf-8")
    grow = [sys.executable, "-m", "dumpscript", "grow", str(script), "--line", "3", "--count", "50", "--write"]
    subprocess.run(grow, capture_output=True, text=True, check=True)
    assert "for i in range(50):" in script.read_text(encoding="utf-8")
    before = script.read_text(encoding="utf-8")
    failed = subprocess.run([*command[:5], "--lines", "1-2"], capture_output=True, text=True)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines() == [
        f"dumpscript: error: {script}, lines 1-2: no run of two or more similar blocks "
        "(Model(field=...) of one model with the same fields) lies inside these lines"
    ]
    assert script.read_text(encoding="utf-8") == before


TRICKY = src(
    '''
    import datetime

    NOTE = """
    poll_9 = Poll(question="inside a string", votes=9)
    """


    def run(using):
        """Doc."""
        poll_1 = Poll(question="Q1", votes=1)  # one
        poll_2 = Poll(
            question="Q2",
            votes=2,
        )
        poll_3 = Poll(question="Q3", votes=3)
        poll_3.save(using=using)
        if poll_1:
            poll_4 = Poll(question="Q4", votes=4)
            poll_5 = Poll(question="Q5", votes=5)
        else:
            pass
        choices = [
            Choice(poll=poll_1, votes=1),
            Choice(poll=poll_2, votes=2),
        ]
        for i in range(2):
            Tag(name=f"t{i}")
        Poll.objects.using(using).bulk_create([poll_1, poll_2])
        text = """
        poll_7 = Poll(question="Q7", votes=7)
        poll_8 = Poll(question="Q8", votes=8)
        """
        return [poll_2, poll_5, choices]
    '''
)


def _fold_with_whole_tree(text: str, first: int, last: int) -> str:
    from dumpscript.transforms import FoldIntoLoop, select_run

    source = Source(text)  # never focused: the whole script is parsed
    return FoldIntoLoop(source, select_run(source, first, last)).change().text


def _counter_free(text: str) -> str:
    import re

    return re.sub(r"\b(?:i|n|index)\b", "COUNTER", text)


def _outcome(fold: object, *args: int) -> str:
    try:
        return fold(*args)  # type: ignore[operator,no-any-return]
    except TransformError as error:
        return f"error: {error}"


def test_parsing_only_the_region_gives_what_parsing_everything_gives() -> None:
    count = TRICKY.count("\n")
    for first in range(1, count + 1):
        for last in range(first, min(first + 12, count) + 1):
            focused = _outcome(lambda a, b: fold_loop(TRICKY, a, b).text, first, last)
            whole = _outcome(lambda a, b: _fold_with_whole_tree(TRICKY, a, b), first, last)
            # The counter may differ: a loop-only name in lines the focused parse leaves out
            # (``for i`` below) is not taken again, only avoided.
            assert _counter_free(focused) == _counter_free(whole), (first, last)


def test_only_the_region_is_parsed() -> None:
    body = "".join(f'    author_{k} = Author(name="A{k}")\n' for k in range(1, 2001))
    text = "def run(using):\n" + body + "    broken = (\n"  # a syntax error far below
    source = Source(text)
    source.focus([(10, 12)])
    (run_def,) = source.tree.body
    assert isinstance(run_def, __import__("ast").FunctionDef)
    assert [s.lineno for s in run_def.body] == [10, 11, 12]
    assert "author_1500" in source.hidden
    # Folding works although the script does not parse as a whole.
    change = fold_loop(text, 10, 12)
    assert change.summary == "Folded 3 Author blocks (lines 10-12) into a loop"
    with pytest.raises(TransformError, match="cannot parse the script"):
        _ = Source(text).tree


def test_words_in_lines_left_out_of_the_parse_are_not_names() -> None:
    """The editor parses only the region it folds; keyword arguments (``name=``), attributes
    (``.tags``), strings and comments in the other lines are not names the loop must avoid
    (it named its list ``tags_2`` and its variable ``name_2``)."""
    far = "".join(f'    author_{k} = Author(name="A{k}", email="a{k}@x.org")  # tags\n' for k in range(1, 60))
    text = (
        "def run(using):\n"
        + far
        + "    Author.objects.using(using).bulk_create([author_1])\n"
        + '    tag_1 = Tag(name="red")\n'
        + '    tag_2 = Tag(name="green")\n'
        + '    tag_3 = Tag(name="blue")\n'
        + "    Tag.objects.using(using).bulk_create([tag_1, tag_2, tag_3])\n"
        + "    author_1.tags.add(tag_1)\n"
    )
    folded = fold_loop(text, 62, 64).text
    assert "    tags = []\n    for name in [\n" in folded
    assert "author_1.tags.add(tags[0])" in folded
