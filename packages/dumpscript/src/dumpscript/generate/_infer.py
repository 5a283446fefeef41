"""A field and the values captured in it → a generator: one Python expression that makes more
values like them (``fake.unique.email()``, ``rng.randint(1, 40)``), with ``fake`` a seeded
Faker and ``rng`` a seeded :class:`random.Random`.

The expression is the generator: a grown loop writes it as the field's line, an anonymised
dump evaluates it (seeded per original value) and writes the value it gives.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models

__all__ = ["Generator", "infer"]

LOW_CARDINALITY = 8
"""At most this many distinct values, each seen twice on average: a choice among them."""


@dataclass(frozen=True)
class Generator:
    """How to make values of one field."""

    code: str
    """An expression of ``fake`` (Faker), ``rng`` (random.Random) and the counter ``i``."""
    kind: str
    """What the values are: ``email``, ``name``, ``text``, ``integer``, ``choice``…"""
    imports: tuple[str, ...] = ()
    """Statements the expression needs (``import datetime``)."""

    @property
    def personal(self) -> bool:
        """Values of this kind may identify a person: an anonymised dump replaces them."""
        return self.kind in PERSONAL


PERSONAL = frozenset(
    {
        "email",
        "name",
        "first_name",
        "last_name",
        "user_name",
        "phone_number",
        "street_address",
        "address",
        "city",
        "postcode",
        "ipv4",
        "text",
        "company",
    }
)
"""Kinds an anonymised dump replaces without being told (free text may mention names)."""

# Field name words → a Faker method (the first whose words all appear in the field's name).
_BY_NAME: tuple[tuple[tuple[str, ...], str], ...] = (
    (("email",), "email"),
    (("first", "name"), "first_name"),
    (("given", "name"), "first_name"),
    (("last", "name"), "last_name"),
    (("family", "name"), "last_name"),
    (("surname",), "last_name"),
    (("username",), "user_name"),
    (("user", "name"), "user_name"),
    (("login",), "user_name"),
    (("phone",), "phone_number"),
    (("mobile",), "phone_number"),
    (("fax",), "phone_number"),
    (("street",), "street_address"),
    (("address",), "address"),
    (("city",), "city"),
    (("town",), "city"),
    (("zip",), "postcode"),
    (("postcode",), "postcode"),
    (("postal",), "postcode"),
    (("country",), "country"),
    (("company",), "company"),
    (("organisation",), "company"),
    (("organization",), "company"),
    (("url",), "url"),
    (("website",), "url"),
    (("homepage",), "url"),
    (("slug",), "slug"),
    (("ip",), "ipv4"),
    (("color",), "color_name"),
    (("colour",), "color_name"),
)
_FAST = {
    ("name", False): 'f"{fake.first_name()} {fake.last_name()}"',
    ("name", True): 'f"{fake.first_name()} {fake.last_name()} {i}"',
    ("email", False): 'f"{fake.first_name().lower()}.{fake.last_name().lower()}@example.com"',
    ("email", True): 'f"{fake.first_name().lower()}{i}@example.com"',
    ("user_name", True): 'f"{fake.first_name().lower()}{i}"',
}
"""Values made of Faker's quickest parts (a tenth of the time of ``fake.name()``, which parses
a pattern per call), unique through the counter ``i`` where the field is: a grown script of
100,000 rows loads as fast as a dump of them."""
_FREE_TEXT = {"text", "body", "content", "description", "bio", "comment", "comments", "notes", "note", "message"}
_SENTENCE = {"title", "question", "subject", "headline", "summary", "caption", "label"}
_PERSONS = {
    "Author", "Person", "People", "User", "Customer", "Client", "Member", "Employee", "Staff", "Contact",
    "Profile", "Student", "Teacher", "Patient", "Doctor", "Owner", "Writer", "Editor", "Reviewer", "Speaker",
    "Attendee", "Participant", "Applicant", "Candidate", "Guest", "Player", "Volunteer", "Subscriber", "Buyer",
    "Seller", "Agent", "Driver", "Passenger", "Tenant", "Landlord", "Artist", "Musician", "Actor", "Contributor",
}  # fmt: skip
"""Words of model names whose ``name`` is a person's."""
_PERSON_NAME = re.compile(r"^[A-Z][\w'’-]+( [A-Z][\w'’.-]+){1,3}$")
"""``Ada Lovelace``: two to four capitalised words."""


def infer(field: models.Field[Any, Any], values: Sequence[Any], *, unique: bool | None = None) -> Generator:
    """The generator of ``field`` given values captured in it (``None`` for SQL NULL)."""
    present = [value for value in values if value is not None]
    unique = field.unique if unique is None else unique
    generator = _infer(field, present, unique)
    if len(present) < len(values) and field.null and not unique:
        share = round(len(present) / len(values), 2)
        generator = Generator(
            f"{generator.code} if rng.random() < {share} else None", generator.kind, generator.imports
        )
    return generator


