"""``GraphTwin``: K rows of a compiled park with episodes, observations and clocks.

The env, the native vector env and the SB3 VecEnv of any park are thin layers over it. The
observation is named per park (:attr:`GraphTwin.observation_names`):

- each store's level as a fraction of its capacity (a digester's solids against their
  steady state);
- each exogenous series of the park now, divided by its scale (the mean of its absolute value
  over the year, so every entry is of order 1);
- the series that price a market, a purchase or a backup, or give a market's CO2, at each of
  the next ``H`` steps (a perfect forecast; MPC adds its own noise);
- sin/cos of the hour of day and of the day of year.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numba import njit

from aisym.park.graph import ParkGraph, load_graph

from .compile import F_CAP, F_RELEASE, I_TYPE, T_STORAGE, CompiledPark, compile_park
from .exogenous import generate
from .kernel import Y_REWARD, Batch, initial_state, output_names


def resolve(park: CompiledPark | ParkGraph | str | Path | None, dt_h: float = 1.0) -> CompiledPark:
    """A compiled park from a compiled park, a graph, a path (v1 or v2 file), or None (Kråkøya)."""
    if isinstance(park, CompiledPark):
        return park
    graph = park if isinstance(park, ParkGraph) else load_graph(park)
    return compile_park(graph, dt_h)


def _priced_series(cp: CompiledPark) -> list[str]:
    """Series that set a price or a CO2 intensity somewhere in the park: the forecast's columns."""
    used = []
    for n in cp.graph.nodes:
        for key in ("price", "import_price", "export_price", "co2", "cost"):
            v = n.val.get(key)
            if v is not None and v.series and v.series not in used:
                used.append(v.series)
        for port in n.ports.values():
            if port.backup is not None and port.backup.cost.series and port.backup.cost.series not in used:
                used.append(port.backup.cost.series)
    return sorted(used)


