"""Awkward sample data for the test project: gaps in primary keys, cycles, unicode, extremes."""

from __future__ import annotations

import datetime
import decimal
import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import connections, transaction

from testproject.testapp import models as m

UTC = datetime.timezone.utc


def _gap(model, using: str, count: int = 2) -> None:  # type: ignore[no-untyped-def]
    """Create and delete a few rows so that primary keys have gaps."""
    for _ in range(count):
        model._base_manager.using(using).create(**_throwaway(model)).delete()


def _throwaway(model):  # type: ignore[no-untyped-def]
    if model is m.Tag:
        return {"name": f"gone-{uuid.uuid4()}"}
    if model is m.Author:
        return {"name": "gone", "email": f"{uuid.uuid4()}@gone.example"}
    if model is m.Category:
        return {"name": f"gone-{uuid.uuid4()}"}
    raise AssertionError(model)


def fill(using: str = "default", prefix: str = "") -> None:
    """Fill the test app; ``prefix`` makes the unique values distinct for pre-existing rows."""
    vendor = connections[using].vendor
    with transaction.atomic(using=using):
        _fill(using, vendor, prefix)


def _fill(using: str, vendor: str, p: str) -> None:
    objects = lambda model: model._base_manager.db_manager(using)  # noqa: E731
    _gap(m.Tag, using)
    tags = [objects(m.Tag).create(name=f"{p}{name}") for name in ["python", "django", "ünïcode ✓", "a\"b'c\\d"]]
    _gap(m.Author, using, 3)
    ada = objects(m.Author).create(name=f"{p}Ada Lovelace", email=f"{p}ada@example.com")
    grace = objects(m.Author).create(name=f"{p}Grace Hopper", email=f"{p}grace@example.com", mentor=ada)
    alan = objects(m.Author).create(name=f"{p}Alan Turing", email=f"{p}alan@example.com", mentor=grace)
    # A mentor created after her mentee: a forward reference.
    edsger = objects(m.Author).create(name=f"{p}Edsger Dijkstra", email=f"{p}edsger@example.com")
    ada.mentor = edsger
    ada.save(using=using)
    loner = objects(m.Author).create(name=f"{p}Ménage à trois «quoted»", email=f"{p}loner@example.com")
    ada.friends.add(grace, alan)
    alan.friends.add(alan)  # a symmetrical link to oneself
    # Non-symmetrical links in every direction, to rows created before and after.
    ada.follows.add(edsger, loner)
    loner.follows.add(ada)
    edsger.follows.add(edsger)
    books = []
    for number, author in enumerate([ada, ada, grace, edsger], start=1):
        book = objects(m.Book).create(title=f"{p}Book {number} by {author.name}", author=author)
        book.tags.set(tags[: number % 4 + 1])
        books.append(book)
    ada.favorite_book = books[1]
    ada.save(using=using)
    edsger.favorite_book = books[3]
    edsger.save(using=using)
    publisher = objects(m.Publisher).create(code=f"{p}ACME", name="Acme Ltd.")
    objects(m.Publisher).create(code=f"{p}Ø-2", name="Unused publisher")
    objects(m.Edition).create(
        uid=uuid.uuid5(uuid.NAMESPACE_URL, p) if p else uuid.UUID(int=1),
        book=books[0],
        publisher=publisher,
        editor=grace,
    )
    objects(m.Edition).create(
        uid=uuid.uuid5(uuid.NAMESPACE_DNS, p) if p else uuid.UUID(int=2**128 - 1), book=books[2], publisher=publisher
    )
    club = objects(m.Club).create(name=f"{p}Analytical Club")
    objects(m.Membership).create(club=club, author=ada, joined=datetime.date(1843, 7, 1 + len(p)), role="chair")
    objects(m.Membership).create(club=club, author=alan, joined=datetime.date(1950, 1, 1 + len(p)), role="member")
    # A tree whose children have lower primary keys than their parents.
    _gap(m.Category, using)
    leaf = objects(m.Category).create(name=f"{p}leaf")
    middle = objects(m.Category).create(name=f"{p}middle")
    root = objects(m.Category).create(name=f"{p}root")
    middle.parent = root
    middle.save(using=using)
    leaf.parent = middle
    leaf.save(using=using)
    objects(m.Category).create(name=f"{p}sibling", parent=root)
    first = objects(m.Node).create(name=f"{p}first")
    first.root = first
    first.save(using=using)
    second = objects(m.Node).create(name=f"{p}second", previous=first, root=first)
    objects(m.Node).create(name=f"{p}third", previous=second, root=first)
    plain = objects(m.Place).create(name=f"{p}Plain place", address="1 Main St")
    pizza = objects(m.Restaurant).create(name=f"{p}Pizza Hut", address="2 Main St", serves_pizza=True)
    trattoria = objects(m.ItalianRestaurant).create(
        name=f"{p}Trattoria", address="3 Via Roma", serves_pizza=True, has_wine=True, chef=alan
    )
    # Pizza Hut is a bar too: a second child row of the same place row.
    m.Bar(place_ptr_id=pizza.pk, serves_beer=True).save_base(using=using, raw=True)
    objects(m.Bar).create(name=f"{p}Just a bar", address="4 Main St", serves_beer=False)
    plain.tags.set(tags[:1])
    trattoria.tags.set(tags[1:3])
    objects(m.Review).create(place=plain, stars=3, text=f"{p}fine")
    objects(m.Review).create(place=pizza, restaurant=pizza, stars=-1, text=f"{p}awful")
    objects(m.Review).create(place=trattoria, restaurant=trattoria, stars=5, text=f"{p}molto bene")
    article = objects(m.Article).create(title=f"{p}Old news")
    old = datetime.datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
    objects(m.Article).filter(pk=article.pk).update(
        created=old, modified=old + datetime.timedelta(days=1), published=datetime.date(2001, 2, 3)
    )
    objects(m.Article).create(title=f"{p}No date")
    objects(m.Article).filter(title=f"{p}No date").update(published=None, created=old, modified=old)
    objects(m.Note).create(content_object=books[2], text=f"{p}note on a book")
    objects(m.Note).create(content_object=trattoria, text=f"{p}note on a restaurant")
    objects(m.Note).create(content_object=loner, text=f"{p}note on an author")
    ct = ContentType.objects.db_manager(using)
    objects(m.Bookmark).create(kind=ct.get_for_model(m.Book), label=f"{p}books", target=publisher)
    objects(m.Bookmark).create(kind=ct.get_for_model(m.Tag), label=f"{p}nothing")
    hidden = objects(m.Post).create(title=f"{p}hidden", hidden=True)
    objects(m.Post).create(title=f"{p}visible reply to a hidden post", reply_to=hidden)
    objects(m.Post).create(title=f"{p}hidden and unreferenced", hidden=True)
    _samples(using, vendor, p)


