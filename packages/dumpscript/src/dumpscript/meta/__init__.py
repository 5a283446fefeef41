"""What the models say, for every stage that reads rows (the closure, the graph, the writer):
the kinds of relation and the fields a script writes (:mod:`~dumpscript.meta.relations`), how
keys are ordered, kept and read (:mod:`~dumpscript.meta.keys`), and the ids of other rows that
a field's content holds (:mod:`~dumpscript.meta.embedded`)."""

from dumpscript.meta.embedded import EmbeddedIds, embedded_ids, register_ids
from dumpscript.meta.keys import Collector, KeyColumns, Keys, find_key, key_array, sort_key, sorted_keys
from dumpscript.meta.relations import (
    GenericFK,
    Lookup,
    Model,
    Reference,
    attname,
    auto_m2m_fields,
    by_key,
    common_ancestor,
    concrete_of,
    deferrable,
    generic_fks,
    nullable,
    other_roots,
    parent_link,
    reference_columns,
    references,
    root_model,
    written_fields,
)

__all__ = [
    "Collector",
    "EmbeddedIds",
    "GenericFK",
    "KeyColumns",
    "Keys",
    "Lookup",
    "Model",
    "Reference",
    "attname",
    "auto_m2m_fields",
    "by_key",
    "common_ancestor",
    "concrete_of",
    "deferrable",
    "embedded_ids",
    "find_key",
    "generic_fks",
    "key_array",
    "nullable",
    "other_roots",
    "parent_link",
    "reference_columns",
    "references",
    "register_ids",
    "root_model",
    "sort_key",
    "sorted_keys",
    "written_fields",
]
