"""Resource profiles: derived from the park graph, stated in the park file, fitted from telemetry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from aisym.park import ParkError
from aisym.park.graph import load_graph, parse_graph
from sim_env.match.profiles import HOURS, from_graph, park_profiles, shape
from sim_env.match.telemetry import fit_seasonal

HERE = Path(__file__).resolve().parent
KALUNDBORG = HERE.parents[1] / "aisym" / "parks" / "kalundborg.yaml"
SYNTH = HERE / "match_data" / "synthetic_park.yaml"


@pytest.fixture(scope="module")
def kalundborg():
    return load_graph(KALUNDBORG)


def _flow(profiles, company, port, direction):
    return next(f for f in profiles[company].flows if f.port == port and f.direction == direction)


def test_every_park_has_profiles_from_its_graph(kalundborg):
    p = from_graph(kalundborg)
    assert p["gyproc"].nace == "23.62"
    gypsum = _flow(p, "orsted_asnaes", "fgd.gypsum", "output")  # a must-take source: a residue
    assert gypsum.kind == "residue" and gypsum.carrier.ewc == "10 01 05"
    assert gypsum.annual == pytest.approx(170_000e3, rel=1e-9)  # 170,000 t/yr in kg
    assert gypsum.cost == pytest.approx(0.15) and gypsum.route == "landfill"
    need = _flow(p, "gyproc", "plasterboard.gypsum", "input")  # a demand with its backup
    assert need.cost == pytest.approx(0.35) and need.co2 == pytest.approx(0.015)
    assert need.annual == pytest.approx(180_000e3, rel=0.02)  # seasonal shape of mean 1 (clipped noise)
    # a disposal makes its bus an output: the boiler's rating x fuel per kWh x ash per kg of fuel
    ash = _flow(p, "orsted_asnaes", "asv6.fly_ash", "output")
    assert ash.hourly is None and ash.capacity == pytest.approx(160_000 * 0.2218 * 0.006)
    assert ash.cost == pytest.approx(0.4)
    steam = _flow(p, "orsted_asnaes", "asv6.steam_mp", "output")  # a converter output others take: a product
    assert steam.kind == "product" and steam.capacity == pytest.approx(129_000)
    grid = _flow(p, "energinet", "dk2_export.electricity", "input")  # a market that buys: an input at its price
    assert grid.kind == "market" and grid.cost == pytest.approx(0.56, rel=0.05)  # 560 DKK/MWh mean


def test_company_flows_stated_in_the_park_file():
    g = load_graph(SYNTH)
    p = park_profiles(g)
    out = p["power_plant"].outputs()
    gypsum = next(f for f in out if f.id == "gypsum")
    assert gypsum.annual == pytest.approx(8_760e3) and gypsum.cost == pytest.approx(0.03)
    assert gypsum.origin == "companies[0].outputs[0]"
    heat = next(f for f in p["dairy"].inputs() if f.id == "process_heat")
    assert heat.heat_pump is False and heat.cost == pytest.approx(0.04)  # 40 EUR/MWh per kWh
    assert p["plaster"].site == (55.009, 11.0)
    assert any("matchmaking" in n for n in g.notes)  # said, not silently ignored


@pytest.mark.parametrize("path,value,fragment", [
    (("outputs", 0, "quantity"), "3 MW", "is a power; quantity is stated in kg/h"),
    (("outputs", 0, "profile"), [1, 2, 3], "12 factors"),
    (("outputs", 0, "profile"), "no_such_series", "no series 'no_such_series'"),
    (("outputs", 0, "heat_pump"), False, "inputs only"),
    (("outputs", 0, "port"), "nowhere.port", "no port 'nowhere.port'"),
    (("outputs", 0, "cost"), "30 EUR/MWh", "cost is stated in EUR/(kg)"),
    (("outputs", 0, "carrier"), {"resource": "material", "temperature_c": 30}, "no quality 'temperature_c'"),
])
def test_bad_company_flows_get_a_located_error(path, value, fragment):
    doc = yaml.safe_load(SYNTH.read_text())
    node = doc["companies"][0]
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    with pytest.raises(ParkError) as e:
        parse_graph(yaml.safe_dump(doc, sort_keys=False), "synth.yaml")
    msg = str(e.value)
    assert "companies[0].outputs[0]" in msg and fragment in msg, msg
    assert "synth.yaml:" in msg  # with its line


def test_monthly_profile_keeps_the_mean():
    months = [2, 2, 1, 1, 1, 0.5, 0.5, 0.5, 1, 1, 2, 2]
    y = shape(months, 10.0, {})
    assert y.shape == (HOURS,) and y.mean() == pytest.approx(10.0)
    assert y[0] / y[24 * 200] == pytest.approx(2 / 0.5)  # 1 January against mid-July


def test_seasonal_profile_fitted_from_a_meters_readings():
    rng = np.random.default_rng(3)
    # 10-minute readings over two years with gaps: mean 500 kW, winter peak +200 kW, a day swing of 50
    t = np.arange(np.datetime64("2023-01-01T00:00"), np.datetime64("2025-01-01T00:00"), np.timedelta64(10, "m"))
    keep = rng.random(t.size) > 0.3
    t = t[keep]
    start = t.astype("datetime64[Y]")
    doy = (t - start).astype("timedelta64[m]").astype(float) / 1440.0
    hour = (t.astype("datetime64[m]").astype(np.int64) // 60) % 24
    truth = 500 + 200 * np.cos(2 * np.pi * doy / 365.0) + 50 * np.sin(2 * np.pi * hour / 24.0)
    y = truth + rng.normal(0, 20, t.size)
    y[::97] = np.nan  # lost readings are left out
    year, info = fit_seasonal(t, y)
    assert year.shape == (HOURS,)
    assert info["mean"] == pytest.approx(500, rel=0.01) and info["r2"] > 0.95
    assert year[:24 * 7].mean() == pytest.approx(700, rel=0.03)  # early January
    assert year[24 * 182:24 * 189].mean() == pytest.approx(300, rel=0.06)  # early July
    with pytest.raises(ValueError, match="at least 48"):
        fit_seasonal(t[:10], y[:10])
