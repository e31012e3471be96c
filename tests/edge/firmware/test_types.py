"""Type-check the firmware against the MicroPython stubs of each board (mypy).

The stub packages install loose ``.pyi`` files into site-packages beside CPython packages, so the
check copies each package's own files (from its RECORD) into a private stub tree and points mypy
at it with MicroPython's typeshed (``micropython-stdlib-stubs``) instead of CPython's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest

from .harness import FIRMWARE, HERE

MYPY = str(Path(sys.executable).with_name("mypy"))


def _copy_dist(name: str, dest: Path) -> None:
    dist = distribution(name)
    for f in dist.files or []:
        if f.suffix == ".pyi" or f.name == "VERSIONS":
            target = dest / str(f)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f.locate(), target)


@pytest.mark.parametrize("board", ["micropython-esp32-stubs", "micropython-rp2-rpi-pico-w-stubs"])
def test_firmware_type_checks_against_board_stubs(tmp_path, board):
    _copy_dist(board, tmp_path / "stubs")
    _copy_dist("micropython-stdlib-stubs", tmp_path / "typeshed")
    src = tmp_path / "fw"
    src.mkdir()
    for f in FIRMWARE.glob("*.py"):
        shutil.copy(f, src / f.name)
    env = {"MYPYPATH": f"{tmp_path / 'stubs'}:{tmp_path / 'typeshed'}", "PATH": "/usr/bin:/bin"}
    cmd = [
        MYPY,
        "--config-file",
        str(HERE / "mypy.ini"),
        "--custom-typeshed-dir",
        str(tmp_path / "typeshed"),
        "--no-site-packages",
        "--cache-dir",
        str(tmp_path / "cache"),
        *sorted(p.name for p in src.glob("*.py")),
    ]
    proc = subprocess.run(cmd, cwd=src, capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues found in 16 source files" in proc.stdout
