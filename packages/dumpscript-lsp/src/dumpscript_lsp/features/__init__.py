"""The server's features, one per module; :mod:`dumpscript_lsp.server` only wires them.

Each module has ``register(server)``, which adds its handlers: LSP features, commands, and
code-action providers (the server asks every provider for the kinds a request wants).
"""

from dumpscript_lsp.features import (
    diagnostics,
    dump_here,
    dump_to_file,
    fold,
    grow,
    lifecycle,
    load_script,
    models,
    quick_fixes,
)

FEATURES = (lifecycle, diagnostics, quick_fixes, fold, grow, dump_here, models, dump_to_file, load_script)
"""In the order their code actions are offered."""

__all__ = ["FEATURES"]
