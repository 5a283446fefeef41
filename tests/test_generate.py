"""Generated values: generators inferred from fields and captured values, a captured run grown
from 20 rows to 2,000 made-up ones, and anonymised dumps."""

from __future__ import annotations

import ast
import datetime
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import models
from django.test import override_settings

from conftest import Databases, write
from dumpscript import DumpOptions, dump_script, load_script
from dumpscript.generate import AnonymizeError, infer
from dumpscript.transforms import TransformError, fold_loop, grow_loop
from testproject import sample
from testproject.testapp import models as m

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("faker", reason="generated values need Faker (pip install 'dumpscript[generate]')")

NAMES = [
    "Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov",
    "Donald Knuth", "Margaret Hamilton", "John McCarthy", "Frances Allen", "Ken Thompson",
    "Dennis Ritchie", "Radia Perlman", "Tim Berners-Lee", "Guido van Rossum", "Sophie Wilson",
    "Niklaus Wirth", "Karen Jones", "Tony Hoare", "Adele Goldberg", "Leslie Lamport",
]  # fmt: skip
TITLES = [
    "The Silent River", "Notes on Structured Programming", "A Discipline of Programming",
    "The Art of Computer Programming", "Programming Pearls", "Computing Machinery",
    "The Mythical Man-Month", "Literate Programming", "Go To Considered Harmful",
    "Time, Clocks, and Ordering", "The UNIX System", "Interconnections", "Weaving the Web",
    "Algorithms + Data Structures", "Smalltalk-80", "Communicating Processes",
    "Data Abstraction", "Recursive Functions", "The C Language", "Paxos Made Simple",
]  # fmt: skip


def _field(model: type[models.Model], name: str) -> models.Field:  # type: ignore[type-arg]
    return model._meta.get_field(name)  # type: ignore[return-value]


# -- inference ---------------------------------------------------------------------------------


def test_generators_from_the_field_and_the_values() -> None:
    """One expression per field, from its type, name, constraints and the captured values."""
    # E-mails and names from Faker's quickest parts; unique through the counter i.
    assert infer(_field(m.Author, "email"), ["ada@example.com"]).code == (
        'f"{fake.first_name().lower()}{i}@example.com"'
    )
    assert infer(_field(m.Author, "name"), NAMES).code == 'f"{fake.first_name()} {fake.last_name()}"'
    assert infer(_field(m.Club, "name"), ["Chess", "Go"]).code == "fake.unique.word().capitalize()"
    assert infer(_field(m.Tag, "name"), ["django", "python", "sql"]).code == "fake.unique.word()"
    assert infer(_field(m.Book, "title"), TITLES).code == "fake.sentence(nb_words=3)[:-1]"
    assert infer(_field(m.Sample, "size"), ["S", "S", "S", "L"]).code == "rng.choices(['S', 'L'], weights=[3, 1])[0]"
    assert infer(_field(m.Sample, "flag"), [True, False, False, False]).code == "rng.random() < 0.25"
    assert infer(_field(m.Sample, "integer"), [10, 30, 50, 20]).code == "rng.randrange(10, 51, 10)"
    assert infer(_field(m.Sample, "small"), [3, 9, 4, 7, 1, 12, 5, 8, 2]).code == "rng.randint(1, 12)"
    assert infer(_field(m.Sample, "decimal"), [Decimal("4.5"), Decimal("80")]).code == (
        "Decimal(rng.randint(45000000000, 800000000000)) / 10000000000"
    )
    assert infer(_field(m.Sample, "day"), [datetime.date(2024, 1, 1), datetime.date(2024, 1, 31)]).code == (
        "datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randint(0, 30))"
    )
    assert infer(_field(m.Sample, "label"), ["AB-1234", "CX-0042", "ZZ-9000"]).code == (
        "fake.unique.bothify('??-####', letters=\"ABCDEFGHIJKLMNOPQRSTUVWXYZ\")"
    )
    assert infer(_field(m.Sample, "real"), [1.5, None, 2.25, None]).code == (
        "round(rng.uniform(1.5, 2.25), 2) if rng.random() < 0.5 else None"
    )
    assert infer(_field(m.Sample, "slug"), ["a-b"]).code == "fake.slug()"
    assert infer(_field(m.Sample, "url"), []).code == "fake.url()"
    review = infer(_field(m.Review, "text"), ["Great food. Slow service.", "Fine."])
    assert review.code == "fake.unique.paragraph(nb_sentences=2)" and review.personal  # free text may name anyone


