"""Mutation benchmark of issue 23 item 1 (the knowledge base's rules and the recall benchmark's
leakage guard): would their tests notice a wrong rule?

The companion of ``bench_mutants.py``, with its method: each mutant is one meaningful change,
applied as a source patch to a temporary copy of the packages (and of the recall benchmark, which
the guard's test loads), and killed when the tests of these rules fail on it.

``.venv/bin/python benchmarks/bench_mutants_knowledge.py [--only NAME,...] [--list]``
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

K, B = "sim_env/match/knowledge.py", "benchmarks/bench_match_recall.py"
TESTS = ["tests/sim_env/test_match_knowledge.py", "tests/sim_env/test_match_knowledge_rules.py",
         "tests/sim_env/test_match_knowledge_guard.py"]

# (name, file, text, replacement): each text occurs exactly once in its file
MUTANTS = [
    ("knowledge: an EWC code not in the List of Waste accepted", K,
     "if classifications.ewc(c.rstrip(\"*\")) is None:", "if False:"),
    ("knowledge: a NACE code not in nace.csv accepted", K, "if classifications.nace(c) is None:", "if False:"),
    ("knowledge: an entry without a source accepted", K, "if not _SOURCE.search(s):", "if False:"),
    ("knowledge: a heat supply's temperature band ignored", K,
     "        found = _in_band(found, supply.temperature_c)\n", "        pass\n"),
    ("knowledge: a band's edges read as exclusive", K,
     "u.temperature_c[0] <= temperature_c <= u.temperature_c[1]", "u.temperature_c[0] < temperature_c < u.temperature_c[1]"),
    ("knowledge: a reversed temperature band accepted", K, "if v is not None and not v[0] < v[1]:", "if False:"),
    ("knowledge: a temperature band on a residue accepted", K,
     "if u.temperature_c is not None and u.resource not in _THERMAL:", "if False:"),
    ("knowledge: a listed division weighs as much as a listed class", K,
     "(_DIVISION if len(p.rstrip(\".\")) == 2 else 1.0)", "1.0"),
    ("guard: a held-out park's own entries kept", K,
     "return Selection(u for u in uses if not all(about(s, names, refs) for s in u.sources))", "return Selection(uses)"),
    ("guard: an entry with one independent source dropped", K,
     "return Selection(u for u in uses if not all(about(s, names, refs) for s in u.sources))",
     "return Selection(u for u in uses if not any(about(s, names, refs) for s in u.sources))"),
    ("guard: the park's name not matched", K, "if any(re.search(rf\"\\b{re.escape(_plain(n))}\\b\", plain)",
     "if False and any(re.search(rf\"\\b{re.escape(_plain(n))}\\b\", plain)"),
    ("guard: the DOIs the park's exchanges cite not matched", K,
     "return bool(_refs(source) & {r.lower().rstrip(\"/.,;)\") for r in refs})", "return False"),
    ("guard: the benchmark ranks a fold with the whole knowledge base", B,
     "G = np.array([ranking.features(x.giver_nace, x.resource, c, prior, fold) for _, c in cands])",
     "G = np.array([ranking.features(x.giver_nace, x.resource, c, prior, uses) for _, c in cands])"),
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
        for t in [*TESTS, B, "tests/sim_env/match_data/exchanges_small.csv"]:
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
