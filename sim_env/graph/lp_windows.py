"""A starting basis for the year's LP from windows solved one after another (issue 22, item 7).

The year's model (:class:`~sim_env.graph.lp.Optimum`) couples its steps only through the stores'
levels. Solved window by window (a month each by default), each window starting at the levels
the last one ended with and leaving what it holds at its end at no value (the last window under
the year's own end rule), the windows give a schedule of the year, and their optimal bases,
put end to end, a basis of the year's LP: each window's rows hold only its own columns and the
previous window's last levels, so the year's basis matrix is block lower triangular with the
windows' basis matrices on its diagonal, hence nonsingular, and its basic solution is that
schedule, so it is primal feasible. HiGHS's primal simplex starts from it and ends at the year's
exact optimum: the windows only choose where the simplex starts, never the answer. The MILP's
on/off columns are relaxed for that solve; where the year's optimum has them all at 0 or 1 (both
shipped parks' years, which HiGHS solves at the root) it is the MILP's optimum, with the LP's
duals and basis; otherwise the MILP is solved as before.

Measured (``benchmarks/bench_graph_lp.py --goals``, docs/twin.md): the year's simplex from the
windows' basis takes 832 iterations on Kråkøya and 334 on Kalundborg; the year optimum 23–28 →
8–11 CPU s and 29–50 → 9–10.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import highspy
import numpy as np

from .compile import I_TYPE, T_STORAGE

if TYPE_CHECKING:
    from .lp import Optimum

MONTH = 720  # steps of a window (30 days of hours): Kråkøya's year 8.3 CPU s against 11.0 by
# fortnights and 13.7 by quarters (the year's simplex takes more iterations the more ends the
# windows leave to mend; longer windows cost more each)
PRIMAL = 4  # HiGHS's simplex_strategy: primal (the window basis is primal feasible, not dual)
# HiGHS's simplex_scale_strategy 0: no scaling. The windows' and the year's simplex from a basis run
# unscaled (Kråkøya's year 6.0–6.2 → 5.4–5.6 CPU s for the windows, a further 0.3 for the year; the
# same objective): HiGHS would scale each window's model and the year's afresh, about 0.3 s for
# the year alone, for a simplex of a few hundred iterations. A year that fails unscaled is solved
# again scaled (solve_from_windows); a window that fails leaves the year to HiGHS's own start.
UNSCALED = 0


# HiGHS's basis statuses by their codes, and the objects a HighsBasis takes, indexed by code
_KINDS = (highspy.HighsBasisStatus.kLower, highspy.HighsBasisStatus.kBasic, highspy.HighsBasisStatus.kUpper,
          highspy.HighsBasisStatus.kZero)
LOWER, BASIC, UPPER, ZERO = (int(s) for s in _KINDS)
_STATUS = np.empty(max(LOWER, BASIC, UPPER, ZERO) + 1, dtype=object)
_STATUS[[int(s) for s in _KINDS]] = np.array(_KINDS, dtype=object)


def statuses(h: highspy.Highs, opt: Optimum, sol: highspy.HighsSolution | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The statuses of ``opt``'s optimal basis in ``h``, as HiGHS's codes (two arrays).

    HiGHS hands its statuses only as Python lists of its enum (23 ms a Kråkøya window, 0.3 s of a
    year's 13), and its basic variables and solution as arrays: a variable not basic sits at the bound
    it is at (a free one at zero), and a fixed one (an equality row) at "upper" where its dual would
    move it down (a column's dual below 0, a row's above), as HiGHS states them
    (``test_the_statuses_read_from_the_solution_are_highs_own``). ``sol``: ``h``'s solution, if
    already read."""
    sol = h.getSolution() if sol is None else sol
    lo, hi = opt.col_lower, opt.col_upper
    rlo, rhi = np.concatenate(opt._m.rlo), np.concatenate(opt._m.rhi)
    out = []
    for v, d, a, b, down in ((sol.col_value, sol.col_dual, lo, hi, -1.0), (sol.row_value, sol.row_dual, rlo, rhi, 1.0)):
        v = np.asarray(v)
        st = np.where(v <= a, LOWER, np.where(v >= b, UPPER, ZERO)).astype(np.int8)
        fixed = np.flatnonzero(a == b)
        st[fixed] = np.where(np.asarray(d)[fixed] * down > 0.0, UPPER, LOWER)
        out.append(st)
    basic = h.getBasicVariables()[1]
    out[0][basic[basic >= 0]] = BASIC
    out[1][-1 - basic[basic < 0]] = BASIC
    return out[0], out[1]


