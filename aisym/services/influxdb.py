"""InfluxDB 1.x as a plain local process, data under its own folder, authentication on, behind a gate.

``influxd`` runs in a private network namespace (``unshare --net``): its HTTP port and its
backup/restore RPC port (the top-level ``bind-address``, always listening in 1.6, no
authentication) exist only inside it, where nothing else runs. Its HTTP API is reachable through a
unix socket in the 0700 folder, and clients reach that only through the gate
(:mod:`aisym.services.influxgate`) on ``127.0.0.1:<port>``: ``InfluxDB.url`` is the gate's. Where
``unshare`` cannot run (no CAP_SYS_ADMIN, e.g. some containers) influxd binds both ports to
127.0.0.1, the gate and :attr:`InfluxDB.isolation` say ``loopback`` and a warning is logged: then
any local process can reach influxd past the gate (with credentials for HTTP, without for RPC).

With ``auth-enabled = true`` InfluxDB 1.x refuses every query and write until an admin exists,
and lets anyone create that first admin: :meth:`InfluxDB.start` creates it over the unix socket
before the gate opens. Accounts per database come from :meth:`InfluxDB.provision` (GRANT WRITE /
READ / ALL), which also writes their roles into the gate's policy file.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import logging
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from aisym.influx import InfluxV1

from ._proc import claim_port, free_port, spawn, stop_pid, wait_until
from .secretfile import private_dir, write_private

log = logging.getLogger(__name__)
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes
SOCKET_DIR_PREFIX = "aisym-influxd-"  # a temp folder for the socket of a folder too deep for sun_path


@functools.cache
def netns_available() -> bool:
    """Whether ``unshare --net`` works here (root or CAP_SYS_ADMIN, and the util-linux tool)."""
    if not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@dataclass
class InfluxDB:
    """An ``influxd`` in ``folder``, reached through its gate on 127.0.0.1.

    :param folder: config, meta, data, WAL, the socket and the logs go here (made 0700)
    :param port: the gate's port, the one clients use (free one if None)
    :param rpc_port: backup/restore RPC port inside influxd's namespace (free one if None)
    :param auth: ``auth-enabled``; off only for a test that must see the open API
    :param admin_user: the admin account created on first start
    :param admin_password: its password (a random one if None)
    :param isolate: run influxd in a private network namespace (falls back to loopback, loudly,
        where ``unshare`` cannot)
    """

    folder: Path
    port: int | None = None
    rpc_port: int | None = None
    binary: str = "influxd"
    auth: bool = True
    admin_user: str = "admin"
    admin_password: str | None = None
    isolate: bool = True
    pid: int | None = field(default=None, init=False)
    gate_pid: int | None = field(default=None, init=False)
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)
    _gate: subprocess.Popen | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        claim_port(self.port)
        claim_port(self.rpc_port)
        self.port = self.port or free_port()
        self.rpc_port = self.rpc_port or free_port()
        self.backend_port = free_port()  # influxd's own HTTP port: in its namespace, or on loopback as a fallback
        if self.auth and not self.admin_password:
            self.admin_password = secrets.token_urlsafe(16)
        self.isolation = "netns" if self.isolate and netns_available() else "loopback"
        sock = self.folder.resolve() / "influxd.sock"
        if len(str(sock).encode()) > _SOCKET_PATH_MAX:  # a deep folder: the socket goes to a private temp folder
            sock = Path(tempfile.mkdtemp(prefix=SOCKET_DIR_PREFIX)) / "influxd.sock"
        self.socket = sock

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def conf(self) -> Path:
        return self.folder / "influxdb.conf"

    @property
    def log(self) -> Path:
        return self.folder / "influxd.log"

    @property
    def gate_log(self) -> Path:
        return self.folder / "gate.log"

    @property
    def policy_file(self) -> Path:
        """The gate's roles per account (no secrets: names only)."""
        return self.folder / "gate-policy.json"

    def write_config(self) -> None:
        f = self.folder
        private_dir(f)
        for sub in ("meta", "data", "wal"):  # meta holds the accounts' password hashes
            private_dir(f / sub)
        write_private(
            self.conf,
            f'reporting-disabled = true\nbind-address = "127.0.0.1:{self.rpc_port}"\n\n'
            f'[meta]\n  dir = "{f / "meta"}"\n\n'
            f'[data]\n  dir = "{f / "data"}"\n  wal-dir = "{f / "wal"}"\n  wal-fsync-delay = "0s"\n'
            "  query-log-enabled = false\n\n"
            f'[http]\n  enabled = true\n  bind-address = "127.0.0.1:{self.backend_port}"\n  log-enabled = false\n'
            f"  auth-enabled = {'true' if self.auth else 'false'}\n  pprof-enabled = false\n"
            f'  unix-socket-enabled = true\n  bind-socket = "{self.socket}"\n  unix-socket-permissions = "0600"\n'
            "  max-body-size = 50000000\n\n"
            '[logging]\n  level = "warn"\n\n'
            "[monitor]\n  store-enabled = false\n\n"
            "[continuous_queries]\n  enabled = false\n",
        )

    def _policy(self) -> dict:
        try:
            return json.loads(self.policy_file.read_text())
        except (OSError, ValueError):
            return {"admins": [], "accounts": {}}

    def _write_policy(self, policy: dict) -> None:
        policy["auth"] = self.auth
        write_private(self.policy_file, json.dumps(policy, indent=2, sort_keys=True))

    def _socket_request(self, method: str, path: str, body: str = "", auth: tuple[str, str] | None = None):
        from .influxgate import UnixHTTPConnection  # not at import: the gate runs as a script of its own

        conn = UnixHTTPConnection(str(self.socket), timeout=10)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        if auth:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        try:
            conn.request(method, path, body=body or None, headers=headers)
            r = conn.getresponse()
            return r.status, r.read().decode(errors="replace")
        finally:
            conn.close()

    def _socket_ping(self) -> bool:
        try:
            return self._socket_request("GET", "/ping")[0] == 204
        except OSError:
            return False

    def _gate_ping(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/ping", timeout=0.5) as r:
                return r.status == 204
        except OSError:
            return False

    def start(self, timeout: float = 30.0) -> InfluxDB:
        if not self.conf.exists():
            self.write_config()
        argv = [_influxd(self.binary), "-config", str(self.conf)]
        if self.isolation == "netns":
            argv = ["unshare", "--net", *argv]  # unshare execs influxd: the PID is influxd's
        else:
            why = "unshare --net is not available here" if self.isolate else "isolate=False was asked for"
            log.warning("influxd in %s is NOT isolated (%s): its HTTP port %d and its backup/restore port %d listen "
                        "on 127.0.0.1 for any local process", self.folder, why, self.backend_port, self.rpc_port)
        private_dir(self.socket.parent)  # the temp folder of a deep one is removed at stop
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()  # left by a killed influxd: it would refuse to bind
        self._proc = spawn(argv, self.log)
        self.pid = self._proc.pid
        wait_until(self._socket_ping, timeout, f"influxd at {self.socket}", self._proc, self.log)
        policy = self._policy()
        policy["admins"] = sorted({*policy.get("admins", []), self.admin_user})
        self._write_policy(policy)
        if self.auth:
            try:
                self._ensure_admin()
            except BaseException:
                self.stop()
                raise
        self._start_gate(timeout)
        return self

    def _start_gate(self, timeout: float) -> None:
        argv = [sys.executable, str(Path(__file__).with_name("influxgate.py")), "--listen", f"127.0.0.1:{self.port}",
                "--socket", str(self.socket), "--policy", str(self.policy_file), "--isolation", self.isolation]
        self._gate = spawn(argv, self.gate_log)
        self.gate_pid = self._gate.pid
        try:
            wait_until(self._gate_ping, timeout, f"the InfluxDB gate on port {self.port}", self._gate, self.gate_log)
        except BaseException:
            self.stop()
            raise

    def client(self, database: str = "", username: str | None = None, password: str | None = None) -> InfluxV1:
        """A client on ``database`` through the gate, as the admin unless another account is given."""
        if username is None and self.auth:
            username, password = self.admin_user, self.admin_password
        return InfluxV1(self.url, database, username, password)

    def _ensure_admin(self) -> None:
        """Create the admin over the unix socket (before the gate opens), or check its password."""
        status, text = self._socket_request("POST", "/query", urlencode({"q": "SHOW USERS"}),
                                            (self.admin_user, self.admin_password or ""))
        if status == 200:
            return
        if "create admin user first" not in text:
            raise RuntimeError(f"InfluxDB in {self.folder}: the admin {self.admin_user!r} is refused: {text.strip()}")
        # allowed without credentials only while no user exists: nothing but this process reaches the socket
        q = (f"CREATE USER {_ident(self.admin_user)} WITH PASSWORD {_quote(self.admin_password or '')} "
             "WITH ALL PRIVILEGES")
        status, text = self._socket_request("POST", "/query", urlencode({"q": q}))
        if status != 200 or '"error"' in text:
            raise RuntimeError(f"InfluxDB in {self.folder}: creating the admin failed: {text.strip()}")

    def provision(
        self,
        database: str,
        writers: dict[str, str] | None = None,
        readers: dict[str, str] | None = None,
        reset_passwords: bool = True,
        owners: dict[str, str] | None = None,
    ) -> None:
        """Create ``database`` and accounts that may only write it (``writers``) or only read it (``readers``).

        An existing account keeps its other grants and gets the password given here. The gate's
        policy gets each account's role: a writer may ``/write`` and run no query, a reader may run
        ``SELECT``/``SHOW`` only, an owner both; none of them may delete, drop or grant anything.

        :param database: the database
        :param writers: account -> password, ``GRANT WRITE``
        :param readers: account -> password, ``GRANT READ``
        :param owners: account -> password, ``GRANT ALL`` (read and write: the controller, which
            reads the last levels after a restart and writes its health series)
        :param reset_passwords: set the password of an existing account again (InfluxDB hashes it
            with bcrypt, about 60 ms each); off where the passwords are known to be unchanged
        """
        policy = self._policy()
        roles = {u: set(r) for u, r in policy.get("accounts", {}).items()}
        for role, accounts in (({"write"}, writers), ({"read"}, readers), ({"read", "write"}, owners)):
            for user in accounts or {}:
                roles.setdefault(user, set()).update(role)
        policy["accounts"] = {u: sorted(r) for u, r in roles.items()}
        self._write_policy(policy)  # before the grants: an account is never usable with a role the gate lacks
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
        if self.gate_pid is not None:  # the gate first: clients see a closed port, not a 503 per request
            stop_pid(self.gate_pid, timeout)
            self.gate_pid, self._gate = None, None
        if self.pid is not None:
            stop_pid(self.pid, timeout)
            self.pid = None
            self._proc = None
        remove_socket_dir(self.socket)

    def kill(self) -> None:
        for pid in (self.gate_pid, self.pid):
            if pid is not None:
                stop_pid(pid, 0.0, sig=9)
        self.pid = self.gate_pid = None
        self._proc = self._gate = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return all(p is not None and p.poll() is None for p in (self._proc, self._gate))

    def __enter__(self) -> InfluxDB:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def remove_socket_dir(sock: Path | str) -> None:
    """Remove the temp folder a socket got because its stack folder was too deep (nothing else)."""
    parent = Path(sock).parent
    if parent.name.startswith(SOCKET_DIR_PREFIX) and parent.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(parent, ignore_errors=True)


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
