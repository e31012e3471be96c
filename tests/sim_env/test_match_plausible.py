"""Issue 23 item 4: a candidate whose money is beyond what the flow can be worth is flagged, not ranked."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from aisym.cli import app

SYNTH = "tests/sim_env/match_data/synthetic_park.yaml"


def _template(path, cost):
    rows = [
        {"company_id": "laundry", "company_name": "Laundry", "nace": "96.01", "direction": "output",
         "flow_id": "warm_water", "resource": "heat", "temperature_c": "75", "quantity": "400 kW"},
        {"company_id": "greenhouse", "company_name": "Greenhouse", "nace": "01.13", "direction": "input",
         "flow_id": "heat", "resource": "heat", "temperature_c": "50", "quantity": "300 kW", "cost": cost},
    ]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=[*rows[0], "cost"])
        w.writeheader()
        w.writerows(rows)


def _run(tmp_path, cost, *extra):
    path = tmp_path / "t.csv"
    _template(path, cost)
    res = CliRunner().invoke(app, ["match", SYNTH, "--profiles", str(path), "--top", "50", *extra])
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split())


def test_a_price_typo_is_flagged_and_not_ranked(tmp_path):
    good = _run(tmp_path, "45 EUR/MWh")
    assert "Laundry Greenhouse" in good and "implausible" not in good
    typo = _run(tmp_path, "45 EUR/kWh")  # a thousand times the heat's worth: main ranked it first, no warning
    table = typo.split("Flagged, not ranked")[0]
    assert "Laundry Greenhouse" not in table
    assert "Flagged, not ranked (2)" in typo and "45 EUR per kWh" in typo and "most heat is worth" in typo
