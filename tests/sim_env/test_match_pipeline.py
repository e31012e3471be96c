"""``aisym match --simulate`` as one forward path (issue 23 item 8): the park plus each set of candidates is
parsed and compiled once (:func:`~sim_env.graph.sweep.with_candidates`), each batch is run once, the park
alone once (and not again for the next call on the same park), and the progress the workbench shows moves
forward to 1 per batch and per round of the best set."""

from __future__ import annotations

from unittest import mock

import pytest

import sim_env.graph.evaluate as evaluate_mod
import sim_env.graph.sweep as sweep_mod
from aisym.park.graph import parse_graph
from sim_env.match.park import match_park, park_options
from sim_env.match.simulate import park_doc, plan, simulate_plans

HOURS = 48
# one food cluster of benchmarks/bench_twin_jobs.py's park: oven heat and bread waste, a digester, a glasshouse,
# a kitchen's hot water and food waste; every candidate compiles with the others (one batch, no market)
PARK = """schema_version: 2
park: {id: cluster, name: One food cluster, currency: NOK, carbon_price: 900 NOK/t, exchange_rates: {EUR: 11.4}}
carriers:
  - {id: oven_heat, resource: heat, temperature_c: 85}
  - {id: greenhouse_heat, resource: heat, temperature_c: 45}
  - {id: process_heat, resource: heat, temperature_c: 70}
  - {id: bread_waste, resource: biomass, ewc: "02 06 01", dry_matter_fraction: 0.6}
  - {id: food_waste, resource: biomass, ewc: "02 03 04", dry_matter_fraction: 0.25}
  - {id: feedstock, resource: biomass}
companies:
  - id: bakery
    name: Bakery
    nace: "10.71"
    assets:
      - id: ovens
        components:
          - {type: source, id: waste_heat, carrier: oven_heat, profile: 120 kW, surplus: {cost: 0.0}}
          - {type: source, id: bread_waste, carrier: bread_waste, profile: 340 t/yr,
             surplus: {cost: 1.2 NOK/kg, co2: 0.03 kg/kg}}
    outputs:
      - {id: oven_heat, carrier: oven_heat, port: ovens.waste_heat, quantity: 120 kW, cost: 0 NOK/kWh}
      - {id: bread_waste, carrier: bread_waste, port: ovens.bread_waste, quantity: 340 t/yr, cost: 1.2 NOK/kg}
  - id: biogas
    name: Biogas plant
    nace: "35.21"
    assets:
      - id: digester
        components:
          - {type: demand, id: feed, carrier: feedstock, profile: 2000 t/yr, backup: {cost: 0.4 NOK/kg, co2: 0.02 kg/kg}}
    inputs:
      - {id: feedstock, carrier: feedstock, port: digester.feed, quantity: 2000 t/yr, cost: 0.4 NOK/kg}
  - id: greenhouse
    name: Greenhouse
    nace: "01.13"
    assets:
      - id: glasshouse
        components:
          - {type: demand, id: heating, carrier: greenhouse_heat, profile: 180 kW,
             backup: {cost: 0.85 NOK/kWh, co2: 0.22 kg/kWh}}
    inputs:
      - {id: heating, carrier: greenhouse_heat, port: glasshouse.heating, quantity: 180 kW, cost: 0.85 NOK/kWh}
  - id: foodco
    name: Food company
    nace: "10.85"
    assets:
      - id: kitchen
        components:
          - {type: demand, id: hot_water, carrier: process_heat, profile: 60 kW, backup: {cost: 0.9 NOK/kWh, co2: 0.2 kg/kWh}}
          - {type: source, id: food_waste, carrier: food_waste, profile: 250 t/yr,
             surplus: {cost: 0.9 NOK/kg, co2: 0.03 kg/kg}}
    inputs:
      - {id: hot_water, carrier: process_heat, port: kitchen.hot_water, quantity: 60 kW, cost: 0.9 NOK/kWh}
    outputs:
      - {id: food_waste, carrier: food_waste, port: kitchen.food_waste, quantity: 250 t/yr, cost: 0.9 NOK/kg}
"""


@pytest.fixture(scope="module")
def cluster():
    g = parse_graph(PARK, "cluster.yaml")
    opts = park_options(g)
    cands, _, _ = match_park(g, opts)
    plans = [p for p in plan(g, [c for c in cands if c.existing is None], opts.rate) if p.candidate is not None]
    assert len(plans) >= 3
    return g, plans


class _Spy:
    """Counts the calls of ``module.name`` while it runs as before."""

    def __init__(self, module, name: str):
        self.calls, real = 0, getattr(module, name)

        def spy(*a, **k):
            self.calls += 1
            return real(*a, **k)

        self.patch = mock.patch.object(module, name, spy)

    def __enter__(self):
        self.patch.__enter__()
        return self

    def __exit__(self, *exc):
        return self.patch.__exit__(*exc)


def _runs():
    """evaluate_batch as simulate.py and sweep.py call it (imported into sweep, looked up in evaluate)."""
    return _Spy(evaluate_mod, "evaluate_batch"), _Spy(sweep_mod, "evaluate_batch")


def test_one_candidate_is_parsed_once_and_the_park_alone_run_once_per_park(cluster):
    g, plans = cluster
    one = plans[:1]
    a, b = _runs()
    with _Spy(sweep_mod, "with_candidates") as parses, a, b:
        out = simulate_plans(park_doc(g), g, one, hours=HOURS, exo_seed=7)
    # before (issue 23 item 8): 4 parses (the loop check, sweep.simulate, simulate_plans, the park alone) and the
    # park alone run again beside the batch; now the park + candidate once, the park alone from the graph given
    assert parses.calls == 1 and out.timings["parses"] == 1
    assert a.calls + b.calls == 2  # the batch (idle row + candidate) and the park alone
    assert len(out.simulated) == 1
    a, b = _runs()
    with _Spy(sweep_mod, "with_candidates") as parses, a, b:
        again = simulate_plans(park_doc(g), g, plans[:1], hours=HOURS, exo_seed=7)
    assert parses.calls == 1 and a.calls + b.calls == 1  # the park alone kept: a warm worker's next job
    assert again.simulated[0].saved == out.simulated[0].saved
    assert again.simulated[0].rules_offset == out.simulated[0].rules_offset


def test_the_best_set_reuses_the_batch_and_progress_moves_to_one(cluster):
    g, plans = cluster
    seen: list[tuple[str, float]] = []
    a, b = _runs()
    with _Spy(sweep_mod, "with_candidates") as parses, a, b:
        out = simulate_plans(park_doc(g), g, plans, hours=HOURS, exo_seed=7, set_size=2,
                             progress=lambda text, f: seen.append((text, f)))
    assert out.timings["batches"] == 1 and not out.skipped
    assert parses.calls == 1  # the batch's compile is the best set's
    rounds = sum(1 for t, _ in seen if t.startswith("best set: round"))
    # the batch, the park alone, one batch per round of the best set (its first round is the batch itself), the
    # subsets for the Shapley split; before: the batch again for the best set and a second compile of it
    assert a.calls + b.calls <= 2 + rounds + 1
    assert seen[0][0].startswith("batch 1 of 1") and seen[-1] == ("simulated", 1.0)
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and all(0.0 <= f <= 1.0 for f in fractions)
    assert 1 <= rounds <= 2 and len(out.best) >= 1
