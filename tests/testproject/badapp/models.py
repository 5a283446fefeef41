"""A custom field type with no encoder, and one that gets an encoder registered in tests."""

from django.db import models


class Color:
    def __init__(self, hex_code: str) -> None:
        self.hex = hex_code

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Color) and other.hex == self.hex

    def __hash__(self) -> int:
        return hash(self.hex)

    def __repr__(self) -> str:
        return f"Color({self.hex!r})"


class ColorField(models.Field):
    """Stores a Color as text; dumpscript has no encoder for it until one is registered."""

    def get_internal_type(self) -> str:
        return "CharField"

    def db_type(self, connection) -> str:  # type: ignore[no-untyped-def]
        return "varchar(7)"

    def from_db_value(self, value, expression, connection):  # type: ignore[no-untyped-def]
        return None if value is None else Color(value)

    def to_python(self, value):  # type: ignore[no-untyped-def]
        return value if value is None or isinstance(value, Color) else Color(value)

    def get_prep_value(self, value):  # type: ignore[no-untyped-def]
        return None if value is None else value.hex


class Paint(models.Model):
    name = models.CharField(max_length=20)
    color = ColorField(null=True)


class HexColorField(ColorField):
    """A ColorField whose text (``value_to_string``, what ``dumpdata`` writes) loads back."""

    def value_to_string(self, obj):  # type: ignore[no-untyped-def]
        value = self.value_from_object(obj)
        return None if value is None else value.hex


class Swatch(models.Model):
    name = models.CharField(max_length=20)
    color = HexColorField(null=True)
