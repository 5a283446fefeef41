"""Personal values → fake ones, in the rows an anonymised dump writes.

Which fields: those whose inferred generator is of a personal kind (names, e-mails, phones,
addresses, free text…), and those the ``DUMPSCRIPT_ANONYMIZE`` setting names
(``{"app.Model.field": "fake.name()" | "keep"}``). Each value is replaced by its generator,
seeded by a keyed hash (HMAC-SHA256) of the original value and a secret
(``DUMPSCRIPT_ANONYMIZE_SECRET``, else ``SECRET_KEY``): the same person gets the same fake
value everywhere, a new dump gives the same values, and nobody can go back without the secret.
A fake value is never the original, and stays unique in its field.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import hmac
import random
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db import models

from dumpscript.errors import DumpscriptError
from dumpscript.generate._infer import Generator, infer

__all__ = ["AnonymizeError", "Anonymizer"]

Model = type[models.Model]
SAMPLE = 50
"""Values read per text field to infer what it holds (a ``name`` of persons, or of things)."""
KEEP = "keep"


class AnonymizeError(DumpscriptError):
    """An anonymised dump that cannot be made safely (strict mode, a bad rule, no Faker)."""


def _text_fields(model: Model) -> list[models.Field[Any, Any]]:
    """The fields that may hold personal data: text, not a key, not a choice."""
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField | models.GenericIPAddressField)
        and not field.primary_key
        and not field.choices
    ]


class Anonymizer:
    """Replaces the personal values of the rows a dump writes (one instance per dump)."""

    def __init__(self, models_: Iterable[Model], using: str, *, strict: bool = False) -> None:
        try:
            from faker import Faker
        except ImportError:
            raise AnonymizeError(
                "An anonymised dump needs Faker to make the fake values: pip install 'dumpscript[generate]'"
            ) from None
        rules: dict[str, str] = dict(getattr(settings, "DUMPSCRIPT_ANONYMIZE", {}))
        secret = getattr(settings, "DUMPSCRIPT_ANONYMIZE_SECRET", None) or settings.SECRET_KEY
        self.secret = str(secret).encode()
        self.fake = Faker()
        self.generators: dict[Model, dict[str, Generator]] = {}
        self._given: dict[tuple[Model, str], dict[Any, Any]] = {}
        self._taken: dict[tuple[Model, str], set[Any]] = {}
        missing = []
        self._models = list(models_)
        for model in self._models:
            chosen: dict[str, Generator] = {}
            for field in _text_fields(model):
                rule = rules.get(f"{model._meta.label}.{field.name}")
                if rule == KEEP:
                    continue
                if rule is not None:
                    chosen[field.attname] = Generator(rule, "rule")
                    continue
                generator = infer(field, self._sample(model, field, using))
                if generator.personal:
                    chosen[field.attname] = generator
                elif strict:
                    missing.append(f"{model._meta.label}.{field.name}")
            if chosen:
                self.generators[model] = chosen
        dumped = {model._meta.label: model for model in self._models}
        known = {f"{label}.{field.name}" for label, model in dumped.items() for field in _text_fields(model)}
        unknown = sorted(rule for rule in rules if rule.rpartition(".")[0] in dumped and rule not in known)
        if unknown:
            raise AnonymizeError(
                f"DUMPSCRIPT_ANONYMIZE names fields that are not text fields of the dumped models: {', '.join(unknown)}"
            )
        self._real: re.Pattern[str] | None = None  # the real values no fake may contain
        self._mentions = self._who(using)
        if missing:
            raise AnonymizeError(
                "Refusing an anonymised dump in strict mode: these text fields may hold personal data and "
                f"have no rule: {', '.join(missing)} (add each to DUMPSCRIPT_ANONYMIZE: a generator "
                'such as "fake.name()", or "keep")'
            )

    def _who(self, using: str) -> tuple[re.Pattern[str] | None, dict[str, str]]:
        """Every value of a replaced field (a name, an e-mail, a city…; 3 to 100 characters)
        and its fake: mentions of them in the text that is kept (a book "by Ada Lovelace") are
        replaced by the same fake values, and no fake value may contain one of them (a fake
        "Amanda Becker" where Becker is real)."""
        originals: dict[str, tuple[Model, str, Generator]] = {}
        for model, chosen in self.generators.items():
            for name, generator in chosen.items():
                values = model._base_manager.using(using).exclude(**{f"{name}__isnull": True})
                for original in sorted(set(values.values_list(name, flat=True))):
                    if isinstance(original, str) and 3 <= len(original) <= 100:
                        originals.setdefault(original, (model, name, generator))
        if not originals:
            return None, {}
        ordered = sorted(originals, key=lambda text: (-len(text), text))
        self._real = re.compile("|".join(rf"\b{re.escape(text)}\b" for text in ordered))
        fakes = {text: str(self.value(*originals[text], text)) for text in sorted(originals)}
        return re.compile("|".join(re.escape(text) for text in ordered)), fakes

    def _scrub(self, text: str) -> str:
        pattern, fakes = self._mentions
        if pattern is None or not isinstance(text, str):
            return text
        return pattern.sub(lambda match: fakes[match.group(0)], text)

    @staticmethod
    def _sample(model: Model, field: models.Field[Any, Any], using: str) -> list[Any]:
        rows = model._base_manager.using(using).exclude(**{f"{field.attname}__isnull": True})
        return list(rows.order_by("pk").values_list(field.attname, flat=True)[:SAMPLE])

    def fields(self, model: Model) -> dict[str, Generator | None]:
        """``attname →`` the generator of each field of ``model`` that is replaced, or None
        for a text field that is kept but whose mentions of persons are replaced."""
        chosen: dict[str, Generator | None] = dict(self.generators.get(model, {}))
        if self._mentions[0] is not None:
            for field in _text_fields(model):
                chosen.setdefault(field.attname, None)
        return chosen

    def columns(self, model: Model, names: list[str]) -> list[tuple[int, str, Generator | None]]:
        """The positions in a row ``(pk, *names)`` that change."""
        chosen = self.fields(model)
        return [(index + 1, name, chosen[name]) for index, name in enumerate(names) if name in chosen]

    def filter(self, model: Model, names: Sequence[str], rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """The rows ``(pk, *names)`` of ``model`` with their personal values replaced (a row
        filter of the writer)."""
        if not self.fields(model):
            return rows
        columns = self.columns(model, list(names))
        return (self.row(model, columns, row) for row in rows)

    def row(
        self, model: Model, columns: list[tuple[int, str, Generator | None]], row: tuple[Any, ...]
    ) -> tuple[Any, ...]:
        values = list(row)
        for index, name, generator in columns:
            original = values[index]
            if original is None or original == "":
                continue
            values[index] = self._scrub(original) if generator is None else self.value(model, name, generator, original)
        return tuple(values)

    def value(self, model: Model, name: str, generator: Generator, original: Any) -> Any:
        """The fake value for ``original``: the same one every time, never the original, and
        one per original in the field (unique fields stay unique)."""
        given = self._given.setdefault((model, name), {})
        if original in given:
            return given[original]
        taken = self._taken.setdefault((model, name), set())
        code = generator.code.replace("fake.unique.", "fake.")
        for attempt in range(100):
            seed = self._seed(code, original, attempt)
            self.fake.seed_instance(seed)
            namespace = {
                "fake": self.fake,
                "rng": random.Random(seed),
                "i": 1000 + seed % 9000,  # a number for values unique through the counter
                "datetime": datetime,
                "Decimal": decimal.Decimal,
                "uuid": uuid,
            }
            try:
                value = eval(code, namespace)  # the project's own rule, or an inferred one
            except Exception as error:
                raise AnonymizeError(
                    f"Cannot anonymise {model._meta.label}.{name} with {generator.code!r}: "
                    f"{type(error).__name__}: {error}"
                ) from None
            real = self._real is not None and isinstance(value, str) and self._real.search(value)
            if value != original and value not in taken and not real:
                break
        else:
            raise AnonymizeError(
                f"Cannot anonymise {model._meta.label}.{name}: {generator.code!r} gives too few different values"
            )
        given[original] = value
        taken.add(value)
        return value

    def _seed(self, code: str, original: Any, attempt: int) -> int:
        message = f"{code}\x00{original!r}\x00{attempt}".encode()
        return int.from_bytes(hmac.new(self.secret, message, hashlib.sha256).digest()[:8], "big")
