"""Start a throwaway PostgreSQL server from the machine's packages, for the test suite.

Runs ``initdb`` and ``pg_ctl`` from Debian's ``postgresql`` package (or any on ``PATH``) in a
temporary data directory, listening only on a Unix socket in that directory. As root the
server runs as the ``postgres`` user, which PostgreSQL requires.
"""

from __future__ import annotations

import glob
import os
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PostgresNotFound(RuntimeError):
    pass


def find_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresNotFound(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; install them "
        "(Debian: apt-get install postgresql) to run the PostgreSQL tests"
    )


@dataclass
class Server:
    bindir: Path
    root: Path
    port: int
    as_postgres: bool

    @property
    def host(self) -> str:
        return str(self.root / "sock")

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "stop", "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start() -> Server:
    bindir = find_bindir()
    as_postgres = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="dumpscript-pg-"))
    (root / "sock").mkdir()
    if as_postgres:
        shutil.chown(root, "postgres")
        shutil.chown(root / "sock", "postgres")
    server = Server(bindir, root, random.randint(20000, 60000), as_postgres)
    try:
        server._run(
            "initdb", "-D", str(root / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"
        )
        options = f"-k {server.host} -c listen_addresses='' -p {server.port} -F -c fsync=off"
        server._run("pg_ctl", "-D", str(root / "data"), "-o", options, "-l", str(root / "log"), "-w", "start")
    except subprocess.CalledProcessError as error:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL failed to start: {error.stderr.decode()} {log}") from error
    return server