def test_made_up_values_are_valid_for_their_fields() -> None:
    """Each generator, run: the value fits the field (length, choices, validators)."""
    import random

    from faker import Faker

    fake, rng = Faker(), random.Random(0)
    fake.seed_instance(0)
    for name in ["label", "text", "char", "slug", "email", "url", "small", "decimal", "day", "moment", "size", "ip"]:
        field = _field(m.Sample, name)
        generator = infer(field, [])
        namespace = {"fake": fake, "rng": rng, "i": 0, "datetime": datetime, "Decimal": Decimal}
        for _ in range(50):
            value = eval(generator.code, namespace)
            field.clean(value, None)


# -- growing a captured run ------------------------------------------------------------------


def _capture_twenty() -> None:
    authors = [
        m.Author.objects.create(name=name, email=f"{name.split()[0].lower()}{n}@example.com")
        for n, name in enumerate(NAMES)
    ]
    for title, author in zip(TITLES, authors[1:] + authors[:1], strict=True):
        m.Book.objects.create(title=title, author=author)


def _run(text: str, model: str) -> int:
    """The first line of the run of ``model`` blocks."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if re.match(rf"\s+(\w+_1 = )?{model}\(", line))


def _grown(text: str) -> str:
    text = fold_loop(text, _run(text, "Author"), _run(text, "Author")).text
    text = fold_loop(text, _run(text, "Book"), _run(text, "Book")).text
    authors = next(n for n, line in enumerate(text.splitlines(), 1) if "authors.append(" in line)
    text = grow_loop(text, authors, 200).text
    books = next(n for n, line in enumerate(text.splitlines(), 1) if "books.append(" in line)
    return grow_loop(text, books, 2000).text


def test_grow_twenty_captured_rows_to_two_thousand(dbs: Databases) -> None:
    _capture_twenty()
    text = dump_script("testapp.Author", "testapp.Book")
    grown = _grown(text)
    assert grown == _grown(text)  # deterministic
    assert grown.count("\nfake = Faker(use_weighting=False)") == 1 and "\nfake.seed_instance(0)" in grown
    assert (
        "    for i in range(20, 200):  # 180 more, made up like the rows above\n"
        "        authors.append(Author(\n"
        '            name=f"{fake.first_name()} {fake.last_name()}",\n'
        '            email=f"{fake.first_name().lower()}{i}@example.com",\n'
        "        ))\n"
    ) in grown
    assert "            author=rng.choice(authors),\n" in grown
    ast.parse(grown)
    script = write(dbs, grown, "grown_data.py")
    result = load_script(script, using="other")
    assert result.created == {"testapp.Author": 200, "testapp.Book": 2000}
    authors = list(m.Author.objects.using("other").order_by("pk"))
    books = list(m.Book.objects.using("other").order_by("pk"))
    for obj in [*authors, *books]:
        obj.full_clean()
    # The captured rows are there as they were, the others are new and unique.
    assert [a.name for a in authors[:20]] == NAMES and [b.title for b in books[:20]] == TITLES
    assert len({a.email for a in authors}) == 200 and len({a.name for a in authors[20:]}) > 150
    # Generated books point at captured and generated authors, spread over them.
    spread = Counter(book.author_id for book in books[20:])
    assert len(spread) > 150 and max(spread.values()) < 40
    assert any(author_id in spread for author_id in (a.pk for a in authors[:20]))

    # The same rows on every load.
    def rows() -> list[tuple[str, str, str]]:
        books = m.Book.objects.using("other").order_by("pk")
        return list(books.values_list("title", "author__name", "author__email"))

    first = rows()
    m.Book.objects.using("other").all().delete()
    m.Author.objects.using("other").all().delete()
    load_script(script, using="other")
    assert rows() == first


def test_growing_again_moves_the_end_of_the_generated_loop(dbs: Databases) -> None:
    _capture_twenty()
    text = dump_script("testapp.Author")
    text = fold_loop(text, _run(text, "Author"), _run(text, "Author")).text
    line = next(n for n, line in enumerate(text.splitlines(), 1) if "authors.append(" in line)
    once = grow_loop(text, line, 50).text
    twice = grow_loop(once, line, 80)
    assert "for i in range(20, 80):" in twice.text and twice.text.count("for i in range(") == 1
    with pytest.raises(TransformError, match="the table has 20 rows; to create fewer, delete rows from it"):
        grow_loop(text, line, 10)


def test_the_command_line_grows_a_loop_with_the_projects_fields(dbs: Databases) -> None:
    _capture_twenty()
    text = dump_script("testapp.Author")
    text = fold_loop(text, _run(text, "Author"), _run(text, "Author")).text
    script = write(dbs, text, "authors_data.py")
    line = next(n for n, line in enumerate(text.splitlines(), 1) if "authors.append(" in line)
    command = [sys.executable, "-m", "dumpscript", "grow", str(script), "--line", str(line), "--count", "60"]
    env = {k: v for k, v in dbs.env.items() if k != "DJANGO_SETTINGS_MODULE"}
    bare = subprocess.run(command, env=env, cwd=dbs.workdir, capture_output=True, text=True, timeout=120)
    assert bare.returncode == 1 and "needs the Django project" in bare.stderr and "Traceback" not in bare.stderr
    command += ["--settings", "testproject.settings", "--write"]
    done = subprocess.run(command, env=env, cwd=dbs.workdir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "now creates 60 Author objects: its 20 rows and 40 made up like them" in done.stderr
    assert 'email=f"{fake.first_name().lower()}{i}@' in script.read_text(encoding="utf-8")


# -- anonymised dumps --------------------------------------------------------------------------


PERSONAL = {
    "names": NAMES,
    "emails": [f"{name.split()[0].lower()}{n}@example.com" for n, name in enumerate(NAMES)],
}


def _people() -> None:
    for n, name in enumerate(NAMES):
        m.Author.objects.create(name=name, email=PERSONAL["emails"][n])
    place = m.Place.objects.create(name="Corner", address="12 Baker Street, London")
    for name in NAMES[:5]:
        m.Review.objects.create(place=place, stars=4, text=f"{name} said the soup was cold. Call {name} back.")
    for first, last, phone, street, city, postcode in CONTACTS:
        m.Contact.objects.create(
            first_name=first,
            last_name=last,
            phone=phone,
            street=street,
            city=city,
            postcode=postcode,
            notes=f"Met {first} {last} in {city}; call {phone}.",
            kind="client",
        )


CONTACTS = [
    ("Maria", "Gonzalez", "+31 20 555 0134", "Keizersgracht 12", "Amsterdam", "1015 CJ"),
    ("Jonas", "Becker", "(030) 5550-1234", "Unter den Linden 5", "Berlin", "10117"),
    ("Aiko", "Tanaka", "090-5550-7788", "2-1 Marunouchi", "Tokyo", "100-0005"),
]


def test_an_anonymised_dump_has_no_personal_value_and_loads_the_rest_as_it_was(dbs: Databases) -> None:
    _people()
    sample.fill("default", prefix="x-")
    text = dump_script("testapp", options=DumpOptions(anonymize=True))
    originals = [*PERSONAL["names"], *PERSONAL["emails"], "Baker Street"]
    originals += [value for contact in CONTACTS for value in contact]
    for value in originals:
        assert value not in text, value
    assert text.count('kind="client"') == len(CONTACTS)  # a choice is no personal data
    assert "faker" not in text.lower()  # literal values: loading needs no Faker
    assert text == dump_script("testapp", options=DumpOptions(anonymize=True))  # the same fake values
    # Only text changed: with every string literal masked, the plain dump and the anonymised
    # one are the same script (numbers, dates, relations, structure).
    plain = dump_script("testapp")
    assert _masked(text) == _masked(plain)
    assert 'title="x-Book 1 by ' in text and "x-Book 1 by x-Ada Lovelace" in plain  # kept, the mention replaced
    # It loads, and the loaded database dumps to the same script: a faithful round trip.
    script = write(dbs, text, "anonymous_data.py")
    load_script(script, using="other")
    assert dump_script("testapp", options=DumpOptions(using="other")) == text
    emails = list(m.Author.objects.using("other").values_list("email", flat=True))
    assert len(set(emails)) == len(emails)
    for author in m.Author.objects.using("other"):
        author.full_clean()


def _masked(text: str) -> str:
    """The script's syntax tree with every string constant emptied."""
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def test_the_same_person_gets_the_same_fake_name_everywhere(dbs: Databases) -> None:
    ann = m.Author.objects.create(name="Ann Smith", email="ann@example.com")
    bob = m.Author.objects.create(name="Bob Stone", email="bob@example.com")
    m.Author.objects.create(name="Ann Smith", email="ann2@example.com", mentor=ann)
    text = dump_script("testapp.Author", options=DumpOptions(anonymize=True))
    names = re.findall(r'name="([^"]+)"', text)
    assert len(names) == 3 and names[0] == names[2] != names[1]
    assert "Ann Smith" not in text and bob.name not in text


