"""The perfect-foresight optimum of any compiled park: one LP/MILP built from the park's arrays.

Every row comes from the tables of :mod:`sim_env.graph.compile` (``NI``/``NF``/``NV``, the
converter ports, buses and exchanges) and the coefficients ``COEF``; nothing is written per
asset. Per step ``t`` (amounts per step, as the kernel counts them):

- exchange flows ``0 ≤ x ≤ cap × mask × dt``, a transport cost per unit;
- converter reference loads ``0 ≤ L ≤ rated × availability × dt``; a unit with a min load gets
  an on/off variable ``u`` (binary, or in [0, 1] with ``relax=True``): ``min × rated × u ≤ L ≤
  rated × u``, and its part-load port flows ``slope × L + offset × dt × u``;
- backups of backed converter inputs (≤ the input) and of demands (≤ the demand); a demand with
  no backup, and a converter input taken on demand with no backup (from a market, a purchase or
  a unit following the ask), have a slack at their resource's value of lost load (≤ the demand,
  ≤ the input), charged by the kernel too, so the model is always feasible and its optimum never
  above the kernel's cost;
- a source's surplus (costed), stores' level, gross charge and discharge (each ≤ its rate; what
  arrives on a store's bus and serves a need there passes it, counting against neither, as in the
  kernel; standing loss and first-order release from the level at the start of the step), market
  import and export (limits; export beyond the limit spills at no value), purchases,
  disposals (setpoint ones and surplus ones ≤ ``max``), and a free spill where something
  arrives unasked and nothing else takes what is left (the kernel spills it too);
- one balance row per bus per step: supply = use, the terms the kernel sums; a bus with a
  first-order store (a digester) has a second row, so that all its supply passes the store.

With ``rules=True`` must-run and follow-input converters run as high as their inputs allow, as
the kernel runs them; the LP's actions replayed in :class:`~sim_env.graph.kernel.Batch` then
cost what the LP says (to ~1e-10 relative on both shipped parks) unless a store's end rule
binds. Without it every converter is dispatched freely and the objective is a lower bound.

The objective is the kernel's cost plus carbon price × CO2, in the park's currency. Stores end
the horizon at no less than their start level, valued at ``end.value``, or free, as the file
says; the first, and a rolling plan's ``terminal`` target, are soft: each unit short costs the
value of lost load of the store's resource, so a lossy store nothing refills keeps the model
feasible, and :meth:`Optimum.solve` names it (``Solution.notes``, a warning) and says what its
shortfall adds to the objective (``Solution.end_short_cost``: the kernel charges nothing for a
store's end; the harness values a run's stored content at :meth:`Optimum.end_values`).
A built :class:`Optimum` is re-solved after :meth:`Optimum.set_capacity` or
:meth:`Optimum.set_link_cost` without being rebuilt (HiGHS keeps its basis).
"""

from __future__ import annotations

import itertools
import math
import signal
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np

from aisym.park.graph.carriers import amount_unit

from .compile import (
    B_DISPOSAL,
    B_MARKET,
    B_PUSHED,
    B_VOLL,
    C_FOLLOW_INPUT,
    C_MUST_RUN,
    F_CAP,
    F_END_VALUE,
    F_EXP_MAX,
    F_IMP_MAX,
    F_INIT,
    F_LOSS,
    F_MAX,
    F_MAX_CH,
    F_MAX_DIS,
    F_MIN_LOAD,
    F_PL_OFFSET,
    F_PL_SLOPE,
    F_RATED,
    F_RELEASE,
    I_BUS,
    I_CONTROL,
    I_P0,
    I_P1,
    I_PL,
    I_REF,
    I_TYPE,
    L_CAP,
    L_COST,
    L_LOSS,
    T_CONVERTER,
    T_DEMAND,
    T_DISPOSAL,
    T_MARKET,
    T_PURCHASE,
    T_SOURCE,
    T_STORAGE,
    V_AVAIL,
    V_CO2,
    V_COST,
    V_EXPORT,
    V_IMPORT,
    V_PRICE,
    V_PROFILE,
    CompiledPark,
)
from .highs import new_highs as _new_highs  # the first Highs() prints a banner: kept off the CLI's output
from .lp_windows import WINDOWS, from_basis, solve_from_windows

INF = highspy.kHighsInf
# HiGHS's IIS options (iis_strategy bits): from the LP, made irreducible; the bound statuses of
# the rows and columns in the set (lower, upper, boxed; 0 null and 1 free are not in it)
IIS_FROM_LP_IRREDUCIBLE = 2 | 4
IIS_IN_SET = (2, 3, 4)
FEASIBLE_POINT = 2  # HiGHS's primal_solution_status of a feasible point (0: none, 1: an infeasible one)
# what HiGHS may answer where its presolve lost its way on a model that has a solution (_presolve_again)
_NO_ANSWER = (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible,
              highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kSolveError,
              highspy.HighsModelStatus.kPresolveError, highspy.HighsModelStatus.kPostsolveError)
RULE_REWARD = 1e3  # a rule-driven converter's reward per unit of load, × the park's largest unit cost (≥ 1)


class _Model:
    """Columns and COO entries of the model, appended in blocks of ``T`` (one per step)."""

    def __init__(self, T: int):
        self.T = T
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.cost: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.n = 0
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.rlo: list[np.ndarray] = []
        self.rhi: list[np.ndarray] = []
        self.m = 0
        self.row_names: list[tuple[int, int, str]] = []  # (first row, rows, what they state), to name an infeasible set

    def cols_(self, lo, hi, cost=0.0, integer: bool = False, k: int | None = None) -> np.ndarray:
        """``k`` new columns (default ``T``: one per step); returns their indices."""
        T = self.T if k is None else k
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (T,)).copy())
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (T,)).copy())
        self.cost.append(np.broadcast_to(np.asarray(cost, dtype=np.float64), (T,)).copy())
        self.integer.append(np.full(T, integer))
        idx = np.arange(self.n, self.n + T)
        self.n += T
        return idx

    def rows_(self, lo, hi, k: int | None = None, name: str = "") -> np.ndarray:
        k = self.T if k is None else k
        self.row_names.append((self.m, k, name))
        self.rlo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (k,)).copy())
        self.rhi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (k,)).copy())
        idx = np.arange(self.m, self.m + k)
        self.m += k
        return idx

    def put(self, rows: np.ndarray, cols: np.ndarray, vals) -> None:
        self.rows.append(np.asarray(rows, dtype=np.int64))
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=np.float64), np.shape(rows)).copy())


