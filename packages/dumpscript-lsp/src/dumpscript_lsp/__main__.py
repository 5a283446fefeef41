"""``python -m dumpscript_lsp`` / ``dumpscript-lsp``: the server over stdio."""

from __future__ import annotations

import argparse
import logging
import os
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dumpscript-lsp", description="dumpscript's language server (stdio).")
    parser.add_argument("--log-level", default="WARNING", help="log level on stderr (default: WARNING)")
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default and only way)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level.upper(), format="dumpscript-lsp %(levelname)s %(message)s"
    )
    logging.getLogger("pygls").setLevel(logging.WARNING)  # at INFO it logs every message
    from dumpscript_lsp.server import server

    # The protocol owns the real standard output; anything the user's project prints (or
    # Django asks of sys.stdout) goes to standard error instead.
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    protocol_in = sys.stdin.buffer
    sys.stdout = sys.stderr
    server.start_io(protocol_in, protocol_out)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
