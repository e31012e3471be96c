"""What-ifs of a v2 park: the overlay's edits, its errors, and the Kalundborg-like what-ifs run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aisym.cli import app
from aisym.park import ParkError
from sim_env.graph.compile import compile_park
from sim_env.graph.whatif import load_whatif, run_year

WHATIF = "aisym/parks/kalundborg_whatif"


def test_all_links_off_turns_off_only_links_between_companies():
    _, base, off = load_whatif(f"{WHATIF}/all_links_off.yaml")
    on = {link.id for link in off.links if link.enabled}
    for link in off.links:
        a, b = link.src.split(".")[0], link.dst.split(".")[0]
        if off.company_of[a] == off.company_of[b]:
            assert link.enabled  # inside a company nothing changes
    assert len(on) < len([x for x in base.links if x.enabled])


def test_the_kalundborg_what_ifs_resolve_and_save_co2_water_and_residues():
    _, base, off = load_whatif(f"{WHATIF}/all_links_off.yaml")
    a = run_year(compile_park(base), "base", steps=24 * 14)
    b = run_year(compile_park(off), "off", steps=24 * 14)
    assert b.co2_t > a.co2_t and b.water_bought_m3 > a.water_bought_m3 and b.residues_disposed_t > a.residues_disposed_t
    for name in ("no_biogas_plant", "no_heat_pump"):
        _, _, w = load_whatif(f"{WHATIF}/{name}.yaml")
        assert np.isfinite(run_year(compile_park(w), name, steps=48).cost)


def test_an_overlay_naming_what_the_park_lacks_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: typo\npark: {(tmp_path / '..').resolve()}/nowhere.yaml\n")
    with pytest.raises(ParkError, match=r"named by .*bad\.yaml: park.*nowhere\.yaml"):  # a ParkError: one line at the CLI
        load_whatif(bad)
    with pytest.raises(ParkError, match=r"what-if .*gone\.yaml"):
        load_whatif(tmp_path / "gone.yaml")
    bad.write_text(f"name: typo\npark: {Path(WHATIF).resolve()}/../kalundborg.yaml\n"
                   "exchanges:\n  remove: [no_such_link]\nassets:\n  colour: red\n")
    with pytest.raises(ParkError, match=r"bad\.yaml:6:\d+: assets\.colour: unknown field"):
        load_whatif(bad)
    bad.write_text(f"name: typo\npark: {Path(WHATIF).resolve()}/../kalundborg.yaml\n"
                   "exchanges:\n  remove: [no_such_link]\n")
    with pytest.raises(ParkError, match=r"exchanges\.remove: no 'no_such_link'"):
        load_whatif(bad)


def test_cli_whatif_prints_the_deltas_and_writes_a_plot(tmp_path):
    r = CliRunner().invoke(app, ["twin", "whatif", f"{WHATIF}/no_heat_pump.yaml", "--hours", "48", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "whatif.png").stat().st_size > 5000 and (tmp_path / "whatif.json").exists()
