"""A script's code, read and written: the one layer the writer, the transforms, the load and
the language server share.

* :mod:`~dumpscript.script.source`: a script's text, its :mod:`ast` tree (of only the lines a
  transform needs, on a large script), offsets, and the text edits that change it;
* :mod:`~dumpscript.script.walk`: the statements and the names they bind, where a statement
  goes, and the objects a script creates (``var = Model(...)``, ``create``, ``bulk_create``);
* :mod:`~dumpscript.script.models`: a script's names for model classes, found from its
  imports in the app registry, never by running them;
* :mod:`~dumpscript.script.literals`: the values a script writes, read without running code;
* :mod:`~dumpscript.script.imports`: imports, for a new script (:class:`ImportSet`) and added
  to an edited one (:func:`import_edits`), in one order;
* :mod:`~dumpscript.script.layout` and :mod:`~dumpscript.script.render`: how code is laid out
  (indentation, line breaking) and LibCST nodes rendered.
"""

from dumpscript.script.source import Change, Source, TextEdit, apply_edits, parse_lines

__all__ = ["Change", "Source", "TextEdit", "apply_edits", "parse_lines"]
