"""The park twin as a Gymnasium env and as a native Gymnasium vector env (one Numba call per step)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from aisym.park import Park

from .. import kernels
from ..core import TwinBatch
from ..params import ACTION_NAMES, N_ACTIONS, OUT_NAMES


def _spaces(horizon: int) -> tuple[spaces.Box, spaces.Box]:
    """Observation bounds are physical limits with a wide margin (prices from CSV may be extreme)."""
    n = horizon + 1
    low = np.concatenate([[0, 0, 0, 0], np.full(n, -10.0), np.full(n, 0.0), [-5, -5, -5, 0], [-1, -1, -1, -1]])
    high = np.concatenate([[1, 1, 1, 10], np.full(n, 10.0), np.full(n, 20.0), [5, 5, 5, 10], [1, 1, 1, 1]])
    observation = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
    action = spaces.Box(0.0, 1.0, shape=(N_ACTIONS,), dtype=np.float32)
    return observation, action


class ParkEnv(gym.Env[np.ndarray, np.ndarray]):
    """
    ## Description
    The digital twin of an industrial-symbiosis park (default: the Kråkøya-like biopark in
    ``aisym/parks/kraakoya.yaml``): a RAS salmon farm whose sludge feeds a digester, a gas
    holder, a biogas CHP and upgrader, a PEM electrolyser whose O2 and waste heat go to the
    fish, a seawater heat pump, a shared heat store, water treatment and reuse, and the grid.
    Each step keeps the energy and mass balances (heat, biogas/CH4, electricity, water, O2).
    The model is linear apart from CHP/electrolyser on-off and min load, so the
    perfect-foresight MILP (:mod:`sim_env.baselines.optimum`) is the same model.

    ## Action Space
    ``Box(0, 1, (10,), float32)``: each entry is a fraction of the asset or exchange bound
    (see :func:`sim_env.params.action_bounds`). Physics clips infeasible requests (empty
    holder, full store, min load, demand met) and reports it in ``info["clip_<name>"]``.

    | Num | Action                  | 1.0 means (Kråkøya)                         |
    |-----|-------------------------|---------------------------------------------|
    | 0   | chp_power               | CHP at rated electric power (150 kW)        |
    | 1   | biogas_to_upgrader      | upgrader at capacity (40 Nm³/h)             |
    | 2   | biogas_to_flare         | flare at 120 Nm³/h                          |
    | 3   | electrolyser_power      | electrolyser at rated power (2,000 kW)      |
    | 4   | oxygen_to_ras           | O2 pipe to the fish at capacity (320 kg/h)  |
    | 5   | heat_pump_heat          | heat pump at rated heat (400 kW)            |
    | 6   | store_heat_to_ras       | store → RAS at capacity (1,000 kW)          |
    | 7   | store_heat_to_digester  | store → digester at capacity (150 kW)       |
    | 8   | water_treatment         | treatment at capacity (80 m³/h)             |
    | 9   | water_reuse             | reuse at its bound (95 % of make-up water)  |

    Min load: CHP and electrolyser requests below min load round to 0 or min load.

    ## Observation Space
    ``Box(low, high, (n,), float32)`` with ``n = 4 + 2·(H+1) + 8``, ``H = forecast_hours/dt_h``;
    the bounds are physical limits with a wide margin:

    | Index          | Observation                                    | Unit / scale        |
    |----------------|------------------------------------------------|---------------------|
    | 0              | gas holder level                               | fraction            |
    | 1              | heat store level                               | fraction            |
    | 2              | treated-water tank level                       | fraction            |
    | 3              | digester volatile solids / steady state        | ratio               |
    | 4 … 4+H        | electricity price now and H steps ahead        | EUR/MWh / 100       |
    | 5+H … 5+2H     | grid CO2 intensity now and ahead               | g/kWh / 100         |
    | 6+2H … 8+2H    | sea, freshwater, air temperature               | °C / 10             |
    | 9+2H           | feeding factor (sludge and O2 demand)          | 1 = annual mean     |
    | 10+2H … 13+2H  | sin/cos hour of day, sin/cos day of year       |                     |

    ## Rewards
    ``−(cost + carbon price × CO2)`` in EUR per step, where cost is the grid bill (spot price
    plus fee, export at a factor), fresh water, sludge disposal, and the penalties for unmet
    demand: unmet heat bought as backup heat, O2 bought as liquid oxygen, water bought fresh;
    minus H2 and biomethane sales. CO2 counts grid import, backup heat and upgrader CH4 slip.

    ## Starting State
    Gas holder, heat store and water tank at the park's ``initial_fraction``; the digester at
    the steady state of mean sludge. The start hour is random (``start="random"``) or fixed.

    ## Episode End
    - Termination: never (the park has no failure state; infeasible requests are clipped).
    - Truncation: after ``episode_hours``.

    ## Arguments
    - ``park``: a :class:`aisym.park.Park`, a YAML path, or None (Kråkøya);
    - ``dt_h`` (1.0), ``forecast_hours`` (24), ``episode_hours`` (168; up to a year, 8760);
    - ``start``: ``"random"`` or a step index; ``exo``: array or CSV of exogenous series;
      ``exo_seed``: weather-year seed; ``n_series``: years to draw episodes from;
    - ``info``: ``"named"`` (a dict of every KPI) or ``"array"`` (``info["kpi"]``, the same
      values in ``kpi_names`` order: a dict of 73 floats costs more than the physics).

    >>> import gymnasium as gym, sim_env
    >>> env = gym.make("aisym/Park-v0", episode_hours=24)
    >>> env.observation_space.shape
    (62,)

    ## Info
    Every KPI of the step (``sim_env.params.OUT_NAMES``): ``cost_eur``, ``co2_kg``,
    ``unmet_heat_kwh``, ``o2_purchased_kg``, ``fresh_water_m3``, ``flared_nm3``,
    ``heat_recovered_kwh``, ``water_reused_m3``, each exchange's flow (``EXCHANGE_FLOWS`` maps
    exchange ids to these keys), and ``clip_*``.

    ## Version History
    - v0: first version.
    """

    metadata = {"render_modes": []}  # noqa: RUF012 - Gymnasium's convention

    def __init__(
        self,
        park: Park | str | Path | None = None,
        dt_h: float = 1.0,
        forecast_hours: float = 24.0,
        episode_hours: float = 168.0,
        start: str | int = "random",
        exo: np.ndarray | str | Path | None = None,
        exo_seed: int = 0,
        n_series: int = 1,
        info: str = "named",
        render_mode: str | None = None,
    ):
        assert render_mode is None, "ParkEnv has no render modes"
        assert info in ("named", "array"), f"info must be 'named' or 'array', got {info!r}"
        self._named_info = info == "named"
        self.twin = TwinBatch(
            1,
            park,
            dt_h=dt_h,
            forecast_hours=forecast_hours,
            episode_hours=episode_hours,
            start=start,
            exo=exo,
            exo_seed=exo_seed,
            n_series=n_series,
        )
        self.observation_space, self.action_space = _spaces(self.twin.horizon)
        self.kpi_names = OUT_NAMES
        self.action_names = ACTION_NAMES
        self._names = list(OUT_NAMES)
        self._action = self.twin.A[0]
        self._kernel = kernels.step_serial_numba
        self._elapsed = 0
        self.render_mode = render_mode

    def __setstate__(self, state: dict[str, Any]) -> None:
        # ``_action`` is a view into the twin's action array; pickle would copy it apart.
        self.__dict__.update(state)
        self._action = self.twin.A[0]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        start = (options or {}).get("start")
        self.twin.reset(rng=self.np_random, start=start)
        self._elapsed = 0
        return self.twin.OBS[0].astype(np.float32), {}

    def step(self, action: np.ndarray):
        tw = self.twin
        # The hot path calls the kernel directly: TwinBatch.step's checks cost more than the physics.
        self._action[:] = action
        self._kernel(tw.P, tw.exo, tw.ser, tw.t, tw.S, tw.A, tw.Y, tw.OBS, tw.horizon)
        self._elapsed += 1
        tw.elapsed[0] = self._elapsed
        truncated = self._elapsed >= tw.episode_steps
        values = tw.Y[0].tolist()
        info = dict(zip(self._names, values, strict=True)) if self._named_info else {"kpi": tw.Y[0].copy()}
        return tw.OBS[0].astype(np.float32), values[0], False, truncated, info


class ParkVectorEnv(VectorEnv):
    """N parks as one native vector env: one Numba call (``prange``) steps them all.

    Same spaces, reward and episode end as :class:`ParkEnv`. Autoreset is ``NEXT_STEP``:
    the step after a park's truncation resets it (reward 0) and returns its first
    observation. ``info["kpi"]`` is a ``(num_envs, len(kpi_names))`` array of the step's KPIs,
    masked by ``info["_kpi"]``; ``kpi_names`` lists its columns.

    :param num_envs: parks in the batch
    :param kwargs: as :class:`ParkEnv`, plus ``params`` (rows per park, e.g. scenarios)
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(self, num_envs: int = 1, render_mode: str | None = None, **kwargs: Any):
        assert render_mode is None, "ParkVectorEnv has no render modes"
        self.twin = TwinBatch(num_envs, **kwargs)
        self.num_envs = num_envs
        self.single_observation_space, self.single_action_space = _spaces(self.twin.horizon)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.kpi_names = OUT_NAMES
        self.render_mode = render_mode
        self._prev_done = np.zeros(num_envs, dtype=np.bool_)
        self._rng = np.random.default_rng()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._rng = np.random.default_rng(seed) if seed is not None else self._rng
        self.twin.reset(rng=self._rng, start=(options or {}).get("start"))
        self._prev_done[:] = False
        return self.twin.OBS.astype(np.float32), {}

    def step(self, actions: np.ndarray):
        truncated = self.twin.step(actions)
        reward = self.twin.Y[:, 0].copy()
        stepped = ~self._prev_done
        if self._prev_done.any():
            self.twin.reset(self._prev_done, rng=self._rng)
            reward[self._prev_done] = 0.0
            truncated = truncated & stepped
        info = {"kpi": self.twin.Y.copy(), "_kpi": stepped}
        self._prev_done = truncated.copy()
        terminated = np.zeros(self.num_envs, dtype=np.bool_)
        return self.twin.OBS.astype(np.float32), reward, terminated, truncated, info