def test_made_up_e_mails_never_reach_a_real_mailbox(dbs: Databases) -> None:
    """Anonymised and grown e-mails are at example.com, reserved by RFC 2606 (not gmail.com)."""
    for number in range(30):
        m.Author.objects.create(name=f"Person {number}", email=f"person{number}@gmail.com")
    text = dump_script("testapp.Author", options=DumpOptions(anonymize=True))
    emails = re.findall(r'email="([^"]+)"', text)
    assert len(emails) == 30
    assert {email.rpartition("@")[2] for email in emails} == {"example.com"}
    assert "gmail" not in text


def test_rules_and_strict_mode(dbs: Databases) -> None:
    _people()
    m.Book.objects.create(title="Notes of Ada Lovelace", author=m.Author.objects.get(name="Ada Lovelace"))
    with pytest.raises(AnonymizeError, match="strict mode: these text fields may hold personal data and have no rule"):
        dump_script("testapp.Book", "testapp.Author", options=DumpOptions(anonymize=True, strict=True))
    out = dbs.manage("dumpscript", "testapp.Tag", "testapp.Book", "--anonymize", "--strict")
    assert out.returncode == 1 and "testapp.Book.title" in out.stderr and out.stdout == ""
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    rules = {"testapp.Book.title": "keep", "testapp.Author.name": "fake.first_name()"}
    with override_settings(DUMPSCRIPT_ANONYMIZE=rules):
        text = dump_script("testapp.Book", options=DumpOptions(anonymize=True, strict=True))
        assert all(" " not in name for name in re.findall(r'Author\(name="([^"]+)"', text))  # the rule's first names
        assert 'title="Notes of ' in text and "Ada" not in text  # kept, but not the mention of Ada
    unknown = override_settings(DUMPSCRIPT_ANONYMIZE={"testapp.Book.pages": "rng.randint(1, 9)"})
    with unknown, pytest.raises(AnonymizeError, match=r"not text fields of the dumped models: testapp\.Book\.pages"):
        dump_script("testapp.Book", options=DumpOptions(anonymize=True))


def test_the_example_site_anonymised_and_loaded(tmp_path: Path) -> None:
    """The bundled example site through the real manage.py: no author's name or e-mail in the
    script, the polls' questions kept, and it loads into the site's empty database."""
    example = tmp_path / "example"
    shutil.copytree(ROOT / "example", example, ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUMPSCRIPT_", "PYTHONPATH"))}

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=example, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    manage("migrate", "-v", "0")
    manage("migrate", "-v", "0", "--database", "fresh")
    manage("fill_sample_data", "--authors", "20")
    manage("dumpscript", "polls", "--anonymize", "-o", "anonymous_data.py")
    text = (example / "anonymous_data.py").read_text(encoding="utf-8")
    for real in ["Ada Lovelace", "Grace Hopper", "Lovelace", "ada@example.com", "turing@example.com", "On poll 0"]:
        assert real not in text, real
    assert "What's new?" in text and 'Tag(name="django")' in text  # not personal: kept
    loaded = manage("loadscript", "anonymous_data.py", "--database", "fresh")
    assert "Created 20 polls.Author" in loaded.stdout
