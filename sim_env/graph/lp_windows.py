"""A starting basis for the year's LP from windows solved one after another (issue 22, item 7).

The year's model (:class:`~sim_env.graph.lp.Optimum`) couples its steps only through the stores'
levels. Solved window by window (a quarter each by default), each window starting at the levels
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

The same argument one level down: a window is itself a horizon whose parts (six of 365 steps in
a quarter) put end to end are a basis of it, so each window starts from its parts' bases and
mends only their ends, and the parts run as one chain through the year, each started from the
last one's basis (only the very first from HiGHS's own start).

Measured (``benchmarks/bench_graph_lp.py --goals``, docs/twin.md): the year's simplex from the
windows' basis takes 158 iterations on Kråkøya and 16 on Kalundborg; the year optimum 20.5 →
3.8–4.9 CPU s and 24.7 → 4.6–5.7 (months without parts: 4.6–5.4 and 5.5–6.5).
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

MONTH, QUARTER = 720, 2190  # steps of hours
# The default window: the longest of these that the horizon holds twice (Optimum's ``windows``).
# A window of at least PARTS × MIN_PART steps starts from its PARTS shorter windows' basis, put
# together the same way (window_basis): the chain of windows runs at the shortest length, each
# longer window mends only its parts' ends, and the year only the windows'. Kråkøya's year, in one
# process, best of three: months alone 4.56 CPU s (806 iterations for the year), quarters of 365-step
# parts 3.82 (158), months of 180-step parts 4.01, quarters of 60-step parts (three levels) 5.00, a
# third of a year of 730-step parts 4.64; the Kalundborg-like park's 5.45 → 4.58 (317 → 16).
WINDOWS = (QUARTER, MONTH)
PARTS = 6
MIN_PART = 168
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


class _Chain:
    """The last window solved at one level: its model and its optimal basis's statuses."""

    def __init__(self) -> None:
        self.model: Optimum | None = None
        self.cols: np.ndarray = np.zeros(0, dtype=np.int8)
        self.rows: np.ndarray = np.zeros(0, dtype=np.int8)

    def start(self, win: Optimum) -> highspy.HighsBasis | None:
        """A start for ``win`` from the last window's basis: as it is where both have the same
        rows and columns; where ``win`` is as long but ends under an end rule (the horizon's last
        window: a target's row and shortfall column more), the same statuses step by step with the
        target's row basic and its shortfall at 0 (Kråkøya's year's last part: 7,658 iterations
        from HiGHS's own start)."""
        if self.model is None:
            return None
        if (win.n_cols, win.n_rows) == (len(self.cols), len(self.rows)):
            return _basis(self.cols, self.rows)
        if win.T != self.model.T or win.T < 2:
            return None
        out = _Statuses(win)
        out.put(self.model, 0, win.T, self.cols, self.rows, last=False)
        return out.basis()


def _ends(opt: Optimum) -> tuple[np.ndarray, np.ndarray]:
    """The last window's end rule, the horizon's own (its terminal targets, else the file's rule
    from the horizon's start levels; a valued or free store keeps its rule), and the other
    windows' end: what a store holds at no value, for the next window to take as it is."""
    cp = opt.cp
    stores = [n for n in range(cp.n_nodes) if cp.NI[n, I_TYPE] == T_STORAGE]
    end_rule = np.full(cp.n_nodes, np.nan)
    for n in stores:
        if opt.terminal is not None and np.isfinite(opt.terminal[n]):
            end_rule[n] = opt.terminal[n]
        elif cp.graph.nodes[n].text.get("end", "no_less_than_start") == "no_less_than_start":
            end_rule[n] = opt.state0[n]
    free_end = np.full(cp.n_nodes, np.nan)
    free_end[stores] = 0.0
    return end_rule, free_end


