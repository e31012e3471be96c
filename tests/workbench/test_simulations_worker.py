"""A twin job that dies is reported as failed and can be tried again; it never shows half a result as done.

The workbench is served as a user serves it (``aisym workbench serve``: waitress, SQLite in a
folder); each job runs in its own worker process (``python -m cloud.workbench.simulations.worker``).
The test kills the worker with SIGKILL in the middle of its run, and kills the server itself and
starts it again; the job page must say "failed" with why, and "Try again" must end in a result.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .test_browser import Server

DATA = Path(__file__).parent / "data"
pytestmark = [pytest.mark.timeout(240), pytest.mark.expensive]  # a served workbench and worker processes


class Web:
    """A signed-in session on the served workbench (its cookies are Secure: sent here over http by hand)."""

    def __init__(self, base: str, user: str, password: str) -> None:
        self.base, self.s = base, requests.Session()
        page = self.get("/accounts/login/")
        r = self.post("/accounts/login/", {"username": user, "password": password}, page.text)
        assert r.status_code == 302, r.text[:300]

    def _insecure(self) -> None:
        for c in self.s.cookies:
            c.secure = False

    def get(self, path: str) -> requests.Response:
        r = self.s.get(self.base + path, timeout=20, allow_redirects=False)
        self._insecure()
        return r

    def post(self, path: str, data: dict, form_page: str | None = None) -> requests.Response:
        page = form_page if form_page is not None else self.get("/accounts/tokens/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        r = self.s.post(self.base + path, data={**data, "csrfmiddlewaretoken": token}, timeout=60,
                        headers={"Referer": self.base + path}, allow_redirects=False)
        self._insecure()
        return r


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("twin-workbench")
    env = {k: v for k, v in os.environ.items()
           if k not in ("AISYM_WORKBENCH_DIR", "DJANGO_SETTINGS_MODULE", "AISYM_WORKBENCH_TWIN_WORKER")}
    env["AISYM_WORKBENCH_TWIN_SLOTS"] = "1"
    # a fresh worker per job: a warm one (the park run alone kept, the kernels loaded) finishes a job
    # in milliseconds, before the test can catch it running to kill it or its server
    env["AISYM_WORKBENCH_TWIN_LINGER_S"] = "0"
    init = subprocess.run([sys.executable, "-m", "aisym", "workbench", "init", str(DATA / "bakery_park.yaml"),
                           "--dir", str(folder)], capture_output=True, text=True, env=env, timeout=120)
    assert init.returncode == 0, init.stderr
    s = Server(folder, env)
    s.secrets = dict(line.split(": ", 1) for line in (folder / "workbench-bakery_park-facilitator.txt")
                     .read_text().splitlines())
    s.start()
    yield s
    if s.proc.poll() is None:
        s.stop()


def _keys() -> list[str]:
    """The bakery park's candidates by engine.key, from its file as the CLI ranks it."""
    from aisym.park.graph.loader import parse_graph
    from cloud.workbench.engine import key
    from sim_env.match.park import match_park

    g = parse_graph((DATA / "bakery_park.yaml").read_text(encoding="utf-8"), "bakery_park.yaml")
    return [key(c) for c in match_park(g)[0] if c.existing is None]


def _row(folder: Path, job: int) -> dict:
    with sqlite3.connect(folder / "workbench.sqlite3", timeout=10) as db:
        db.row_factory = sqlite3.Row
        return dict(db.execute("SELECT state, pid, result, error FROM simulations_job WHERE id = ?", [job]).fetchone())


def _start_running(server, web: Web, hours: float) -> int:
    """Ask for every candidate; return the job once its worker is simulating."""
    r = web.post("/parks/bakery_park/twin/test/", {"key": _keys(), "hours": hours})
    assert r.status_code == 302, r.text[-500:]
    job = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = _row(server.folder, job)
        part = web.get(f"/parks/bakery_park/twin/jobs/{job}/progress/").text
        assert row["result"] is None and "What the twin says" not in part  # never half a result
        if row["state"] == "running" and row["pid"]:
            return job
        assert row["state"] == "queued", row
        time.sleep(0.05)
    pytest.fail("the worker never started")


def _until_finished(web: Web, job: int) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        part = web.get(f"/parks/bakery_park/twin/jobs/{job}/progress/").text
        state = re.search(r'data-state="(\w+)"', part).group(1)
        if state in ("done", "failed"):
            return part
        time.sleep(0.2)
    pytest.fail(f"job {job} did not finish in 120 s")


def _retry(web: Web, job: int) -> int:
    r = web.post(f"/parks/bakery_park/twin/jobs/{job}/retry/", {})
    assert r.status_code == 302
    new = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert new != job
    return new


def test_a_killed_worker_fails_its_job_and_a_retry_finishes_it(served):
    web = Web(served.base, served.secrets["user"], served.secrets["password"])
    job = _start_running(served, web, hours=720.0)
    pid = _row(served.folder, job)["pid"]
    os.kill(pid, signal.SIGKILL)
    part = _until_finished(web, job)
    row = _row(served.folder, job)
    # said by the server that reaped it (the signal) or by the first read that found it gone, whichever came first
    assert row["state"] == "failed" and row["result"] is None and ("SIGKILL" in row["error"] or "gone" in row["error"])
    assert "The test failed" in part and row["error"].split(";")[0] in part and "Try again" in part
    t0 = time.monotonic()
    new = _retry(web, job)
    part = _until_finished(web, new)
    assert _row(served.folder, new)["state"] == "done" and "What the twin says" in part
    print(f"killed worker: job {job} failed ({row['error'][:60]}...); retried as job {new}, done in "
          f"{time.monotonic() - t0:.1f} s")


def test_a_server_restart_fails_the_running_job_and_a_retry_finishes_it(served):
    web = Web(served.base, served.secrets["user"], served.secrets["password"])
    job = _start_running(served, web, hours=721.0)  # not the cached month of the test above
    pid = _row(served.folder, job)["pid"]
    served.proc.kill()  # a crash: no clean shutdown
    served.proc.wait(timeout=20)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and b"simulations.worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
        assert time.monotonic() < deadline, "the worker outlived its server"
        time.sleep(0.05)
    served.start()
    web = Web(served.base, served.secrets["user"], served.secrets["password"])
    page = web.get(f"/parks/bakery_park/twin/jobs/{job}/").text
    row = _row(served.folder, job)
    assert row["state"] == "failed" and row["result"] is None and "is gone" in row["error"], row
    assert "The test failed" in page and "Try again" in page and "What the twin says" not in page
    new = _retry(web, job)
    assert "What the twin says" in _until_finished(web, new)
