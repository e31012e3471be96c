"""A park's own exogenous series: generated from its file or read from CSV, each from its own seed."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from aisym.park.graph import parse_graph
from sim_env.graph.exogenous import SeriesError, generate
from tests.core.test_park_graph import SMALL


def _graph(doc, path):
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return parse_graph(path.read_text(), str(path))


def test_adding_a_series_changes_no_other(tmp_path):
    base = generate(_graph(SMALL, tmp_path / "a.yaml"), seed=4)
    doc = copy.deepcopy(SMALL)
    doc["series"] = {"wind": {"unit": "m/s", "seasonal": {"mean": 7, "amplitude": 2, "noise_std": 1.5}}, **doc["series"]}
    more = generate(_graph(doc, tmp_path / "b.yaml"), seed=4)
    for sid, arr in base.items():
        assert np.array_equal(arr, more[sid]), sid
    assert "wind" in more and more["wind"].std() > 0


def test_seasonal_shape_by_hand(tmp_path):
    doc = copy.deepcopy(SMALL)
    doc["series"]["town_heat"] = {"seasonal": {"mean": 1.0, "amplitude": 0.5, "coldest_day": 20}}
    s = generate(_graph(doc, tmp_path / "p.yaml"))["town_heat"][0]
    hour = 24 * 19  # day 20, 00 h: the coldest day, lowest value (no daily swing, no noise)
    assert s[hour] == pytest.approx(0.5, abs=1e-12)
    assert s[hour + 24 * 182] == pytest.approx(1.0 + 0.5 * np.cos(2 * np.pi * 0.5 / 365), rel=1e-12)


def test_a_csv_series_and_its_errors(tmp_path):
    rows = "hour,price\n" + "".join(f"{h},{100 + h % 24}\n" for h in range(8760))
    (tmp_path / "prices.csv").write_text(rows)
    doc = copy.deepcopy(SMALL)
    doc["series"]["price"] = {"unit": "DKK/MWh", "csv": {"path": "prices.csv", "column": "price"}}
    s = generate(_graph(doc, tmp_path / "p.yaml"))["price"][0]
    assert s[25] == 101.0 and s.shape == (8760,)
    (tmp_path / "prices.csv").write_text(rows.replace("\n5,105\n", "\n5,abc\n"))
    with pytest.raises(SeriesError, match=r"prices\.csv:7: column 'price': not a number"):
        generate(_graph(doc, tmp_path / "p.yaml"))
    (tmp_path / "prices.csv").write_text("hour,price\n0,1\n")
    with pytest.raises(SeriesError, match="1 rows; a year at this step needs 8760"):
        generate(_graph(doc, tmp_path / "p.yaml"))


def test_heat_pump_cop_by_hand(tmp_path):
    doc = copy.deepcopy(SMALL)
    doc["series"]["sea"] = {"unit": "degC", "constant": 8.0}
    doc["series"]["cop"] = {"carnot": {"source": "sea", "sink_c": 45.0, "efficiency": 0.5}}
    s = generate(_graph(doc, tmp_path / "p.yaml"))
    assert s["cop"][0, 0] == pytest.approx(0.5 * (45 + 273.15) / (45 - 8), rel=1e-12)  # 4.30
