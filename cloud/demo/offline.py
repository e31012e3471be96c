"""What the demo's loop is compared against: the same strategy, the rules and the optimum run offline.

``aisym demo`` runs a park's twin as devices, with the gateway, the broker, InfluxDB and the
controller in between (the *loop*). :func:`offline` runs the same strategy directly in the
compiled twin over the same hours, driven as the controller drives the plant
(:class:`LoopStrategy`), next to the rule baseline and the perfect-foresight optimum, and keeps
each run's per-step cost, CO2 and objective. :func:`kpi_match` compares the loop's KPIs (summed
from ``plant.jsonl``) with that offline run. :func:`synthetic_run` writes a run folder in the
orchestrator's format from a twin run with no transport in between, for tests and for checking
the comparison itself::

    from cloud.demo.offline import kpi_match, offline, synthetic_run

    run = synthetic_run("aisym/parks/kraakoya.yaml", "runs/demo-check", hours=48)
    offline("aisym/parks/kraakoya.yaml", "rule", hours=48, out=run)
    print(kpi_match(run)["rel"])  # all 0.0: nothing between controller and plant
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from sim_env.graph.baselines import make_graph_strategy
from sim_env.graph.compile import F_CAP, I_TYPE, T_STORAGE, CompiledPark
from sim_env.graph.evaluate import GraphEnvInfo, GraphStepInfo
from sim_env.graph.kernel import Y_CARBON, Y_CO2, Y_COST, Y_OVER_LIMIT, Y_REWARD, Y_SPILL, Y_UNMET
from sim_env.plant.signals import park_signals, to_unit

from .runfiles import OFFLINE_FILE, RUN_FILE, load_run, loop_series, write_run

BASELINES = ("rule", "optimum")
KPIS = ("cost", "co2_t", "objective")


def make_strategy(spec: Any, park_id: str):
    """The strategy ``aisym control`` runs for ``spec`` (a name it takes, or a strategy object as is)."""
    if not isinstance(spec, str):
        return spec
    from cloud.controller.controller import make_strategy as controller_strategy

    return controller_strategy(spec, park_id)


def store_keys(cp: CompiledPark) -> list[str]:
    """Component keys of the park's stores, in the order ``plant.jsonl`` writes their levels."""
    return [cp.node_keys[n] for n in range(cp.n_nodes) if cp.NI[n, I_TYPE] == T_STORAGE]


class LoopStrategy:
    """``inner`` as ``aisym control`` drives the plant, so that only the transport differs.

    The controller commands a setpoint per controllable tag: the action fraction in the tag's unit,
    clipped to the tag's limits; the plant turns it back into a fraction and holds the actions no
    tag drives as the site's own automation runs them (:func:`~sim_env.plant.signals.park_signals`).
    Here both happen in one place, with nothing in between.

    :param inner: a strategy (:class:`~sim_env.graph.evaluate.Strategy`)
    :param cp: the compiled park
    :param held: action index -> fraction held (None: as the plant holds them)
    """

    def __init__(self, inner: Any, cp: CompiledPark, held: dict[int, float] | None = None):
        signals = park_signals(cp)
        self.inner = inner
        self.name = getattr(inner, "name", type(inner).__name__)
        self.held = dict(signals.held if held is None else held)
        self.actuators = signals.actuators
        self.tags = cp.graph.tags
        self.n_actions = cp.n_actions

    @property
    def extra(self) -> dict:
        return getattr(self.inner, "extra", {}) or {}

    def reset(self, info: GraphEnvInfo) -> None:
        self.inner.reset(info)

    def setpoints(self, a: np.ndarray) -> dict[str, float]:
        """Each setpoint tag's value (its unit, within its limits) for action fractions ``a``."""
        out = {}
        for tag, act in self.actuators.items():
            spec = self.tags[tag]
            value = to_unit(float(a[act.action]) * act.full, act.action_unit, act.unit)
            out[tag] = float(min(max(value, spec.min), spec.max))
        return out

    def safe_setpoints(self) -> dict[str, float]:
        """Every setpoint at its ``control.safe_default`` (what a blind controller commands)."""
        return {tag: float(self.tags[tag].control.safe_default) for tag in self.actuators}

    def applied(self, setpoints: dict[str, float]) -> np.ndarray:
        """The action fractions the plant steps with for ``setpoints`` (missing tags: safe defaults)."""
        a = np.zeros(self.n_actions)
        for i, f in self.held.items():
            a[i] = f
        for tag, act in self.actuators.items():
            value = setpoints.get(tag, self.tags[tag].control.safe_default)
            a[act.action] = min(max(act.fraction(value), 0.0), 1.0)
        return a

    def decide(self, obs: np.ndarray, info: GraphStepInfo) -> tuple[np.ndarray, dict[str, float]]:
        """The controller's step: fractions (held ones overridden) and the setpoints they mean."""
        a = np.clip(np.asarray(self.inner.act(obs, info), dtype=np.float64).reshape(-1), 0.0, 1.0)
        for i, f in self.held.items():
            a[i] = f
        return a, self.setpoints(a)

    def act(self, obs: np.ndarray, info: GraphStepInfo) -> np.ndarray:
        _, sp = self.decide(obs, info)
        return self.applied(sp)


