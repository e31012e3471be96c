"""Baselines for any compiled park: documented rules, MPC, the perfect-foresight optimum, random.

Every strategy here reads only the compiled tables (:mod:`sim_env.graph.compile`), so it runs on
any park. The rules (:class:`GraphRules`):

1. **Free residual resources first.** Every controlled exchange asks for its full capacity:
   the kernel delivers only what the receiver still needs after the passive links of higher
   priority, so residue (waste heat, reused water, O2) is taken before anything is bought.
2. **Stores charged and discharged by level and price thresholds.**

   - A setpoint converter that draws on a store (a CHP or an upgrader on a gas holder) runs at
     full while the store is above ``draw_high``; between ``draw_low`` and ``draw_high`` only
     the one with the best margin per unit of the store's content runs, and only while its
     margin now is at least its mean over the day-ahead window (it sells when prices are
     high); below ``draw_low`` it stops.
   - A setpoint converter whose valued outputs all go into a store (a heat pump filling a heat
     store, water treatment filling a tank) fills it from ``fill_low`` (full) to ``fill_high``
     (off), linearly between; it stops while its input cost is above ``expensive`` × its mean
     over the window unless the store is below ``draw_low``, and runs at full while the cost is
     in the cheapest ``cheap`` share of the window and the store is below 90 %.
   - A setpoint disposal on a store's bus (a flare) opens only above ``flare_level``.
3. **Markets last.** Any other setpoint converter runs at full while its margin at this step's
   prices is positive: outputs valued at what they sell for or displace (a market's import
   price, a purchase, a demand's backup, one exchange further on), inputs at what they cost
   (a market's import price, a purchase, a backup where nothing else feeds the input). What
   the park still lacks after all this the kernel buys from markets and backups.

The margins use the true prices of the day ahead, which the observation also shows (a
day-ahead market's prices are known); MPC forecasts with errors (:class:`GraphMpc`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .compile import (
    B_DISPOSAL,
    B_MARKET,
    B_PURCHASE,
    B_STORE,
    F_CAP,
    F_PL_SLOPE,
    F_RELEASE,
    I_BUS,
    I_P0,
    I_P1,
    I_PL,
    I_REF,
    I_TYPE,
    L_COST,
    L_LOSS,
    T_DEMAND,
    T_SOURCE,
    T_STORAGE,
    V_CO2,
    V_COST,
    V_EXPORT,
    V_IMPORT,
    V_PRICE,
    CompiledPark,
)
from .evaluate import GraphEnvInfo, GraphStepInfo
from .lp import Optimum

STRATEGIES = ("random", "rule", "mpc", "mpc_perfect", "mpc_learned", "optimum")


def _learned_mpc(**kwargs):
    from sim_env.forecast.mpc import LearnedMpc  # statsforecast is loaded only for this strategy

    return LearnedMpc(**kwargs)


def make_graph_strategy(name: str, **kwargs):
    """A baseline by name: ``random``, ``rule``, ``mpc`` (synthetic forecast errors), ``mpc_perfect``
    (the true series), ``mpc_learned`` (forecasts learned from each series' past) or ``optimum``."""
    classes = {"random": GraphRandom, "rule": GraphRules, "mpc": GraphMpc, "mpc_perfect": GraphMpcPerfect,
               "mpc_learned": _learned_mpc, "optimum": GraphOptimum}
    if name not in classes:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    return classes[name](**kwargs)


class GraphRandom:
    """Uniform random fractions (a floor for any ranking).

    :param seed: seed of the draws
    """

    name = "random"

    def __init__(self, seed: int = 0):
        self.seed = seed

    def reset(self, info: GraphEnvInfo) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.n = info.cp.n_actions

    def act(self, obs: np.ndarray, info: GraphStepInfo) -> np.ndarray:
        return self.rng.random(self.n)


class _Values:
    """Marginal values of one unit on each bus, per step, from the park's price columns."""

    def __init__(self, cp: CompiledPark, C: np.ndarray):
        self.cp, self.C = cp, C  # C: (T, values) of the run's year
        T, nb = C.shape[0], len(cp.bus_ids)
        carbon = cp.carbon_price_per_kg
        col = self._col
        self.buy = np.full((T, nb), np.nan)  # what one more unit costs when taken from the bus
        self.sell = np.full((T, nb), np.nan)  # what one more unit delivered to the bus is worth
        for b in range(nb):
            m, p = cp.BI[b, B_MARKET], cp.BI[b, B_PURCHASE]
            if m >= 0:
                imp = col(cp.NV[m, V_IMPORT]) + carbon * col(cp.NV[m, V_CO2]) if cp.NV[m, V_IMPORT] >= 0 else None
                exp_ = col(cp.NV[m, V_EXPORT]) if cp.NV[m, V_EXPORT] >= 0 else None
                self.buy[:, b] = imp if imp is not None else (exp_ if exp_ is not None else 0.0)
                self.sell[:, b] = imp if imp is not None else (exp_ if exp_ is not None else 0.0)
            elif p >= 0:
                self.buy[:, b] = self.sell[:, b] = col(cp.NV[p, V_PRICE]) + carbon * col(cp.NV[p, V_CO2])
        for n in range(cp.n_nodes):  # a demand's backup is what one more unit on its bus displaces
            b = cp.NI[n, I_BUS]
            if cp.NI[n, I_TYPE] == T_DEMAND and cp.NV[n, V_COST] >= 0 and np.isnan(self.sell[0, b]):
                self.sell[:, b] = col(cp.NV[n, V_COST]) + carbon * col(cp.NV[n, V_CO2])
        self.fed = np.zeros(nb, dtype=bool)  # something free may feed the bus (a link or a source)
        self.fed[cp.LD] = True
        for n in range(cp.n_nodes):
            if cp.NI[n, I_TYPE] == T_SOURCE:
                self.fed[cp.NI[n, I_BUS]] = True
        self.store_bus = cp.BI[:, B_STORE] >= 0
        for _ in range(3):  # one exchange further on, up to three hops
            self._hop()
            self._hop_back()
        for b in range(nb):  # a disposal's cost is what one more unit of residue costs, else nothing
            if np.isnan(self.sell[0, b]):
                d = cp.BI[b, B_DISPOSAL]
                self.sell[:, b] = -(col(cp.NV[d, V_COST]) + carbon * col(cp.NV[d, V_CO2])) if d >= 0 else 0.0
        self.buy = np.where(np.isnan(self.buy), 0.0, self.buy)

    def store_near(self, b: int, output: bool, hops: int = 2) -> int:
        """The store on bus ``b`` or up to ``hops`` exchanges away (downstream of an output,
        upstream of an input); -1 when none."""
        cp = self.cp
        if cp.BI[b, B_STORE] >= 0:
            return int(cp.BI[b, B_STORE])
        if hops == 0:
            return -1
        ptr, links, far = (cp.BOUT_PTR, cp.BOUT_LINK, cp.LD) if output else (cp.BIN_PTR, cp.BIN_LINK, cp.LS)
        for i in range(ptr[b], ptr[b + 1]):
            s = self.store_near(int(far[links[i]]), output, hops - 1)
            if s >= 0:
                return s
        return -1

    def _hop_back(self) -> None:
        """A bus that buys nothing itself costs the cheapest of what its incoming exchanges bring."""
        cp, buy = self.cp, self.buy.copy()
        for b in range(len(cp.bus_ids)):
            if not np.isnan(self.buy[0, b]) or self.store_bus[b]:
                continue
            best = None
            for i in range(cp.BIN_PTR[b], cp.BIN_PTR[b + 1]):
                e = cp.BIN_LINK[i]
                v = self.buy[:, cp.LS[e]]
                if np.isnan(v[0]):
                    continue
                v = (v + cp.LF[e, L_COST]) / max(1.0 - cp.LF[e, L_LOSS], 1e-9)
                best = v if best is None else np.minimum(best, v)
            if best is not None:
                buy[:, b] = best
        self.buy = buy

    def _hop(self) -> None:
        """A bus without a value of its own is worth the best of what its exchanges lead to."""
        cp, sell = self.cp, self.sell.copy()
        for b in range(len(cp.bus_ids)):
            if not np.isnan(self.sell[0, b]) or self.store_bus[b]:
                continue
            best = None
            for i in range(cp.BOUT_PTR[b], cp.BOUT_PTR[b + 1]):
                e = cp.BOUT_LINK[i]
                v = self.sell[:, cp.LD[e]]
                if np.isnan(v[0]):
                    continue
                v = (1.0 - cp.LF[e, L_LOSS]) * v - cp.LF[e, L_COST]
                best = v if best is None else np.maximum(best, v)
            if best is not None:
                sell[:, b] = best
        self.sell = sell

    def _col(self, v: int) -> np.ndarray:
        return self.C[:, v] if v >= 0 else np.zeros(self.C.shape[0])


class GraphRules:
    """The documented rules of this module, for any park.

    :param draw_low: store level (fraction) below which converters stop drawing on it
    :param draw_high: store level above which every converter drawing on it runs at full
    :param fill_low: level below which a converter filling a store runs at full
    :param fill_high: level above which it stops
    :param expensive: input cost, as a multiple of its day-ahead mean, above which filling pauses
    :param cheap: share of the window's cheapest hours in which filling runs at full
    :param flare_level: store level above which a setpoint disposal on it opens
    """

    name = "rule"

    def __init__(self, draw_low: float = 0.2, draw_high: float = 0.5, fill_low: float = 0.4, fill_high: float = 0.6,
                 expensive: float = 1.5, cheap: float = 0.25, flare_level: float = 0.95):
        self.draw_low, self.draw_high = draw_low, draw_high
        self.fill_low, self.fill_high = fill_low, fill_high
        self.expensive, self.cheap, self.flare_level = expensive, cheap, flare_level
        self.extra: dict = {}

    def reset(self, info: GraphEnvInfo) -> None:
        cp = self.cp = info.cp
        C = info.coef[info.year]
        self.T, H = C.shape[0], max(1, info.forecast_steps)
        vals = _Values(cp, C)
        self.default = np.zeros(cp.n_actions)
        self.kind = np.zeros(cp.n_actions, dtype=np.int64)  # 0 fixed, 1 draws a store, 2 fills one, 3 margin, 4 flare
        self.store = np.full(cp.n_actions, -1)
        self.margin = np.zeros((self.T, cp.n_actions))  # per unit of reference load
        self.per_content = np.zeros((self.T, cp.n_actions))  # margin per unit drawn from the store
        self.in_cost = np.zeros((self.T, cp.n_actions))
        for a in range(cp.n_actions):
            kind, ref = cp.action_kind[a], cp.action_ref[a]
            if kind == 1:
                self.default[a] = 1.0  # free residue first: the kernel takes only what is needed
            elif kind == 2:
                s = cp.BI[cp.NI[ref, I_BUS], B_STORE]
                if s >= 0 and cp.NF[s, F_CAP] > 0:
                    self.kind[a], self.store[a] = 4, s
            else:
                self._converter(a, ref, C, vals)
        # the day-ahead mean of each margin and input cost (a window starting now, wrapping at year end)
        idx = (np.arange(self.T)[:, None] + np.arange(H)[None, :]) % self.T
        self.margin_mean = self.margin[idx].mean(axis=1)
        self.cost_mean = self.in_cost[idx].mean(axis=1)
        self.cost_cheap = np.quantile(self.in_cost[idx], self.cheap, axis=1)
        self.cap = np.where(cp.NF[:, F_CAP] > 0, cp.NF[:, F_CAP], 1.0)
        self._groups = [(s, np.flatnonzero((self.kind == 1) & (self.store == s)))
                        for s in sorted(set(self.store[self.kind == 1].tolist()))]
        self._i2, self._i3, self._i4 = (np.flatnonzero(self.kind == k) for k in (2, 3, 4))

    def _converter(self, a: int, n: int, C: np.ndarray, vals: _Values) -> None:
        cp = self.cp
        p0, p1, ref, pl = cp.NI[n, I_P0], cp.NI[n, I_P1], cp.NI[n, I_REF], cp.NI[n, I_PL]
        amount: dict[int, np.ndarray] = {}
        for p in list(range(p0, p1)) * 2:  # twice: ports per unit of another port come second
            if p in amount or (cp.PO[p] >= 0 and cp.PO[p] not in amount):
                continue
            base = 1.0 if p == ref else (cp.NF[n, F_PL_SLOPE] if p == pl else C[:, cp.PV[p]])
            amount[p] = np.broadcast_to(np.asarray(base, dtype=np.float64), (C.shape[0],)) * (
                amount[cp.PO[p]] if cp.PO[p] >= 0 else 1.0)
        value_out = np.zeros(C.shape[0])
        cost_in = np.zeros(C.shape[0])
        drawn = None  # (store, amount) of the store this converter draws on
        fills = None
        for p, q in amount.items():
            b = cp.PB[p]
            s = vals.store_near(b, output=cp.PD[p] == 1)
            process = s >= 0 and cp.NF[s, F_RELEASE] > 0.0  # a digester's solids: not a store to manage
            if cp.PD[p] == 1:
                if s >= 0 and not process:
                    fills = s
                else:
                    value_out += q * vals.sell[:, b]
            else:
                if s >= 0 and not process:
                    drawn = (s, q)
                elif cp.PBC[p] >= 0 and not vals.fed[b] and cp.BI[b, B_MARKET] < 0 and cp.BI[b, B_PURCHASE] < 0:
                    carbon = cp.carbon_price_per_kg
                    cost_in += q * (C[:, cp.PBC[p]] + (carbon * C[:, cp.PBO[p]] if cp.PBO[p] >= 0 else 0.0))
                else:
                    cost_in += q * vals.buy[:, b]
        self.margin[:, a] = value_out - cost_in
        self.in_cost[:, a] = cost_in
        if drawn is not None:
            self.kind[a], self.store[a] = 1, drawn[0]
            self.per_content[:, a] = self.margin[:, a] / np.maximum(np.abs(drawn[1]), 1e-12)
        elif fills is not None and np.all(value_out <= 0.0):
            self.kind[a], self.store[a] = 2, fills
        else:
            self.kind[a] = 3

    def act(self, obs: np.ndarray, info: GraphStepInfo) -> np.ndarray:
        return self.act_batch(info.state[None, :], np.array([info.t]))[0]

    def act_batch(self, S: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The rules for K rows at once: store levels ``S (K, components)``, steps ``t (K,)``;
        row by row the same as :meth:`act` (the candidates of a sweep run in one call)."""
        K = S.shape[0]
        rows = np.arange(K)
        t = np.asarray(t) % self.T
        A = np.tile(self.default, (K, 1))
        level = S / self.cap
        margin = self.margin[t]  # (K, actions)
        for s, users in self._groups:  # users of one store: best use first
            f = level[:, s]
            high = f >= self.draw_high
            mid = (f > self.draw_low) & ~high
            A[:, users] = np.where(high[:, None], (margin[:, users] > 0.0) | (f >= 0.9)[:, None], 0.0)
            best = users[np.argmax(self.per_content[t][:, users], axis=1)]
            mb = margin[rows, best]
            on = mid & (mb > 0.0) & (mb >= self.margin_mean[t, best] - 1e-12)
            A[rows, best] = np.where(mid, on, A[rows, best])
        i2 = self._i2
        if len(i2):
            f = level[:, self.store[i2]]
            a = np.clip((self.fill_high - f) / max(self.fill_high - self.fill_low, 1e-9), 0.0, 1.0)
            cost, mean = self.in_cost[t][:, i2], self.cost_mean[t][:, i2]
            pause = (cost > self.expensive * mean) & (mean > 0) & (f > self.draw_low)
            cheap = (cost <= self.cost_cheap[t][:, i2]) & (f < 0.9)
            A[:, i2] = np.where(pause, 0.0, np.where(cheap, 1.0, a))
        A[:, self._i3] = margin[:, self._i3] > 0.0
        A[:, self._i4] = level[:, self.store[self._i4]] >= self.flare_level
        return A


class GraphOptimum:
    """The perfect-foresight MILP of the whole run (:class:`~sim_env.graph.lp.Optimum`, ``rules=True``),
    solved at reset and replayed step by step, so the twin costs what the LP says.

    :param relax: solve the LP relaxation instead of the MILP
    :param mip_rel_gap: HiGHS's relative MIP gap
    :param time_limit_s: HiGHS's time limit
    :param end_values: also price each store's end rule (:meth:`~sim_env.graph.lp.Optimum.end_values`,
        ``self.end_values``; a MILP re-solves its LP once more for them): the leaderboard values
        every run's stored content at these prices
    :param progress: called with one line about twice a second while HiGHS solves (elapsed time,
        iterations, MIP gap; see :meth:`~sim_env.graph.lp.Optimum.solve`); the harness sets it when
        it shows a progress bar
    """

    name = "optimum"

    def __init__(self, relax: bool = False, mip_rel_gap: float = 1e-4, time_limit_s: float = 600.0,
                 end_values: bool = False, progress: Callable[[str], None] | None = None):
        self.relax, self.mip_rel_gap, self.time_limit_s = relax, mip_rel_gap, time_limit_s
        self.price_ends, self.progress = end_values, progress
        self.end_values: np.ndarray | None = None
        self.extra: dict = {}

    def reset(self, info: GraphEnvInfo) -> None:
        opt = Optimum(info.cp, info.coef, info.steps, start=info.start, year=info.year, relax=self.relax,
                      mask=info.mask, mip_rel_gap=self.mip_rel_gap, rules=True, state0=info.state0,
                      primal_only=not self.price_ends)  # end prices need the LP's duals
        say = self.progress
        if say is not None:
            say(f"LP built ({opt.n_cols:,} columns, {opt.n_rows:,} rows in {opt.build_s:.1f} s); HiGHS starts")
        sol = opt.solve(self.time_limit_s, progress=say)
        self.actions = sol.actions
        self.extra = {"lp_objective": sol.objective, "lp_build_s": opt.build_s, "lp_solve_s": sol.solve_s,
                      "mip_gap": sol.mip_gap}
        if sol.notes:  # a store whose file end rule cannot be met: the run's JSON says so too
            self.extra["notes"] = list(sol.notes)
        if self.price_ends:
            self.end_values = opt.end_values(progress=say)
            self.extra["store_end_values"] = {info.cp.node_keys[n]: float(v) for n, v in enumerate(self.end_values) if v}

    def act(self, obs: np.ndarray, info: GraphStepInfo) -> np.ndarray:
        return self.actions[min(info.step, len(self.actions) - 1)]


# Forecast errors at 24 h lead, relative, growing like a random walk with the lead time.
PRICE_ERROR_24H = 0.15  # [E] day-ahead price forecast error
CO2_ERROR_24H = 0.10  # [E] grid-intensity forecast error
OTHER_ERROR_24H = 0.05  # [E] profiles, temperatures and derived series (COP)


class GraphMpc:
    """Rolling-horizon MILP over the park's own LP, on noisy forecasts.

    Every ``replan_hours`` it forecasts the next ``horizon_hours`` of every series (the truth
    plus errors that grow with the lead time), builds :class:`~sim_env.graph.lp.Optimum` from the
    measured store levels with ``rules=True`` (so its plan is what the kernel does) and applies
    the plan's first steps. The plan ends with each store no emptier than the lower of its
    initial and its current level, so a short horizon does not sell the stores off; a soft target
    (a unit short costs the value of lost load), so a store that cannot reach it (a lossy one
    with nothing to refill it) is kept as full as it can be instead of making the plan infeasible.

    :param horizon_hours: planning horizon (h)
    :param replan_hours: hours between plans
    :param noise: scale of the forecast errors (0: perfect forecasts)
    :param seed: seed of the errors
    :param relax: plan with the LP relaxation (faster) instead of the MILP
    """

    name = "mpc"

    def __init__(self, horizon_hours: float = 36.0, replan_hours: float = 6.0, noise: float = 1.0, seed: int = 0,
                 relax: bool = False):
        if not horizon_hours >= replan_hours > 0:
            raise ValueError("need horizon_hours >= replan_hours > 0")
        self.horizon_hours, self.replan_hours, self.noise, self.seed, self.relax = (
            horizon_hours, replan_hours, noise, seed, relax)
        self.extra: dict = {}

    def reset(self, info: GraphEnvInfo) -> None:
        from .twin import _priced_series

        self.info = info
        self.rng = np.random.default_rng(self.seed)
        self.H = max(1, round(self.horizon_hours / info.dt_h))
        self.every = max(1, round(self.replan_hours / info.dt_h))
        co2 = {n.val["co2"].series for n in info.cp.graph.nodes if n.val.get("co2") is not None and n.val["co2"].series}
        priced = set(_priced_series(info.cp))
        self.error = {s: CO2_ERROR_24H if s in co2 else PRICE_ERROR_24H if s in priced else OTHER_ERROR_24H
                      for s in info.series}
        st = info.cp.NI[:, I_TYPE] == T_STORAGE
        self.managed = st & (info.cp.NF[:, F_RELEASE] <= 0.0)  # a process inventory (digester) is not planned
        self.released = st & ~self.managed
        self.terminal_ref = info.state0.copy()
        self._plan = np.zeros((0, info.cp.n_actions))
        self._since = 0
        self.solves, self.solve_s = 0, 0.0
        self.extra = {}

    def forecast(self, t: int) -> np.ndarray:
        """``COEF`` of the next H steps as a forecaster sees them, ``(1, H, values)``."""
        info = self.info
        T = info.coef.shape[1]  # the year's steps (a park of constants has no series to read it from)
        rows = (t + np.arange(self.H)) % T
        lead = np.sqrt(np.arange(self.H) * info.dt_h / 24.0)
        noisy = {}
        for s, arr in info.series.items():
            x = arr[info.year, rows].copy()
            x[1:] *= 1.0 + self.noise * self.error[s] * lead[1:] * self.rng.standard_normal(self.H - 1)
            noisy[s] = x[None, :]
        if not noisy:  # nothing to forecast: the constants, over the horizon
            return np.ascontiguousarray(info.coef[info.year:info.year + 1, rows])
        return info.cp.coefficients(noisy)

    def act(self, obs: np.ndarray, info: GraphStepInfo) -> np.ndarray:
        if self._since >= len(self._plan) or self._since >= self.every:
            terminal = np.where(self.managed, np.minimum(self.terminal_ref, info.state), np.nan)
            terminal[self.released] = 0.0  # free: its level follows the feed
            opt = Optimum(self.info.cp, self.forecast(info.t), self.H, relax=self.relax, mask=self.info.mask,
                          mip_rel_gap=1e-3, rules=True, state0=info.state, terminal=terminal)
            sol = opt.solve(30.0)
            self.solves += 1
            self.solve_s += opt.build_s + sol.solve_s
            self.extra = {"solves": self.solves, "plan_seconds": self.solve_s}
            self._plan, self._since = sol.actions, 0
        a = self._plan[self._since]
        self._since += 1
        return a


class GraphMpcPerfect(GraphMpc):
    """:class:`GraphMpc` on the true series (perfect forecasts): what better forecasts could at most give."""

    name = "mpc_perfect"

    def __init__(self, horizon_hours: float = 36.0, replan_hours: float = 6.0, relax: bool = False):
        super().__init__(horizon_hours, replan_hours, noise=0.0, relax=relax)
