"""Learned forecasts for MPC: the model chosen once per series, then refitted on the latest past."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("statsforecast")

from sim_env.forecast.provider import LearnedForecasts


def _flow(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 40 + 15 * np.sin(2 * np.pi * t / 24) + 5 * np.sin(2 * np.pi * t / 168) + rng.normal(0, 1.5, n)


def test_learned_forecasts_beat_persistence_and_keep_the_chosen_model():
    y = _flow(3 * 168 + 36)
    lf = LearnedForecasts(n_origins=2)
    f = lf.forecast("heat", y[:-36], 36)
    assert f.shape == (36,) and lf.models["heat"] == "mstl"
    mae, persistence = np.abs(f - y[-36:]).mean(), np.abs(y[-37] - y[-36:]).mean()
    assert mae < 0.3 * persistence
    again = lf.forecast("heat", y[:-12], 12)  # the next plan: same model, no new backtest
    assert again.shape == (12,) and np.abs(again - y[-12:]).mean() < 0.3 * persistence


def test_too_little_past_holds_the_last_value_and_says_so():
    lf = LearnedForecasts()
    assert np.all(lf.forecast("price", np.array([3.0, 4.0, 5.0]), 6) == 5.0)
    assert lf.notes["price"].startswith("persistence: only 3 hours of history")
    y = _flow(100)  # four days: refitted each time with MSTL, no backtest yet
    assert lf.forecast("feed", y, 24).shape == (24,) and "feed" not in lf.models


def test_mpc_plans_on_learned_forecasts_end_to_end():
    from sim_env.forecast.mpc import LearnedMpc
    from sim_env.graph.evaluate import evaluate

    learned = LearnedForecasts(n_origins=1, history=2 * 168)
    mpc = evaluate(LearnedMpc(horizon_hours=24, replan_hours=24, relax=True, learned=learned), None, hours=48,
                   start=24 * 30, exo_seed=3)
    assert mpc.extra["solves"] == 2 and np.isfinite(mpc.objective)
    assert mpc.unmet == pytest.approx(0.0, abs=1e-6)
    assert set(learned.models) == set(learned.notes) and learned.models  # every series got a model or a note
