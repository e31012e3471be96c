"""The shipped Kalundborg-like park: it loads, compiles and runs a year, and its annual totals
land on the published figures (symbiosis.dk, Ørsted/chemxplore; see docs/park_kalundborg.md)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aisym.cli import app
from aisym.park.graph import Resource, load_graph
from sim_env.graph.compile import compile_park
from sim_env.graph.kernel import Batch, output_names

PARK = Path(__file__).resolve().parents[2] / "aisym" / "parks" / "kalundborg.yaml"

# Published figure, tolerance: the simulated year must land within it.
GYPSUM_T = (150_000.0, 200_000.0)  # FGD gypsum to plasterboard, t/yr (symbiosis.dk; visitdenmark 200,000)
HEAT_PUMP_MWH, HEAT_PUMP_TOL = 80_000.0, 0.10  # wastewater heat pump, MWh/yr (symbiosis.dk 2022)
BIOMETHANE_NM3, BIOMETHANE_TOL = 8.0e6, 0.10  # from 300,000 t/yr of residues (chemxplore.com 2017)
CONDENSATE_M3, CONDENSATE_TOL = 65_000.0, 0.10  # flue-gas condensate to the refinery (symbiosis.dk 2020)
TOWN_HEAT_MWH, TOWN_HEAT_TOL = 250_000.0, 0.05  # derived: 80 GWh is "over 30 %" of it (symbiosis.dk 2022)


@pytest.fixture(scope="module")
def graph():
    return load_graph(PARK)


@pytest.fixture(scope="module")
def year(graph):
    """One simulated year (seed 0, K=1, every action 0.5): the outputs of every step."""
    cp = compile_park(graph)
    batch = Batch(cp, cp.exogenous(seed=0), K=1)
    actions = np.full((1, cp.n_actions), 0.5)
    steps = batch.coef.shape[1]
    Y = np.empty((steps, len(output_names(cp))))
    for t in range(steps):
        Y[t] = batch.step(actions)[0]
    return {name: Y[:, i] for i, name in enumerate(output_names(cp))}


def test_validate_command_accepts_it():
    r = CliRunner().invoke(app, ["park", "validate", str(PARK)])
    assert r.exit_code == 0, r.output
    assert "38 exchanges" in r.output


def test_companies_exchanges_codes_and_currency(graph):
    doc = graph.doc
    assert len(doc.companies) >= 12
    assert len(graph.links) >= 25
    for c in doc.companies:
        assert re.fullmatch(r"\d{2}\.\d{2}", c.nace), f"{c.id} needs a NACE Rev. 2 code, got {c.nace!r}"
    assert graph.currency == "DKK"
    assert graph.carbon_price_per_kg == pytest.approx(0.5)  # 500 DKK/t
    # every residue that is a waste carries its EWC code; only the digester's own feed port,
    # which takes any residue, and purchased wood chips state none
    for bus in graph.buses.values():
        c = bus.carrier
        if c.resource == Resource.material:
            assert c.ewc, f"{bus.id} carries {c.label()} without an EWC code"
    residues = [link for link in graph.links if link.resource == Resource.biomass and "chips" not in link.src]
    assert residues and all(graph.buses[link.src].carrier.ewc for link in residues)
    # the steam reaches the refinery, pharma, enzyme and plasterboard plants at two pressures
    steam = {graph.buses[link.dst].carrier.pressure_bar for link in graph.links if link.resource == Resource.steam}
    assert steam == {16.0, 4.0}


def test_a_year_runs_with_flow_on_every_exchange(graph, year):
    idle = [link.id for link in graph.links if not (year[f"flow:{link.id}"] > 1e-9).any()]
    assert not idle, f"exchanges that never carry flow: {idle}"
    assert year["unmet"].max() == 0.0
    assert year["spilled"].max() == 0.0
    assert year["over_limit"].max() == 0.0


def test_annual_totals_match_the_published_figures(year):
    gypsum_t = year["flow:gypsum_to_gyproc"].sum() / 1000.0  # kg -> t
    heat_pump_mwh = year["activity:network.heat_pump"].sum() / 1000.0  # kWh -> MWh
    biomethane = year["flow:biomethane_to_gas_grid"].sum()  # Nm3
    condensate = year["flow:condensate_to_refinery"].sum()  # m3
    town_mwh = year["activity:network.town"].sum() / 1000.0
    print(f"gypsum {gypsum_t:,.0f} t, heat pump {heat_pump_mwh:,.0f} MWh, biomethane {biomethane:,.0f} Nm3, "
          f"condensate {condensate:,.0f} m3, town heat {town_mwh:,.0f} MWh")
    assert GYPSUM_T[0] <= gypsum_t <= GYPSUM_T[1]
    assert heat_pump_mwh == pytest.approx(HEAT_PUMP_MWH, rel=HEAT_PUMP_TOL)
    assert biomethane == pytest.approx(BIOMETHANE_NM3, rel=BIOMETHANE_TOL)
    assert condensate == pytest.approx(CONDENSATE_M3, rel=CONDENSATE_TOL)
    assert town_mwh == pytest.approx(TOWN_HEAT_MWH, rel=TOWN_HEAT_TOL)
    # the heat pump covers "over 30 %" of the town's heat, the CHP the rest but the peak boilers
    assert 0.30 <= heat_pump_mwh / town_mwh <= 0.36
    assert year["backup:network.town"].sum() == pytest.approx(0.0, abs=1.0)


def test_energy_balances_of_the_chp(year):
    """The CHP's steam and heat leave through its exchanges: nothing made is lost or invented."""
    mp = year["activity:asv6.turbine"].sum()
    mp_out = sum(year[f"flow:{e}"].sum() for e in ("steam_to_refinery", "steam_to_novo_nordisk", "steam_to_novonesis"))
    letdown_in = year["activity:asv6.letdown"].sum() * 1.0204
    assert mp == pytest.approx(mp_out + letdown_in, rel=1e-9)
    lp = year["activity:asv6.letdown"].sum()
    lp_out = sum(year[f"flow:{e}"].sum() for e in ("lp_steam_to_novonesis", "lp_steam_to_gyproc", "lp_steam_to_biogas"))
    assert lp == pytest.approx(lp_out + year["activity:asv6.dh_exchanger"].sum() * 1.0101, rel=1e-9)
    # back-pressure: 0.194 MWh of electricity per MWh of extracted steam (25 MW / 129 MW)
    assert year["flow:chp_power_to_grid"].sum() == pytest.approx(0.194 * mp, rel=1e-9)