def series_run(strategy: Any, cp: CompiledPark, hours: float, start: int, exo_seed: int,
               state0: np.ndarray | None = None) -> dict:
    """One run of ``strategy`` in the twin: totals, per-step series and each exchange's total flow.

    The steps are :func:`~sim_env.graph.evaluate.evaluate`'s (the same twin, observation and step
    info), from store levels ``state0`` where the loop did not start at the park's initial levels:
    the demo's run begins once the controller commands with fresh levels, some plant steps in.

    :param strategy: see :class:`~sim_env.graph.evaluate.Strategy`
    :param cp: the compiled park
    :param hours: simulated hours
    :param start: first step into the generated year
    :param exo_seed: seed of the generated weather and prices
    :param state0: level of every component at the start (``cp.node_keys`` order; None: the park's initial levels)
    :return: series ``cost`` and ``objective`` (cost + carbon price × CO2) in the park's currency and
        ``co2_kg`` per step; totals as :meth:`~sim_env.graph.evaluate.GraphResult.kpis` (CO2 in t)
    """
    from sim_env.graph.twin import GraphTwin

    steps = max(1, round(hours / cp.dt_h))
    twin = GraphTwin(1, cp, dt_h=cp.dt_h, episode_hours=hours, start=start, exo_seed=exo_seed)
    if state0 is not None:
        twin.S0[0] = state0
    twin.reset(start=start)
    twin.batch.ser[:] = 0
    obs = twin.observe()
    info = GraphEnvInfo(cp, twin, twin.batch.coef, twin.series, 0, start, steps, cp.dt_h, twin.horizon,
                        list(twin.observation_names), list(twin.action_names), list(twin.kpi_names),
                        twin.S[0].copy(), twin.batch.mask[0].copy())
    t0 = time.perf_counter()
    strategy.reset(info)
    Y = np.zeros((steps, twin.Y.shape[1]))
    y_prev = np.zeros(twin.Y.shape[1])
    for i in range(steps):
        a = np.asarray(strategy.act(obs[0], GraphStepInfo(i, int(twin.t[0]), twin.S[0].copy(), y_prev)),
                       dtype=np.float64).reshape(1, -1)
        twin.step(np.clip(a, 0.0, 1.0))
        Y[i] = twin.Y[0]
        y_prev = Y[i].copy()
    sums = Y.sum(axis=0)
    totals = {"objective": -float(sums[Y_REWARD]), "cost": float(sums[Y_COST]), "carbon_cost": float(sums[Y_CARBON]),
              "co2_t": float(sums[Y_CO2]) / 1000.0, "unmet": float(sums[Y_UNMET]), "spilled": float(sums[Y_SPILL]),
              "over_limit": float(sums[Y_OVER_LIMIT])}
    flows = {k.split(":", 1)[1]: float(v) for k, v in zip(twin.kpi_names, sums, strict=True) if k.startswith("flow:")}
    return {"strategy": getattr(strategy, "name", type(strategy).__name__), "steps": steps,
            "seconds": time.perf_counter() - t0, "totals": totals, "flows": flows,
            "extra": _plain(getattr(strategy, "extra", {}) or {}),
            "series": {"cost": Y[:, Y_COST].tolist(), "co2_kg": Y[:, Y_CO2].tolist(),
                       "objective": (-Y[:, Y_REWARD]).tolist()}}


