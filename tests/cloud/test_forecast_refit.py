"""The refit's pool of processes: the same forecasts as one process, and a failure in a worker
handled as in one process (the last good model kept)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("statsforecast")

from cloud.forecast.refit import RefitState, refit
from cloud.forecast.store import History


def _shaped(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 20 * np.sin(2 * np.pi * t / 24) + 8 * np.sin(2 * np.pi * t / 168) + rng.normal(0, 3, n)


def test_a_pool_of_two_refits_exactly_as_one_process(tmp_path):
    hist = {f"s{i}": History(f"s{i}", 0, _shaped(3 * 168, seed=i)) for i in range(2)}
    one = refit(hist, RefitState(tmp_path / "a.json"), 0, n_origins=1)
    two = refit(hist, RefitState(tmp_path / "b.json"), 0, n_origins=1, workers=2)
    assert [(o.forecast.series, o.forecast.freq.name, o.status) for o in one] == \
        [(o.forecast.series, o.forecast.freq.name, o.status) for o in two]
    for a, b in zip(one, two, strict=True):
        assert a.forecast.model == b.forecast.model
        for k, v in a.forecast.bands.items():
            np.testing.assert_array_equal(v, b.forecast.bands[k])


def fails(series, values, freq, n_origins=7):
    """A selection that fails in the worker (module level: it is sent to the pool)."""
    raise RuntimeError("lost the solver")


def test_a_refit_that_fails_in_a_worker_keeps_the_last_good_model(tmp_path):
    hist = {"s0": History("s0", 0, _shaped(3 * 168))}
    state = RefitState(tmp_path / "s.json")
    refit(hist, state, 0, n_origins=1)
    hist["s1"] = History("s1", 0, _shaped(3 * 168, seed=1))
    again = refit(hist, state, 1, fit=fails, workers=2)
    assert [o.status for o in again] == ["kept", "kept", "none", "none"]
    assert again[0].message.startswith("refit failed: RuntimeError: lost the solver; keeping ")
    assert again[2].message == "refit failed: RuntimeError: lost the solver; no earlier model"
