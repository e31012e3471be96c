"""InfluxDB 1.x as a plain local process, data under its own folder.

A second instance on the same machine needs its own RPC bind address, so both the HTTP and the
RPC port are chosen free. Reporting to the vendor is off: this machine has no network.
"""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ._proc import free_port, spawn, stop_pid, wait_until


@dataclass
class InfluxDB:
    """An ``influxd`` in ``folder`` on 127.0.0.1.

    :param folder: config, meta, data, WAL and log go here
    :param port: HTTP API port (free one if None)
    :param rpc_port: backup/restore RPC port (free one if None)
    """

    folder: Path
    port: int | None = None
    rpc_port: int | None = None
    binary: str = "influxd"
    pid: int | None = field(default=None, init=False)
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.port = self.port or free_port()
        self.rpc_port = self.rpc_port or free_port()

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
        self.conf.write_text(
            f'reporting-disabled = true\nbind-address = "127.0.0.1:{self.rpc_port}"\n\n'
            f'[meta]\n  dir = "{f / "meta"}"\n\n'
            f'[data]\n  dir = "{f / "data"}"\n  wal-dir = "{f / "wal"}"\n  wal-fsync-delay = "0s"\n'
            "  query-log-enabled = false\n\n"
            f'[http]\n  enabled = true\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            "  auth-enabled = false\n  max-body-size = 50000000\n\n"
            '[logging]\n  level = "warn"\n\n'
            "[monitor]\n  store-enabled = false\n\n"
            "[continuous_queries]\n  enabled = false\n"
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
        return self

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


def _influxd(name: str) -> str:
    found = shutil.which(name) or ("/usr/bin/influxd" if Path("/usr/bin/influxd").exists() else None)
    if not found:
        raise FileNotFoundError(
            "influxd not found: install it with 'apt-get install influxdb' (or run scripts/services.sh install)"
        )
    return found
