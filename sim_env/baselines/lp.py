"""The twin's step as a (mixed-integer) linear program over a horizon, solved with HiGHS.

The LP is the SAME model as :mod:`sim_env.kernels`: the action-independent series (biogas
from the digester, digester heat demand, O2 demand, heat-pump COP, prices) are read from
the kernel itself by stepping it with zero actions, and every constraint below is one of the
kernel's clips written as an inequality. A feasible LP schedule therefore passes through the
kernel unclipped, and the kernel's cost equals the LP objective (tested to 0.5 %). The
kernel clips the heat pump at the store's free room; the LP needs no row for it, since heat
that costs power is never planned only to be dumped.

On/off units (CHP, electrolyser) get binaries when ``integer=True``; with ``integer=False``
the LP relaxation is a lower bound (and MPC's fast inner model).

Known limits, all outside the shipped park's ranges: prices below
``−fee/(1−export_factor)`` would make simultaneous import and export pay; export above the
connection limit is curtailed by the kernel but cannot be chosen by the LP.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import highspy
import numpy as np

from .. import params as q
from ..kernels import step_serial_numba
from ..params import (
    CH4_KG_PER_NM3,
    CP_WATER_KWH_PER_M3K,
    GWP_CH4,
    LHV_CH4_KWH_PER_NM3,
    OUT_INDEX,
    REUSE_DT_K,
    S_GAS,
    S_HEAT,
    S_TANK,
)

BLOCKS = (
    "p_chp",  # kW el
    "on_chp",  # 0/1
    "upg",  # Nm³ per step
    "flare",  # Nm³ per step
    "p_ely",  # kW el
    "on_ely",  # 0/1
    "o2_ras",  # kg per step
    "q_hp",  # kW heat
    "q_ras",  # kWh per step
    "q_dig",  # kWh per step
    "treat",  # m³ per step
    "reuse",  # m³ per step
    "chp_in",  # kWh per step into the store
    "ely_in",  # kWh per step into the store
    "dump",  # kWh per step dumped from the store
    "gas",  # Nm³ at the end of the step
    "heat",  # kWh at the end of the step
    "tank",  # m³ at the end of the step
    "imp",  # kWh per step
    "exp",  # kWh per step
)
B = {name: i for i, name in enumerate(BLOCKS)}


@dataclass
class Profile:
    """Action-independent series of one horizon, read from the kernel (zero actions)."""

    to_holder: np.ndarray  # Nm³ biogas into the holder per step
    heat_dem_dig: np.ndarray  # kWh
    o2_dem: np.ndarray  # kg
    cop: np.ndarray
    price: np.ndarray  # EUR/MWh
    co2: np.ndarray  # g/kWh
    fresh_c: np.ndarray  # freshwater temperature, °C
    const_cost: float = 0.0  # sludge disposal and other costs no decision changes
    extra: dict = field(default_factory=dict)


def profile(p: np.ndarray, exo: np.ndarray, series: int, start: int, steps: int, state: np.ndarray) -> Profile:
    """Step the kernel ``steps`` times with zero actions from ``state`` and collect what no action changes."""
    P = p[None, :].copy()
    S = state[None, :].copy()
    A = np.zeros((1, q.N_ACTIONS))
    Y = np.zeros((1, q.N_OUT))
    OBS = np.zeros((1, q.obs_size(0)))
    ser = np.array([series], dtype=np.int64)
    t = np.array([start], dtype=np.int64)
    cols = ["biogas_produced_nm3", "heat_demand_digester_kwh", "o2_demand_kg", "heat_pump_cop", "cost_sludge_eur"]
    out = np.zeros((steps, len(cols)))
    idx = [OUT_INDEX[c] for c in cols]
    for i in range(steps):
        step_serial_numba(P, exo, ser, t, S, A, Y, OBS, 0)
        out[i] = Y[0, idx]
    dt = p[q.P_DT_H]
    rows = (start + np.arange(steps)) % exo.shape[1]
    return Profile(
        to_holder=np.minimum(out[:, 0], p[q.P_X_BIOGAS_HOLDER] * dt),
        heat_dem_dig=out[:, 1],
        o2_dem=out[:, 2],
        cop=out[:, 3],
        price=exo[series, rows, q.E_PRICE].copy(),
        co2=exo[series, rows, q.E_CO2].copy(),
        fresh_c=exo[series, rows, q.E_FRESH_C].copy(),
        const_cost=float(out[:, 4].sum()),
    )


class _Builder:
    """Rows of a sparse LP collected as triplets, T rows at a time."""

    def __init__(self, T: int):
        self.T = T
        self.n = len(BLOCKS) * T
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.m = 0

    def var(self, block: str) -> np.ndarray:
        return B[block] * self.T + np.arange(self.T)

    def add(self, terms: list[tuple[str, float | np.ndarray, int]], lo, hi, init: dict[str, float] | None = None) -> None:
        """Add T rows ``lo ≤ Σ coef·x[block, t+shift] ≤ hi``; a term at t−1 for t=0 uses ``init[block]``."""
        T = self.T
        lo = np.broadcast_to(np.asarray(lo, dtype=np.float64), (T,)).copy()
        hi = np.broadcast_to(np.asarray(hi, dtype=np.float64), (T,)).copy()
        r = self.m + np.arange(T)
        for block, coef, shift in terms:
            c = np.broadcast_to(np.asarray(coef, dtype=np.float64), (T,))
            if shift == 0:
                self.rows.append(r)
                self.cols.append(self.var(block))
                self.vals.append(c.copy())
            else:  # shift == -1: the previous step's level
                self.rows.append(r[1:])
                self.cols.append(self.var(block)[:-1])
                self.vals.append(c[1:].copy())
                v0 = c[0] * (init or {})[block]
                lo[0] -= v0
                hi[0] -= v0
        self.lo.append(lo)
        self.hi.append(hi)
        self.m += T

    def csc(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows, cols, vals = (np.concatenate(x) for x in (self.rows, self.cols, self.vals))
        keep = vals != 0.0
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
        order = np.lexsort((rows, cols))
        rows, cols, vals = rows[order], cols[order], vals[order]
        start = np.searchsorted(cols, np.arange(self.n + 1)).astype(np.int32)
        return start, rows.astype(np.int32), vals


@dataclass
class Plan:
    """An LP solution: flows per step (``x[block]``), objective and solver figures."""

    x: dict[str, np.ndarray]
    objective_eur: float  # cost + carbon cost over the horizon, constants included
    status: str
    mip_gap: float
    seconds: float
    n_vars: int
    n_rows: int
    end_values: np.ndarray | None = None  # EUR per Nm3 gas, kWh heat, m3 water left at the end (see build_and_solve)


def build_and_solve(
    p: np.ndarray,
    prof: Profile,
    state: np.ndarray,
    *,
    integer: bool = True,
    terminal: np.ndarray | None = None,
    time_limit_s: float = 600.0,
    mip_rel_gap: float = 1e-4,
    threads: int = 1,
    progress=None,
    end_values: bool = False,
) -> Plan:
    """Build the horizon's (MI)LP from parameters ``p`` and ``prof`` and solve it with HiGHS.

    With ``end_values`` the plan carries the shadow prices of the ``terminal`` levels (gas, heat,
    tank; on/off fixed at the MILP's solution, the LP re-solved for its duals): what one more unit
    left at the end is worth to the optimum, at which the leaderboard values every run's stores.

    ``progress`` (a callable taking one line) hears HiGHS's own progress while it solves (see
    :meth:`sim_env.graph.lp.Optimum.solve`).

    :param p: parameter vector
    :param prof: action-independent series from :func:`profile`
    :param state: state at the start (``S_*`` order)
    :param integer: on/off binaries for CHP and electrolyser (else the LP relaxation)
    :param terminal: minimum gas, heat and tank levels at the end (MPC), or None
    :param time_limit_s: HiGHS time limit (s)
    :param mip_rel_gap: relative MIP gap at which HiGHS stops
    :param threads: HiGHS threads
    """
    T = prof.price.size
    dt = p[q.P_DT_H]
    b = _Builder(T)
    init = {"gas": state[q.S_GAS], "heat": state[q.S_HEAT], "tank": state[q.S_TANK]}
    lhv_bg = LHV_CH4_KWH_PER_NM3 * p[q.P_CH4_FRAC]
    slope, offset = p[q.P_CHP_FUEL_SLOPE], p[q.P_CHP_FUEL_OFFSET]
    gas_per_kw = slope * dt / lhv_bg if lhv_bg > 0 else 0.0
    gas_per_on = offset * dt / lhv_bg if lhv_bg > 0 else 0.0
    water_dem = p[q.P_MAKEUP_M3H] * dt
    c_fresh = CP_WATER_KWH_PER_M3K * p[q.P_RAS_HEAT_FACTOR] * np.maximum(p[q.P_TSET_C] - prof.fresh_c, 0.0)
    c_reuse = CP_WATER_KWH_PER_M3K * REUSE_DT_K  # the 2 K is after heat recovery: no recovery factor
    h2_per_kw = dt / p[q.P_ELY_KWH_KG] if p[q.P_ELY_KWH_KG] > 0 else 0.0
    inf = highspy.kHighsInf

    # Balances (equalities) and the kernel's clips (inequalities).
    gas_use = [("p_chp", gas_per_kw, 0), ("on_chp", gas_per_on, 0), ("upg", 1.0, 0), ("flare", 1.0, 0)]
    b.add([("gas", 1.0, 0), ("gas", -1.0, -1), *gas_use], prof.to_holder, prof.to_holder, init)
    b.add([("p_chp", 1.0, 0), ("on_chp", -p[q.P_CHP_RATED], 0)], -inf, 0.0)
    b.add([("p_chp", 1.0, 0), ("on_chp", -p[q.P_CHP_PMIN], 0)], 0.0, inf)
    b.add([("p_ely", 1.0, 0), ("on_ely", -p[q.P_ELY_RATED], 0)], -inf, 0.0)
    b.add([("p_ely", 1.0, 0), ("on_ely", -p[q.P_ELY_PMIN], 0)], 0.0, inf)
    eta_th = p[q.P_CHP_ETA_TH]
    b.add([("chp_in", 1.0, 0), ("p_chp", -eta_th * slope * dt, 0), ("on_chp", -eta_th * offset * dt, 0)], -inf, 0.0)
    b.add([("ely_in", 1.0, 0), ("p_ely", -p[q.P_ELY_HEAT_FRAC] * dt, 0)], -inf, 0.0)
    b.add([("o2_ras", 1.0, 0), ("p_ely", -h2_per_kw * p[q.P_ELY_O2_RATIO], 0)], -inf, 0.0)
    keep = 1.0 - p[q.P_STORE_LOSS_H] * dt
    b.add([("heat", 1.0, 0), ("heat", -keep, -1), ("chp_in", -1.0, 0), ("ely_in", -1.0, 0), ("q_hp", -dt, 0),
           ("q_ras", 1.0, 0), ("q_dig", 1.0, 0), ("dump", 1.0, 0)], 0.0, 0.0, init)  # fmt: skip
    b.add([("chp_in", 1.0, 0), ("ely_in", 1.0, 0), ("q_hp", dt, 0)], -inf, p[q.P_STORE_MAX_CH] * dt)
    b.add([("q_ras", 1.0, 0), ("q_dig", 1.0, 0)], -inf, p[q.P_STORE_MAX_DIS] * dt)
    b.add([("q_ras", 1.0, 0), ("reuse", c_fresh - c_reuse, 0)], -inf, c_fresh * water_dem)
    b.add([("tank", 1.0, 0), ("tank", -1.0, -1), ("treat", -1.0, 0), ("reuse", 1.0, 0)], 0.0, 0.0, init)
    # Make-up water's electricity (desalination): fresh = demand − reuse, plus the electrolyser's water.
    w_el = p[q.P_WATER_KWH_M3]
    base = (p[q.P_RAS_EL_KW] + p[q.P_DIG_EL_KW]) * dt + w_el * water_dem
    ely_w_el = w_el * h2_per_kw * (1.0 + p[q.P_ELY_O2_RATIO]) / 1000.0
    b.add([("imp", 1.0, 0), ("exp", -1.0, 0), ("upg", -p[q.P_UPG_KWH_NM3], 0), ("treat", -p[q.P_WT_KWH_M3], 0),
           ("p_ely", -dt - ely_w_el, 0), ("q_hp", -dt / prof.cop, 0), ("p_chp", dt, 0), ("reuse", w_el, 0)],
          base, base)  # fmt: skip

    lo, hi = _bounds(p, prof, b, terminal)
    cost, const = _objective(p, prof, b, c_fresh, c_reuse, water_dem, h2_per_kw)
    plan, h = _solve(b, lo, hi, cost, const, integer, time_limit_s, mip_rel_gap, threads, progress)
    if end_values and terminal is not None:
        plan.end_values = _end_duals(h, b, integer, progress)
    return plan


def _end_duals(h: highspy.Highs, b: _Builder, integer: bool, progress=None) -> np.ndarray:
    """Reduced costs of the last gas, heat and tank levels (≥ 0 where the terminal bound binds)."""
    if integer:  # duals of the LP with the MILP's on/off fixed
        x = np.asarray(h.getSolution().col_value)
        lp = h.getLp()
        lo, hi = np.asarray(lp.col_lower_).copy(), np.asarray(lp.col_upper_).copy()
        for name in ("on_chp", "on_ely"):
            idx = b.var(name)
            lo[idx] = hi[idx] = np.round(x[idx])
        lp.col_lower_, lp.col_upper_, lp.integrality_ = lo, hi, []
        h = _new_highs()
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        if progress is None:
            h.run()
        else:  # as the MILP ran: a plain run() after a watched one in the same process left HiGHS unable to solve
            from sim_env.graph.lp import _run_watched

            _run_watched(h, lambda line: progress(f"stores' end prices: {line}"))
    dual = np.asarray(h.getSolution().col_dual)
    if len(dual) != b.n:
        return np.zeros(3)
    return np.array([max(0.0, float(dual[b.var(name)[-1]])) for name in ("gas", "heat", "tank")])


def _bounds(p, prof: Profile, b: _Builder, terminal: np.ndarray | None):
    dt = p[q.P_DT_H]
    lo = np.zeros(b.n)
    hi = np.zeros(b.n)
    water_dem = p[q.P_MAKEUP_M3H] * dt
    upper = {
        "p_chp": p[q.P_CHP_RATED],
        "on_chp": 1.0 if p[q.P_CHP_RATED] > 0 else 0.0,
        "upg": p[q.P_UPG_CAP] * dt,
        "flare": p[q.P_FLARE_MAX] * dt,
        "p_ely": p[q.P_ELY_RATED],
        "on_ely": 1.0 if p[q.P_ELY_RATED] > 0 else 0.0,
        "o2_ras": np.minimum(p[q.P_X_O2] * dt, prof.o2_dem),
        "q_hp": p[q.P_HP_RATED],
        "q_ras": p[q.P_X_HEAT_RAS] * dt,
        "q_dig": np.minimum(p[q.P_X_HEAT_DIG] * dt, prof.heat_dem_dig),
        "treat": min(p[q.P_WT_CAP] * dt, water_dem),
        "reuse": p[q.P_REUSE_CAP] * dt,
        "chp_in": p[q.P_X_CHP_HEAT] * dt,
        "ely_in": p[q.P_X_ELY_HEAT] * dt,
        "dump": highspy.kHighsInf,
        "gas": p[q.P_HOLDER_NM3],
        "heat": p[q.P_STORE_CAP],
        "tank": p[q.P_WT_TANK],
        "imp": p[q.P_IMP_MAX] * dt,
        "exp": p[q.P_EXP_MAX] * dt,
    }
    for name, u in upper.items():
        hi[b.var(name)] = u
    if terminal is not None:
        for name, level in zip(("gas", "heat", "tank"), terminal, strict=True):
            lo[b.var(name)[-1]] = min(level, hi[b.var(name)[-1]])
    return lo, hi


def _objective(p, prof: Profile, b: _Builder, c_fresh, c_reuse, water_dem, h2_per_kw):
    """Cost + carbon cost per unit of each variable, and the constant part (EUR)."""
    cp = p[q.P_CARBON_PRICE] / 1e6  # EUR per g CO2
    c = np.zeros(b.n)
    heat_cost = p[q.P_HEAT_BACKUP] / 1000.0 + prof.co2 * cp  # EUR per kWh of backup heat (electric boiler CO2)
    ch4f = p[q.P_CH4_FRAC]
    c[b.var("imp")] = (prof.price + p[q.P_GRID_FEE]) / 1000.0 + prof.co2 * cp
    c[b.var("exp")] = -prof.price * p[q.P_EXPORT_FACTOR] / 1000.0
    c[b.var("reuse")] = -p[q.P_WATER_PRICE] + heat_cost * (c_reuse - c_fresh)
    c[b.var("q_ras")] = -heat_cost
    c[b.var("q_dig")] = -heat_cost
    c[b.var("o2_ras")] = -p[q.P_O2_PRICE]
    ely_water_per_kw = h2_per_kw * (1.0 + p[q.P_ELY_O2_RATIO]) / 1000.0
    c[b.var("p_ely")] = -p[q.P_H2_PRICE] * h2_per_kw + p[q.P_WATER_PRICE] * ely_water_per_kw
    bm = ch4f * (1.0 - p[q.P_UPG_SLIP]) * LHV_CH4_KWH_PER_NM3 * p[q.P_BM_PRICE] / 1000.0
    slip = ch4f * p[q.P_UPG_SLIP] * CH4_KG_PER_NM3 * GWP_CH4 / 1000.0 * p[q.P_CARBON_PRICE]
    c[b.var("upg")] = -bm + slip + heat_cost * p[q.P_UPG_HEAT_KWH_NM3]  # regeneration heat is backup heat
    const = (
        p[q.P_WATER_PRICE] * water_dem * b.T
        + float(np.sum(heat_cost * (c_fresh * water_dem + prof.heat_dem_dig)))
        + float(np.sum(prof.o2_dem)) * p[q.P_O2_PRICE]
        + prof.const_cost
    )
    return c, const


_banner_shown = False


def _new_highs() -> highspy.Highs:
    """A HiGHS instance; the first one prints a banner on the C stdout, which a CLI table does not want."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    _banner_shown = True
    return h


