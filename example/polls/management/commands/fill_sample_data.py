"""``manage.py fill_sample_data``: a few authors, polls, choices, tags and comments."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from polls.models import Author, Choice, Comment, Poll, Tag

MORE_AUTHORS = [
    "Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth", "Margaret Hamilton",
    "John McCarthy", "Frances Allen", "Ken Thompson", "Radia Perlman", "Guido van Rossum",
    "Sophie Wilson", "Niklaus Wirth", "Karen Jones", "Tony Hoare", "Adele Goldberg",
    "Leslie Lamport", "Shafi Goldwasser", "Tim Berners-Lee",
]  # fmt: skip


class Command(BaseCommand):
    help = "Fill the polls app with sample data."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--authors", type=int, default=2, help=f"how many authors (2 to {2 + len(MORE_AUTHORS)}; default 2)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        db = options["database"]
        start = datetime.datetime(2024, 3, 1, 9, 30, tzinfo=datetime.timezone.utc)
        with transaction.atomic(using=db):
            ada = Author.objects.using(db).create(name="Ada Lovelace", email="ada@example.com")
            grace = Author.objects.using(db).create(name="Grace Hopper", email="grace@example.com")
            for name in MORE_AUTHORS[: max(0, options["authors"] - 2)]:
                email = f"{name.split()[-1].lower()}@example.com"
                Author.objects.using(db).create(name=name, email=email)
            tags = {name: Tag.objects.using(db).create(name=name) for name in ["django", "python", "café ☕"]}
            questions = ["What's new?", 'Tabs or "spaces"?', "Favourite database?"]
            for number, question in enumerate(questions):
                poll = Poll.objects.using(db).create(
                    question=question,
                    pub_date=start + datetime.timedelta(days=number, microseconds=number),
                    author=ada if number % 2 == 0 else grace,
                )
                poll.tags.set(list(tags.values())[: number + 1])
                for text, votes in [("Not much", 3), ("The sky", 5), ("Everything", number)]:
                    Choice.objects.using(db).create(poll=poll, choice_text=f"{text} ({number})", votes=votes)
                first = Comment.objects.using(db).create(
                    poll=poll, author=grace, text=f"First!\nOn poll {number}", created=start
                )
                Comment.objects.using(db).create(
                    poll=poll, author=None, reply_to=first, text="Anonymous reply", created=start
                )
        self.stdout.write(f"Filled the polls app in database {db!r}")
