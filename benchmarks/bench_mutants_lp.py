"""Mutation benchmark of the optimum's rules of issue 22 (item 2: the LP means what the kernel
means; MPC's end-of-plan rule and the year's): would their tests notice a wrong rule?

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

LP, PY, WIN = "sim_env/graph/lp.py", "sim_env/graph/pypsa_export.py", "sim_env/graph/lp_windows.py"
INFEASIBLE = "tests/sim_env/test_graph_lp_infeasible.py"
TESTS = ["tests/sim_env/test_graph_lp_windows.py",
         "tests/sim_env/physics/test_lost_input.py", "tests/sim_env/test_graph_lp_mpc_end.py",
         "tests/sim_env/test_graph_lp_year_end.py", f"{INFEASIBLE}::test_a_store_that_must_end_full_but_loses_heat_is_named",
         f"{INFEASIBLE}::test_a_lossy_store_over_a_year_solves_from_highs_own_start",
         f"{INFEASIBLE}::test_a_market_whose_export_pays_more_than_its_import_costs_is_bounded"]

# (name, file, text, replacement): each text occurs exactly once in its file
MUTANTS = [
    ("lp_windows: the windows ignore a capacity set on the year before its first solve", WIN,
     "            getattr(win, how)(exchange, value)", "            pass"),
    ("lp_windows: each window gets the whole solve's time limit", WIN,
     'h.setOptionValue("time_limit", max(limit - (time.perf_counter() - t0), 1e-3))\n        # its shorter',
     'h.setOptionValue("time_limit", limit)\n        # its shorter'),
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
     "short = m.cols_(0.0, hi, voll, k=1)", "short = m.cols_(0.0, 0.0 * hi, voll, k=1)"),
    ("lp: a rolling plan's end target free to miss", LP,
     "short = m.cols_(0.0, hi, voll, k=1)", "short = m.cols_(0.0, hi, 0.0 * voll, k=1)"),
    ("lp: a soft end target's price read from the level's bound, not its row", LP,
     "r = self._end_row.get(n)", "r = None"),
    ("lp: the year's end rule hard again (infeasible on a lossy store nothing refills)", LP,
     "            self._terminal(n, b, lvl, min(s0, cap))\n", "            m.lo[-3][-1] = min(s0, cap)\n"),
    ("lp: the year's end rule dropped (the store ends free)", LP,
     'if rule == "no_less_than_start":  # soft', 'if False:  # soft'),
    ("lp: the end shortfall's cost left out of what the objective says it holds", LP,
     "total += amount * price", "total += 0.0"),
    ("lp: a store whose end rule cannot be met is not named", LP,
     "            if n in self._file_end:", "            if False:"),
    ("lp: an infeasible re-solve read as a solution (the last one's values)", LP,
     "primal_solution_status != FEASIBLE_POINT", "primal_solution_status == 0"),
    ("lp: primal_only's integer column free (it adds to the objective)", LP,
     "self._m.cols_(0.0, 0.0, 0.0, integer=True, k=1)", "self._m.cols_(0.0, 1.0, -1.0, integer=True, k=1)"),
    ("pypsa: the year's end rule hard again", PY,
     "short = m.add_variables(lower=0.0, upper=target,", "short = m.add_variables(lower=0.0, upper=0.0 * target,"),
    ("lp_windows: the LP's fractional on/off taken for the MILP's", WIN,
     "if not len(ints) or np.all(", "if True or np.all("),
    ("lp: a re-solve after the windows' start runs the held LP as it is (on/off left continuous)", LP,
     "        if self._warm or self._lp_form:", "        if self._warm:"),
    ("lp_windows: the windows' basis not handed to HiGHS (its own start)", WIN,
     "from_basis(h, run, basis, say)", "from_basis(h, run, None, say)"),
    ("lp_windows: each window from the year's start levels, not the last window's end", WIN,
     "state0=s0, terminal=end_rule", "state0=opt.state0, terminal=end_rule"),
    ("lp_windows: the last window's bases dropped (single columns and rows left to default)", WIN,
     "        if last:  # the horizon's single columns", "        if False:  # the horizon's single columns"),
    ("lp_windows: a window not started from its parts' basis (HiGHS's own start)", WIN,
     "start = window_basis(win, part, None, parts) if", "start = None if"),
    ("lp_windows: the parts' chain started afresh in every window", WIN,
     "start = window_basis(win, part, None, parts) if", "start = window_basis(win, part, None, _Chain()) if"),
    ("lp_windows: the last part ends under the year's rule, not its window's price", WIN,
     "end_price=opt.end_price if last else free_end", "end_price=None if last else free_end"),
    ("lp_windows: the horizon's last window from HiGHS's own start (its end rows unmatched)", WIN,
     "        if win.T != self.model.T or win.T < 2:", "        if True:"),
    ("lp: the end prices re-solved under HiGHS's own options (it scales afresh and loses the basis)", LP,
     "        from_basis(h, lambda h: h.run() if progress is None else",
     "        (lambda run: run(h))(lambda h: h.run() if progress is None else"),
    ("lp: HiGHS's presolve trusted where it calls a model with a solution infeasible", LP,
     '    if h.getModelStatus() not in _NO_ANSWER or presolve == "off":', "    if True:"),
    ("lp: the second solve presolves again", LP,
     '    h.setOptionValue("presolve", "off")', '    h.setOptionValue("presolve", presolve)'),
    ("lp: a market's import not bounded by what the park takes from its bus (it buys to sell)", LP,
     "        if not np.any(C[:, NV[n, V_EXPORT]] > buy):", "        if True:"),
    ("lp: a market's import bounded by all that crosses its bus, its own export included", LP,
     "(vals < 0.0) & ~np.isin(cols, sold)", "(vals < 0.0)"),
]


if __name__ == "__main__":
    main(__doc__, MUTANTS, TESTS, files=[INFEASIBLE])
