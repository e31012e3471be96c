"""The forecast models on generated series with a known shape, white noise and broken meters."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("statsforecast")
pytest.importorskip("lightgbm")

from sim_env.forecast import DAILY, HOURLY, choose, forecast_series, prepare
from sim_env.forecast.models import candidates

WEEKS = 4
N = WEEKS * 168


def shaped(seed: int = 0, n: int = N) -> np.ndarray:
    """A flow with a smooth daily and weekly shape and AR(1) noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    shape = 50 + 20 * np.sin(2 * np.pi * t / 24) + 8 * np.sin(2 * np.pi * t / 168)
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = 0.6 * noise[i - 1] + rng.normal(0, 3)
    return shape + noise


def test_mstl_beats_seasonal_naive_on_a_known_shape():
    f = choose("flow", shaped(), HOURLY, n_origins=3)
    scores = {s.model: s for s in f.scores}
    print({m: round(s.rel_mae, 3) for m, s in scores.items()})
    assert scores["mstl"].rel_mae < 0.9
    assert f.model == "mstl" and f.notes == []
    assert f.bands["mean"].shape == (48,)
    assert np.all(f.bands["lo-95"] <= f.bands["lo-80"]) and np.all(f.bands["hi-80"] <= f.bands["hi-95"])


def test_lightgbm_with_a_covariate_beats_seasonal_naive():
    rng = np.random.default_rng(1)
    n = N + 48
    temp = 10 + 8 * np.sin(2 * np.pi * np.arange(n) / 24 - 1) + np.cumsum(rng.normal(0, 0.5, n))
    load = shaped(2, n) + 4 * temp
    f = choose("heat", load[:N], HOURLY, X=temp[:N], X_future=temp[N:], n_origins=3)
    scores = {s.model: s for s in f.scores}
    print({m: round(s.rel_mae, 3) for m, s in scores.items()})
    assert scores["lightgbm"].rel_mae < 0.9
    assert f.bands["mean"].shape == (48,)


def test_white_noise_falls_back_to_seasonal_naive_and_says_so():
    y = np.random.default_rng(3).normal(100, 5, N)
    f = choose("noise", y, HOURLY, n_origins=3)
    assert f.model.startswith("naive_")
    assert any("white noise" in n and f.model in n for n in f.notes), f.notes


def test_missing_data_is_filled_and_said():
    y = shaped()
    y[100:103] = np.nan  # a short gap
    y[300:340] = np.nan  # a long one (40 h)
    f = choose("gappy", y, HOURLY, n_origins=2)
    assert f.reason == "" and not np.isnan(f.bands["mean"]).any()
    assert any("filled 43 missing hours (longest gap 40)" in n for n in f.notes), f.notes


def test_a_meter_reset_continues_from_the_last_reading():
    y = np.cumsum(np.abs(shaped()))  # a cumulative meter
    y[400:] -= y[399]  # replaced at step 400: it reads from zero again
    p = prepare(y)
    assert p.offset == pytest.approx(y[399] - y[400])  # the step across the reset counts as zero use
    assert np.all(np.diff(p.y) >= 0)
    f = choose("meter", y, HOURLY, n_origins=2)
    assert any("meter reset at step 400" in n for n in f.notes), f.notes
    # the forecast continues from the meter's own reading, not the unwrapped one
    assert y[-1] <= f.bands["mean"][0] < y[-1] + 3 * np.abs(np.diff(y[-48:])).max()


def test_a_constant_series_forecasts_its_value():
    f = choose("level", np.full(N, 42.0), HOURLY)
    assert f.model == "constant" and np.all(f.bands["hi-95"] == 42.0)
    assert any("constant series" in n for n in f.notes)


def test_three_days_give_a_daily_naive_forecast_and_no_daily_resolution_reason():
    hourly, daily = forecast_series("young", shaped(n=72), n_origins=2)
    assert hourly.reason == "" and hourly.model == "naive_daily"
    assert hourly.bands["mean"].shape == (48,)
    assert daily.reason == "" and daily.bands["mean"].shape == (14,)


@pytest.mark.parametrize("values,reason", [
    (np.full(30, np.nan), "no readings"),
    (np.arange(20.0), "only 20 hours of history, at least 48 needed"),
    (np.where(np.arange(200) % 3 == 0, 1.0, np.nan), "132 of 199 hours missing (more than half)"),
])
def test_no_forecast_gives_a_reason(values, reason):
    f = choose("bad", values, HOURLY)
    assert f.reason == reason and f.bands == {}


def test_daily_resolution_has_14_days_and_weekly_naive():
    f = choose("residue", shaped(n=10 * 168)[::24], DAILY, n_origins=3)
    assert f.bands["mean"].shape == (14,)
    assert "naive_weekly" in {s.model for s in f.scores}


def test_candidates_grow_with_history():
    assert set(candidates(HOURLY, 72, False)) == {"naive_daily", "mstl"}
    assert set(candidates(HOURLY, N, True)) == {"naive_daily", "naive_weekly", "mstl", "lightgbm", "profile_ar",
                                                "mean(mstl,profile_ar)"}


def test_the_conformal_factor_is_the_finite_sample_quantile():
    from sim_env.forecast.backtest import conformal_factor

    # 9 scores 0.25, 0.5, ..., 2.25: the 80 % factor is the ceil(10 × 0.8) = 8th smallest, 2.0;
    # the 95 % factor the ceil(10 × 0.95) = 10th, past the last: the largest, 2.25
    scores = np.arange(1, 10) * 0.25
    assert conformal_factor(scores, 80) == 2.0
    assert conformal_factor(scores, 95) == 2.25
    assert conformal_factor(np.array([]), 80) == 1.0


def test_calibrated_intervals_are_scaled_around_the_mean():
    from sim_env.forecast.backtest import Score, calibrate

    b = {"mean": np.array([10.0, 20.0]), "lo-80": np.array([8.0, 17.0]), "hi-80": np.array([12.0, 23.0]),
         "lo-95": np.array([7.0, 15.0]), "hi-95": np.array([13.0, 25.0])}
    s = Score("mstl", 1, 1, 1, 0.8, 0.95, 7, scale80=1.5, scale95=float("inf"))
    c = calibrate(b, s)
    assert c["lo-80"].tolist() == [7.0, 15.5] and c["hi-80"].tolist() == [13.0, 24.5]
    assert c["lo-95"].tolist() == [7.0, 15.0]  # no finite factor: the model's own band kept


def test_heavy_tailed_noise_gets_intervals_that_cover_what_they_claim():
    # AR(1) noise with Student-t (3 dof) shocks: Gaussian intervals claim 80 % and cover less;
    # the calibrated ones, judged each origin on the others' factor, come near 80 %
    rng = np.random.default_rng(7)
    n = 5 * 168
    t = np.arange(n)
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = 0.5 * noise[i - 1] + 3 * rng.standard_t(3)
    y = 50 + 20 * np.sin(2 * np.pi * t / 24) + noise
    f = choose("flow", y, HOURLY, n_origins=8)
    s = f.chosen
    print(f.model, round(s.raw80, 3), round(s.cover80, 3), round(s.scale80, 3))
    assert abs(s.cover80 - 0.80) < abs(s.raw80 - 0.80) or 0.72 <= s.cover80 <= 0.88
    assert 0.65 <= s.cover80 <= 0.95