def _infer(field: models.Field[Any, Any], values: list[Any], unique: bool) -> Generator:
    if field.choices:
        options = [value for value, _ in field.flatchoices]  # type: ignore[attr-defined]
        return _choice(values if values else options, "choice")
    if isinstance(field, models.BooleanField):
        share = round(sum(1 for value in values if value) / len(values), 2) if values else 0.5
        return Generator(f"rng.random() < {share}", "boolean")
    if isinstance(field, models.UUIDField):
        return Generator("uuid.UUID(int=rng.getrandbits(128), version=4)", "uuid", ("import uuid",))
    if isinstance(field, models.DateTimeField | models.DateField):
        return _moment(values, isinstance(field, models.DateTimeField))
    if isinstance(field, models.DecimalField):
        return _decimal(field, values, unique)
    if isinstance(field, models.FloatField):
        return _float(values)
    if isinstance(field, models.IntegerField | models.AutoField):
        return _integer(field, values, unique)
    if isinstance(field, models.CharField | models.TextField):
        return _text(field, values, unique)
    if isinstance(field, models.GenericIPAddressField):
        return Generator(f"fake.{'unique.' if unique else ''}ipv4()", "ipv4")
    if values and not unique:
        return _choice(values, "value")
    raise LookupError(f"no generator for a {type(field).__name__}")


def _choice(values: Sequence[Any], kind: str) -> Generator:
    counts = Counter(values)
    options = sorted(counts, key=lambda value: (-counts[value], repr(value)))
    listed = ", ".join(_literal(value) for value in options)
    if len(set(counts.values())) <= 1:
        return Generator(f"rng.choice([{listed}])", kind, _imports(options))
    weights = ", ".join(str(counts[value]) for value in options)
    return Generator(f"rng.choices([{listed}], weights=[{weights}])[0]", kind, _imports(options))


def _low_cardinality(values: Sequence[Any]) -> bool:
    distinct = len(set(values))
    return 1 < distinct <= LOW_CARDINALITY and len(values) >= 2 * distinct


def _integer(field: models.Field[Any, Any], values: list[int], unique: bool) -> Generator:
    if unique:  # after the largest captured value, one per row
        return Generator(f"{max(values, default=0) + 1} + i", "integer")
    if not values:
        low, high = 0, 100
        for validator in field.validators:
            limit = getattr(validator, "limit_value", None)
            if isinstance(limit, int) and type(validator).__name__.startswith("MinValue"):
                low = limit
            elif isinstance(limit, int) and type(validator).__name__.startswith("MaxValue"):
                high = limit
        return Generator(f"rng.randint({low}, {max(low, high)})", "integer")
    if _low_cardinality(values):
        return _choice(values, "integer")
    low, high = min(values), max(values)
    step = math.gcd(*(value - low for value in values))
    if step > 1:
        return Generator(f"rng.randrange({low}, {high + 1}, {step})", "integer")
    return Generator(f"rng.randint({low}, {high})", "integer")


def _decimal(field: models.DecimalField[Any, Any], values: list[decimal.Decimal], unique: bool) -> Generator:
    places = field.decimal_places or 0
    scale = 10**places
    low = int(min(values, default=decimal.Decimal(0)) * scale)
    high = int(max(values, default=decimal.Decimal(100)) * scale)
    if unique:
        return Generator(f"Decimal({high + 1} + i) / {scale}", "decimal", ("from decimal import Decimal",))
    if places == 0:
        return Generator(f"Decimal(rng.randint({low}, {high}))", "decimal", ("from decimal import Decimal",))
    return Generator(f"Decimal(rng.randint({low}, {high})) / {scale}", "decimal", ("from decimal import Decimal",))


def _float(values: list[float]) -> Generator:
    low, high = min(values, default=0.0), max(values, default=1.0)
    digits = max((len(repr(value).partition(".")[2]) for value in values), default=2)
    return Generator(f"round(rng.uniform({low!r}, {high!r}), {min(digits, 6)})", "float")


def _moment(values: list[Any], with_time: bool) -> Generator:
    imports = ("import datetime",)
    if not values:
        values = [
            datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc) if with_time else datetime.date(2024, 1, 1)
        ]
    low, high = min(values), max(values)
    if with_time:
        span = int((high - low).total_seconds())
        return Generator(f"{_literal(low)} + datetime.timedelta(seconds=rng.randint(0, {span}))", "datetime", imports)
    return Generator(f"{_literal(low)} + datetime.timedelta(days=rng.randint(0, {(high - low).days}))", "date", imports)


def _kind_by_name(field: models.Field[Any, Any]) -> str | None:
    words = set(re.split(r"[_\W]+", field.name.lower()))
    joined = field.name.lower().replace("_", "")
    if isinstance(field, models.EmailField):
        return "email"
    if isinstance(field, models.URLField):
        return "url"
    if isinstance(field, models.SlugField):
        return "slug"
    for needed, method in _BY_NAME:
        if all(word in words for word in needed) or (len(needed) == 1 and needed[0] == joined):
            return method
    return None


