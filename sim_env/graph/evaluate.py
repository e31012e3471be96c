"""One evaluation harness for any compiled park: rules, MPC, the optimum and RL policies alike.

A strategy is any object with ``name``, ``reset(info)`` and ``act(obs, info)`` (:class:`Strategy`).
The harness steps one row of :class:`~sim_env.graph.twin.GraphTwin` (the kernel the envs and
the LP's replay use), hands the strategy the env's observation, and sums the kernel's per-step
outputs (:func:`~sim_env.graph.kernel.output_names`) over the run. The objective is cost plus
carbon price × CO2 in the park's currency, the negative of the summed reward::

    from sim_env.graph.baselines import make_graph_strategy
    from sim_env.graph.evaluate import evaluate

    best = evaluate(make_graph_strategy("optimum"), "aisym/parks/kalundborg.yaml", exo_seed=1001)
    rule = evaluate(make_graph_strategy("rule"), "aisym/parks/kalundborg.yaml", exo_seed=1001)
    print(rule.objective, rule.gap_to(best))
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .compile import CompiledPark
from .kernel import Y_CARBON, Y_CLIP, Y_CO2, Y_COST, Y_OVER_LIMIT, Y_REWARD, Y_SPILL, Y_UNMET
from .twin import GraphTwin, resolve
from .units import by_unit, demand_needs, format_by_unit


@dataclass
class GraphEnvInfo:
    """What a strategy may know before the run.

    ``coef`` and ``series`` are the true values of the whole year: only the perfect-foresight
    optimum may read ahead in them; MPC adds forecast errors; the rules read the day-ahead window
    the observation also shows.
    """

    cp: CompiledPark
    twin: GraphTwin
    coef: np.ndarray  # COEF (years, steps, values)
    series: dict[str, np.ndarray]  # raw series (years, steps)
    year: int
    start: int
    steps: int
    dt_h: float
    forecast_steps: int
    observation_names: list[str]
    action_names: list[str]
    kpi_names: list[str]
    state0: np.ndarray  # store levels at the start, per component
    mask: np.ndarray  # the run's exchange capacity multipliers


@dataclass
class GraphStepInfo:
    """What a strategy sees at each step besides the observation."""

    step: int  # steps since the start
    t: int  # index into the series
    state: np.ndarray  # store levels per component (units of each store)
    y: np.ndarray  # the previous step's outputs (zeros at the first step)


class Strategy(Protocol):
    """A controller the harness can run; ``act`` returns one fraction in [0, 1] per action."""

    name: str

    def reset(self, info: GraphEnvInfo) -> None: ...

    def act(self, obs: np.ndarray, info: GraphStepInfo) -> np.ndarray: ...


@dataclass
class GraphResult:
    """Totals of one run (park currency, kg → t for CO2)."""

    strategy: str
    park: str
    currency: str
    steps: int
    objective: float  # cost + carbon
    cost: float
    carbon_cost: float
    co2_t: float
    unmet: float  # demand met neither by the park nor by a backup, summed over carriers (see unmet_by_unit)
    spilled: float
    over_limit: float
    clip_total: float
    seconds: float
    totals: dict[str, float] = field(default_factory=dict)  # every output summed over the run
    extra: dict[str, Any] = field(default_factory=dict)
    levels_start: np.ndarray | None = None  # store levels per component at the start and the end of the run
    levels_end: np.ndarray | None = None
    unmet_by_unit: dict[str, float] = field(default_factory=dict)  # "kWh" -> amount not met (issue 22, finding 10)
    backup_by_unit: dict[str, float] = field(default_factory=dict)  # "kg" -> amount bought as backup

    def unmet_text(self) -> str:
        """The unmet demand per unit, e.g. ``"1,200 kWh, 35 kg"`` (``"0"`` when all was met)."""
        return format_by_unit(self.unmet_by_unit)

    def backup_text(self) -> str:
        """The backups bought per unit, e.g. ``"4,380 kWh, 12,000 kg"``."""
        return format_by_unit(self.backup_by_unit)

    def stored_value(self, values: np.ndarray) -> float:
        """The stored content gained over the run (end minus start, per component) at ``values`` per unit."""
        if self.levels_start is None or self.levels_end is None:
            return 0.0
        return float(np.dot(values, self.levels_end - self.levels_start))

    def gap_to(self, best: GraphResult) -> float:
        """Optimality gap in percent of the best objective's magnitude."""
        return 100.0 * (self.objective - best.objective) / max(abs(best.objective), 1e-9)

    def kpis(self) -> dict[str, float]:
        return {"objective": self.objective, "cost": self.cost, "carbon_cost": self.carbon_cost, "co2_t": self.co2_t,
                "unmet": self.unmet, "spilled": self.spilled, "over_limit": self.over_limit,
                **{f"unmet_{u}": v for u, v in self.unmet_by_unit.items()},
                **{f"backup_{u}": v for u, v in self.backup_by_unit.items()}}


