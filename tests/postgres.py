"""A throwaway PostgreSQL cluster from Debian's binaries (`make test` installs them): initdb in
a temp dir, started on 127.0.0.1 on a free port, stopped and removed at the end. As root it
runs as the postgres user (initdb refuses root)."""

from __future__ import annotations

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


def pg_bin() -> Path:
    """The newest installed PostgreSQL's bin folder (LOWINC_PG_BIN overrides)."""
    if given := os.environ.get("LOWINC_PG_BIN"):
        return Path(given)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql: run `make test`")
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str]) -> None:
    if os.geteuid() == 0:
        command = " ".join(f"'{a}'" for a in args)
        subprocess.run(["su", "postgres", "-c", command], check=True, capture_output=True, text=True)
    else:
        subprocess.run(args, check=True, capture_output=True, text=True)


@contextmanager
def postgres_cluster(databases: tuple[str, ...] = ()) -> Iterator[str]:
    """Yield the base URL ``postgresql+psycopg://postgres@127.0.0.1:PORT`` (databases created)."""
    bin_dir = pg_bin()
    base = Path(tempfile.mkdtemp(prefix="lowinc-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    data, port = base / "data", free_port()
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    _as_postgres([*initdb, "-E", "UTF8", "--locale=C.UTF-8"])
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off -c synchronous_commit=off"
    _as_postgres(
        [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"]
    )
    try:
        for name in databases:
            _as_postgres(
                [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", name]
            )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


def new_database(server: str, prefix: str = "t") -> str:
    """A fresh, empty database on a cluster of :func:`postgres_cluster`; its URL."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"