def _solve(b: _Builder, lo, hi, cost, const, integer, time_limit_s, mip_rel_gap, threads, progress=None
           ) -> tuple[Plan, highspy.Highs]:
    start, index, value = b.csc()
    h = _new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("simplex_strategy", 1)  # dual simplex: 8x faster than IPM on this structure
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    lp = highspy.HighsLp()
    lp.num_col_ = b.n
    lp.num_row_ = b.m
    lp.col_cost_ = cost
    lp.col_lower_ = lo
    lp.col_upper_ = hi
    lp.row_lower_ = np.concatenate(b.lo)
    lp.row_upper_ = np.concatenate(b.hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    if integer:
        integrality = np.full(b.n, highspy.HighsVarType.kContinuous)
        for name in ("on_chp", "on_ely"):
            integrality[b.var(name)] = highspy.HighsVarType.kInteger
        lp.integrality_ = list(integrality)
    h.passModel(lp)
    if progress is None:
        run = h.run()
    else:
        from sim_env.graph.lp import _run_watched

        run = _run_watched(h, progress)
    status = h.modelStatusToString(h.getModelStatus())
    if run == highspy.HighsStatus.kError or h.getInfo().primal_solution_status == 0:
        raise RuntimeError(f"HiGHS found no solution: {status}")
    sol = np.asarray(h.getSolution().col_value)
    info = h.getInfo()
    gap = float(info.mip_gap) if integer else 0.0
    x = {name: sol[b.var(name)] for name in BLOCKS}
    return Plan(x, float(info.objective_function_value) + const, status, gap, float(h.getRunTime()), b.n, b.m), h


def start_levels(state: np.ndarray) -> np.ndarray:
    """Gas, heat and tank levels of a twin state, the order of ``terminal`` and ``Plan.end_values``."""
    return np.array([state[S_GAS], state[S_HEAT], state[S_TANK]], dtype=np.float64)


def stored_value(result, values: np.ndarray | None) -> float:
    """What a run of :func:`sim_env.evaluate.evaluate` gained in its stores, at ``values`` (EUR)."""
    if values is None:
        return 0.0
    e = result.extra
    end = np.array([e["gas_end_nm3"], e["heat_end_kwh"], e["tank_end_m3"]])
    start = np.array([e["gas_start_nm3"], e["heat_start_kwh"], e["tank_start_m3"]])
    return float(np.dot(values, end - start))


def plan_actions(p: np.ndarray, plan: Plan) -> np.ndarray:
    """The plan as action fractions ``(T, N_ACTIONS)`` for the kernel."""
    dt = p[q.P_DT_H]
    x = plan.x

    def frac(v: np.ndarray, bound: float) -> np.ndarray:
        return np.clip(v / bound, 0.0, 1.0) if bound > 0 else np.zeros_like(v)

    cols = [
        frac(x["p_chp"], p[q.P_CHP_RATED]),
        frac(x["upg"], p[q.P_UPG_CAP] * dt),
        frac(x["flare"], p[q.P_FLARE_MAX] * dt),
        frac(x["p_ely"], p[q.P_ELY_RATED]),
        frac(x["o2_ras"], p[q.P_X_O2] * dt),
        frac(x["q_hp"], p[q.P_HP_RATED]),
        frac(x["q_ras"], p[q.P_X_HEAT_RAS] * dt),
        frac(x["q_dig"], p[q.P_X_HEAT_DIG] * dt),
        frac(x["treat"], p[q.P_WT_CAP] * dt),
        frac(x["reuse"], p[q.P_REUSE_CAP] * dt),
    ]
    return np.stack(cols, axis=1)