def evaluate(strategy: Strategy, park: Any = None, *, hours: float = 8760.0, exo_seed: int = 0, year: int = 0,
             start: int = 0, n_years: int = 1, given: dict | None = None, mask: np.ndarray | None = None,
             dt_h: float = 1.0, forecast_hours: float = 24.0, specialise: str | None = None,
             progress: bool = False, state0: np.ndarray | None = None) -> GraphResult:
    """Run ``strategy`` on one park for ``hours`` from step ``start`` of generated year ``year``.

    :param strategy: see :class:`Strategy`
    :param park: a compiled park, a graph, a park file (v1 or v2) or None (Kråkøya)
    :param hours: length of the run (h)
    :param exo_seed: seed of the generated weather and price years
    :param year: which of the ``n_years`` generated years
    :param start: first step into the year
    :param given: series supplied instead of generated ones (see :func:`~sim_env.graph.exogenous.generate`)
    :param mask: ``(n_exchanges,)`` capacity multipliers (default: the file's ``enabled`` flags)
    :param specialise: kernel specialisation (``"fold"`` is faster for long runs; see :class:`GraphTwin`)
    :param progress: show a progress bar
    :param state0: store levels at the start, per component (default: each store's ``initial``)
    """
    cp = resolve(park, dt_h)
    steps = max(1, round(hours / dt_h))
    if not 0 <= year < n_years:
        raise ValueError(f"year must be in 0..{n_years - 1}, got {year}")
    m = None if mask is None else np.asarray(mask, dtype=np.float64).reshape(1, -1)
    twin = GraphTwin(1, cp, dt_h=dt_h, forecast_hours=forecast_hours, episode_hours=hours, start=start,
                     exo_seed=exo_seed, n_years=n_years, given=given, mask=m, specialise=specialise)
    twin.reset(start=start)
    twin.batch.ser[:] = year
    if state0 is not None:
        twin.batch.S[0] = np.asarray(state0, dtype=np.float64)
    obs = twin.observe()
    info = GraphEnvInfo(cp, twin, twin.batch.coef, twin.series, year, start, steps, dt_h, twin.horizon,
                        list(twin.observation_names), list(twin.action_names), list(twin.kpi_names),
                        twin.S[0].copy(), twin.batch.mask[0].copy())
    t0 = time.perf_counter()
    bar = _bar(steps, f"{cp.graph.park.id}: {getattr(strategy, 'name', 'strategy')}") if progress else None
    if bar is not None and hasattr(strategy, "progress") and strategy.progress is None:
        # a strategy that plans at reset (the optimum) reports its solver's progress meanwhile
        strategy.progress = lambda line: bar.set_postfix_str(line, refresh=True)
    strategy.reset(info)
    if bar is not None:
        bar.set_postfix_str("", refresh=False)
    sums = np.zeros(twin.Y.shape[1])
    y_prev = np.zeros(twin.Y.shape[1])
    A = np.zeros((1, cp.n_actions))
    ts = np.zeros(steps, dtype=np.int64)  # the series index of each step, for the demands' needs
    for i in range(steps):
        ts[i] = twin.t[0]
        step = GraphStepInfo(i, int(twin.t[0]), twin.S[0].copy(), y_prev)
        a = np.asarray(strategy.act(obs[0], step), dtype=np.float64).reshape(-1)
        if a.shape != (cp.n_actions,):
            raise ValueError(f"{strategy.name}: act() must return {cp.n_actions} fractions "
                             f"({', '.join(cp.action_names)}), got shape {a.shape}")
        A[0] = np.clip(a, 0.0, 1.0)
        twin.step(A)
        sums += twin.Y[0]
        y_prev = twin.Y[0].copy()
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - t0
    res = _result(getattr(strategy, "name", type(strategy).__name__), cp, steps, sums, seconds, twin.kpi_names,
                  demand_needs(cp, twin.batch.coef[year], ts))
    res.extra.update(getattr(strategy, "extra", {}) or {})
    res.levels_start, res.levels_end = info.state0.copy(), twin.S[0].copy()
    return res


