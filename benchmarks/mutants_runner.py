"""The mutation benchmarks' one runner (``bench_mutants*.py``): each script states its mutants, the
tests that must kill them and the files those tests need; this copies the packages to a
temporary tree, checks that every patch still applies once, runs the tests unmutated (they must
pass), then once per mutant with its patch applied, and prints the table and how many were killed.

A mutant is ``(name, file, text, replacement)``; ``text`` occurs exactly once in ``file``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def copy_packages(dst: Path) -> None:
    """``aisym`` and ``sim_env`` (no caches), the test packages' ``__init__`` and the physics library."""
    for d in ("aisym", "sim_env"):
        shutil.copytree(ROOT / d, dst / d, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for f in ("tests/__init__.py", "tests/sim_env/__init__.py"):
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / f, dst / f)
    shutil.copytree(ROOT / "tests/sim_env/physics", dst / "tests/sim_env/physics",
                    ignore=shutil.ignore_patterns("__pycache__"))


def copy_files(dst: Path, files: Sequence[str]) -> None:
    for f in files:
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / f, dst / f)


def run_tests(tree: Path, tests: Sequence[str], timeout: float, *, no_jit: bool) -> tuple[bool, str]:
    """``(failed, why)``: pytest on ``tests`` in ``tree`` (a timeout counts as failed: the mutant hangs)."""
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    if no_jit:  # the small parks need no compile; a mutant's kernel would be compiled anew each time
        env["NUMBA_DISABLE_JIT"] = "1"
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "--noconftest", "-p", "no:cacheprovider",
                            *tests], cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return True, "timed out (counted as killed)"
    failed = [ln.split("::")[-1].split(" ")[0] for ln in r.stdout.splitlines() if ln.startswith("FAILED")]
    return r.returncode != 0, (failed[0] if failed else (r.stdout.strip().splitlines() or [""])[-1])


def main(doc: str, mutants: list, tests: Sequence[str], *, files: Sequence[str] = (), trees: Sequence[str] = (),
         no_jit: bool = True, timeout: float = 600.0, width: int = 70) -> None:
    """The command line of one mutation benchmark.

    :param doc: the script's docstring (its first paragraph is the help)
    :param tests: pytest arguments (files, ``-k`` expressions) run in the copy
    :param files: more files the tests need, copied as they are
    :param trees: more folders the tests need (``cloud``), copied without caches
    """
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--only", default="", help="comma-separated substrings of mutant names")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--timeout", type=float, default=timeout)
    a = ap.parse_args()
    chosen = [m for m in mutants if not a.only or any(s in m[0] for s in a.only.split(","))]
    if a.list:
        print("\n".join(m[0] for m in chosen))
        return
    for name, f, old, _ in chosen:  # every patch must still apply to today's source
        if (n := (ROOT / f).read_text(encoding="utf-8").count(old)) != 1:
            sys.exit(f"{f}: mutant '{name}': its text occurs {n} times (expected once); update its script")
    with tempfile.TemporaryDirectory(prefix="aisym-mutants-") as tmp:
        tree = Path(tmp)
        copy_packages(tree)
        for d in trees:
            shutil.copytree(ROOT / d, tree / d, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        copy_files(tree, [t for t in (*tests, *files) if not t.startswith("-") and (ROOT / t).is_file()])
        t0 = time.perf_counter()
        dead, why = run_tests(tree, tests, a.timeout, no_jit=no_jit)
        print(f"unmutated: {'tests FAIL: ' + why if dead else 'tests pass'} ({time.perf_counter() - t0:.0f} s)")
        if dead:
            sys.exit("the tests fail without any mutant: fix them first")
        killed = 0
        print(f"{'mutant':{width}s} {'killed':7s} by")
        for name, f, old, new in chosen:
            path = tree / f
            src = path.read_text(encoding="utf-8")
            path.write_text(src.replace(old, new), encoding="utf-8")
            try:
                dead, why = run_tests(tree, tests, a.timeout, no_jit=no_jit)
            finally:
                path.write_text(src, encoding="utf-8")
            killed += dead
            print(f"{name:{width}s} {'yes' if dead else 'NO':7s} {why if dead else ''}", flush=True)
        print(f"\nkilled {killed} of {len(chosen)} mutants ({100 * killed / max(len(chosen), 1):.0f} %)")