def _blocks(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    return lengths, np.concatenate([[0], np.cumsum(lengths)])


def _spans(T: int, window: int) -> list[tuple[int, int]]:
    """Windows of ``window`` steps; a last one shorter than 2 steps joins the one before (a
    block of one step would read as one of the model's single columns)."""
    spans = [(a, min(a + window, T)) for a in range(0, T, window)]
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < 2:
        spans[-2:] = [(spans[-2][0], T)]
    return spans


def window_basis(opt: Optimum, window: int = MONTH,
                 progress: Callable[[str], None] | None = None) -> highspy.HighsBasis | None:
    """The year's basis put together from the windows' optimal bases (module docstring);
    ``None`` if a window ends without its optimum (the year's time limit, a numerical failure)."""
    limit = opt.h.getOptionValue("time_limit")[1]  # (status, value): the whole solve's, windows included
    t0 = time.perf_counter()
    from .lp import Optimum

    cp, T = opt.cp, opt.T
    stores = [n for n in range(cp.n_nodes) if cp.NI[n, I_TYPE] == T_STORAGE]
    # the last window's end: the year's own (its terminal targets, else the file's rule from the
    # year's start levels; a valued or free store keeps its rule)
    end_rule = np.full(cp.n_nodes, np.nan)
    for n in stores:
        if opt.terminal is not None and np.isfinite(opt.terminal[n]):
            end_rule[n] = opt.terminal[n]
        elif cp.graph.nodes[n].text.get("end", "no_less_than_start") == "no_less_than_start":
            end_rule[n] = opt.state0[n]
    free_end = np.full(cp.n_nodes, np.nan)
    free_end[stores] = 0.0  # a window's end content at no value: the next window takes it as it is
    yc_len, yc_at = _blocks(opt._m.lo)
    yr_len, yr_at = _blocks(opt._m.rlo)
    yc_at, yr_at = yc_at.tolist(), yr_at.tolist()
    nb = len(cp.bus_ids)
    # the year's statuses as HiGHS's codes, copied block by block from the windows' (statuses())
    col = np.full(opt.n_cols, LOWER, dtype=np.int8)  # primal_only's integer column, fixed at 0
    row = np.full(opt.n_rows, BASIC, dtype=np.int8)
    spans = _spans(T, window)
    s0, basis, cs, rs = opt.state0, None, [], []
    for w, (a, b) in enumerate(spans):
        last = w == len(spans) - 1
        win = Optimum(cp, opt.C[None], b - a, start=a, relax=True, rules=opt.rules, mask=opt.mask,
                      state0=s0, terminal=end_rule if last else None,
                      end_price=None if last else free_end, rule_reward=opt.rule_reward)
        for how, exchange, value in opt.changed.values():  # what was set on the year before its first solve
            getattr(win, how)(exchange, value)
        h = win.h
        h.setOptionValue("simplex_scale_strategy", UNSCALED)  # a window only chooses where the year starts
        h.setOptionValue("time_limit", max(limit - (time.perf_counter() - t0), 1e-3))
        if basis is not None and (win.n_cols, win.n_rows) == (len(cs), len(rs)):
            # the last window's optimal basis starts this one: the same rows and columns a month
            # later, the same dispatch give or take the weather (Kråkøya's windows 11.1 → 4.3 CPU s)
            h.setOptionValue("simplex_strategy", PRIMAL)
            h.setBasis(basis)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            if progress is not None:
                progress(f"starting basis: window {w + 1} ({h.modelStatusToString(h.getModelStatus())}): "
                         "HiGHS starts on its own")
            return None
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        s0 = np.array([x[win.level[n][-1]] if n in win.level else 0.0 for n in range(cp.n_nodes)])
        basis = h.getBasis()  # the next window's start, handed on as HiGHS's own object
        cs, rs = statuses(h, win, sol)
        wc_len, wc_at = _blocks(win._m.lo)
        wr_len, wr_at = _blocks(win._m.rlo)
        wc_at, wr_at = wc_at.tolist(), wr_at.tolist()
        # blocks of one column or row per step, in the order both models were built
        for jy, jw in zip(np.flatnonzero(yc_len == T), np.flatnonzero(wc_len == b - a), strict=True):
            col[yc_at[jy] + a: yc_at[jy] + b] = cs[wc_at[jw]: wc_at[jw + 1]]
        row[yr_at[0] + a * nb: yr_at[0] + b * nb] = rs[wr_at[0]: wr_at[1]]  # the balance rows, step by step
        for jy, jw in zip(np.flatnonzero(yr_len[1:] == T) + 1, np.flatnonzero(wr_len[1:] == b - a) + 1, strict=True):
            row[yr_at[jy] + a: yr_at[jy] + b] = rs[wr_at[jw]: wr_at[jw + 1]]
        if last:  # the year's single columns and rows (end targets) are the last window's
            for jy, jw in zip(np.flatnonzero(yc_len == 1), np.flatnonzero(wc_len == 1), strict=False):
                col[yc_at[jy]] = cs[wc_at[jw]]
            for jy, jw in zip(np.flatnonzero(yr_len == 1), np.flatnonzero(wr_len == 1), strict=False):
                row[yr_at[jy]] = rs[wr_at[jw]]
        if progress is not None:
            progress(f"starting basis: window {w + 1} of {len(spans)} (steps {a}-{b}) solved")
    out = highspy.HighsBasis()
    out.col_status = _STATUS[col].tolist()
    out.row_status = _STATUS[row].tolist()
    out.valid = True
    # a basis of the right shape by construction (module docstring): HiGHS checks its counts and
    # does not factor it to repair it as it would an "alien" one (0.5 s of Kråkøya's year), since
    # the simplex factors it anyway when it starts
    out.alien = False
    return out


def solve_from_windows(opt: Optimum, run: Callable[[highspy.Highs], highspy.HighsStatus],
                       window: int = MONTH, progress: Callable[[str], None] | None = None) -> tuple[highspy.HighsStatus, bool]:
    """Solve ``opt``'s model with the LP started from :func:`window_basis`.

    Returns HiGHS's status and whether ``opt.h`` now holds the LP (on/off relaxed, every one of
    them at 0 or 1 in its optimum, which is then the MILP's); ``False``: the MILP was solved as
    before, because the LP's on/off came out fractional (or there were fewer than two windows).
    """
    h = opt.h
    if 2 * window > opt.T:
        return run(h), False
    limit, t0 = h.getOptionValue("time_limit")[1], time.perf_counter()
    basis = window_basis(opt, window, progress)
    # the year gets what the windows left of the solve's time limit (solve() sets it again next time)
    h.setOptionValue("time_limit", max(limit - (time.perf_counter() - t0), 1e-3))
    if basis is None:
        return run(h), False
    ints = np.flatnonzero(opt.integer).astype(np.int32)
    if len(ints):
        h.changeColsIntegrality(len(ints), ints, np.full(len(ints), highspy.HighsVarType.kContinuous))
    strategy = h.getOptionValue("simplex_strategy")[1]  # (status, value)
    scale = h.getOptionValue("simplex_scale_strategy")[1]
    h.setOptionValue("simplex_strategy", PRIMAL)
    h.setOptionValue("simplex_scale_strategy", UNSCALED)
    if h.setBasis(basis) != highspy.HighsStatus.kOk:  # HiGHS found its counts wrong: let it repair it
        basis.alien = True
        h.setBasis(basis)
    status = run(h)
    if h.getModelStatus() not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
        if progress is not None:  # unscaled, the simplex lost its way on this park's figures: scaled, as HiGHS would
            progress(f"the year unscaled: {h.modelStatusToString(h.getModelStatus())}; solved again scaled")
        h.setOptionValue("simplex_scale_strategy", scale)
        h.setBasis(basis)
        status = run(h)
    h.setOptionValue("simplex_strategy", strategy)
    h.setOptionValue("simplex_scale_strategy", scale)
    x = np.asarray(h.getSolution().col_value)
    z = x[ints]
    if not len(ints) or np.all(np.abs(z - np.round(z)) <= opt.h.getOptionValue("mip_feasibility_tolerance")[1]):
        return status, True
    if progress is not None:
        progress("the LP's on/off are fractional: the MILP is solved")
    h.changeColsIntegrality(len(ints), ints, np.full(len(ints), highspy.HighsVarType.kInteger))
    return run(h), False
