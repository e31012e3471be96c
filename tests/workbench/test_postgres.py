"""The tenancy, hostile-input and API tests again, on a real PostgreSQL (``DATABASE_URL``).

They run in a child pytest, since Django reads its database from the environment once; the
child's summary line is checked so that "no test ran" cannot pass for green.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .postgres import Postgres

HERE = Path(__file__).parent
SUITES = ["test_row_security.py", "test_tenancy.py", "test_tenancy_matrix.py", "test_hostile_input.py", "test_api.py",
          "test_directory.py", "test_onboarding.py", "test_import.py", "test_park_page.py",
          "test_simulations_row_security.py"]

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def postgres():
    # not under pytest's own temp root: a pytest run (the child's) makes that root 0700, and the
    # postgres user would lose its data folder mid-run
    folder = Path(tempfile.mkdtemp(prefix="aisym-workbench-pg-"))
    try:
        pg = Postgres(folder).start()
    except FileNotFoundError as e:
        pytest.fail(str(e))
    yield pg
    pg.stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_the_tenancy_tests_pass_on_postgresql(postgres):
    env = {**os.environ, "DATABASE_URL": postgres.url}
    env.pop("AISYM_WORKBENCH_DIR", None)
    env.pop("PYTEST_ADDOPTS", None)  # the child's summary is read below: no durations table (test names say "failed")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                        *[str(HERE / s) for s in SUITES]], capture_output=True, text=True, env=env, timeout=280,
                       cwd=HERE.parents[1])
    tail = r.stdout[-3000:]
    log = (postgres.folder / "log").read_text()[-2000:]
    assert r.returncode == 0, tail + r.stderr[-2000:] + "\nPostgreSQL's log:\n" + log
    passed = int(re.search(r"(\d+) passed", tail).group(1))
    print(f"on PostgreSQL: {passed} tests passed ({', '.join(SUITES)})")
    assert passed >= 44 and "failed" not in tail and "skipped" not in tail and "error" not in tail.lower()
