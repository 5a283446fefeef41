"""Values made up like captured ones: a generator per field, inferred from the field and the
values in it (:func:`infer`); growing a loop with them; anonymised dumps (:class:`Anonymizer`)."""

from dumpscript.generate._anonymize import AnonymizeError, Anonymizer
from dumpscript.generate._infer import Generator, infer

__all__ = ["AnonymizeError", "Anonymizer", "Generator", "infer"]
