"""Every install runs: the wheel, installed with only ``.[gateway]`` or only ``.[cloud]`` in a clean venv.

A Raspberry Pi gets ``pip install 'aisym[gateway]'``: no numpy, no torch. The wheel is built once
from this tree (copied, so the shared checkout gets no build/ folder) and installed into two bare
venvs (``python -m venv --without-pip``, filled by this interpreter's pip through ``--python``)
from the machine's usual index or pip's cache. About 30 s on 2 cores; marked ``install``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("aisym", "edge", "cloud", "sim_env", "hardware")
# files in the packages that no code reads (tool configuration)
NOT_PACKAGE_DATA = {"edge/firmware/ruff.toml"}
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mpy", "*.egg-info")

pytestmark = [pytest.mark.install, pytest.mark.timeout(400)]


def _run(cmd: list[str], cwd: Path = ROOT, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)  # the venv must find aisym in its own site-packages, not in this tree
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    # the project's files only (tracked or not ignored): caches a tool left in the tree (a nested
    # ruff.toml makes ruff write edge/firmware/.ruff_cache) are nobody's package data
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *PACKAGES],
                            cwd=ROOT, capture_output=True, text=True)
    if listed.returncode == 0:
        for rel in listed.stdout.splitlines():
            if (ROOT / rel).is_file() and not IGNORE(str((ROOT / rel).parent), [Path(rel).name]):
                (src / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / rel, src / rel)
    else:  # not a git checkout (a release tarball)
        for name in PACKAGES:
            shutil.copytree(ROOT / name, src / name, ignore=IGNORE)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    return src


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(source)])
    assert r.returncode == 0, r.stderr[-3000:]
    (whl,) = dist.glob("aisym-*.whl")
    return whl


def _venv(tmp_path_factory, wheel: Path, extra: str) -> Path:
    venv = tmp_path_factory.mktemp(f"venv-{extra}")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    r = _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", f"{wheel}[{extra}]"])
    assert r.returncode == 0, r.stderr[-3000:]
    return venv / "bin"


@pytest.fixture(scope="module")
def gateway_bin(tmp_path_factory, wheel) -> Path:
    return _venv(tmp_path_factory, wheel, "gateway")


@pytest.fixture(scope="module")
def cloud_bin(tmp_path_factory, wheel) -> Path:
    return _venv(tmp_path_factory, wheel, "cloud")


def test_the_wheel_carries_every_file_of_the_packages(source, wheel):
    shipped = set(zipfile.ZipFile(wheel).namelist())
    tree = {p.relative_to(source).as_posix() for name in PACKAGES for p in (source / name).rglob("*") if p.is_file()}
    missing = sorted(tree - shipped - NOT_PACKAGE_DATA)
    assert not missing, f"{len(missing)} files of the tree are not in the wheel (package-data in pyproject.toml): {missing}"
    assert any(n.startswith("hardware/devices/") and n.endswith(".yaml") for n in shipped)


def test_gateway_install_has_no_numpy_and_every_command_starts(gateway_bin):
    assert _run([str(gateway_bin / "python"), "-c", "import numpy"]).returncode != 0, "the gateway extra pulled numpy"
    r = _run([str(gateway_bin / "aisym"), "--help"])
    assert r.returncode == 0, r.stderr[-3000:]
    for command in ("gateway", "node", "park", "services"):
        assert f" {command} " in r.stdout
    assert "Not installed here" in r.stdout and "twin" in r.stdout and "aisym[sim]" in r.stdout
    r = _run([str(gateway_bin / "aisym"), "twin", "run"])
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "pip install 'aisym[sim]'" in r.stderr, r.stderr


def test_gateway_validate_on_the_sample_finds_the_shipped_profiles(gateway_bin, tmp_path):
    r = _run([str(gateway_bin / "aisym"), "gateway", "validate", str(ROOT / "edge" / "gateway" / "sample.yaml")], cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    for profile in ("eastron_sdm630", "siemens_uh50_modbus", "tuf_2000m", "aisym_site_plc"):
        assert profile in r.stdout


def test_node_build_on_a_gateway_install(gateway_bin, tmp_path, monkeypatch):
    from aisym.services.tls import make_ca_and_server_cert

    # the node's firmware and the profiles of its RS485 devices come from the installed wheel
    ca = make_ca_and_server_cert(tmp_path / "tls")["ca"]
    monkeypatch.setenv("AISYM_WIFI_PASSWORD", "wifi-pw")
    monkeypatch.setenv("AISYM_NODE_PASSWORD", "node-pw")
    r = _run([str(gateway_bin / "aisym"), "node", "build", str(ROOT / "edge" / "node" / "sample.yaml"),
              "--out", str(tmp_path / "node"), "--ca-file", str(ca)], cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert (tmp_path / "node" / "config.json").exists() and (tmp_path / "node" / "ca.der").exists()


def test_cloud_install_runs_the_ingestor_and_builds_dashboards(cloud_bin, tmp_path):
    r = _run([str(cloud_bin / "aisym"), "--help"])
    assert r.returncode == 0, r.stderr[-3000:]
    for command in ("ingest", "dashboards", "control", "demo"):
        assert f" {command} " in r.stdout
    for cmd in ([str(cloud_bin / "aisym"), "ingest", "--help"], [str(cloud_bin / "python"), "-m", "cloud.ingest", "--help"]):
        r = _run(cmd, cwd=tmp_path)
        assert r.returncode == 0 and "--mqtt-host" in r.stdout, r.stderr[-3000:]
    r = _run([str(cloud_bin / "aisym"), "dashboards", "build", "--out", str(tmp_path / "grafana")], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "grafana" / "overview.json").exists()
    # without --out an installed package writes ./grafana, never into site-packages
    (tmp_path / "here").mkdir()
    r = _run([str(cloud_bin / "aisym"), "dashboards", "build"], cwd=tmp_path / "here")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "here" / "grafana" / "overview.json").exists() and "site-packages" not in r.stdout