def _bar(total: int, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="h", mininterval=0.5, leave=False)


def evaluate_batch(strategy: Strategy, park: Any, masks: np.ndarray, *, hours: float = 8760.0, exo_seed: int = 0,
                   year: int = 0, start: int = 0, dt_h: float = 1.0, specialise: str | None = None,
                   progress: bool = False) -> list[GraphResult]:
    """Run one strategy on K copies of a park that differ in their exchanges, in one kernel call per step.

    Row ``k`` has capacity multipliers ``masks[k]`` (``(K, n_exchanges)``): the candidates of a
    sweep, each an edge switched on. The strategy must act for all rows at once
    (``act_batch(S, t) -> (K, n_actions)``, as :class:`~sim_env.graph.baselines.GraphRules`
    does); row ``k`` gives what :func:`evaluate` gives with ``mask=masks[k]``.
    """
    cp = resolve(park, dt_h)
    masks = np.ascontiguousarray(masks, dtype=np.float64)
    if masks.ndim != 2 or masks.shape[1] != len(cp.link_ids):
        raise ValueError(f"masks must have shape (K, {len(cp.link_ids)}) (rows, exchanges), got {masks.shape}")
    if not callable(getattr(strategy, "act_batch", None)):
        raise ValueError(f"{getattr(strategy, 'name', strategy)!r} has no act_batch(S, t): it cannot run a batch")
    K, steps = masks.shape[0], max(1, round(hours / dt_h))
    twin = GraphTwin(K, cp, dt_h=dt_h, episode_hours=hours, start=start, exo_seed=exo_seed, n_years=year + 1,
                     mask=masks, specialise=specialise)
    twin.reset(start=start)
    twin.batch.ser[:] = year
    info = GraphEnvInfo(cp, twin, twin.batch.coef, twin.series, year, start, steps, dt_h, twin.horizon,
                        list(twin.observation_names), list(twin.action_names), list(twin.kpi_names),
                        twin.S[0].copy(), masks[0].copy())
    t0 = time.perf_counter()
    strategy.reset(info)
    sums = np.zeros_like(twin.Y)
    bar = _bar(steps, f"{cp.graph.park.id}: {K} rows") if progress else None
    ts = np.zeros(steps, dtype=np.int64)
    for i in range(steps):
        ts[i] = twin.t[0]  # every row starts at ``start``: one index per step
        A = np.clip(strategy.act_batch(twin.S, twin.t), 0.0, 1.0)
        twin.batch.step(A)
        sums += twin.Y
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - t0
    name = getattr(strategy, "name", type(strategy).__name__)
    needs = demand_needs(cp, twin.batch.coef[year], ts)
    return [_result(name, cp, steps, row, seconds / K, twin.kpi_names, needs) for row in sums]


def _result(name: str, cp: CompiledPark, steps: int, sums: np.ndarray, seconds: float, names: list[str],
            needs: np.ndarray | None = None) -> GraphResult:
    """A run's totals from its summed outputs (one row of ``Y`` summed over the steps) and each
    demand's need over the run (:func:`~sim_env.graph.units.demand_needs`)."""
    unmet, backup = by_unit(cp, sums, needs)
    return GraphResult(name, cp.graph.park.id, cp.graph.park.currency, steps, -float(sums[Y_REWARD]), float(sums[Y_COST]),
                       float(sums[Y_CARBON]), float(sums[Y_CO2]) / 1000.0, float(sums[Y_UNMET]), float(sums[Y_SPILL]),
                       float(sums[Y_OVER_LIMIT]), float(sums[Y_CLIP]), seconds,
                       {n: float(v) for n, v in zip(names, sums, strict=True)}, unmet_by_unit=unmet, backup_by_unit=backup)