def levels(cp: CompiledPark, state0: Any, where: str = "state0") -> np.ndarray | None:
    """``state0`` (``{component key: level}`` as ``run.json`` gives it, or a sequence) as an array."""
    if state0 is None:
        return None
    if isinstance(state0, dict):
        missing = [k for k in cp.node_keys if k not in state0]
        if missing:
            raise ValueError(f"{where}: no level for {', '.join(missing[:5])}")
        return np.array([float(state0[k]) for k in cp.node_keys])
    arr = np.asarray(state0, dtype=np.float64).reshape(-1)
    if arr.shape != (cp.n_nodes,):
        raise ValueError(f"{where}: {arr.size} levels for the park's {cp.n_nodes} components")
    return arr


def offline(park: Any, strategy: Any = "rule", hours: float = 168.0, start: int = 0, exo_seed: int = 0,
            held: dict[int, float] | None = None, out: str | Path | None = None,
            baselines: tuple[str, ...] = BASELINES, state0: Any = None) -> dict:
    """The loop's strategy, the rules and the optimum run directly in the twin over the same hours.

    :param park: park file (v1 or v2), graph, compiled park or None (Kråkøya)
    :param strategy: what ``aisym control`` was given (``rule``, ``mpc``, ``NAME=FOLDER``...) or a strategy
    :param hours: simulated hours (as the loop ran)
    :param start: first step into the generated year
    :param exo_seed: seed of the generated weather and prices
    :param held: action index -> fraction for actions no tag drives (None: as the plant holds them)
    :param out: run folder to write ``offline.json`` into (None: write nothing)
    :param baselines: baselines run as they are, every action theirs (a failed optimum is said, not raised)
    :param state0: store levels the loop started from (``run.json``'s ``state0``: ``{component key: level}``;
        None: the park's initial levels); every run starts there, the optimum's end rule too
    :return: ``{"park", "currency", "hours", "start", "exo_seed", "strategy", "runs": {"offline", "rule", "optimum"}}``
    """
    from sim_env.graph.twin import resolve

    cp = resolve(park)
    inner = make_strategy(strategy, cp.graph.id)
    S0 = levels(cp, state0)
    runs = {"offline": series_run(LoopStrategy(inner, cp, held), cp, hours, start, exo_seed, S0)}
    for name in baselines:
        try:
            runs[name] = series_run(make_graph_strategy(name), cp, hours, start, exo_seed, S0)
        except (RuntimeError, ValueError) as e:  # a week of the loop is not lost to an LP that found no solution
            runs[name] = {"strategy": name, "error": f"{type(e).__name__}: {e}"}
    data = {"park": cp.graph.id, "currency": cp.graph.currency, "hours": hours, "start": start, "exo_seed": exo_seed,
            "strategy": strategy if isinstance(strategy, str) else runs["offline"]["strategy"],
            "state0": None if S0 is None else dict(zip(cp.node_keys, S0.tolist(), strict=True)), "runs": runs}
    if out is not None:
        path = Path(out) / OFFLINE_FILE
        path.write_text(json.dumps(data), encoding="utf-8")
    return data


