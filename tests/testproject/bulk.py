"""Many rows of the test project, fast, for benchmarks and scale tests.

``build(n)`` writes about ``n`` rows (many-to-many links counted) with ``bulk_create``; it is
also the "hand-written bulk_create" that loading a script is compared with.
"""

from __future__ import annotations

import datetime
import decimal
import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import connections, transaction

from testproject.testapp import models as m

UTC = datetime.timezone.utc
START = datetime.datetime(2020, 1, 1, tzinfo=UTC)


def build(n: int, using: str = "default") -> int:
    """Create about ``n`` rows in database ``using``; returns the number of rows created."""
    with transaction.atomic(using=using):
        return _build(max(n, 100), using)


def _build(n: int, using: str) -> int:
    def create(model, objs):  # type: ignore[no-untyped-def]
        return model._base_manager.db_manager(using).bulk_create(objs, batch_size=5000)

    tags = create(m.Tag, [m.Tag(name=f"tag {i}") for i in range(50)])
    count = n // 50
    mentors = create(
        m.Author, [m.Author(name=f"Author {i} «ü»", email=f"author{i}@example.com") for i in range(count // 2)]
    )
    mentees = [
        m.Author(name=f"Author {i} «ü»", email=f"author{i}@example.com", mentor=mentors[i % len(mentors)])
        for i in range(count // 2, count)
    ]
    authors = mentors + create(m.Author, mentees)
    books = create(m.Book, [m.Book(title=f'Book "{i}"\n', author=authors[i % len(authors)]) for i in range(n // 10)])
    through = m.Book.tags.through
    links = [through(book=book, tag=tags[(i + k) % len(tags)]) for i, book in enumerate(books) for k in range(2)]
    create(through, links)
    categories: list[m.Category] = []  # a tree three wide, created level by level
    level = [m.Category(name="category 0")]
    while level:
        categories += create(m.Category, level)
        start = len(categories)
        level = [
            m.Category(name=f"category {i}", parent=categories[(i - 1) // 3])
            for i in range(start, min(n // 20, start * 3 + 1))
        ]
    places = create(m.Place, [m.Place(name=f"place {i}", address=f"{i} Main St") for i in range(n // 25)])
    with connections[using].cursor() as cursor:
        table = connections[using].ops.quote_name(m.Restaurant._meta.db_table)
        cursor.executemany(
            f"INSERT INTO {table} (place_ptr_id, serves_pizza) VALUES (%s, %s)",
            [(place.pk, i % 2 == 0) for i, place in enumerate(places) if i % 2 == 0],
        )
    create(
        m.Review,
        [m.Review(place=places[i % len(places)], stars=i % 5, text=f"review {i}") for i in range(n // 10)],
    )
    book_type = ContentType.objects.db_manager(using).get_for_model(m.Book)
    create(
        m.Note,
        [m.Note(content_type=book_type, object_id=books[i % len(books)].pk, text=f"note {i}") for i in range(n // 20)],
    )
    samples = n - (len(tags) + len(authors) + len(books) + len(links) + len(categories) + len(places) * 3 // 2)
    samples -= n // 10 + n // 20
    create(m.Sample, [_sample(i) for i in range(max(samples, 0))])
    return n


def _sample(i: int) -> m.Sample:
    return m.Sample(
        label=f"sample {i}",
        text=f"text {i}\nwith 'quotes' and \"more\" ✓",
        char="x" * (i % 50),
        flag=i % 2 == 0,
        integer=i * 7919 - 10**6,
        big=i * 10**12,
        decimal=decimal.Decimal(i) / 8,
        real=i / 3,
        day=datetime.date(2000, 1, 1) + datetime.timedelta(days=i % 9000),
        moment=START + datetime.timedelta(seconds=i, microseconds=i % 1000),
        duration=datetime.timedelta(seconds=i),
        uid=uuid.UUID(int=i),
        data={"i": i, "tags": ["a", "b"]} if i % 3 == 0 else None,
        ip="10.0.0.1" if i % 4 == 0 else None,
        size="L" if i % 5 == 0 else "S",
    )
