"""Build times of AISYM's optimum against PyPSA's for the same park, week and year.

    python benchmarks/bench_graph_build.py [--no-year] [--threads N] [--repeat N]

For Kråkøya and the Kalundborg-like park, over a week (from hour 336, the third week of January)
and a year (from hour 0), it builds the perfect-foresight LP relaxation

- with AISYM: :class:`sim_env.graph.lp.Optimum` (``build_s``: the rows and columns from the
  compiled arrays, and the pass of the matrix to HiGHS);
- with PyPSA: :func:`sim_env.graph.pypsa_export.to_pypsa` (the network's construction), then
  ``n.optimize.create_model()`` (linopy's model) and the AISYM extra constraints, timed apart;
- with linopy alone: AISYM's own rows and columns handed to linopy as they are ("linopy
  direct"), which tells linopy's share of PyPSA's time from PyPSA's;

keeps the best of ``--repeat`` builds of each (the machine's cores are shared), solves both with
HiGHS (PyPSA through linopy's direct highspy interface) and prints a rich table:
sizes, the times side by side with their ratios, HiGHS's own time inside PyPSA's solve, and both
objectives with their relative difference.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HORIZONS = (("week", 168, 336), ("year", 8760, 0))  # (label, hours, first hour)


def _aisym(cp, coef, T: int, start: int, threads: int, repeat: int) -> dict:
    from sim_env.graph.lp import Optimum

    builds = []
    for _ in range(repeat):  # the best of ``repeat`` builds; the last one is solved
        opt = Optimum(cp, coef, T, start=start, relax=True, threads=threads)
        builds.append(opt.build_s)
    sol = opt.solve(time_limit_s=3600.0)
    return {"build": min(builds), "solve": sol.solve_s, "objective": sol.objective, "rows": opt.n_rows,
            "cols": opt.n_cols, "status": sol.status}


def _pypsa(cp, coef, T: int, start: int, threads: int, repeat: int) -> dict:
    from sim_env.graph.pypsa_export import extra_functionality, to_pypsa

    times = []
    for _ in range(repeat):  # the best of ``repeat`` builds, each stage apart; the last one is solved
        t0 = time.perf_counter()
        n = to_pypsa(cp, coef, T, start=start)
        t1 = time.perf_counter()
        n.optimize.create_model(include_objective_constant=False)
        t2 = time.perf_counter()
        extra_functionality(n, n.snapshots)
        t3 = time.perf_counter()
        times.append((t1 - t0, t2 - t1, t3 - t2))
    t3 = time.perf_counter()
    status, cond = n.optimize.solve_model(solver_name="highs", io_api="direct", log_to_console=False, threads=threads,
                                          time_limit=3600.0)
    t4 = time.perf_counter()
    h = n.model.solver_model
    best = np.min(np.array(times), axis=0)
    return {"network": best[0], "linopy": best[1], "extra": best[2], "solve": t4 - t3, "highs": h.getRunTime(),
            "objective": float(n.objective), "rows": n.model.ncons, "cols": n.model.nvars, "status": f"{status}/{cond}"}


def _linopy_direct(cp, coef, T: int, start: int, threads: int, repeat: int) -> dict:
    """AISYM's own rows and columns handed to linopy as they are: linopy's cost for the same LP, without PyPSA."""
    import linopy
    import pandas as pd
    import xarray as xr

    from sim_env.graph.lp import Optimum

    opt = Optimum(cp, coef, T, start=start, relax=True, threads=threads)
    M = opt._m  # the COO blocks the Optimum passed to HiGHS (read only)
    rows, cols, vals = np.concatenate(M.rows), np.concatenate(M.cols), np.concatenate(M.vals)
    rlo, rhi = np.concatenate(M.rlo), np.concatenate(M.rhi)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        order = np.lexsort((cols, rows))
        r, c, v = rows[order], cols[order], vals[order]
        count = np.bincount(r, minlength=M.m)
        first = np.zeros(M.m + 1, dtype=np.int64)
        np.cumsum(count, out=first[1:])
        term = np.arange(len(r)) - first[r]
        m = linopy.Model()
        col = pd.RangeIndex(M.n, name="col")
        x = m.add_variables(lower=opt.col_lower, upper=opt.col_upper, coords=[col], name="x")
        coeffs = np.zeros((M.m, count.max()))
        labels = np.full((M.m, count.max()), -1, dtype=np.int64)
        coeffs[r, term], labels[r, term] = v, x.labels.values[c]
        expr = linopy.LinearExpression(xr.Dataset({"coeffs": (("row", "_term"), coeffs), "vars": (("row", "_term"), labels)},
                                                  coords={"row": np.arange(M.m)}), m)
        eq = np.nonzero(rlo == rhi)[0]  # every other row of the LP is "≤" (its lower bound is −inf)
        le = np.nonzero(rlo != rhi)[0]
        m.add_constraints(expr.sel(row=eq) == xr.DataArray(rhi[eq], coords={"row": eq}), name="eq")
        m.add_constraints(expr.sel(row=le) <= xr.DataArray(rhi[le], coords={"row": le}), name="le")
        m.add_objective((xr.DataArray(opt.col_cost, coords=[col]) * x).sum())
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    m.solve(solver_name="highs", io_api="direct", log_to_console=False, threads=threads, time_limit=3600.0)
    return {"build": min(times), "solve": time.perf_counter() - t0, "objective": float(m.objective.value)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-year", action="store_true", help="weeks only")
    ap.add_argument("--threads", type=int, default=1, help="HiGHS threads (both)")
    ap.add_argument("--repeat", type=int, default=3, help="builds per model, the best kept (2 cores shared: noisy)")
    args = ap.parse_args()
    from rich.console import Console
    from rich.table import Table

    from sim_env.graph.twin import resolve

    logging.getLogger("pypsa").setLevel(logging.WARNING)
    logging.getLogger("linopy").setLevel(logging.WARNING)
    warnings.simplefilter("ignore", FutureWarning)
    t0 = time.perf_counter()
    import pypsa  # noqa: F401  (its import, once, is no part of a build)

    import_s = time.perf_counter() - t0
    horizons = HORIZONS[:1] if args.no_year else HORIZONS
    warm = resolve(ROOT / "aisym" / "parks" / "kraakoya.yaml")
    for run in (_aisym, _pypsa, _linopy_direct):  # first calls load code paths (xarray, linopy, highspy) once, untimed
        run(warm, warm.exogenous(seed=0), 24, 0, args.threads, 1)
    build = Table(title=f"Model build: AISYM Optimum vs PyPSA (to_pypsa + linopy), LP relaxation, {args.threads} thread(s)")
    for col in ("park", "horizon", "AISYM rows × cols", "PyPSA rows × cols", "AISYM build s", "PyPSA network s",
                "PyPSA linopy s", "PyPSA extra s", "network / AISYM", "linopy / AISYM", "PyPSA total / AISYM",
                "linopy direct s", "direct / AISYM"):
        build.add_column(col, justify="left" if col in ("park", "horizon") else "right")
    solve = Table(title="Solve (HiGHS) and objectives")
    for col in ("park", "horizon", "AISYM solve s", "PyPSA solve s", "of which HiGHS s", "solve ratio",
                "AISYM objective", "PyPSA objective", "relative difference", "linopy direct rel. diff."):
        solve.add_column(col, justify="left" if col in ("park", "horizon") else "right")
    for name in ("kraakoya", "kalundborg"):
        cp = resolve(ROOT / "aisym" / "parks" / f"{name}.yaml")
        coef = cp.exogenous(seed=0)
        for label, T, start in horizons:
            a = _aisym(cp, coef, T, start, args.threads, args.repeat)
            p = _pypsa(cp, coef, T, start, args.threads, args.repeat)
            d = _linopy_direct(cp, coef, T, start, args.threads, args.repeat)
            total = p["network"] + p["linopy"] + p["extra"]
            ab = a["build"]
            build.add_row(name, f"{label} ({T} h)", f"{a['rows']:,} × {a['cols']:,}", f"{p['rows']:,} × {p['cols']:,}",
                          f"{ab:.3f}", f"{p['network']:.3f}", f"{p['linopy']:.3f}", f"{p['extra']:.3f}",
                          f"{p['network'] / ab:.1f}×", f"{p['linopy'] / ab:.1f}×", f"{total / ab:.1f}×",
                          f"{d['build']:.3f}", f"{d['build'] / ab:.1f}×")
            rel = abs(p["objective"] - a["objective"]) / max(abs(a["objective"]), 1e-12)
            solve.add_row(name, f"{label} ({T} h)", f"{a['solve']:.3f}", f"{p['solve']:.3f}", f"{p['highs']:.3f}",
                          f"{p['solve'] / a['solve']:.1f}×", f"{a['objective']:,.2f}", f"{p['objective']:,.2f}", f"{rel:.1e}",
                          f"{abs(d['objective'] - a['objective']) / max(abs(a['objective']), 1e-12):.1e}")
            print(f"{name} {label}: AISYM {a['status']}, PyPSA {p['status']}", flush=True)
    console = Console(width=240)
    console.print(build)
    console.print(solve)
    console.print(f"import pypsa (once, not counted): {import_s:.2f} s")


if __name__ == "__main__":
    main()