class _Statuses:
    """The horizon's basis statuses as HiGHS's codes, copied block by block from its windows'
    (:func:`statuses`): both models are built in the same order, one column or row per step."""

    def __init__(self, opt: Optimum):
        self.T, self.nb = opt.T, len(opt.cp.bus_ids)
        self.c_len, c_at = _blocks(opt._m.lo)
        self.r_len, r_at = _blocks(opt._m.rlo)
        self.c_at, self.r_at = c_at.tolist(), r_at.tolist()
        self.col = np.full(opt.n_cols, LOWER, dtype=np.int8)  # primal_only's integer column, fixed at 0
        self.row = np.full(opt.n_rows, BASIC, dtype=np.int8)

    def put(self, win: Optimum, a: int, b: int, cs: np.ndarray, rs: np.ndarray, last: bool) -> None:
        T, nb, col, row = self.T, self.nb, self.col, self.row
        wc_len, wc_at = _blocks(win._m.lo)
        wr_len, wr_at = _blocks(win._m.rlo)
        wc_at, wr_at = wc_at.tolist(), wr_at.tolist()
        for jy, jw in zip(np.flatnonzero(self.c_len == T), np.flatnonzero(wc_len == b - a), strict=True):
            col[self.c_at[jy] + a: self.c_at[jy] + b] = cs[wc_at[jw]: wc_at[jw + 1]]
        row[self.r_at[0] + a * nb: self.r_at[0] + b * nb] = rs[wr_at[0]: wr_at[1]]  # the balance rows, step by step
        for jy, jw in zip(np.flatnonzero(self.r_len[1:] == T) + 1, np.flatnonzero(wr_len[1:] == b - a) + 1, strict=True):
            row[self.r_at[jy] + a: self.r_at[jy] + b] = rs[wr_at[jw]: wr_at[jw + 1]]
        if last:  # the horizon's single columns and rows (end targets) are the last window's
            for jy, jw in zip(np.flatnonzero(self.c_len == 1), np.flatnonzero(wc_len == 1), strict=False):
                col[self.c_at[jy]] = cs[wc_at[jw]]
            for jy, jw in zip(np.flatnonzero(self.r_len == 1), np.flatnonzero(wr_len == 1), strict=False):
                row[self.r_at[jy]] = rs[wr_at[jw]]

    def basis(self) -> highspy.HighsBasis:
        return _basis(self.col, self.row)


def _basis(col: np.ndarray, row: np.ndarray) -> highspy.HighsBasis:
    """HiGHS's basis object of statuses given as its codes."""
    out = highspy.HighsBasis()
    out.col_status = _STATUS[col].tolist()
    out.row_status = _STATUS[row].tolist()
    out.valid = True
    # a basis of the right shape by construction (module docstring): HiGHS checks its counts and
    # does not factor it to repair it as it would an "alien" one (0.5 s of Kråkøya's year), since
    # the simplex factors it anyway when it starts
    out.alien = False
    return out