@dataclass
class Solution:
    """One solve: objective (cost + carbon, park currency), named series, the kernel's actions."""

    objective: float
    status: str
    solve_s: float
    series: dict[str, np.ndarray]
    actions: np.ndarray  # (T, n_actions) fractions of each action's full scale
    balance: np.ndarray  # (T, n_buses) supply minus use, recomputed from the solution
    mip_gap: float
    end_short: dict[str, float] = field(default_factory=dict)  # store -> amount its end target is missed by
    end_short_cost: float = 0.0  # those amounts at the value of lost load: part of ``objective``, not the kernel's cost
    notes: list[str] = field(default_factory=list)  # one line per store whose file end rule cannot be met


def spill_buses(cp: CompiledPark, released) -> list[int]:
    """The buses where the optimum spills for free what nothing takes, as the kernel spills it.

    Only where something arrives unasked (a converter's output, a store's release); never where a
    surplus disposal of no limit or a source takes what is left, nor on a market's bus. A pushed
    bus (outputs with no disposal) does not spill either: the kernel limits the load of the
    converters that push into it by what the far side accepts, and cuts a unit that overfills a
    store. (Where a by-product of such a unit already ran another, the kernel keeps it up and spills
    the store's overflow; the optimum has no such spill, as it would then spill instead of cutting
    everywhere: fuzzed park 704 of ``bench_fuzz_parks.py``, docs/twin.md.) PyPSA's export spills on
    the same buses."""
    nb = len(cp.bus_ids)
    unasked = np.zeros(nb, dtype=bool)
    unasked[cp.PB[cp.PD == 1]] = True
    unasked[cp.BI[:, B_PUSHED] == 1] = False
    unasked[sorted(released)] = True
    has_source = np.zeros(nb, dtype=bool)
    for n in range(cp.n_nodes):
        if cp.NI[n, I_TYPE] == T_SOURCE:
            has_source[cp.NI[n, I_BUS]] = True
    out = []
    for b in range(nb):
        d = cp.BI[b, B_DISPOSAL]
        if (unasked[b] and not has_source[b] and cp.BI[b, B_MARKET] < 0
                and (d < 0 or np.isfinite(cp.NF[d, F_MAX]))):
            out.append(b)
    return out