def offline_of_run(run_dir: str | Path, refresh: bool = False) -> dict:
    """``offline.json`` of a run folder, computed from its ``run.json`` when missing or of other settings.

    Every run starts from ``run.json``'s ``state0`` (the store levels when the loop's run began) where
    it gives them. ``run.json`` may give ``hold``, the fraction the plant held undriven actions at (``aisym plant
    --hold``); without it they are held as the plant does by default (flares 0, the rest 1).
    """
    run_dir = Path(run_dir)
    meta = load_run(run_dir, records=False).meta
    path = run_dir / OFFLINE_FILE
    want = {k: meta.get(k) for k in ("park", "strategy", "hours", "start", "exo_seed", "state0")}
    if path.exists() and not refresh:
        data = json.loads(path.read_text(encoding="utf-8"))
        if {k: data.get(k) for k in want} == want:
            return data
    from sim_env.graph.twin import resolve

    cp = resolve(meta.get("park_file"), float(meta["dt_h"]))
    held = None
    if meta.get("hold") is not None:  # the plant was started with --hold: every undriven action at that fraction
        held = park_signals(cp, float(meta["hold"])).held
    S0 = levels(cp, meta.get("state0"), f"{run_dir / RUN_FILE}: state0")
    return offline(cp, meta["strategy"], meta["hours"], meta["start"], meta["exo_seed"], held=held, out=run_dir,
                   state0=S0)


def kpi_match(run_dir: str | Path, data: dict | None = None) -> dict:
    """The loop's cost, CO2 and objective against the same strategy offline, over the steps the loop ran.

    :param run_dir: a run folder (``run.json``, ``plant.jsonl``)
    :param data: its offline runs (default: :func:`offline_of_run`)
    :return: ``{"steps" (compared), "loop_steps", "loop": {kpi: total}, "offline": {kpi: total},
        "rel": {kpi: (loop - offline) / |offline|}, "max_abs_rel"}``, cost and objective in the park's currency, CO2 in t
    """
    run = load_run(run_dir)
    data = offline_of_run(run_dir) if data is None else data
    loop = loop_series(run)
    ser = data["runs"]["offline"]["series"]
    n = min(len(loop["cost"]), len(ser["cost"]))  # a loop stopped early is compared over the steps it ran
    if n == 0:
        raise ValueError(f"{Path(run_dir) / 'plant.jsonl'}: no plant steps to compare")
    loop_t = _totals(loop, n)
    off_t = _totals(ser, n)
    rel = {k: (loop_t[k] - off_t[k]) / max(abs(off_t[k]), 1e-9) for k in KPIS}
    return {"steps": n, "loop_steps": len(loop["cost"]), "loop": loop_t, "offline": off_t, "rel": rel,
            "max_abs_rel": max(abs(v) for v in rel.values())}


def _totals(series: dict, n: int) -> dict[str, float]:
    return {"cost": float(np.sum(series["cost"][:n])), "co2_t": float(np.sum(series["co2_kg"][:n])) / 1000.0,
            "objective": float(np.sum(series["objective"][:n]))}


