"""A real PostgreSQL server for the tests: a throwaway cluster (``initdb`` in a temporary folder, a free
port on loopback, password authentication over TCP), never a mock.

The binaries are Debian's ``postgresql`` package (``/usr/lib/postgresql/<version>/bin``, which
``.ci/run`` installs) or whatever ``initdb`` is on the PATH. PostgreSQL refuses to run as root, so
when the tests run as root (CI does) the cluster belongs to the unprivileged user ``nobody`` and its
commands run as that user. Tests that need it are skipped, saying why, only when no PostgreSQL is
installed at all.

Fixtures: ``pg_cluster`` (one per test session and xdist worker) and ``pg_url`` (a fresh, empty
database per test, its tables made by the same migrations ``publish state migrate`` applies, unless
the test asks for ``pg_empty_url``).
"""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

SKIP = ("PostgreSQL is not installed (apt-get install postgresql; .ci/run does): the postgres backend's "
        "tests need its initdb, pg_ctl and postgres")


def find_binaries() -> Path | None:
    """A folder holding initdb, pg_ctl and postgres: Debian's newest, else the PATH's."""
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]) if
                     p.split("/")[-2].isdigit() else 0, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        folders.append(str(Path(on_path).resolve().parent))
    for folder in folders:
        if all(os.access(Path(folder) / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One PostgreSQL cluster in ``base``: ``start``, ``stop``, ``restart``, ``kill``, ``new_database``."""

    def __init__(self, binaries: Path, base: Path):
        self.bin, self.base = binaries, base
        self.data, self.log = base / "data", base / "server.log"
        self.password = secrets.token_urlsafe(12)
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:  # PostgreSQL refuses root: the cluster is nobody's
            nobody = pwd.getpwnam("nobody")
            self.user = (nobody.pw_uid, nobody.pw_gid)
            os.chown(base, *self.user)
        self._names = itertools.count(1)

    def _cmd(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        extra = {"user": self.user[0], "group": self.user[1], "extra_groups": []} if self.user else {}
        return subprocess.run([str(a) for a in args], cwd=self.base, capture_output=True, text=True, check=check,
                              env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "TZ": "UTC"}, **extra)

    def init(self) -> None:
        pwfile = self.base / "pw"
        pwfile.write_text(self.password)
        if self.user:
            os.chown(pwfile, *self.user)
        self._cmd(self.bin / "initdb", "-D", self.data, "-U", "postgres", "--pwfile", pwfile, "-A", "trust",
                  "--auth-host", "scram-sha-256", "-E", "UTF8", "--no-instructions")
        pwfile.unlink()

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        result = self._cmd(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o", options,
                           "start", check=False)
        if result.returncode:
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{self.log.read_text(errors='replace')}")

    def stop(self, mode: str = "fast") -> None:
        self._cmd(self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self.stop("fast")
        self.start()

    def url(self, dbname: str = "postgres", password: str | None = None) -> str:
        return f"postgresql://postgres:{password or self.password}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster():
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[test]'")
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(SKIP)
    base = Path(tempfile.mkdtemp(prefix="newsroom-pg-"))
    cluster = Cluster(binaries, base)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_empty_url(pg_cluster) -> str:
    """A fresh database with no tables: what ``publish state migrate`` finds the first time."""
    from newsroom.state.postgres import close_pools

    yield pg_cluster.new_database()
    close_pools()


@pytest.fixture
def pg_url(pg_empty_url) -> str:
    """A fresh database, migrated."""
    from newsroom.state.postgres import apply_migrations

    apply_migrations(pg_empty_url)
    return pg_empty_url
