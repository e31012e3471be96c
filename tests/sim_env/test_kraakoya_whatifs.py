"""Kråkøya's shipped scenarios are v2 what-ifs beside the park (``aisym/parks/kraakoya_whatif/``),
with the numbers of the v1 overlays they replace (issue 22, item 1).

Each what-if, applied to the v2 park, runs exactly as its v1 overlay applied to the v1 park did:
a week of fixed actions, every output of every step equal to 1e-9.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aisym.park.graph import migrate, parse_graph
from sim_env.graph.compile import compile_park
from sim_env.graph.kernel import Y_CO2, Y_COST, Batch
from sim_env.graph.v1_overlay import load_scenario
from sim_env.graph.whatif import load_whatif

ROOT = Path(__file__).resolve().parents[2]
WHATIF = ROOT / "aisym" / "parks" / "kraakoya_whatif"
PARK = ROOT / "aisym" / "parks" / "kraakoya_v2.yaml"
V1_PARK = ROOT / "aisym" / "parks" / "kraakoya.yaml"
V1_OVERLAYS = ROOT / "sim_env" / "scenarios"
NAMES = sorted(p.stem for p in WHATIF.glob("*.yaml"))


def _week(graph) -> np.ndarray:
    """Every output of a week (168 h, seed 7) with every action at 0.6."""
    import yaml

    cp = compile_park(graph if not isinstance(graph, dict) else parse_graph(yaml.safe_dump(graph), "v1"))
    b = Batch(cp, cp.exogenous(seed=7), 1)
    a = np.full((1, cp.n_actions), 0.6)
    return np.array([b.step(a)[0].copy() for _ in range(168)])


def test_every_v1_scenario_has_its_whatif():
    assert sorted(p.stem for p in V1_OVERLAYS.glob("*.yaml") if p.stem != "base") == NAMES


@pytest.fixture(scope="module")
def base_week():
    return _week(load_whatif(WHATIF / "cold_winter.yaml")[1])


@pytest.mark.parametrize("name", NAMES)
def test_a_whatif_runs_as_its_v1_overlay_did(name, base_week):
    v1 = migrate(load_scenario(V1_OVERLAYS / f"{name}.yaml", base=V1_PARK).park)
    what_if = load_whatif(WHATIF / f"{name}.yaml")[2]
    old, new = _week(v1), _week(what_if)
    assert old.shape == new.shape
    np.testing.assert_allclose(new, old, rtol=1e-9, atol=1e-9)
    assert not np.allclose(new[:, [Y_COST, Y_CO2]], base_week[:, [Y_COST, Y_CO2]])  # and the scenario changes the run


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