def synthetic_run(park: Any, out: str | Path, hours: float = 48.0, strategy: Any = "rule", start: int = 0,
                  exo_seed: int = 0, blind: tuple[int, ...] | range = (), lag: int = 0,
                  faults: list[dict] | None = None, state0: Any = None) -> Path:
    """A run folder as ``aisym demo`` writes it, from the twin with no transport between controller and plant.

    Each step the controller decides setpoints exactly as :class:`LoopStrategy` does (or commands the
    safe defaults at the steps in ``blind``); the plant applies the setpoints commanded ``lag`` steps
    earlier (the safe defaults until the first arrives) and steps the twin. Every reading and
    setpoint counts as delivered. With ``blind=()`` and ``lag=0`` the KPIs equal :func:`offline`'s.

    :param park: park file (v1 or v2) or None (Kråkøya)
    :param out: the run folder (created)
    :param hours: simulated hours
    :param strategy: as :func:`offline` takes it
    :param start: first step into the generated year
    :param exo_seed: seed of the generated weather and prices
    :param blind: steps at which the controller holds the safe defaults (as when its levels are stale)
    :param lag: steps between a command and the plant applying it
    :param faults: ``[{"t": hour, "what": text}]`` written into ``run.json`` as they are
    :param state0: store levels at the start, as :func:`offline` takes them (None: the park's initial levels)
    :return: the run folder
    """
    from sim_env.graph.twin import GraphTwin

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    twin = GraphTwin(1, park, start=start, exo_seed=exo_seed, episode_hours=hours)
    cp = twin.cp
    loop = LoopStrategy(make_strategy(strategy, cp.graph.id), cp)
    steps = max(1, round(hours / twin.dt_h))
    S0 = levels(cp, state0)
    if S0 is not None:
        twin.S0[0] = S0
    twin.reset(start=start)
    twin.batch.ser[:] = 0
    loop.reset(GraphEnvInfo(cp, twin, twin.batch.coef, twin.series, 0, start, steps, twin.dt_h, twin.horizon,
                            list(twin.observation_names), list(twin.action_names), list(twin.kpi_names),
                            twin.S[0].copy(), twin.batch.mask[0].copy()))
    stores = [n for n in range(cp.n_nodes) if cp.NI[n, I_TYPE] == T_STORAGE]
    blind_set = set(blind)
    sent: list[dict[str, float]] = []
    plant, controller = [], []
    y_prev = np.zeros(twin.Y.shape[1])
    t0 = time.perf_counter()
    for i in range(steps):
        t = int(twin.t[0])
        if i in blind_set:
            sp, a = loop.safe_setpoints(), None
        else:
            a, sp = loop.decide(twin.OBS[0].copy(), GraphStepInfo(i, t, twin.S[0].copy(), y_prev))
        sent.append(sp)
        controller.append({"t": t, "wall_ms": 0, "blind": i in blind_set, "setpoints": sp,
                           "actions": (loop.applied(sp) if a is None else a).tolist()})
        got = sent[i - lag] if i >= lag else loop.safe_setpoints()
        A = loop.applied(got)
        twin.step(A[None, :])
        y_prev = twin.Y[0].copy()
        plant.append({"step": i + 1, "t": t, "setpoints": got, "actions": A.tolist(), "y": y_prev.tolist(),
                      "S": [float(twin.S[0, n]) for n in stores]})
    wall = time.perf_counter() - t0
    n_read = steps * len(park_signals(cp).measures)
    n_sp = steps * len(loop.actuators)
    meta = {"park": cp.graph.id, "park_file": None if park is None else str(Path(park).resolve()),
            "park_name": cp.graph.park.name, "currency": cp.graph.currency,
            "strategy": strategy if isinstance(strategy, str) else loop.name, "hours": hours, "start": start,
            "exo_seed": exo_seed, "speed": None, "dt_h": twin.dt_h, "action_names": list(cp.action_names),
            "kpi_names": list(twin.kpi_names), "stores": [cp.node_keys[n] for n in stores],
            "store_capacity": {cp.node_keys[n]: float(cp.NF[n, F_CAP]) for n in stores}, "wall_s": wall,
            "completeness": {"readings_sent": n_read, "points_in_influx": n_read, "by_quality": {"good": n_read},
                             "ratio": 1.0},
            "setpoints": {"commanded": n_sp, "applied": n_sp, "rejected": 0, "failed": 0, "timeouts": 0},
            "blind_steps": len(blind_set & set(range(steps))), "faults": list(faults or []),
            "state0": None if S0 is None else dict(zip(cp.node_keys, S0.tolist(), strict=True)), "synthetic": True}
    write_run(out, meta, plant, controller)
    return out


def _plain(d: dict) -> dict:
    """JSON-safe copy of a strategy's ``extra`` (numbers as floats, anything else as text)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, bool | int | float | str) or v is None:
            out[k] = v
        elif isinstance(v, np.generic):
            out[k] = v.item()
        else:
            out[k] = str(v)
    return out
