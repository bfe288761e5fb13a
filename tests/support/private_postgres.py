"""A throwaway PostgreSQL cluster on a free loopback port, to restart under running
processes without touching the shared server. PostgreSQL refuses to run as root, so when
the tests run as root the cluster belongs to (and runs as) the `postgres` user."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.server import free_port

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    for folder in BIN_DIRS:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


class PrivatePostgres:
    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin = bin_dir
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def _ctl(self, action: str) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-m", "fast",
                  "-w", "-o", options, action)

    def start(self) -> PrivatePostgres:
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self._ctl("start")
        return self

    def restart(self) -> None:
        """A fast restart: every open connection is cut, new ones are refused meanwhile."""
        self._ctl("restart")

    @contextmanager
    def down(self) -> Iterator[None]:
        """Stopped for the block (fast: every open connection is cut, new ones are refused),
        then started again."""
        self._ctl("stop")
        try:
            yield
        finally:
            self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop")


@contextmanager
def private_postgres(bin_dir: Path) -> Iterator[PrivatePostgres]:
    root = Path(tempfile.mkdtemp(prefix="outages-pg-"))
    cluster = PrivatePostgres(bin_dir, root)
    try:
        yield cluster.start()
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
