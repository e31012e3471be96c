"""Mutation benchmark of the park checks and what-if rules of issue 22 (findings 6, 7 and 10):
would their tests notice a wrong rule?

The companion of ``bench_mutants.py`` (the physics of the kernel, compiler and LP), with the same
method: each mutant is one meaningful change, applied as a source patch to a temporary copy of
the packages, and killed when the tests of these rules fail on it (Numba off).

``.venv/bin/python benchmarks/bench_mutants_whatif.py [--only NAME,...] [--list]``
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

B, OUT = "aisym/park/graph/build.py", "aisym/park/graph/outlets.py"
W, U = "sim_env/graph/whatif.py", "sim_env/graph/units.py"
TESTS = ["tests/sim_env/test_validation_outlets.py", "tests/sim_env/test_graph_whatif_links.py",
         "tests/sim_env/test_graph_units.py"]

# (name, file, text, replacement): each text occurs exactly once in its file
MUTANTS = [
    ("validation: a disabled exchange counts as an outlet (finding 6)", OUT,
     "k for link in out if link.enabled for k in takers(", "k for link in out for k in takers("),
    ("validation: a unit's input that neither follows nor has a backup takes a push (finding 6)", OUT,
     "(asks or port.backup is not None or (", "(True or ("),
    ("validation: a must-run unit with no outlet is only noted (finding 6)", B,
     "elif not reached and must_run:", "elif False:"),
    ("whatif: a port holding a market and a plant's output counts as a seller (finding 7)", W,
     "return bool(members) and all(ok(t, priced) for t, priced in members)",
     "return any(ok(t, priced) for t, priced in members)"),
    ("whatif: an asset holding a market makes all its links trade (finding 7)", W,
     "return {link.id for link in graph.links if only(link.src, (\"out\", \"both\"), sells)",
     "return {link.id for link in graph.links if any(kind[k][0] == \"market\" for k in kind "
     "if k.split('.')[0] == link.src.split('.')[0])"),
    ("whatif: sales to a market go off with the links (findings 6, 7)", W,
     "\n            or only(link.dst, (\"in\", \"both\"), lambda t, _: t == \"market\")}", "}"),
    ("units: every carrier counted in one unit (finding 10)", U, "    return amount_unit(p.carrier.resource)\n",
     "    return \"units\"\n"),
    ("units: a demand's shortfall not attributed to its unit (finding 10)", U,
     "short = max(float(needs[n] - act[n]), 0.0)", "short = 0.0"),
]


def _run(tree: Path, timeout: float) -> tuple[bool, str]:
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "--noconftest", "-p", "no:cacheprovider", *TESTS,
                            "-k", "not twin_run"], cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return True, "timed out (counted as killed)"
    failed = [ln.split("::")[-1].split(" ")[0] for ln in r.stdout.splitlines() if ln.startswith("FAILED")]
    return r.returncode != 0, (failed[0] if failed else (r.stdout.strip().splitlines() or [""])[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="comma-separated substrings of mutant names")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--timeout", type=float, default=600.0)
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
        for t in TESTS:
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
            print(f"{name:90s} {'yes' if dead else 'NO':4s} {why if dead else ''}", flush=True)
        print(f"\nkilled {killed} of {len(chosen)} mutants ({100 * killed / max(len(chosen), 1):.0f} %)")


if __name__ == "__main__":
    main()