class Optimum:
    """The perfect-foresight LP/MILP of ``cp`` over ``T`` steps from step ``start`` of year ``year``.

    :param cp: the compiled park
    :param coef: ``COEF`` (years × steps × values) from :meth:`CompiledPark.exogenous`
    :param T: horizon in steps
    :param start: first step of the horizon
    :param year: which row of ``coef``
    :param relax: min-load on/off variables continuous (the LP relaxation) instead of binary
    :param rules: run must-run and follow-input converters as high as their inputs allow, as the
        kernel does (a large reward per unit of their load, taken back out of the objective);
        without it they are dispatched freely and the objective is a lower bound
    :param mask: exchange capacity multipliers (default: the file's ``enabled`` flags)
    :param mip_rel_gap: HiGHS's relative MIP gap
    :param threads: HiGHS threads
    :param state0: store levels at the start, per component (default: each store's ``initial``);
        a rolling horizon starts from the measured levels
    :param terminal: the level each store should end at, per component (NaN: the store's end
        rule); replaces the end rule where given. A soft target: each unit short costs the value of
        lost load of the store's resource, so a target nothing can reach (a lossy store with no
        inflow) leaves the plan feasible, the store as full as it can be
    :param primal_only: a model with no on/off variable (an LP) is still solved by HiGHS's MIP
        solver, whose presolve, keeping no duals to recover, removes about 3× more of it
        (Kalundborg's year: 50 → 30 CPU s, the same optimum). For one solve read for its schedule
        (``twin run``): there is no basis for a re-solve to start from, and :meth:`end_values`
        solves the LP once more for its duals
    :param end_price: per component: where finite, the store's end rule is replaced by that
        much earned per unit left at the end (a window of the year, :mod:`sim_env.graph.lp_windows`)
    :param rule_reward: the rules' reward per unit of load (default: from this horizon's costs);
        a window of the year takes the year's
    :param windows: the first solve starts HiGHS's primal simplex from the bases of windows of
        this many steps solved one after another (:mod:`sim_env.graph.lp_windows`; the answer is
        the same optimum); a window of at least ``lp_windows.PARTS × MIN_PART`` steps starts from
        the basis of its shorter parts, solved the same way. Default: the longest of
        ``lp_windows.WINDOWS`` (a quarter's 2,190 steps, a month's 720) the horizon holds twice
        (Kråkøya's year 20.5 → 3.8-4.9 CPU s, Kalundborg's 24.7 → 4.6-5.7); 0: HiGHS from its own start
    """

    def __init__(self, cp: CompiledPark, coef: np.ndarray, T: int, start: int = 0, year: int = 0,
                 relax: bool = False, mask: np.ndarray | None = None, mip_rel_gap: float = 1e-4,
                 rules: bool = False, threads: int = 1, state0: np.ndarray | None = None,
                 terminal: np.ndarray | None = None, primal_only: bool = False,
                 end_price: np.ndarray | None = None, rule_reward: float | None = None,
                 windows: int | None = None):
        t0 = time.perf_counter()
        self.cp, self.T, self.start = cp, T, start
        self.state0 = initial_levels(cp) if state0 is None else np.asarray(state0, dtype=np.float64)
        self.terminal = None if terminal is None else np.asarray(terminal, dtype=np.float64)
        self.end_price = (np.full(cp.n_nodes, np.nan) if end_price is None
                          else np.asarray(end_price, dtype=np.float64))
        if windows is None:  # the longest of lp_windows.WINDOWS the horizon holds twice
            windows = next((w for w in WINDOWS if 2 * w <= T), 0)
        self._rule_reward, self.windows, self._warm = rule_reward, int(windows), bool(windows)
        self._lp_form = False  # the model in HiGHS is the MILP's LP, solved with its on/off integral
        self.mip_rel_gap = float(mip_rel_gap)
        steps = (start + np.arange(T)) % coef.shape[1]
        self.C = np.ascontiguousarray(coef[year, steps, :])  # (T, values)
        self._year_C = coef[year]  # the whole year's series: what a window decides must not depend on its steps
        self.mask = (cp.LE if mask is None else np.asarray(mask, dtype=np.float64)).copy()
        self.relax, self.rules = relax, rules
        self._reward: list[np.ndarray] = []  # columns carrying the rules' reward
        self._lost_rule: list[tuple[np.ndarray, np.ndarray]] = []  # lost-input columns, rewards per unit charged
        self._m = _Model(T)
        # exchanges' capacities and costs set since the build (the windows' models take them too)
        self.changed: dict[str, tuple[str, str, float]] = {}
        self._end_row: dict[int, int] = {}  # store -> its soft end target's row (file rule or terminal)
        self._file_end: dict[int, float] = {}  # store -> the file's no_less_than_start target
        self._build()
        if primal_only and not any(i.any() for i in self._m.integer):  # an integer column fixed at 0 in no row
            self._m.cols_(0.0, 0.0, 0.0, integer=True, k=1)
        self.h = self._pass(mip_rel_gap, threads)
        self.build_s = time.perf_counter() - t0

    # -- building ---------------------------------------------------------------------------------
    def _c(self, v: int, default: float = 0.0) -> np.ndarray:
        return self.C[:, v] if v >= 0 else np.full(self.T, default)

    def _build(self) -> None:
        cp, m, T, dt = self.cp, self._m, self.T, self.cp.dt_h
        NF = cp.NF
        nb, nl = len(cp.bus_ids), len(cp.link_ids)
        self._bal = m.rows_(0.0, 0.0, T * nb, "balance").reshape(T, nb)  # bal[t, b]; right-hand sides set below
        self._rhs = np.zeros((T, nb))
        self._need = np.zeros((T, nb))  # the demands on each bus (a part of _rhs)
        # A bus with a first-order store (a digester's solids) passes all its supply through the
        # store, as the kernel does: its supply has a row of its own (= charge), its users take
        # only the release. The two rows add up to the bus's balance.
        released = [b for b in range(nb) if cp.BI[b, 0] >= 0 and NF[cp.BI[b, 0], F_RELEASE] > 0.0]
        self._in_row = {b: m.rows_(0.0, 0.0, name=f"supply of bus {cp.bus_ids[b]} through its store") for b in released}
        self._rhs_in = {b: np.zeros(T) for b in released}
        self.var: dict[str, np.ndarray] = {}
        self.flow = np.zeros((nl, T), dtype=np.int64)
        for e in range(nl):
            c = m.cols_(0.0, cp.LF[e, L_CAP] * self.mask[e] * dt, cp.LF[e, L_COST])
            self.flow[e] = c
            self._on_bus(cp.LS[e], c, -1.0)
            self._on_bus(cp.LD[e], c, 1.0 - cp.LF[e, L_LOSS], supply=True)
            self.var[f"flow:{cp.link_ids[e]}"] = c
        self.level: dict[int, np.ndarray] = {}  # store levels' columns
        self.port_expr: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # port amount = a × L + c × u
        for n in range(cp.n_nodes):
            t_, b = cp.NI[n, I_TYPE], cp.NI[n, I_BUS]
            if t_ == T_STORAGE:
                self._storage(n, b, self._on_bus)
            elif t_ == T_CONVERTER:
                self._converter(n, self._on_bus)
            else:
                self._single(n, t_, b)
        for b in spill_buses(cp, released):
            s = m.cols_(0.0, INF, 0.0)
            self._on_bus(b, s, -1.0)
            self.var[f"spill:{cp.bus_ids[b]}"] = s
        for n in range(cp.n_nodes):
            if cp.NI[n, I_TYPE] == T_MARKET:
                self._net_of_market(n)
        m.rlo[0] = self._rhs.ravel().copy()
        m.rhi[0] = self._rhs.ravel().copy()
        for k, b in enumerate(released):
            m.rlo[1 + k], m.rhi[1 + k] = self._rhs_in[b].copy(), self._rhs_in[b].copy()

    def _on_bus(self, b: int, cols: np.ndarray, sign, supply: bool | None = None) -> None:
        """Put ``sign × cols`` into bus ``b``'s balance (its supply row if it is a released bus)."""
        if supply is None:
            supply = bool(np.all(np.asarray(sign) >= 0.0))
        self._m.put(self._in_row[b] if (supply and b in self._in_row) else self._bal[:, b], cols, sign)

    def _single(self, n: int, t_: int, b: int) -> None:
        """Columns of a one-carrier component: source, demand, purchase, disposal, market."""
        cp, m, dt = self.cp, self._m, self.cp.dt_h
        NI, NF, NV = cp.NI, cp.NF, cp.NV
        key, carbon = cp.node_keys[n], cp.carbon_price_per_kg
        co2 = carbon * self._c(NV[n, V_CO2])
        if t_ == T_SOURCE:
            p = np.maximum(self._c(NV[n, V_PROFILE]), 0.0) * dt
            (self._rhs_in[b] if b in self._rhs_in else self._rhs[:, b])[:] -= p
            s = m.cols_(0.0, INF, self._c(NV[n, V_COST]) + co2)
            self._on_bus(b, s, -1.0)
            self.var[f"surplus:{key}"] = s
        elif t_ == T_DEMAND:
            d = np.maximum(self._c(NV[n, V_PROFILE]), 0.0) * dt
            self._rhs[:, b] += d
            self._need[:, b] += d
            if NV[n, V_COST] >= 0:
                bk = m.cols_(0.0, d, self._c(NV[n, V_COST]) + co2)
                self._on_bus(b, bk, 1.0)
                self.var[f"backup:{key}"] = bk
            else:  # what is not met costs the value of lost load, as in the kernel: always feasible (finding 4)
                lost = m.cols_(0.0, d, self.C[:, cp.BI[b, B_VOLL]])
                self._on_bus(b, lost, 1.0)
                self.var[f"lost:{key}"] = lost
        elif t_ == T_PURCHASE:
            c = m.cols_(0.0, NF[n, F_MAX] * dt if np.isfinite(NF[n, F_MAX]) else INF, self._c(NV[n, V_PRICE]) + co2)
            self._on_bus(b, c, 1.0)
            self.var[f"purchase:{key}"] = c
        elif t_ == T_DISPOSAL:
            if NI[n, I_CONTROL] == 0 and cp.BI[b, B_DISPOSAL] != n:
                return  # a second surplus disposal on a bus never takes anything in the kernel
            c = m.cols_(0.0, NF[n, F_MAX] * dt, self._c(NV[n, V_COST]) + co2)
            self._on_bus(b, c, -1.0)
            self.var[f"disposal:{key}"] = c
        elif t_ == T_MARKET:
            imp_hi = NF[n, F_IMP_MAX] * dt if NV[n, V_IMPORT] >= 0 else 0.0
            imp = m.cols_(0.0, imp_hi, self._c(NV[n, V_IMPORT]) + co2)
            exp_hi = NF[n, F_EXP_MAX] * dt if NV[n, V_EXPORT] >= 0 else 0.0
            exp_ = m.cols_(0.0, exp_hi, -self._c(NV[n, V_EXPORT]))
            spill = m.cols_(0.0, INF, 0.0)  # export beyond the limit spills at no value
            self._on_bus(b, imp, 1.0)
            self._on_bus(b, exp_, -1.0)
            self._on_bus(b, spill, -1.0)
            self.var[f"import:{key}"], self.var[f"export:{key}"], self.var[f"spill:{key}"] = imp, exp_, spill

    def _net_of_market(self, n: int) -> None:
        """A market the park may buy from and sell to, whose export price somewhere in the year beats
        its import cost (a fixed supply price against a spot export): its import at most what the
        park takes from its bus.

        The kernel settles a market on the net of what was taken from its bus and given to it, so
        it never buys to sell the same unit. The LP, with import and export as two columns, would
        do exactly that wherever selling pays more than buying costs: unbounded where nothing
        limits the market (a fuzzed park's optimum failed so), a gain no schedule can have where
        something does. The row holds for every kernel step (what it buys is at most what was
        taken), so the optimum stays a lower bound; it is stated at every step of the horizon, so a
        window's rows are the year's (lp_windows), and only for a market that needs it (neither
        shipped park's)."""
        cp, m, NV = self.cp, self._m, self.cp.NV
        if NV[n, V_IMPORT] < 0 or NV[n, V_EXPORT] < 0:
            return
        C, co2 = self._year_C, NV[n, V_CO2]
        buy = C[:, NV[n, V_IMPORT]] + (cp.carbon_price_per_kg * C[:, co2] if co2 >= 0 else 0.0)
        if not np.any(C[:, NV[n, V_EXPORT]] > buy):
            return
        key, b = cp.node_keys[n], cp.NI[n, I_BUS]
        sold = np.concatenate([self.var[f"export:{key}"], self.var[f"spill:{key}"]])
        rows, cols, vals = np.concatenate(m.rows), np.concatenate(m.cols), np.concatenate(m.vals)
        bal = self._bal[:, b]
        use = np.isin(rows, bal) & (vals < 0.0) & ~np.isin(cols, sold)  # taken from the bus (an exchange's flow, ...)
        r = m.rows_(-INF, self._need[:, b], name=f"import of market {key} at most what the park takes from its bus")
        m.put(r, self.var[f"import:{key}"], 1.0)
        m.put(r[np.searchsorted(bal, rows[use])], cols[use], vals[use])

    def _storage(self, n: int, b: int, on_bus) -> None:
        cp, m, dt = self.cp, self._m, self.cp.dt_h
        NF = cp.NF
        key, cap = cp.node_keys[n], NF[n, F_CAP]
        s0 = float(self.state0[n])
        rule = cp.graph.nodes[n].text.get("end", "no_less_than_start")
        if self.terminal is not None and np.isfinite(self.terminal[n]):
            rule = "terminal"
        lvl = m.cols_(0.0, cap)
        lvl_cost = m.cost[-1]  # the end's value goes on the last level's cost
        ch = m.cols_(0.0, NF[n, F_MAX_CH] * dt)
        rel = min(1.0, NF[n, F_RELEASE] * dt)
        dis = m.cols_(0.0, INF if rel > 0.0 else NF[n, F_MAX_DIS] * dt)
        keep = 1.0 - NF[n, F_LOSS] * dt
        # level[t] = keep × level[t-1] + charge − discharge; level[-1] = s0
        r = m.rows_(0.0, 0.0, name=f"level of store {key} (standing loss, charge, discharge)")
        m.rlo[-1][0] = m.rhi[-1][0] = keep * s0
        m.put(r, lvl, 1.0)
        m.put(r[1:], lvl[:-1], -keep)
        m.put(r, ch, -1.0)
        m.put(r, dis, 1.0)
        if rel > 0.0:  # a process inventory gives exactly what it releases
            r2 = m.rows_(0.0, 0.0, name=f"first-order release of store {key}")
            m.rlo[-1][0] = m.rhi[-1][0] = rel * s0
            m.put(r2, dis, 1.0)
            m.put(r2[1:], lvl[:-1], -rel)
        if np.isfinite(self.end_price[n]):  # a window's end: its content sold at the cut's price
            lvl_cost[-1] -= self.end_price[n]
        elif rule == "no_less_than_start":  # soft, as a rolling plan's target: feasible by construction
            self._terminal(n, b, lvl, min(s0, cap))
            self._file_end[n] = min(s0, cap)
        elif rule == "terminal":  # soft: feasible by construction (a lossy store that cannot be refilled)
            self._terminal(n, b, lvl, min(max(float(self.terminal[n]), 0.0), cap))
        elif rule == "valued":
            lvl_cost[-1] -= NF[n, F_END_VALUE]
        on_bus(b, dis, 1.0, supply=False)  # on the users' side
        on_bus(b, ch, -1.0, supply=True)  # on the supply side: a released bus's supply all goes in
        self.level[n] = lvl
        self.var[f"level:{key}"], self.var[f"charge:{key}"], self.var[f"discharge:{key}"] = lvl, ch, dis

    def _terminal(self, n: int, b: int, lvl: np.ndarray, target: float) -> None:
        """A store's end target (the file's ``no_less_than_start`` or a rolling plan's):
        ``level[-1] + short ≥ target``, each unit short costing the value of lost load of the
        store's resource. Where the target can be reached at any lesser cost the optimum reaches
        it, as a hard bound would (same optimum, same shadow price); where it cannot (a store
        losing a share each hour with nothing to refill it: its level can only fall) it keeps the
        store as full as it can instead of being infeasible, and :meth:`solve` names the store
        (issue 22: MPC's end rule, then the year's). The kernel charges nothing for a store's end:
        the harness values a run's stored content at :meth:`end_values`, here that same price, so
        a replay's cost less that value is the objective and no run's is below it."""
        m = self._m
        voll, hi = self.C[-1, self.cp.BI[b, B_VOLL]], target  # one column: the last step's shortfall
        short = m.cols_(0.0, hi, voll, k=1)
        r = m.rows_(target, INF, k=1, name=f"end target of store {self.cp.node_keys[n]}")
        m.put(r, lvl[-1:], 1.0)
        m.put(r, short[-1:], 1.0)
        self._end_row[n] = int(r[0])
        self.var[f"end_short:{self.cp.node_keys[n]}"] = short

    def _converter(self, n: int, on_bus) -> None:
        cp, m, T, dt = self.cp, self._m, self.T, self.cp.dt_h
        NI, NF, NV = cp.NI, cp.NF, cp.NV
        key, rated = cp.node_keys[n], NF[n, F_RATED]
        avail = np.maximum(self._c(NV[n, V_AVAIL], 1.0), 0.0) if NV[n, V_AVAIL] >= 0 else np.ones(T)
        top = rated * np.minimum(avail, 1.0) * dt
        rule_driven = NI[n, I_CONTROL] in (C_MUST_RUN, C_FOLLOW_INPUT)
        L = m.cols_(0.0, top)  # the rules' reward is set once every cost is known (_pass)
        if self.rules and rule_driven:
            self._reward.append(L)
        self.var[f"load:{key}"] = L
        p_min = NF[n, F_MIN_LOAD] * rated * dt
        u = None
        if p_min > 0.0:
            u = m.cols_(0.0, 1.0, 0.0, integer=not self.relax)
            self.var[f"on:{key}"] = u
            r = m.rows_(-INF, 0.0, name=f"{key}: load at most rated while on")  # L ≤ top × u
            m.put(r, L, 1.0)
            m.put(r, u, -top)
            r = m.rows_(-INF, 0.0, name=f"{key}: load at least its min load while on")  # min load × u ≤ L
            m.put(r, u, p_min)
            m.put(r, L, -1.0)
        p0, p1, ref, pl = NI[n, I_P0], NI[n, I_P1], NI[n, I_REF], NI[n, I_PL]
        # each port's amount per step as a × L + c × u (the kernel's _port_flows)
        coefL: dict[int, np.ndarray] = {}
        coefU: dict[int, np.ndarray] = {}
        for p in range(p0, p1):
            if cp.PO[p] >= 0:
                continue
            if p == ref:
                coefL[p], coefU[p] = np.ones(T), np.zeros(T)
            elif p == pl:
                coefL[p], coefU[p] = np.full(T, NF[n, F_PL_SLOPE]), np.full(T, NF[n, F_PL_OFFSET] * dt)
            else:
                coefL[p], coefU[p] = self.C[:, cp.PV[p]].copy(), np.zeros(T)
        for p in range(p0, p1):
            if cp.PO[p] >= 0:
                r = self.C[:, cp.PV[p]]
                coefL[p], coefU[p] = r * coefL[cp.PO[p]], r * coefU[cp.PO[p]]
        if u is None and any(np.any(coefU[p] != 0.0) for p in coefU):
            raise ValueError(f"{cp.graph.source}: converter {key} has a part-load offset but no min load")
        for p in range(p0, p1):
            sign = 1.0 if cp.PD[p] == 1 else -1.0
            b = cp.PB[p]
            on_bus(b, L, sign * coefL[p], supply=cp.PD[p] == 1)
            if u is not None:
                on_bus(b, u, sign * coefU[p], supply=cp.PD[p] == 1)
            self.port_expr[p] = (coefL[p], coefU[p])
            if cp.PD[p] == 0 and cp.PBC[p] >= 0:  # a shortfall bought as backup, up to the input
                bk = m.cols_(0.0, INF, self._c(cp.PBC[p]) + cp.carbon_price_per_kg * self._c(cp.PBO[p]))
                on_bus(b, bk, 1.0)
                r = m.rows_(-INF, 0.0, name=f"{key}: backup of input {p - p0} at most the input")
                m.put(r, bk, 1.0)
                m.put(r, L, -coefL[p])
                if u is not None:
                    m.put(r, u, -coefU[p])
                self.var[f"backup:{key}:{p - p0}"] = bk
            elif cp.PD[p] == 0 and cp.PDEF[p] == 1:  # taken on demand with no backup: a shortfall is lost load
                self._lost_input(n, p, b, L, u, coefL[p], coefU[p])

    def _lost_input(self, n: int, p: int, b: int, L, u, aL: np.ndarray, aU: np.ndarray) -> None:
        """A slack on a converter's input taken on demand with no backup, at the value of lost load
        of its bus's resource, up to the input: the kernel's ``_shortfall`` charges exactly that
        (no CO2) where the input falls short when settled (issue 22, item 2). For a rule-driven
        converter its rule's reward per unit of load the slack alone would feed is charged back on
        it twice, so that "as high as its inputs allow" keeps meaning what the inputs can supply
        (the kernel never plans a shortfall: it runs the unit as high as ``_can_get`` says)."""
        cp, m = self.cp, self._m
        key, p0 = cp.node_keys[n], cp.NI[n, I_P0]
        lost = m.cols_(0.0, INF, self.C[:, cp.BI[b, B_VOLL]])
        self._on_bus(b, lost, 1.0)
        r = m.rows_(-INF, 0.0, name=f"{key}: lost load of input {p - p0} at most the input")
        m.put(r, lost, 1.0)
        m.put(r, L, -aL)
        if u is not None:
            m.put(r, u, -aU)
        if self.rules and cp.NI[n, I_CONTROL] in (C_MUST_RUN, C_FOLLOW_INPUT):
            self._lost_rule.append((lost, np.where(aL > 0.0, 2.0 / np.maximum(aL, 1e-300), 0.0)))
        self.var[f"lost:{key}:{p - p0}"] = lost

    def _pass(self, mip_rel_gap: float, threads: int) -> highspy.Highs:
        m = self._m
        rows, cols, vals = np.concatenate(m.rows), np.concatenate(m.cols), np.concatenate(m.vals)
        # column-major, rows in order within a column: np.lexsort's order from one int64 key, ~6x faster
        order = np.argsort(cols.astype(np.int64) * max(m.m, 1) + rows, kind="stable")
        rows, cols, vals = rows[order], cols[order], vals[order]
        start = np.zeros(m.n + 1, dtype=np.int32)
        np.cumsum(np.bincount(cols, minlength=m.n), out=start[1:])
        self.integer = np.concatenate(m.integer)
        h = _new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", int(threads))
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        # A park's year solves at the root (its LP solution is integral): symmetry detection and the
        # feasibility-jump heuristic, both run before the root LP, found nothing on either shipped
        # park and cost Kråkøya's year 10-14 % of its CPU time (same optimum)
        h.setOptionValue("mip_detect_symmetry", False)
        h.setOptionValue("mip_heuristic_run_feasibility_jump", False)
        self.col_cost = np.concatenate(m.cost)
        self.rule_reward = 0.0
        if self._reward:  # it outweighs any saving from running a rule-driven converter less
            cols = np.concatenate(self._reward)
            self.rule_reward = (RULE_REWARD * max(1.0, float(np.abs(self.col_cost).max()))
                                if self._rule_reward is None else float(self._rule_reward))
            self.col_cost[cols] = -self.rule_reward
            for c, per_unit in self._lost_rule:  # load fed by lost load alone costs its reward, not earns it
                self.col_cost[c] += self.rule_reward * per_unit
        self.col_lower, self.col_upper = np.concatenate(m.lo), np.concatenate(m.hi)
        # the arrays go in as buffers (a HighsLp's fields copy them element by element: 0.3 s a year)
        status = h.passModel(int(m.n), int(m.m), len(vals), int(highspy.MatrixFormat.kColwise),
                             int(highspy.ObjSense.kMinimize), 0.0, self.col_cost, self.col_lower, self.col_upper,
                             np.concatenate(m.rlo), np.concatenate(m.rhi), start, rows.astype(np.int32), vals,
                             self.integer.astype(np.int32))
        if status != highspy.HighsStatus.kOk:
            raise RuntimeError(f"{self.cp.graph.source}: HiGHS refused the model ({status})")
        self.n_cols, self.n_rows, self.nnz = m.n, m.m, len(vals)
        return h

    # -- changing and solving ---------------------------------------------------------------------
    def set_capacity(self, exchange_id: str, value: float) -> None:
        """Set an exchange's capacity (per hour, the park's units) at every step; no rebuild.

        :param exchange_id: the exchange's id
        :param value: the new capacity per hour (0 switches it off)
        """
        e = self.cp.link_ids.index(exchange_id)
        idx = self.flow[e]
        hi = np.full(self.T, value * self.cp.dt_h)
        self.h.changeColsBounds(len(idx), idx.astype(np.int32), np.zeros(self.T), hi)
        self.col_upper[idx] = hi
        self.changed[f"capacity {exchange_id}"] = ("set_capacity", exchange_id, float(value))

    def set_link_cost(self, exchange_id: str, cost: float) -> None:
        """Set an exchange's transport cost (park currency per unit) at every step; no rebuild."""
        e = self.cp.link_ids.index(exchange_id)
        idx = self.flow[e]
        c = np.full(self.T, float(cost))
        self.h.changeColsCost(len(idx), idx.astype(np.int32), c)
        self.col_cost[idx] = c
        self.changed[f"cost {exchange_id}"] = ("set_link_cost", exchange_id, float(cost))

    def solve(self, time_limit_s: float = 300.0, progress: Callable[[str], None] | None = None) -> Solution:
        """Solve (or re-solve from the last basis) and read the solution back.

        :param time_limit_s: HiGHS's time limit (s)
        :param progress: called about twice a second while HiGHS runs, with one line: elapsed time,
            simplex iterations, the MIP's gap and nodes once branching starts, and HiGHS's last log line
        """
        h = self.h
        h.setOptionValue("time_limit", float(time_limit_s))
        t0 = time.perf_counter()
        def go(h: highspy.Highs) -> highspy.HighsStatus:
            return _presolve_again(h, lambda: h.run() if progress is None else _run_watched(h, progress), progress)
        # the first solve starts from the windows' basis (lp_windows); so does a re-solve where the first
        # held the LP, the windows built with what was set since: Kråkøya's year with one exchange
        # off 23.8 CPU s as the MILP (172,334 iterations), 24.4 by the dual simplex from the LP's
        # optimal basis (19,684: every step's bound moved), 4.5-6.4 from the windows again
        if self._warm or self._lp_form:
            self._warm = False
            run, self._lp_form = solve_from_windows(self, go, self.windows, progress)
        else:
            run = go(h)
        solve_s = time.perf_counter() - t0
        status = h.modelStatusToString(h.getModelStatus())
        # only a feasible point is a solution: a re-solve that ends infeasible keeps the last
        # solution's values with an "infeasible" status, and they must not be read as an optimum
        if run == highspy.HighsStatus.kError or h.getInfo().primal_solution_status != FEASIBLE_POINT:
            why = "".join(f"\n  {line}" for line in self.infeasible_set()) if "nfeasible" in status else ""
            raise RuntimeError(f"{self.cp.graph.source}: HiGHS found no solution ({status})"
                               + (f"; these constraints contradict each other (an irreducible infeasible set):{why}"
                                  if why else ""))
        x = np.asarray(h.getSolution().col_value)
        info = h.getInfo()
        series = {k: x[v] for k, v in self.var.items()}
        # the LP's optimum with every on/off at 0 or 1 is the MILP's: no gap
        gap = float(info.mip_gap) if self.integer.any() and not self.relax and not self._lp_form else 0.0
        obj = float(info.objective_function_value)
        if self._reward:  # the rules' reward is no cost of the park
            obj += self.rule_reward * float(sum(x[c].sum() for c in self._reward))
            obj -= self.rule_reward * float(sum((x[c] * w).sum() for c, w in self._lost_rule))
        short, short_cost, notes = self._end_shorts(x)
        for line in notes:  # the file asked for it: say so wherever the optimum runs (twin run, bench)
            warnings.warn(line, stacklevel=2)
        return Solution(obj, status, solve_s, series, self._actions(x),
                        self._balance(x), gap, short, short_cost, notes)

    def _end_shorts(self, x: np.ndarray) -> tuple[dict[str, float], float, list[str]]:
        """What each soft end target is missed by, its cost, and a line per store whose file
        rule (``no_less_than_start``) cannot be met at less than the value of lost load."""
        cp, short, total, notes = self.cp, {}, 0.0, []
        for n in self._end_row:
            key = cp.node_keys[n]
            c = self.var[f"end_short:{key}"][-1]
            amount = float(x[c])
            if amount <= 1e-9 * max(1.0, cp.NF[n, F_CAP]):  # round-off of the solver, not a shortfall
                continue
            short[key], price = amount, float(self.col_cost[c])
            total += amount * price
            if n in self._file_end:
                unit = amount_unit(next(iter(cp.graph.nodes[n].ports.values())).carrier.resource)
                notes.append(f"{cp.graph.source}: store {key}: its end rule no_less_than_start "
                             f"({self._file_end[n]:,.6g} {unit}) cannot be met: it ends {amount:,.6g} {unit} "
                             f"short (nothing refills it for less than the value of lost load, "
                             f"{price:,.6g} {cp.graph.currency}/{unit}), charged {amount * price:,.2f} "
                             f"{cp.graph.currency} in the objective")
        return short, total, notes

    def end_values(self, progress: Callable[[str], None] | None = None) -> np.ndarray:
        """What one more unit left in each store at the end is worth (park currency per unit), per component.

        The shadow price of a store's end rule after :meth:`solve`: a ``no_less_than_start`` or
        ``terminal`` end bound's reduced cost (0 where it does not bind), ``end.value`` for a
        ``valued`` store, 0 for a ``free`` one. A MILP's on/off decisions are fixed at the solution
        and the LP re-solved to read them. Valuing every run's stored content at these prices
        makes its objective comparable with the optimum's, whose end rule the others do not obey.

        :param progress: as in :meth:`solve`, for the fixed LP's solve
        """
        out = np.zeros(self.cp.n_nodes)
        rules = {n: self.cp.graph.nodes[n].text.get("end", "no_less_than_start") for n in self.level}
        if self.terminal is not None:
            rules.update({n: "terminal" for n in self.level if np.isfinite(self.terminal[n])})
        bound = [n for n, r in rules.items() if r in ("no_less_than_start", "terminal")]
        for n, r in rules.items():
            if r == "valued":
                out[n] = self.cp.NF[n, F_END_VALUE]
        if not bound:
            return out
        h = self.h
        if self._lp_form:  # the MILP's LP, solved: its on/off fixed where they are, its basis stays optimal
            return self._end_values_fixed(out, bound, progress)
        if self.integer.any() and not self.relax:  # duals of the LP with the MILP's on/off fixed
            x = np.asarray(h.getSolution().col_value)
            lp = h.getLp()
            fixed = np.flatnonzero(self.integer)
            lo, hi = np.asarray(lp.col_lower_).copy(), np.asarray(lp.col_upper_).copy()
            lo[fixed] = hi[fixed] = np.round(x[fixed])
            lp.col_lower_, lp.col_upper_ = lo, hi
            lp.integrality_ = []
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.passModel(lp)
            if progress is None:
                h.run()
            else:
                _run_watched(h, lambda line: progress(f"stores' end prices: {line}"))
        return self._end_prices(h, out, bound)

    def _end_prices(self, h: highspy.Highs, out: np.ndarray, bound: list[int]) -> np.ndarray:
        """The end rules' shadow prices in ``h``'s solved LP (its row's dual; a level's bound's)."""
        dual = np.asarray(h.getSolution().col_dual)
        row_dual = np.asarray(h.getSolution().row_dual)
        if len(dual) != self.n_cols or len(row_dual) != self.n_rows:  # no dual solution: value nothing
            return out
        for n in bound:
            r = self._end_row.get(n)
            out[n] = max(0.0, float(dual[self.level[n][-1]] if r is None else row_dual[r]))
        return out

    def _end_values_fixed(self, out: np.ndarray, bound: list[int],
                          progress: Callable[[str], None] | None) -> np.ndarray:
        """:meth:`end_values` where HiGHS holds the LP (lp_windows): the on/off are fixed at
        their values in place and the LP re-solved from its own basis (no iteration where they
        are at their bounds, as at an integral optimum), read, and freed again. The re-solve runs
        as the windows' start left the LP, by the primal simplex unscaled: under HiGHS's own options
        it scaled the model afresh and lost the basis (Kråkøya's year 31.8 → 0.24 CPU s, the
        Kalundborg-like park's 79 → 0.57, the same prices)."""
        h, ints = self.h, np.flatnonzero(self.integer).astype(np.int32)
        v = np.round(np.asarray(h.getSolution().col_value)[ints])
        h.changeColsBounds(len(ints), ints, v, v)
        from_basis(h, lambda h: h.run() if progress is None else
                   _run_watched(h, lambda line: progress(f"stores' end prices: {line}")))
        out = self._end_prices(h, out, bound)
        h.changeColsBounds(len(ints), ints, self.col_lower[ints], self.col_upper[ints])
        return out

    def infeasible_set(self, limit: int = 20) -> list[str]:
        """After an infeasible solve: HiGHS's irreducible infeasible set (IIS), one line per
        constraint as the park states it (a bus's balance, a store's level, a min load, a flow's
        bound), with the steps where it is in the set; the LP relaxation's for a MILP. Empty
        where HiGHS gives none."""
        h = self.h
        if self.integer.any():  # HiGHS finds an IIS of an LP: drop the integrality
            lp = h.getLp()
            lp.integrality_ = []
            seconds = h.getOptionValue("time_limit")[1]
            h = _new_highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("time_limit", seconds)  # the solve's own
            h.passModel(lp)
            h.run()
        h.setOptionValue("iis_strategy", IIS_FROM_LP_IRREDUCIBLE)
        # the search solves LP after LP: bounded by the solve's time limit (its own is none)
        h.setOptionValue("iis_time_limit", self.h.getOptionValue("time_limit")[1])
        try:
            status, iis = h.getIis()
        except Exception:  # a highspy without getIis
            return []
        if status != highspy.HighsStatus.kOk or not iis.valid_:
            return []
        groups: dict[str, list[int]] = {}
        for r, bound in zip(iis.row_index_, iis.row_bound_, strict=True):
            if bound in IIS_IN_SET:
                name, t = self._row_name(int(r))
                groups.setdefault(name, []).append(t)
        names = self._col_names()
        for c, bound in zip(iis.col_index_, iis.col_bound_, strict=True):
            if bound in IIS_IN_SET:
                name, t = names.get(int(c), (f"column {c}", -1))
                side = {2: "lower bound", 3: "upper bound"}.get(bound, "bounds")
                groups.setdefault(f"{side} of {name}", []).append(t)
        lines = [f"{name}{_steps(ts)}" for name, ts in groups.items()]
        return lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else [])

    def _row_name(self, r: int) -> tuple[str, int]:
        cp = self.cp
        for first, k, name in self._m.row_names:
            if first <= r < first + k:
                i = r - first
                if name == "balance":
                    nb = len(cp.bus_ids)
                    return f"balance of bus {cp.bus_ids[i % nb]}", i // nb
                return name, (i if k == self.T else -1)
        return f"row {r}", -1

    def _col_names(self) -> dict[int, tuple[str, int]]:
        out = {}
        for name, cols in self.var.items():
            for t, c in enumerate(np.asarray(cols).ravel()):
                out[int(c)] = (name, t)
        return out

    def _actions(self, x: np.ndarray) -> np.ndarray:
        """The kernel's actions: fractions of each action's full scale."""
        cp, dt = self.cp, self.cp.dt_h
        A = np.zeros((self.T, cp.n_actions))
        for a in range(cp.n_actions):
            kind, ref = cp.action_kind[a], cp.action_ref[a]
            if kind == 0:
                full, got = cp.NF[ref, F_RATED] * dt, x[self.var[f"load:{cp.node_keys[ref]}"]]
            elif kind == 1:
                full, got = self.col_upper[self.flow[ref]], x[self.flow[ref]]
            else:
                full, got = cp.NF[ref, F_MAX] * dt, x[self.var[f"disposal:{cp.node_keys[ref]}"]]
            A[:, a] = np.where(full > 0.0, got / np.maximum(full, 1e-300), 0.0)
        return np.clip(A, 0.0, 1.0)

    def _balance(self, x: np.ndarray) -> np.ndarray:
        """Supply minus use per bus and step, from the solution and the matrix (≈ 0)."""
        m = self._m
        rows, cols, vals = m.rows, m.cols, m.vals
        T, nb = self._bal.shape
        out = np.zeros(self._m.m)
        for r, c, v in zip(rows, cols, vals, strict=True):
            np.add.at(out, r, v * x[c])
        bal = out[: T * nb].reshape(T, nb) - self._rhs
        for b, r in self._in_row.items():
            bal[:, b] += out[r] - self._rhs_in[b]
        return bal


