"""Mutation benchmark of the forecasts' refit (issue 21, the refit's speed): would their tests notice
a wrong rule?

The companion of ``bench_mutants.py``, with its method: each mutant is one meaningful change, applied
as a source patch to a temporary copy of the packages, and killed when the tests of these rules fail
on it. Numba stays on (statsforecast's models are Numba code: without it one test takes minutes).

``.venv/bin/python benchmarks/bench_mutants_forecast.py [--only NAME,...] [--list]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mutants import ROOT, _copy  # a sibling script, not a package

M, R = "sim_env/forecast/models.py", "cloud/forecast/refit.py"
TESTS = ["tests/sim_env/test_forecast_speed.py", "tests/cloud/test_forecast_refit.py", "tests/sim_env/test_forecast.py"]

# (name, file, text, replacement): each text occurs exactly once in its file
MUTANTS = [
    ("mstl: the ARIMA order searched again at every origin", M, "        if order:\n", "        if False:\n"),
    ("mstl: an order that fails a later history not searched again", M,
     "                order.clear()", "                raise"),
    ("stl: statsmodels' loess jump of 1, not R's ceil(window / 10)", M,
     '"seasonal_jump": -(-seasonal // 10)', '"seasonal_jump": 1'),
    ("stl: the trend window left even", M, "    trend += 1 - trend % 2\n", "\n"),
    ("mstl: the seasons repeated ahead a step out of phase", M,
     "row[y.size - s + np.arange(h) % s]", "row[y.size - s - 1 + np.arange(h) % s]"),
    ("refit pool: the results handed back out of order", R,
     "yield from pool.map(_fit_one, *zip(*args, strict=True))",
     "yield from reversed(list(pool.map(_fit_one, *zip(*args, strict=True))))"),
    ("refit pool: a worker's failure does not keep the last good model", R,
     '            o = Outcome(f, hist, "none", msg + "; no earlier model")\n            if last:',
     '            o = Outcome(f, hist, "none", msg + "; no earlier model")\n            if False:'),
]


def _run(tree: Path, timeout: float) -> tuple[bool, str]:
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "--noconftest", "-p", "no:cacheprovider", *TESTS],
                           cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return True, "timed out (counted as killed)"
    failed = [ln.split("::")[-1].split(" ")[0] for ln in r.stdout.splitlines() if ln.startswith("FAILED")]
    return r.returncode != 0, (failed[0] if failed else (r.stdout.strip().splitlines() or [""])[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="comma-separated substrings of mutant names")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--timeout", type=float, default=900.0)
    a = ap.parse_args()
    chosen = [m for m in MUTANTS if not a.only or any(s in m[0] for s in a.only.split(","))]
    if a.list:
        print("\n".join(m[0] for m in chosen))
        return
    for name, f, old, _ in chosen:
        if (n := (ROOT / f).read_text(encoding="utf-8").count(old)) != 1:
            sys.exit(f"{f}: mutant '{name}': its text occurs {n} times (expected once); update this file")
    with tempfile.TemporaryDirectory(prefix="aisym-mutants-") as tmp:
        tree = Path(tmp)
        _copy(tree)
        shutil.copytree(ROOT / "cloud", tree / "cloud", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for t in [*TESTS, "tests/cloud/__init__.py"]:
            (tree / t).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / t, tree / t)
        dead, why = _run(tree, a.timeout)
        if dead:
            sys.exit(f"the tests fail without any mutant ({why}): fix them first")
        killed = 0
        for name, f, old, new in chosen:
            path = tree / f
            src = path.read_text(encoding="utf-8")
            path.write_text(src.replace(old, new), encoding="utf-8")
            try:
                dead, why = _run(tree, a.timeout)
            finally:
                path.write_text(src, encoding="utf-8")
            killed += dead
            print(f"{name:70s} {'yes' if dead else 'NO':4s} {why if dead else ''}", flush=True)
        print(f"\nkilled {killed} of {len(chosen)} mutants ({100 * killed / max(len(chosen), 1):.0f} %)")


if __name__ == "__main__":
    main()
