"""Issue 22, finding 10: a run's backups and unmet demand are totalled per unit, never kg + kWh.

The park, per hour, by hand:
- gypsum: 10 t/h from a power station, a 6 t/h line losing 10 %: 5.4 t delivered of the
  plasterboard plant's 8 t; 2,600 kg bought as backup (virgin gypsum);
- heat: a school's 100 kW need with nothing supplying it: 100 kWh of backup (its own boiler);
- unmet, with no backup: homes need 50 kW and waste heat brings 30 kW (20 kWh short); a
  fish tank needs 5 m3/h and a spring gives 3 (2 m3 short).
Before the fix ``twin run`` printed one "unmet" of 66 over 3 h in "carriers' units" (60 kWh + 6 m3),
no backup total, and a backup total could only be had by adding kg and kWh (2,700 per hour here).
"""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from aisym.cli import app
from aisym.park.graph import parse_graph
from sim_env.graph.baselines import make_graph_strategy
from sim_env.graph.evaluate import evaluate

from .physics.parks import GYPSUM, HEAT, asset, park

UNITS = park("units", [
    ("power", [asset("fgd", {"type": "source", "id": "gypsum", "carrier": GYPSUM, "profile": "10 t/h",
                             "surplus": {"cost": "300 DKK/t"}}),
               asset("waste", {"type": "source", "id": "heat", "carrier": HEAT, "profile": "30 kW",
                               "surplus": {"cost": 0}})]),
    ("gyproc", [asset("plant", {"type": "demand", "id": "gypsum", "carrier": GYPSUM, "profile": "8 t/h",
                                "backup": {"cost": "400 DKK/t", "name": "virgin gypsum"}})]),
    ("school", [asset("school", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "100 kW",
                                 "backup": {"cost": "0.5 DKK/kWh", "name": "own boiler"}})]),
    ("town", [asset("homes", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "50 kW"})]),
    ("fish", [asset("spring", {"type": "source", "id": "water", "carrier": "water", "profile": "3 m3/h",
                               "surplus": {"cost": 0}}),
              asset("tank", {"type": "demand", "id": "water", "carrier": "water", "profile": "5 m3/h"})])],
    [{"id": "gypsum_link", "from": "fgd.gypsum", "to": "plant.gypsum", "capacity": "6 t/h", "loss": 0.1},
     {"id": "waste_heat", "from": "waste.heat", "to": "homes.heat", "capacity": "100 kW"},
     {"id": "spring_water", "from": "spring.water", "to": "tank.water", "capacity": "10 m3/h"}])


def test_backups_and_unmet_demand_are_totalled_per_unit():
    res = evaluate(make_graph_strategy("random"), parse_graph(yaml.safe_dump(UNITS), "units.yaml"), hours=3)
    assert res.backup_by_unit == pytest.approx({"kWh": 300.0, "kg": 7800.0}, rel=1e-12)
    assert res.unmet_by_unit == pytest.approx({"kWh": 60.0, "m3": 6.0}, rel=1e-12)
    assert res.unmet == pytest.approx(66.0, rel=1e-12)  # the kernel's own sum, kept: the parts add up to it
    assert res.backup_text() == "300.0 kWh, 7,800.0 kg" and res.unmet_text() == "60.0 kWh, 6.0 m3"


def test_twin_run_and_whatif_print_one_total_per_unit(tmp_path):
    (tmp_path / "units.yaml").write_text(yaml.safe_dump(UNITS, sort_keys=False))
    r = CliRunner().invoke(app, ["twin", "run", str(tmp_path / "units.yaml"), "--strategy", "random", "--hours", "3"],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    lines = [" ".join(line.replace("│", " ").split()) for line in r.output.splitlines()]
    assert {"bought as backup 300.0 kWh", "bought as backup 7,800.0 kg", "unmet (no backup) 60.0 kWh",
            "unmet (no backup) 6.0 m3"} <= set(lines), r.output
    (tmp_path / "off.yaml").write_text("name: No gypsum link\npark: units.yaml\nexchanges:\n  remove: [gypsum_link]\n")
    r = CliRunner().invoke(app, ["twin", "whatif", str(tmp_path / "off.yaml"), "--hours", "3", "--out",
                                 str(tmp_path / "out")], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    lines = [" ".join(line.replace("│", " ").split()) for line in r.output.splitlines()]
    # without the link the plant buys all 8 t/h: 24,000 kg over 3 h (base 7,800); the heat is unchanged
    assert "bought as backup (kg) 7,800.0 24,000.0 16,200.0" in lines, r.output
    assert "bought as backup (kWh) 300.0 300.0 0.0" in lines, r.output
