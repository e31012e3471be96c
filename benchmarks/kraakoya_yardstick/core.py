"""``TwinBatch``: the arrays of N parks and the two calls every entry point shares.

The Gymnasium env, the native vector env and the SB3 VecEnv are thin layers over this class:
it owns the parameter, state, output and observation arrays, picks episode starts, and
calls the Numba kernels once per step for the whole batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aisym.park import Park, load_park

from . import exogenous, kernels
from .params import N_ACTIONS, N_OUT, N_PARAMS, N_STATE, action_bounds, initial_state, obs_size, park_params

V1_PARK = Path(__file__).resolve().parent / "kraakoya_v1.yaml"  # the yardstick's own copy of the v1 numbers


def resolve_park(park: Park | str | Path | None) -> Park:
    """A park object as is; a v1 path (or None, Kråkøya's v1 file) loaded through :func:`aisym.park.load_park`."""
    return park if isinstance(park, Park) else load_park(park if park is not None else V1_PARK)


def resolve_exogenous(
    park: Park, exo: np.ndarray | str | Path | None, exo_seed: int, dt_h: float, n_series: int
) -> np.ndarray:
    """Exogenous series: given as an array, loaded from a CSV path, or generated from ``exo_seed``."""
    if exo is None:
        return exogenous.generate(park, seed=exo_seed, dt_h=dt_h, n_series=n_series)
    if isinstance(exo, str | Path):
        return exogenous.load_csv(exo)
    arr = np.ascontiguousarray(exo, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    assert arr.ndim == 3 and arr.shape[2] == exogenous.N_EXO, f"exogenous array must be (n_series, T, 6), got {arr.shape}"
    return arr


class TwinBatch:
    """N parks stepped together by one Numba call.

    :param num_parks: parks in the batch
    :param park: park description, a path to one, or None for the shipped Kråkøya park
    :param params: optional parameter rows ``(num_parks, N_PARAMS)`` (e.g. several scenarios);
        overrides ``park``'s own parameters
    :param dt_h: step length (hours)
    :param forecast_hours: forecast horizon of price and CO2 in the observation (hours)
    :param episode_hours: episode length (hours) after which a park is truncated
    :param start: ``"random"`` (a random hour of the year per episode) or a fixed step index
    :param exo: exogenous series ``(n_series, T, 6)`` or a CSV path; None generates them
    :param exo_seed: seed of the generated series (the "weather year")
    :param n_series: generated years the parks are spread over
    :param seed: seed of episode starts and series choice
    :param parallel: step with the ``prange`` kernel. Off by default: on 2 shared cores the
        serial kernel was faster (0.7 ms vs 1.6–3 ms for 1,024 parks), and a threaded kernel
        is slowed down by anything else the machine runs. Worth trying on many free cores.
    """

    def __init__(
        self,
        num_parks: int = 1,
        park: Park | str | Path | None = None,
        *,
        params: np.ndarray | None = None,
        dt_h: float = 1.0,
        forecast_hours: float = 24.0,
        episode_hours: float = 168.0,
        start: str | int = "random",
        exo: np.ndarray | str | Path | None = None,
        exo_seed: int = 0,
        n_series: int = 1,
        seed: int | None = None,
        parallel: bool = False,
    ):
        assert num_parks >= 1, f"num_parks must be >= 1, got {num_parks}"
        assert start == "random" or (isinstance(start, int) and start >= 0), (
            f"start must be 'random' or a step >= 0: {start!r}"
        )
        self.park = resolve_park(park)
        self.num_parks = num_parks
        self.dt_h = float(dt_h)
        self.horizon = round(forecast_hours / dt_h)
        self.episode_steps = max(1, round(episode_hours / dt_h))
        self.start = start
        self.exo = resolve_exogenous(self.park, exo, exo_seed, dt_h, n_series)
        row = park_params(self.park, dt_h)
        if params is None:
            self.P = np.ascontiguousarray(np.tile(row, (num_parks, 1)))
        else:
            self.P = np.ascontiguousarray(np.broadcast_to(params, (num_parks, N_PARAMS)), dtype=np.float64)
        self.P[:, 0] = self.dt_h
        self.S0 = np.stack([initial_state(self.P[k]) for k in range(num_parks)])
        self.S = self.S0.copy()
        self.A = np.zeros((num_parks, N_ACTIONS))
        self.Y = np.zeros((num_parks, N_OUT))
        self.OBS = np.zeros((num_parks, obs_size(self.horizon)))
        self.t = np.zeros(num_parks, dtype=np.int64)
        self.ser = np.zeros(num_parks, dtype=np.int64)
        self.elapsed = np.zeros(num_parks, dtype=np.int64)
        self.bounds = np.stack([action_bounds(self.P[k]) for k in range(num_parks)])
        self.rng = np.random.default_rng(seed)
        self._step = kernels.step_batch_numba if parallel else kernels.step_serial_numba

    @property
    def obs_dim(self) -> int:
        return self.OBS.shape[1]

    @property
    def series_steps(self) -> int:
        return self.exo.shape[1]

    def reset(
        self,
        mask: np.ndarray | None = None,
        rng: np.random.Generator | None = None,
        start: int | str | None = None,
        series: int | None = None,
    ) -> None:
        """Start new episodes for the parks in ``mask`` (all when None), at ``start`` (or the
        batch's ``start``) on exogenous series ``series`` (or a random one)."""
        mask = np.ones(self.num_parks, dtype=np.bool_) if mask is None else np.asarray(mask, dtype=np.bool_)
        rng = self.rng if rng is None else rng
        n = int(mask.sum())
        if n == 0:
            return
        begin = start if start is not None else self.start
        if begin == "random":
            self.t[mask] = rng.integers(0, self.series_steps, size=n)
        else:
            self.t[mask] = int(begin)
        self.ser[mask] = rng.integers(0, self.exo.shape[0], size=n) if series is None else series
        self.elapsed[mask] = 0
        kernels.reset_numba(self.P, self.exo, self.ser, self.t, self.S, self.S0, self.OBS, self.horizon, mask)

    def step(self, actions: np.ndarray) -> np.ndarray:
        """Step every park with action fractions ``(num_parks, N_ACTIONS)``; returns the truncation mask."""
        a = np.asarray(actions, dtype=np.float64)
        if a.shape != self.A.shape:
            a = a.reshape(self.A.shape)
        self.A[...] = a
        self._step(self.P, self.exo, self.ser, self.t, self.S, self.A, self.Y, self.OBS, self.horizon)
        self.elapsed += 1
        return self.elapsed >= self.episode_steps

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the state arrays, e.g. to check balances around a step."""
        return {"S": self.S.copy(), "t": self.t.copy(), "ser": self.ser.copy()}


__all__ = ["N_STATE", "TwinBatch", "resolve_exogenous", "resolve_park"]
