"""A real PostgreSQL (Debian's) for the tests: initdb and pg_ctl on a free loopback port, in a temp folder.

The server refuses to run as root, so it runs as the ``postgres`` system user; its folder and
password file are made readable by that user. Authentication is scram-sha-256 on 127.0.0.1.
The workbench connects as ``workbench``: not a superuser (a superuser would bypass any policy),
allowed to create the test database.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
from pathlib import Path

ADMIN, ADMIN_PASSWORD = "aisym", "pg-admin-test-password"
USER, PASSWORD = "workbench", "pg-workbench-test-password"


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError("PostgreSQL is not installed: run scripts/setup.sh (apt-get install postgresql)")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


class Postgres:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = _free_port()

    @property
    def url(self) -> str:
        return f"postgres://{USER}:{PASSWORD}@127.0.0.1:{self.port}/aisym"

    def start(self) -> Postgres:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o755)
        for parent in self.folder.parents:  # the postgres user must reach the folder
            if parent == Path(parent.anchor):
                break
            os.chmod(parent, os.stat(parent).st_mode | 0o011)
        pwfile = self.folder / "pw"
        pwfile.write_text(ADMIN_PASSWORD)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            shutil.chown(pwfile, "postgres")
        r = _as_postgres([_bin("initdb"), "-D", str(self.data), "-A", "scram-sha-256", f"--pwfile={pwfile}", "-U", ADMIN,
                          "--no-sync"])
        assert r.returncode == 0, r.stderr
        r = _as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-o",
                          f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
        assert r.returncode == 0, r.stderr + (self.folder / "log").read_text()
        self.sql(f"CREATE ROLE {USER} LOGIN CREATEDB PASSWORD '{PASSWORD}'", "postgres")
        self.sql(f"CREATE DATABASE aisym OWNER {USER}", "postgres")
        return self

    def sql(self, statement: str, database: str = "aisym") -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=ADMIN, password=ADMIN_PASSWORD, dbname=database,
                             autocommit=True) as conn:
            conn.execute(statement)

    def stop(self) -> None:
        _as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
