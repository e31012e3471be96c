"""Mutation benchmark of the optimum's rules of issue 22 (item 2: the LP means what the kernel
means; MPC's end-of-plan rule): would their tests notice a wrong rule?

The companion of ``bench_mutants.py`` (the physics of the kernel, compiler and LP), with the same
method and runner: each mutant is one meaningful change to ``sim_env/graph/lp.py``,
``pypsa_export.py`` or ``baselines.py``, applied as a source patch to a temporary copy of the
packages, and killed when the tests below fail on it (Numba off).

``.venv/bin/python benchmarks/bench_mutants_lp.py [--only NAME,...] [--list]``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants_runner import main  # a sibling script, not a package

LP, PY = "sim_env/graph/lp.py", "sim_env/graph/pypsa_export.py"
TESTS = ["tests/sim_env/physics/test_lost_input.py", "tests/sim_env/test_graph_lp_mpc_end.py"]

# (name, file, text, replacement): each text occurs exactly once in its file
MUTANTS = [
    ("lp: VOLL on converter inputs ignored (no slack on an input taken on demand)", LP,
     "            elif cp.PD[p] == 0 and cp.PDEF[p] == 1:  # taken on demand",
     "            elif False:  # taken on demand"),
    ("lp: a converter input's lost load free", LP,
     "lost = m.cols_(0.0, INF, self.C[:, cp.BI[b, B_VOLL]])", "lost = m.cols_(0.0, INF, 0.0)"),
    ("lp: a rule-driven unit fed by lost load keeps its reward", LP,
     "2.0 / np.maximum(aL, 1e-300)", "1.0 / np.maximum(aL, 1e-300)"),
    ("pypsa: no lost-load generator on a converter input taken on demand", PY,
     "(cp.PBC[p] >= 0 or cp.PDEF[p] == 1)", "(cp.PBC[p] >= 0)"),
    ("lp: a rolling plan's end target hard again (MPC infeasible on a lossy store)", LP,
     "short = m.cols_(0.0, hi, voll)", "short = m.cols_(0.0, 0.0 * hi, voll)"),
    ("lp: a rolling plan's end target free to miss", LP,
     "short = m.cols_(0.0, hi, voll)", "short = m.cols_(0.0, hi, 0.0 * voll)"),
    ("lp: a soft end target's price read from the level's bound, not its row", LP,
     "r = self._end_row.get(n)", "r = None"),
]


if __name__ == "__main__":
    main(__doc__, MUTANTS, TESTS)
