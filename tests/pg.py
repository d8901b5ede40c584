"""A throwaway PostgreSQL cluster for tests: Debian's initdb and pg_ctl, a temp dir, a free port.

Root cannot run postgres: as root the server runs as the `postgres` system user (Debian's
package makes it) or else `nobody`, through runuser.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

SUPERUSER = "replaycheck"


def server_bin() -> Path | None:
    """The newest installed server's bin directory."""
    found = [
        Path(d)
        for d in glob.glob("/usr/lib/postgresql/*/bin")
        if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists()
    ]
    return max(found, key=lambda d: int(d.parent.name)) if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _as_server_user() -> tuple[list[str], str | None]:
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"], user
    raise RuntimeError("running as root and no `postgres` or `nobody` user to run PostgreSQL as")


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[str]:
    """The URL of a superuser connection to a running throwaway cluster's `postgres` database."""
    if server_bin() is None:
        pytest.skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin): `make setup`")
    with cluster() as url:
        yield url


@contextmanager
def cluster() -> Iterator[str]:
    """A throwaway cluster (for tests and benchmarks): its superuser URL while it runs."""
    bin_dir = server_bin()
    if bin_dir is None:
        raise RuntimeError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin): `make setup`"
        )
    prefix, user = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="rc-pg-"))
    if user is not None:
        shutil.chown(root, user)
    data, log = root / "data", root / "server.log"
    port = free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, cwd=root)

    try:
        # --no-sync: a cluster thrown away after the tests needs no fsync of its initial files;
        # the server itself runs with fsync on, as a deployment would.
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "start")
    except subprocess.CalledProcessError as e:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(
            f"the test PostgreSQL did not start: {e.stderr.decode(errors='replace')}"
        ) from e
    try:
        yield f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """A new empty database on the server: its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"
