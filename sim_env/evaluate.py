"""One evaluation harness for every strategy: random, rules, MPC, the optimum, and RL policies.

A strategy is any object with the two methods of :class:`Strategy`. The harness steps one
park through the twin (the same kernel as the envs), hands the strategy the env's
observation, and sums the kernel's per-step KPIs into annual figures. To plug in an SB3
policy::

    class PolicyStrategy:
        name = "ppo"
        def reset(self, env_info): pass
        def act(self, obs, info): return model.predict(obs, deterministic=True)[0]

    result = evaluate(PolicyStrategy(), hours=8760)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from aisym.park import Park

from .core import TwinBatch
from .params import ACTION_NAMES, EXCHANGE_FLOWS, OUT_INDEX, OUT_NAMES, S_GAS, S_HEAT, S_TANK, action_bounds


@dataclass
class EnvInfo:
    """What a strategy may know before the run: the park, its parameters and the true series.

    Forecasting strategies must add their own noise (:class:`sim_env.baselines.mpc.MpcStrategy`);
    only the perfect-foresight optimum uses ``exo`` as is.
    """

    park: Park
    params: np.ndarray  # parameter vector (sim_env.params.P_*)
    exo: np.ndarray  # (n_series, T, 6) exogenous series
    series: int  # which series the run uses
    start: int  # first step index into the series
    steps: int  # steps in the run
    dt_h: float
    state0: np.ndarray  # initial state (S_* order)
    forecast_steps: int  # forecast steps in the observation
    action_names: tuple[str, ...] = ACTION_NAMES
    action_bounds: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kpi_names: tuple[str, ...] = OUT_NAMES


@dataclass
class StepInfo:
    """What a strategy sees at each step besides the observation."""

    step: int  # steps since the start
    t: int  # index into the series
    state: np.ndarray  # physical state (S_* order): gas Nm³, heat kWh, tank m³, digester VS kg
    kpi: np.ndarray  # the previous step's outputs (zeros at the first step), OUT_NAMES order


class Strategy(Protocol):
    """A controller the harness can run.

    ``reset(env_info)`` is called once before the run; ``act(obs, info)`` returns the action
    fractions (``N_ACTIONS`` values in [0, 1]) for the step. ``name`` labels results.
    """

    name: str

    def reset(self, env_info: EnvInfo) -> None: ...

    def act(self, obs: np.ndarray, info: StepInfo) -> np.ndarray: ...


def resource_efficiency(k: dict[str, float]) -> float:
    """Share of the park's by-product streams put to use: the mean of four ratios, each in [0, 1].

    biogas not flared / produced; O2 demand met by electrolyser O2; make-up water met by
    reuse; heat demand met from the park's own heat store (not backup heat).
    """

    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else 1.0

    heat_dem = k["heat_demand_ras_kwh"] + k["heat_demand_digester_kwh"]
    parts = (
        1.0 - ratio(k["flared_nm3"], k["biogas_produced_nm3"]) if k["biogas_produced_nm3"] > 0 else 1.0,
        ratio(k["o2_to_ras_kg"], k["o2_demand_kg"]),
        ratio(k["water_reused_m3"], k["water_demand_m3"]),
        ratio(heat_dem - k["unmet_heat_kwh"], heat_dem),
    )
    return float(np.mean(parts))


def headline(k: dict[str, float]) -> dict[str, float]:
    """The figures a park compares scenarios on (cost €, CO2 t, water m³, heat MWh, efficiency)."""
    return {
        "objective_eur": k["cost_eur"] + k["carbon_cost_eur"],
        "cost_eur": k["cost_eur"],
        "co2_t": k["co2_kg"] / 1000.0,
        "fresh_water_m3": k["fresh_water_m3"],
        "water_reused_m3": k["water_reused_m3"],
        # waste heat the store kept (delivered or stored); dumped heat is not "recovered"
        "heat_recovered_mwh": k["heat_recovered_kwh"] / 1000.0,
        "unmet_heat_mwh": k["unmet_heat_kwh"] / 1000.0,
        "upgrader_heat_mwh": k["upgrader_heat_kwh"] / 1000.0,  # regeneration heat, bought as backup heat
        "o2_purchased_t": k["o2_purchased_kg"] / 1000.0,
        "biogas_flared_nm3": k["flared_nm3"],
        "h2_t": k["h2_kg"] / 1000.0,
        "grid_import_mwh": k["grid_import_kwh"] / 1000.0,
        "resource_efficiency": resource_efficiency(k),
        "clip_total": k["clip_total"],
    }


@dataclass
class Result:
    """KPIs of one run: ``totals`` sums every output over the run, ``kpis`` the headline figures;
    ``extra["exchanges"]`` is the total flow of each exchange by id (see ``EXCHANGE_FLOWS``)."""

    strategy: str
    totals: dict[str, float]
    kpis: dict[str, float]
    hourly: np.ndarray  # (steps, N_OUT) per-step outputs, OUT_NAMES order
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def gap_to(self, optimum: Result | float) -> float:
        """Optimality gap in % of the optimum's objective (cost + carbon cost)."""
        best = optimum if isinstance(optimum, float) else optimum.kpis["objective_eur"]
        return 100.0 * (self.kpis["objective_eur"] - best) / abs(best)