def _presolve_again(h: highspy.Highs, run: Callable[[], highspy.HighsStatus],
                    progress: Callable[[str], None] | None) -> highspy.HighsStatus:
    """``run()``, and once more without HiGHS's presolve where it ends with no answer.

    Every need of the model has its lost-load slack and every store's end rule its priced
    shortfall, so it always has a solution: "infeasible" or a solve error from HiGHS's own start is
    its presolve losing its way. A store losing 1 % an hour chains 8,760 levels whose substitutions
    reach 0.99^8760 ≈ 1e-38: HiGHS's presolve called that year "Infeasible" after 0 iterations and
    5,000 steps of it a "Solve error"; without presolve the simplex solves it in 0.3 s
    (``test_a_lossy_store_over_a_year_solves_from_highs_own_start``). A model truly infeasible (a
    bound set by hand) stays so, and is named (:meth:`Optimum.infeasible_set`)."""
    limit, presolve, t0 = h.getOptionValue("time_limit")[1], h.getOptionValue("presolve")[1], time.perf_counter()
    status = run()
    if h.getModelStatus() not in _NO_ANSWER or presolve == "off":
        return status
    if progress is not None:
        progress(f"HiGHS's presolve ended with {h.modelStatusToString(h.getModelStatus())!r}: solved again without it")
    h.clearSolver()
    h.setOptionValue("presolve", "off")
    h.setOptionValue("time_limit", max(limit - (time.perf_counter() - t0), 1e-3))
    try:
        return run()
    finally:
        h.setOptionValue("presolve", presolve)
        h.setOptionValue("time_limit", limit)


