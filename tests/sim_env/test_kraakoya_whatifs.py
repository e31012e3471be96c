"""Kråkøya's shipped scenarios are v2 what-ifs beside the park (``aisym/parks/kraakoya_whatif/``),
with the numbers of the v1 overlays they replaced (issue 22, item 1), and the what-if edits they
need: a series' parameters and the park's settings.

Each was proven to run exactly as its v1 overlay on the v1 park did before the overlays were
removed (commit e0ebf75: a week of fixed actions, every output to 1e-9; a year checked once,
max abs difference 0.0 in all eight).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim_env.graph.bench import resolve_graph_scenario
from sim_env.graph.whatif import load_whatif

ROOT = Path(__file__).resolve().parents[2]
PARK = ROOT / "aisym" / "parks" / "kraakoya.yaml"
WHATIF = ROOT / "aisym" / "parks" / "kraakoya_whatif"


def test_a_shipped_whatif_is_found_by_name_beside_its_park():
    name, g = resolve_graph_scenario("cold_winter", None)
    assert name == "cold_winter" and g.series["freshwater_temp"].seasonal.mean == 1.5
    assert resolve_graph_scenario("cold_winter", PARK)[1].series == g.series
    assert sorted(p.stem for p in WHATIF.glob("*.yaml")) == [
        "bigger_electrolyser", "bigger_heat_store", "cold_winter", "digester_outage", "high_carbon_price",
        "no_symbiosis", "no_upgrader", "volatile_prices"]


def test_series_and_settings_edits_keep_what_they_do_not_name(tmp_path):
    f = tmp_path / "w.yaml"
    f.write_text(f"name: cold\npark: {PARK}\nseries:\n  freshwater_temp: {{seasonal: {{mean: 1.5}}}}\n"
                 "settings: {carbon_price: 150 EUR/t}\n", encoding="utf-8")
    _, base, what_if = load_whatif(f)
    old, new = base.series["freshwater_temp"], what_if.series["freshwater_temp"]
    assert new.seasonal.mean == 1.5 and new.seasonal.amplitude == old.seasonal.amplitude == 2.5
    assert new.seasonal.min == old.seasonal.min == 0.1  # the floor the base states stays
    assert what_if.carbon_price_per_kg == pytest.approx(0.15) and base.carbon_price_per_kg == pytest.approx(0.08)


@pytest.mark.parametrize("edit, words", [
    ("series:\n  arctic_temp: {seasonal: {mean: 1}}\n", "series: no 'arctic_temp' in"),
    ("settings: {carbon: 150 EUR/t}\n", "park.carbon: unknown field"),
])
def test_a_whatif_edit_the_park_lacks_is_refused(tmp_path, edit, words):
    from aisym.park import ParkError

    f = tmp_path / "w.yaml"
    f.write_text(f"name: x\npark: {PARK}\n{edit}", encoding="utf-8")
    with pytest.raises(ParkError, match=words):
        load_whatif(f)