def evaluate(
    strategy: Strategy,
    park: Park | str | Path | None = None,
    *,
    params: np.ndarray | None = None,
    hours: float = 8760.0,
    start: int = 0,
    dt_h: float = 1.0,
    exo: np.ndarray | str | Path | None = None,
    exo_seed: int = 0,
    series: int = 0,
    forecast_hours: float = 24.0,
    progress: bool = False,
) -> Result:
    """Run ``strategy`` on one park for ``hours`` from step ``start`` and sum its KPIs.

    :param strategy: see :class:`Strategy`
    :param park: park, path, or None for the shipped park
    :param params: parameter vector overriding the park's (e.g. a scenario's)
    :param hours: run length (h); a year is 8760
    :param start: first step index into the series
    :param dt_h: step length (h)
    :param exo: exogenous series (array or CSV); None generates them from ``exo_seed``
    :param series: which series of ``exo`` to run on
    :param forecast_hours: observation forecast horizon (h)
    :param progress: show a tqdm bar
    """
    import time

    twin = TwinBatch(
        1, park, params=params, dt_h=dt_h, forecast_hours=forecast_hours, episode_hours=hours, start=start, exo=exo,
        exo_seed=exo_seed, n_series=max(1, series + 1),
    )  # fmt: skip
    steps = twin.episode_steps
    assert 0 <= series < twin.exo.shape[0], f"series {series} not in the {twin.exo.shape[0]} exogenous series"
    twin.reset(start=start, series=series)
    env_info = EnvInfo(
        park=twin.park, params=twin.P[0].copy(), exo=twin.exo, series=series, start=start, steps=steps, dt_h=twin.dt_h,
        state0=twin.S[0].copy(), forecast_steps=twin.horizon, action_bounds=action_bounds(twin.P[0]),
    )  # fmt: skip
    t0 = time.perf_counter()
    iterator = range(steps)
    if progress:
        from tqdm import tqdm

        iterator = bar = tqdm(iterator, desc=getattr(strategy, "name", "strategy"), unit="h", leave=False)
        if hasattr(strategy, "progress") and strategy.progress is None:  # the optimum: its solver's progress
            strategy.progress = lambda line: bar.set_postfix_str(line, refresh=True)
    strategy.reset(env_info)
    if progress:
        bar.set_postfix_str("", refresh=False)
    hourly = np.zeros((steps, len(OUT_NAMES)))
    kpi = np.zeros(len(OUT_NAMES))
    for i in iterator:
        info = StepInfo(step=i, t=int(twin.t[0]), state=twin.S[0].copy(), kpi=kpi)
        action = strategy.act(twin.OBS[0].astype(np.float32), info)
        twin.step(np.asarray(action, dtype=np.float64)[None, :])
        kpi = twin.Y[0].copy()
        hourly[i] = kpi
    totals = dict(zip(OUT_NAMES, hourly.sum(axis=0).tolist(), strict=True))
    # Intensive columns are averaged, not summed.
    for name in ("price_eur_per_mwh", "co2_g_per_kwh", "heat_pump_cop"):
        totals[name] = float(hourly[:, OUT_INDEX[name]].mean())
    s0 = env_info.state0
    end = {"gas_end_nm3": twin.S[0, S_GAS], "heat_end_kwh": twin.S[0, S_HEAT], "tank_end_m3": twin.S[0, S_TANK],
           "gas_start_nm3": s0[S_GAS], "heat_start_kwh": s0[S_HEAT], "tank_start_m3": s0[S_TANK]}
    end["exchanges"] = {e.id: totals[EXCHANGE_FLOWS[e.id]] for e in twin.park.exchanges if e.id in EXCHANGE_FLOWS}
    return Result(getattr(strategy, "name", type(strategy).__name__), totals, headline(totals), hourly,
                  time.perf_counter() - t0, {**end})  # fmt: skip
