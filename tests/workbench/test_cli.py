"""``aisym workbench init`` and ``serve`` as a user runs them: real processes, a real SQLite file, HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

DATA = Path(__file__).parent / "data"


def aisym(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("AISYM_WORKBENCH_DIR", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run([sys.executable, "-m", "aisym", "workbench", *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd=cwd)


def test_init_creates_the_park_and_a_facilitator_with_a_0600_password_file(tmp_path):
    r = aisym("init", str(DATA / "two_parks_a.yaml"), "--dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "park 'park_a' (Park A): 2 companies, 2 listings; facilitator 'facilitator-park_a'" in r.stdout
    pw = tmp_path / "workbench-park_a-facilitator.txt"
    assert stat.S_IMODE(pw.stat().st_mode) == 0o600
    assert re.fullmatch(r"user: facilitator-park_a\npassword: \S{20,}\njoin code for companies: \S{12}\n", pw.read_text())
    for private in ("workbench.sqlite3", "workbench-secret-key"):
        assert stat.S_IMODE((tmp_path / private).stat().st_mode) == 0o600, private
    # the same park again: refused, nothing changed, exit 2
    again = aisym("init", str(DATA / "two_parks_a.yaml"), "--dir", str(tmp_path))
    assert again.returncode == 2
    assert again.stderr.strip() == f"{DATA / 'two_parks_a.yaml'}: park.id: a park 'park_a' is in the workbench already"


def test_init_refuses_a_bad_park_file_with_its_line_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 2\npark:\n  id: Bad-Id\n  name: x\ncompanies: []\n")
    r = aisym("init", str(bad), "--dir", str(tmp_path / "wb"))
    assert r.returncode == 2
    assert f"{bad}:3:7: park.id:" in r.stderr and "Traceback" not in r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    """``aisym workbench serve`` on a fresh folder, after ``init``; yields (base URL, password file)."""
    assert aisym("init", str(DATA / "two_parks_a.yaml"), "--dir", str(tmp_path)).returncode == 0
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("AISYM_WORKBENCH_DIR", "DJANGO_SETTINGS_MODULE")}
    proc = subprocess.Popen([sys.executable, "-m", "aisym", "workbench", "serve", "--port", str(port),
                             "--dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/", timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.ReadTimeout):  # a loaded machine answers late
                pass
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "the workbench did not answer within 60 s"
            time.sleep(0.2)
        yield base, tmp_path / "workbench-park_a-facilitator.txt"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_on_an_empty_folder_migrates_and_greets_a_first_visitor(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("AISYM_WORKBENCH_DIR", "DJANGO_SETTINGS_MODULE")}
    proc = subprocess.Popen([sys.executable, "-m", "aisym", "workbench", "serve", "--port", str(port),
                             "--dir", str(tmp_path / "new")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/", headers={"Accept-Language": "nb"}, timeout=10)
                break
            except (requests.ConnectionError, requests.ReadTimeout):
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert r.status_code == 200 and "Ingen park ennå" in r.text and "aisym workbench init" in r.text
        js = requests.get(f"http://127.0.0.1:{port}/static/vendor/htmx/htmx.min.js", timeout=5)
        assert js.status_code == 200 and len(js.content) > 10_000
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0].decode()
    assert "applied" in out and "database migrations" in out


def test_the_facilitator_signs_in_to_the_served_workbench_with_the_written_password(served):
    base, pw_file = served
    user, password, _ = (line.split(": ", 1)[1] for line in pw_file.read_text().splitlines())
    s = requests.Session()
    page = s.get(base + "/accounts/login/", timeout=5)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    # the cookies are Secure: requests keeps them from plain http, a browser sends them to localhost
    cookie = f"csrftoken={page.cookies['csrftoken']}"
    r = s.post(base + "/accounts/login/", data={"csrfmiddlewaretoken": token, "username": user, "password": password},
               headers={"Cookie": cookie, "Referer": base + "/accounts/login/"}, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[:500]
    session = r.cookies["sessionid"]
    park = requests.get(base + "/parks/park_a/", headers={"Cookie": f"sessionid={session}"}, timeout=5)
    assert park.status_code == 200 and "Fish farm" in park.text and "Biogas plant" in park.text


def test_export_writes_a_park_file_the_cli_reads(tmp_path):
    from aisym.park.graph import load_graph

    assert aisym("init", str(DATA / "two_parks_a.yaml"), "--dir", str(tmp_path)).returncode == 0
    r = aisym("export", "park_a", "-o", str(tmp_path / "out.yaml"), "--dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    g = load_graph(tmp_path / "out.yaml")
    assert [c.id for c in g.doc.companies] == ["fish", "biogas"] and g.doc.companies[0].outputs[0].cost == "450 NOK/t"
    missing = aisym("export", "nowhere", "--dir", str(tmp_path))
    assert missing.returncode == 2 and missing.stderr.strip() == "park: no park 'nowhere' in the workbench (parks: park_a)"