def window_basis(opt: Optimum, window: int = QUARTER, progress: Callable[[str], None] | None = None,
                 chain: _Chain | None = None) -> highspy.HighsBasis | None:
    """The year's basis put together from the windows' optimal bases (module docstring);
    ``None`` if a window ends without its optimum (the year's time limit, a numerical failure).

    A window of at least ``PARTS × MIN_PART`` steps starts from the basis of its ``PARTS`` shorter
    windows put together the same way (this function on the window's model), so the windows'
    chain runs at the shortest length (``chain``: its last window, carried across the longer
    windows); a shorter window starts from the last one's basis."""
    limit = opt.h.getOptionValue("time_limit")[1]  # (status, value): the whole solve's, windows included
    t0 = time.perf_counter()
    from .lp import Optimum, _presolve_again

    cp = opt.cp
    end_rule, free_end = _ends(opt)
    out = _Statuses(opt)
    spans = _spans(opt.T, window)
    part = window // PARTS if window // PARTS >= MIN_PART else 0
    chain = _Chain() if chain is None else chain
    parts = _Chain() if part else None  # the shorter windows' chain, run on from one window to the next
    s0 = opt.state0
    for w, (a, b) in enumerate(spans):
        last = w == len(spans) - 1
        # the last window ends as the horizon does: the year's end rule, or a longer window's price
        win = Optimum(cp, opt.C[None], b - a, start=a, relax=True, rules=opt.rules, mask=opt.mask,
                      state0=s0, terminal=end_rule if last else None,
                      end_price=opt.end_price if last else free_end, rule_reward=opt.rule_reward)
        for how, exchange, value in opt.changed.values():  # what was set on the year before its first solve
            getattr(win, how)(exchange, value)
        h = win.h
        h.setOptionValue("simplex_scale_strategy", UNSCALED)  # a window only chooses where the year starts
        h.setOptionValue("time_limit", max(limit - (time.perf_counter() - t0), 1e-3))
        # its shorter windows' basis (their ends are all it mends), else the last window's optimal
        # basis: the same rows and columns a month later, the same dispatch give or take the
        # weather (Kråkøya's month windows 11.1 → 4.3 CPU s)
        start = window_basis(win, part, None, parts) if parts is not None and b - a > part else chain.start(win)
        if start is not None:
            h.setOptionValue("simplex_strategy", PRIMAL)
            h.setBasis(start)
        _presolve_again(h, h.run, progress)
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            if progress is not None:
                progress(f"starting basis: window {w + 1} ({h.modelStatusToString(h.getModelStatus())}): "
                         "HiGHS starts on its own")
            return None
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        s0 = np.array([x[win.level[n][-1]] if n in win.level else 0.0 for n in range(cp.n_nodes)])
        cs, rs = statuses(h, win, sol)
        chain.model, chain.cols, chain.rows = win, cs, rs  # the next window's start
        out.put(win, a, b, cs, rs, last)
        if progress is not None:
            progress(f"starting basis: window {w + 1} of {len(spans)} (steps {a}-{b}) solved")
    return out.basis()


def solve_from_windows(opt: Optimum, run: Callable[[highspy.Highs], highspy.HighsStatus], window: int = QUARTER,
                       progress: Callable[[str], None] | None = None) -> tuple[highspy.HighsStatus, bool]:
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
    say = None if progress is None else (lambda why: progress(f"the year unscaled: {why}; solved again scaled"))
    status = from_basis(h, run, basis, say)
    # the LP's optimum where every on/off is at 0 or 1 in it is the MILP's; else the MILP is solved
    z = np.asarray(h.getSolution().col_value)[ints]
    if not len(ints) or np.all(np.abs(z - np.round(z)) <= h.getOptionValue("mip_feasibility_tolerance")[1]):
        return status, True
    if progress is not None:
        progress("the LP's on/off are fractional: the MILP is solved")
    h.changeColsIntegrality(len(ints), ints, np.full(len(ints), highspy.HighsVarType.kInteger))
    return run(h), False


def from_basis(h: highspy.Highs, run: Callable[[highspy.Highs], highspy.HighsStatus],
               basis: highspy.HighsBasis | None = None, say: Callable[[str], None] | None = None) -> highspy.HighsStatus:
    """``run(h)`` by the primal simplex, unscaled, from ``basis`` (else the basis ``h`` holds): a
    start primal feasible or nearly, for a few hundred iterations, where HiGHS would scale the
    model afresh and lose the basis. Where that ends neither optimal nor at its time limit (the
    simplex lost its way on a park's figures) it runs once more, scaled as HiGHS would, from the
    same start; ``say`` hears why. HiGHS's options are left as they were."""
    strategy, scale = h.getOptionValue("simplex_strategy")[1], h.getOptionValue("simplex_scale_strategy")[1]
    h.setOptionValue("simplex_strategy", PRIMAL)
    h.setOptionValue("simplex_scale_strategy", UNSCALED)
    try:
        if basis is not None and h.setBasis(basis) != highspy.HighsStatus.kOk:  # counts wrong: HiGHS repairs it
            basis.alien = True
            h.setBasis(basis)
        status = run(h)
        if h.getModelStatus() not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
            if say is not None:
                say(h.modelStatusToString(h.getModelStatus()))
            h.setOptionValue("simplex_scale_strategy", scale)
            if basis is not None:
                h.setBasis(basis)
            status = run(h)
    finally:
        h.setOptionValue("simplex_strategy", strategy)
        h.setOptionValue("simplex_scale_strategy", scale)
    return status
