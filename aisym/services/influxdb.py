"""InfluxDB 1.x as a plain local process, data under its own folder, authentication on.

A second instance on the same machine needs its own RPC bind address, so both the HTTP and the
RPC port are chosen free. Reporting to the vendor is off: this machine has no network.

With ``auth-enabled = true`` InfluxDB 1.x refuses every query and write until an admin exists,
and lets anyone create that first admin: :meth:`InfluxDB.start` creates it at once, before it
returns. Accounts per database come from :meth:`InfluxDB.provision` (GRANT WRITE / GRANT READ).
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from aisym.influx import InfluxError, InfluxV1

from ._proc import free_port, spawn, stop_pid, wait_until
from .secretfile import write_private


@dataclass
class InfluxDB:
    """An ``influxd`` in ``folder`` on 127.0.0.1.

    :param folder: config, meta, data, WAL and log go here
    :param port: HTTP API port (free one if None)
    :param rpc_port: backup/restore RPC port (free one if None)
    :param auth: ``auth-enabled``; off only for a test that must see the open API
    :param admin_user: the admin account created on first start
    :param admin_password: its password (a random one if None)
    """

    folder: Path
    port: int | None = None
    rpc_port: int | None = None
    binary: str = "influxd"
    auth: bool = True
    admin_user: str = "admin"
    admin_password: str | None = None
    pid: int | None = field(default=None, init=False)
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.port = self.port or free_port()
        self.rpc_port = self.rpc_port or free_port()
        if self.auth and not self.admin_password:
            self.admin_password = secrets.token_urlsafe(16)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def conf(self) -> Path:
        return self.folder / "influxdb.conf"

    @property
    def log(self) -> Path:
        return self.folder / "influxd.log"

    def write_config(self) -> None:
        f = self.folder
        for sub in ("meta", "data", "wal"):
            (f / sub).mkdir(parents=True, exist_ok=True)
        write_private(
            self.conf,
            f'reporting-disabled = true\nbind-address = "127.0.0.1:{self.rpc_port}"\n\n'
            f'[meta]\n  dir = "{f / "meta"}"\n\n'
            f'[data]\n  dir = "{f / "data"}"\n  wal-dir = "{f / "wal"}"\n  wal-fsync-delay = "0s"\n'
            "  query-log-enabled = false\n\n"
            f'[http]\n  enabled = true\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            f"  auth-enabled = {'true' if self.auth else 'false'}\n  pprof-enabled = false\n"
            "  max-body-size = 50000000\n\n"
            '[logging]\n  level = "warn"\n\n'
            "[monitor]\n  store-enabled = false\n\n"
            "[continuous_queries]\n  enabled = false\n",
        )

    def _ping(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/ping", timeout=0.5) as r:
                return r.status == 204
        except OSError:
            return False

    def start(self, timeout: float = 30.0) -> InfluxDB:
        if not self.conf.exists():
            self.write_config()
        self._proc = spawn([_influxd(self.binary), "-config", str(self.conf)], self.log)
        self.pid = self._proc.pid
        wait_until(self._ping, timeout, f"influxd on port {self.port}", self._proc, self.log)
        if self.auth:
            self._ensure_admin()
        return self

    def client(self, database: str = "", username: str | None = None, password: str | None = None) -> InfluxV1:
        """A client on ``database``, as the admin unless another account is given."""
        if username is None and self.auth:
            username, password = self.admin_user, self.admin_password
        return InfluxV1(self.url, database, username, password)

    def _ensure_admin(self) -> None:
        admin = self.client()
        try:
            admin.query("SHOW USERS")
            return
        except InfluxError as e:
            if "create admin user first" not in str(e):
                raise RuntimeError(f"InfluxDB at {self.url}: the admin {self.admin_user!r} is refused: {e}") from None
        finally:
            admin.close()
        # allowed without credentials only while no user exists: done before anything else can connect
        anon = InfluxV1(self.url, "")
        try:
            anon.query(
                f"CREATE USER {_ident(self.admin_user)} WITH PASSWORD {_quote(self.admin_password or '')} WITH ALL PRIVILEGES",
                method="POST",
            )
        finally:
            anon.close()

    def provision(
        self,
        database: str,
        writers: dict[str, str] | None = None,
        readers: dict[str, str] | None = None,
        reset_passwords: bool = True,
        owners: dict[str, str] | None = None,
    ) -> None:
        """Create ``database`` and accounts that may only write it (``writers``) or only read it (``readers``).

        An existing account keeps its other grants and gets the password given here.

        :param database: the database
        :param writers: account -> password, ``GRANT WRITE``
        :param readers: account -> password, ``GRANT READ``
        :param owners: account -> password, ``GRANT ALL`` (read and write: the controller, which
            reads the last levels after a restart and writes its health series)
        :param reset_passwords: set the password of an existing account again (InfluxDB hashes it
            with bcrypt, about 60 ms each); off where the passwords are known to be unchanged
        """
        admin = self.client(database)
        try:
            admin.create_database()
            existing = {r["user"] for r in admin.rows("SHOW USERS")} if self.auth else set()
            for privilege, accounts in (("WRITE", writers), ("READ", readers), ("ALL", owners)):
                for user, password in (accounts or {}).items():
                    if user in existing:
                        if reset_passwords:
                            admin.query(f"SET PASSWORD FOR {_ident(user)} = {_quote(password)}", method="POST")
                    else:
                        admin.query(f"CREATE USER {_ident(user)} WITH PASSWORD {_quote(password)}", method="POST")
                        existing.add(user)
                    admin.query(f"GRANT {privilege} ON {_ident(database)} TO {_ident(user)}", method="POST")
        finally:
            admin.close()

    def stop(self, timeout: float = 15.0) -> None:
        if self.pid is not None:
            stop_pid(self.pid, timeout)
            self.pid = None
            self._proc = None

    def kill(self) -> None:
        if self.pid is not None:
            stop_pid(self.pid, 0.0, sig=9)
            self.pid = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> InfluxDB:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _influxd(name: str) -> str:
    found = shutil.which(name) or ("/usr/bin/influxd" if Path("/usr/bin/influxd").exists() else None)
    if not found:
        raise FileNotFoundError(
            "influxd not found: install it with 'apt-get install influxdb' (or run scripts/services.sh install)"
        )
    return found
