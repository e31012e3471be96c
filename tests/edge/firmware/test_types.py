"""Type-check the firmware against the MicroPython stubs of each board (mypy).

The stub packages install loose ``.pyi`` files into site-packages beside CPython packages, so the
check copies each package's own files (from its RECORD) into a private stub tree and points mypy
at it with MicroPython's typeshed (``micropython-stdlib-stubs``) instead of CPython's.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest

from .harness import FIRMWARE, HERE

MYPY = str(Path(sys.executable).with_name("mypy"))


def _copy_dist(name: str, dest: Path) -> list[str]:
    """Copy a stub package's files; returns those whose content on disk is another package's.

    Board stub packages install the same loose names (``machine.pyi``...) into site-packages, so
    with two of them installed the last one's files shadow the other's."""
    dist = distribution(name)
    shadowed = []
    for f in dist.files or []:
        if f.suffix == ".pyi" or f.name == "VERSIONS":
            target = dest / str(f)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = Path(f.locate()).read_bytes()
            if (
                f.hash is not None
                and base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode() != f.hash.value
            ):
                shadowed.append(str(f))
            target.write_bytes(data)
    return shadowed


# scripts/setup.sh installs each board's stubs apart (pip --target), since they share file names.
BOARD_STUBS = Path(sys.prefix) / "stubs"


def _copy_board(name: str, dest: Path) -> list[str]:
    apart = BOARD_STUBS / name
    if apart.is_dir():
        for f in apart.rglob("*.pyi"):
            target = dest / f.relative_to(apart)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, target)
        return []
    return _copy_dist(name, dest)


@pytest.mark.parametrize("board", ["micropython-esp32-stubs", "micropython-rp2-rpi-pico-w-stubs"])
def test_firmware_type_checks_against_board_stubs(tmp_path, board):
    shadowed = _copy_board(board, tmp_path / "stubs")
    if shadowed:
        pytest.skip(f"{len(shadowed)} stub files of {board} (e.g. {shadowed[0]}) are shadowed by another board's package")
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