class GraphTwin:
    """K rows of one compiled park stepped together.

    :param num_parks: batch rows
    :param park: a compiled park, a graph, a path (v1 or v2 file) or None (Kråkøya)
    :param dt_h: step length (h)
    :param forecast_hours: horizon of the priced series in the observation (h)
    :param episode_hours: episode length (h) after which a row is truncated
    :param start: ``"random"`` or a fixed step index
    :param exo_seed: seed of the generated years; ``n_years`` of them, rows spread over them
    :param given: series supplied by the caller (replayed telemetry), as :func:`generate` takes them
    :param mask: ``(num_parks, n_exchanges)`` edge mask (default: the file's ``enabled`` flags)
    :param seed: seed of episode starts and year choice
    :param specialise: ``"fold"`` steps a kernel generated for this park (about 8x faster; its first
        compile on a machine takes 1–3 min, then it is cached); None the generic kernel
    :param parallel: step the rows' blocks on all of Numba's threads (:class:`Batch`): worth it from
        a few hundred rows
    """

    def __init__(self, num_parks: int = 1, park=None, *, dt_h: float = 1.0, forecast_hours: float = 24.0,
                 episode_hours: float = 168.0, start: str | int = "random", exo_seed: int = 0, n_years: int = 1,
                 given: dict | None = None, mask: np.ndarray | None = None, seed: int | None = None,
                 specialise: str | None = None, parallel: bool = False):
        if not (start == "random" or (isinstance(start, int) and start >= 0)):
            raise ValueError(f"start must be 'random' or a step >= 0, got {start!r}")
        self.cp = resolve(park, dt_h)
        self.num_parks = num_parks
        self.dt_h = dt_h
        self.horizon = round(forecast_hours / dt_h)
        self.episode_steps = max(1, round(episode_hours / dt_h))
        self.start = start
        self.series = generate(self.cp.graph, exo_seed, n_years, dt_h, given)
        self.batch = Batch(self.cp, self.cp.coefficients(self.series, n_years), num_parks, mask, parallel=parallel,
                           specialise=specialise)
        self.S0 = initial_state(self.cp, num_parks)
        self.kpi_names = output_names(self.cp)
        self.action_names = list(self.cp.action_names)
        self.action_units = list(self.cp.action_units)
        self._observation_setup()
        self.elapsed = np.zeros(num_parks, dtype=np.int64)
        self.rng = np.random.default_rng(seed)
        self.OBS = np.zeros((num_parks, len(self.observation_names)))
        self.reward = self.batch.Y[:, Y_REWARD]

    def _observation_setup(self) -> None:
        cp = self.cp
        self._stores = [n for n in range(cp.n_nodes) if cp.NI[n, I_TYPE] == T_STORAGE]
        scale = []
        for n in self._stores:
            full = cp.NF[n, F_CAP]
            if cp.NF[n, F_RELEASE] > 0.0:  # a process inventory: against its steady state (¼ of the room here)
                full = max(self.S0[0, n], 1e-9)
            scale.append(full if full > 0 else 1.0)
        self._store_scale = np.array(scale)
        names = [f"level:{cp.node_keys[n]}" for n in self._stores]
        self._series_ids = sorted(self.series)
        if self._series_ids:
            stack = np.stack([self.series[s] for s in self._series_ids], axis=-1)  # (years, T, n_series)
        else:  # a park of constants
            stack = np.zeros((self.batch.coef.shape[0], self.batch.coef.shape[1], 0))
        self._series_scale = np.maximum(np.abs(stack).mean(axis=(0, 1)), 1e-9)
        self._exo = stack / self._series_scale
        names += [f"now:{s}" for s in self._series_ids]
        self._forecast = [self._series_ids.index(s) for s in _priced_series(cp)]
        names += [f"ahead{h}:{self._series_ids[j]}" for j in self._forecast for h in range(1, self.horizon + 1)]
        names += ["sin_hour", "cos_hour", "sin_day", "cos_day"]
        self.observation_names = names
        self._stores_arr = np.array(self._stores, dtype=np.int64)
        self._forecast_arr = np.array(self._forecast, dtype=np.int64)
        self._exo = np.ascontiguousarray(self._exo)

    @property
    def t(self) -> np.ndarray:
        return self.batch.t

    @property
    def S(self) -> np.ndarray:
        return self.batch.S

    @property
    def Y(self) -> np.ndarray:
        return self.batch.Y

    def observe(self) -> np.ndarray:
        """Write and return the observation of every row at its current step."""
        _observe(self.batch.S, self._stores_arr, self._store_scale, self._exo, self.batch.ser, self.batch.t,
                 self._forecast_arr, self.horizon, self.dt_h, self.OBS)
        return self.OBS

    def reset(self, mask: np.ndarray | None = None, rng: np.random.Generator | None = None,
              start: int | str | None = None) -> None:
        """Start new episodes for the rows in ``mask`` (all when None)."""
        mask = np.ones(self.num_parks, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        rng = self.rng if rng is None else rng
        n = int(mask.sum())
        if n:
            begin = self.start if start is None else start
            T = self._exo.shape[1]
            self.batch.t[mask] = rng.integers(0, T, size=n) if begin == "random" else int(begin) % T
            self.batch.ser[mask] = rng.integers(0, self._exo.shape[0], size=n)
            self.batch.S[mask] = self.S0[mask]
            self.elapsed[mask] = 0
        self.observe()

    def step(self, actions: np.ndarray) -> np.ndarray:
        """Step every row with action fractions ``(num_parks, n_actions)``; returns the truncation mask."""
        self.batch.step(actions)
        self.elapsed += 1
        self.observe()
        return self.elapsed >= self.episode_steps


@njit(cache=True, error_model="numpy")
def _observe(S, stores, store_scale, EXO, ser, t, forecast, horizon, dt, OBS):
    """The observation of every row (layout in :attr:`GraphTwin.observation_names`)."""
    T = EXO.shape[1]
    nx = EXO.shape[2]
    for k in range(S.shape[0]):
        j = 0
        for i in range(stores.shape[0]):
            OBS[k, j] = S[k, stores[i]] / store_scale[i]
            j += 1
        for c in range(nx):
            OBS[k, j] = EXO[ser[k], t[k], c]
            j += 1
        for f in range(forecast.shape[0]):
            row = t[k]
            for _ in range(horizon):
                row += 1
                if row >= T:
                    row -= T
                OBS[k, j] = EXO[ser[k], row, forecast[f]]
                j += 1
        hours = t[k] * dt
        day = 2.0 * math.pi * (hours % 24.0) / 24.0
        year = 2.0 * math.pi * (hours % 8760.0) / 8760.0
        OBS[k, j] = math.sin(day)
        OBS[k, j + 1] = math.cos(day)
        OBS[k, j + 2] = math.sin(year)
        OBS[k, j + 3] = math.cos(year)