def _text(field: models.Field[Any, Any], values: list[str], unique: bool) -> Generator:
    limit = getattr(field, "max_length", None)
    method = _kind_by_name(field)
    words = set(re.split(r"[_\W]+", field.name.lower()))
    if method is None and field.name.lower() in ("name", "full_name", "fullname", "display_name"):
        model = getattr(field, "model", None)
        person = model is not None and bool(set(re.findall(r"[A-Z][a-z]+", model.__name__)) & _PERSONS)
        shaped = values and sum(1 for value in values if _PERSON_NAME.match(value)) >= 0.6 * len(values)
        if person or shaped or field.name.lower() != "name":
            method = "name"
    if method is None and not unique and _low_cardinality(values):
        return _choice(values, "choice")
    if method is not None:
        call = _FAST.get((method, unique)) or f"fake.{'unique.' if unique else ''}{method}()"
        return Generator(_fit(call, limit, method), "text" if method == "address" else method)
    shape = _shape(values)
    if shape is not None:
        call = f"fake.{'unique.' if unique else ''}bothify({shape[0]!r}{shape[1]})"
        return Generator(call, "code")
    if isinstance(field, models.TextField) or words & _FREE_TEXT:
        sentences = max(1, round(_mean(value.count(".") + value.count("!") + value.count("?") for value in values)))
        call = f"fake.{'unique.' if unique else ''}paragraph(nb_sentences={sentences})"
        # Long free text (a TextField) may mention anyone: personal. A short text is not, unless told.
        return Generator(_fit(call, limit, "text"), "text" if isinstance(field, models.TextField) else "sentence")
    count = max(1, round(_mean(len(value.split()) for value in values))) if values else 3
    if count == 1 and not (words & _SENTENCE):
        lower = all(value == value.lower() for value in values)
        call = f"fake.{'unique.' if unique else ''}word()" + ("" if lower else ".capitalize()")
        return Generator(_fit(call, limit, "word"), "word")
    call = f"fake.{'unique.' if unique else ''}sentence(nb_words={count})"
    if values and all(value.endswith("?") for value in values):
        call = f'{call}[:-1] + "?"'
    elif values and not any(value.endswith(".") for value in values):
        call = f"{call}[:-1]"
    return Generator(_fit(call, limit, "sentence"), "sentence")


_LONGEST = {
    "word": 15,
    "name": 40,
    "first_name": 20,
    "last_name": 20,
    "user_name": 30,
    "phone_number": 25,
    "street_address": 50,
    "city": 30,
    "postcode": 10,
    "country": 60,
    "company": 50,
    "url": 60,
    "slug": 40,
    "ipv4": 15,
    "color_name": 25,
}
"""Upper lengths of Faker's values (en_US): a value is cut only where it may not fit."""


def _fit(call: str, limit: int | None, method: str) -> str:
    if limit is None or limit >= _LONGEST.get(method, 200) or method == "email":
        return call
    return f"({call})[:{limit}]" if " " in call else f"{call}[:{limit}]"


def _shape(values: list[str]) -> tuple[str, str] | None:
    """``("??-####", ", letters=...")`` when every value has the same length and, position by
    position, the same class (a digit, an upper or lower letter, the same other character)."""
    if len(values) < 2 or len({len(value) for value in values}) != 1 or not values[0]:
        return None
    pattern, upper, lower = [], False, False
    for chars in zip(*values, strict=True):
        if all(char.isdigit() for char in chars):
            pattern.append("#")
        elif all(char.isascii() and char.isalpha() for char in chars):
            upper |= any(char.isupper() for char in chars)
            lower |= any(char.islower() for char in chars)
            pattern.append("?")
        elif len(set(chars)) == 1 and chars[0] not in "#?":
            pattern.append(chars[0])
        else:
            return None
    if "#" not in pattern and "?" not in pattern:
        return None
    if " " in pattern:
        return None
    letters = ""
    if upper and not lower:
        letters = ', letters="ABCDEFGHIJKLMNOPQRSTUVWXYZ"'
    elif lower and not upper:
        letters = ', letters="abcdefghijklmnopqrstuvwxyz"'
    return "".join(pattern), letters


def _mean(numbers: Any) -> float:
    items = list(numbers)
    return sum(items) / len(items) if items else 0.0


def _literal(value: Any) -> str:
    """Python source for a captured value."""
    if isinstance(value, datetime.datetime):
        parts = [value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond]
        while len(parts) > 3 and parts[-1] == 0:
            parts.pop()
        tz = ""
        if value.tzinfo is not None:
            tz = ", tzinfo=datetime.timezone.utc" if value.utcoffset() == datetime.timedelta(0) else ""
        return f"datetime.datetime({', '.join(map(str, parts))}{tz})"
    if isinstance(value, datetime.date):
        return f"datetime.date({value.year}, {value.month}, {value.day})"
    if isinstance(value, decimal.Decimal):
        return f'Decimal("{value}")'
    if isinstance(value, uuid.UUID):
        return f'uuid.UUID("{value}")'
    return repr(value)


def _imports(values: Sequence[Any]) -> tuple[str, ...]:
    found = []
    if any(isinstance(value, datetime.date) for value in values):
        found.append("import datetime")
    if any(isinstance(value, decimal.Decimal) for value in values):
        found.append("from decimal import Decimal")
    if any(isinstance(value, uuid.UUID) for value in values):
        found.append("import uuid")
    return tuple(found)