def _samples(using: str, vendor: str, p: str) -> None:
    objects = m.Sample._base_manager.db_manager(using)
    text = "quotes \" ' \"\"\" ''' back\\slash\nnew line\r\ttab émoji 😀 ̈combining \u2028 \u200b"
    if vendor == "sqlite":
        text += " NUL\x00after"  # PostgreSQL text cannot hold NUL
    objects.create(
        label=f"{p}extremes",
        text=text,
        char="x" * 200,
        slug="a-slug",
        email="o'brien@example.com",
        url='https://example.com/?q=1&r="2"',
        flag=True,
        maybe=None,
        small=-32768,
        integer=-2147483648,
        big=-9223372036854775808,
        positive=2147483647,
        positive_big=9223372036854775807,
        decimal=decimal.Decimal("-12345678901234567890.1234567890"),
        real=float("inf"),
        day=datetime.date(1, 1, 1),
        moment=datetime.datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        clock=datetime.time(23, 59, 59, 999999),
        duration=datetime.timedelta(days=-1, microseconds=1),
        uid=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        blob=bytes(range(256)),
        data={"nested": {"list": [1, 2.5, None, True, 'ü"\\'], "empty": {}}, "n": -1, "": [[]]},
        ip="2001:db8::1",
        document="docs/report final (1).pdf",
        picture="pics/ü.png",
        path="/tmp/some file",
        size=m.Sample.Size.LARGE,
        nothing=None,
    )
    objects.create(
        label=f"{p}other extremes",
        real=float("-inf"),
        decimal=decimal.Decimal("0.0000000001"),
        moment=datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        duration=datetime.timedelta(days=99999, seconds=86399, microseconds=999999),
        blob=b"",
        data=[],
        ip="192.168.0.1",
        day=datetime.date(9999, 12, 31),
    )
    objects.create(label=f"{p}zero", real=-0.0, decimal=decimal.Decimal("0E-10"), data="just a string")
    if vendor == "postgresql":
        objects.create(label=f"{p}not a number", real=float("nan"), data={"k": 1e300})
    objects.create(label=f"{p}nulls", data=None)


def not_null_cycle(using: str = "default") -> None:
    """A chicken and an egg that need each other (NOT NULL foreign keys both ways), and a
    chicken whose egg is its own (a NOT NULL reference to another object of a cycle)."""
    from testproject.cycleapp.models import Chicken, Egg

    with transaction.atomic(using=using):
        chicken = Chicken(name="chicken", egg_id=1)
        Egg(id=1, name="egg", chicken_id=1).save(using=using, force_insert=True)
        chicken.id = 1
        chicken.save(using=using, force_insert=True)
        Egg(id=2, name="second egg", chicken_id=1).save(using=using, force_insert=True)


def unbreakable_cycle(using: str = "default") -> None:
    """A husband and a wife that need each other (NOT NULL one-to-ones both ways)."""
    from testproject.cycleapp.models import Husband, Wife

    with transaction.atomic(using=using):
        husband = Husband(name="husband", wife_id=1)
        Wife(id=1, name="wife", husband_id=1).save(using=using, force_insert=True)
        husband.id = 1
        husband.save(using=using, force_insert=True)