def _run_watched(h: highspy.Highs, progress: Callable[[str], None]) -> highspy.HighsStatus:
    """``h.run()``, reporting its progress twice a second meanwhile from a thread of its own
    (what HiGHS's callbacks last said: its log lines, the simplex's and branch-and-bound's
    counters). HiGHS runs in the caller's thread: in highspy's (``startSolve``, waited on) Kråkøya's
    year took 0.8-1.7 CPU s more (issue 22, item 7). Ctrl-C stops HiGHS at its next callback and
    is raised when it has stopped."""
    seen = {"iterations": 0, "gap": math.inf, "nodes": 0, "line": "presolve", "stop": False}

    def on_log(event) -> None:  # HiGHS's log lines, kept off the console
        line = " ".join(str(event.message).split())
        if line:
            seen["line"] = line[:60]

    def on_interrupt(event) -> None:  # polled by simplex and branch-and-bound: their counters
        d = event.data_out
        seen["iterations"] = max(seen["iterations"], int(d.simplex_iteration_count))
        if d.mip_node_count >= 0 and 0.0 <= d.mip_gap < math.inf:  # branch and bound has started
            seen["gap"], seen["nodes"] = float(d.mip_gap), int(d.mip_node_count)
        if seen["stop"]:
            event.interrupt()

    t0 = time.perf_counter()

    def say() -> None:
        gap = "" if not math.isfinite(seen["gap"]) else f", MIP gap {100 * seen['gap']:.2f} % at {seen['nodes']:,} nodes"
        progress(f"HiGHS {time.perf_counter() - t0:,.0f} s, {seen['iterations']:,} simplex iterations{gap}: "
                 f"{seen['line']}")

    done = threading.Event()

    def tick() -> None:
        while not done.wait(0.5):
            say()

    def on_sigint(signum, frame) -> None:  # runs at HiGHS's next callback, in this thread
        seen["stop"] = True

    h.setOptionValue("output_flag", True)
    h.setOptionValue("log_to_console", False)
    h.cbLogging += on_log
    h.cbSimplexInterrupt += on_interrupt
    h.cbMipInterrupt += on_interrupt
    ticker = threading.Thread(target=tick, name="HiGHS progress", daemon=True)
    main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, on_sigint) if main else None
    try:
        ticker.start()
        status = h.run()
    finally:
        done.set()
        ticker.join()
        if main:
            signal.signal(signal.SIGINT, old)
        h.cbLogging -= on_log
        h.cbSimplexInterrupt -= on_interrupt
        h.cbMipInterrupt -= on_interrupt
        h.setOptionValue("output_flag", False)
    if seen["stop"]:
        raise KeyboardInterrupt
    seen["iterations"] = max(seen["iterations"], int(h.getInfo().simplex_iteration_count))
    say()
    return status


def _steps(ts: list[int]) -> str:
    """" at steps 0–5, 9" from the steps a constraint is in the infeasible set at."""
    ts = sorted(t for t in set(ts) if t >= 0)
    if not ts:
        return ""
    runs, first = [], ts[0]
    for a, b in itertools.pairwise([*ts, None]):
        if b is None or b != a + 1:
            runs.append(f"{first}" if first == a else f"{first}–{a}")
            first = b
    return f" at step{'s' if len(ts) > 1 else ''} {', '.join(runs)}"


def initial_levels(cp: CompiledPark) -> np.ndarray:
    """Store levels at the start of a horizon (``initial × capacity``), per component."""
    s = np.zeros(cp.n_nodes)
    st = cp.NI[:, I_TYPE] == T_STORAGE
    s[st] = cp.NF[st, F_INIT] * cp.NF[st, F_CAP]
    return s
