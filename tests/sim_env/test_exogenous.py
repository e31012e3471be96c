"""Seeded exogenous series: determinism, realistic shapes, and CSV replay with clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from sim_env import exogenous
from sim_env.baselines import make_strategy
from sim_env.evaluate import evaluate
from sim_env.params import E_FRESH_C, E_PRICE, E_SEA_C, EXO_NAMES


def test_same_seed_same_series(park):
    a = exogenous.generate(park, seed=5, n_series=2)
    b = exogenous.generate(park, seed=5, n_series=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])
    assert not np.array_equal(a, exogenous.generate(park, seed=6, n_series=2))


def test_shapes_follow_the_reference_sheet(park, exo):
    x = exo[0]
    m = park.market.electricity_price_eur_per_mwh
    price = x[:, E_PRICE]
    assert price.mean() == pytest.approx(m.mean, rel=0.05)
    assert price.min() >= m.min and price.max() <= m.max
    winter, summer = price[: 24 * 59].mean(), price[24 * 180 : 24 * 240].mean()
    assert winter > 1.2 * summer  # winter factor 1.4
    by_hour = price.reshape(-1, 24).mean(axis=0)
    assert by_hour[8] > by_hour[3] and by_hour[18] > by_hour[3]  # morning and evening peaks over the night trough
    sea = x[:, E_SEA_C]
    assert sea.mean() == pytest.approx(park.climate.sea_temp_c.mean, abs=0.3)
    assert np.argmin(np.convolve(sea, np.ones(240) / 240, "valid")) // 24 < 120  # coldest in late winter
    assert x[:, E_FRESH_C].min() > 0


def test_hourly_steps_are_configurable(park):
    assert exogenous.generate(park, dt_h=0.25).shape == (1, 4 * 8760, len(EXO_NAMES))


def test_csv_round_trip_replays_the_same_run(exo, tmp_path):
    path = tmp_path / "year.csv"
    exogenous.save_csv(exo, path)
    loaded = exogenous.load_csv(path)
    np.testing.assert_allclose(loaded, exo, rtol=1e-5, atol=1e-5)
    a = evaluate(make_strategy("rule"), hours=48, exo=exo)
    b = evaluate(make_strategy("rule"), hours=48, exo=path)
    assert b.kpis["objective_eur"] == pytest.approx(a.kpis["objective_eur"], rel=1e-4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("hour,sea_temp_c\n0,1\n", ":1: missing column(s) freshwater_temp_c"),
        (",".join(EXO_NAMES) + "\n1,2,3,4,5,6\n1,2,x,4,5,6\n", ":3: column 'air_temp_c': not a number ('x')"),
        (",".join(EXO_NAMES) + "\n1,2,3,nan,5,6\n", ":2: column 'price_eur_per_mwh': not finite"),
        (",".join(EXO_NAMES) + "\n", "no data rows"),
    ],
)
def test_bad_csv_names_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(exogenous.ExogenousError) as e:
        exogenous.load_csv(path)
    assert str(path) in str(e.value) and message in str(e.value)
