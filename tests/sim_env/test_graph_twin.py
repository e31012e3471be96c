"""The twin compiled from the park graph: balances on every bus at every step, hand calculations, and
whatever the file says is simulated (Kråkøya's year-by-hand facts: test_kraakoya_facts.py)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from aisym.park import DEFAULT_PARK
from aisym.park.graph import parse_graph
from aisym.park.loader import ParkError
from sim_env.graph.compile import (
    B_MARKET,
    I_P0,
    I_P1,
    I_PL,
    I_REF,
    I_TYPE,
    T_CONVERTER,
    T_DEMAND,
    T_DISPOSAL,
    T_MARKET,
    T_PURCHASE,
    T_SOURCE,
    T_STORAGE,
    compile_park,
)
from sim_env.graph.kernel import N_HEAD, Y_CO2, Y_COST, Y_UNMET, Batch, initial_state
from sim_env.graph.report import exchange_use
from tests.core.test_park_graph import SMALL


def _graph(doc: dict, name: str = "p.yaml"):
    return parse_graph(yaml.safe_dump(doc, sort_keys=False), name)


def _shipped() -> dict:
    """The shipped Kråkøya park's document (v2), to edit."""
    return yaml.safe_load(DEFAULT_PARK.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def kraakoya():
    return compile_park(_graph(_shipped(), "kraakoya.yaml"))


def _port_flows(cp, coef, t: int, n: int, load: float) -> dict[int, float]:
    """Each port's flow of converter ``n`` at reference load ``load`` (per hour), recomputed here."""
    NI, NF = cp.NI, cp.NF
    f: dict[int, float] = {}
    for p in range(NI[n, I_P0], NI[n, I_P1]):
        if cp.PO[p] >= 0:
            continue
        if p == NI[n, I_REF]:
            f[p] = load
        elif p == NI[n, I_PL]:
            f[p] = NF[n, 2] * load + NF[n, 3] if load > 0 else 0.0
        else:
            f[p] = coef[0, t, cp.PV[p]] * load
    for p in range(NI[n, I_P0], NI[n, I_P1]):
        if cp.PO[p] >= 0:
            f[p] = coef[0, t, cp.PV[p]] * f[cp.PO[p]]
    return f


def _bus_imbalance(cp, coef, Y: np.ndarray, S_prev: np.ndarray, t: int) -> np.ndarray:
    """Supply minus use on every bus for one step, from the outputs alone (an independent check)."""
    nl, nn = len(cp.link_ids), cp.n_nodes
    flow = Y[N_HEAD:N_HEAD + nl]
    act = Y[N_HEAD + nl:N_HEAD + nl + nn]
    back = Y[N_HEAD + nl + nn:N_HEAD + nl + 2 * nn]
    bal = np.zeros(len(cp.bus_ids))
    for e in range(nl):
        bal[cp.LD[e]] += flow[e] * (1 - cp.LF[e, 1])
        bal[cp.LS[e]] -= flow[e]
    for n in range(nn):
        t_ = cp.NI[n, I_TYPE]
        b = cp.NI[n, 1]
        if t_ == T_SOURCE:
            bal[b] += act[n] - back[n]  # given, less its surplus (which leaves the park)
        elif t_ in (T_DEMAND, T_DISPOSAL):
            bal[b] -= act[n]
        elif t_ == T_PURCHASE:
            bal[b] += act[n]
        elif t_ == T_MARKET:
            bal[b] += act[n]  # net import (+) or export (−)
        elif t_ == T_STORAGE:
            bal[b] -= act[n] - S_prev[n] + back[n]  # what the store kept, plus its standing loss
        elif t_ == T_CONVERTER:
            f = _port_flows(cp, coef, t, n, act[n])
            backed = [p for p in f if cp.PD[p] == 0 and cp.PBC[p] >= 0]
            for p, x in f.items():
                bal[cp.PB[p]] += x if cp.PD[p] == 1 else -x
            if backed and back[n] > 0:
                assert len(backed) == 1, "one backed port per converter in these parks"
                bal[cp.PB[backed[0]]] += back[n]  # the bought shortfall came from outside
    return bal


@pytest.mark.parametrize("which", ["kraakoya", "small"])
def test_every_bus_balances_at_every_step(kraakoya, which):
    cp = kraakoya if which == "kraakoya" else compile_park(_graph(SMALL))
    coef = cp.exogenous(seed=5)
    b = Batch(cp, coef, 1)
    rng = np.random.default_rng(2)
    S_prev = initial_state(cp, 1)[0]
    worst = 0.0
    for t in range(24 * 21):
        Y = b.step(rng.random((1, cp.n_actions)))[0].copy()
        bal = _bus_imbalance(cp, coef, Y, S_prev, t)
        worst = max(worst, float(np.abs(bal).max()))
        S_prev = b.S[0].copy()
    assert worst < 1e-6, worst


def test_halving_the_fish_farms_heat_is_caught_by_the_hand_calculation(kraakoya):
    # docs/twin.md: make-up heat = 1.163 kWh/(m3 K) × (1 − recovery) × fresh × (13 °C − T_fresh), plus 2 K on
    # reused water; with no reuse and no store heat, all of it is backup heat.
    cp = kraakoya
    coef = cp.exogenous(seed=0)
    b = Batch(cp, coef, 1)
    heater = cp.node_keys.index("ras.heater")
    total = 0.0
    for _ in range(24 * 28):
        Y = b.step(np.zeros((1, cp.n_actions)))[0]
        total += Y[N_HEAD + len(cp.link_ids) + cp.n_nodes + heater]  # backup heat of the heater
    from sim_env.graph.exogenous import generate

    fresh_t = generate(cp.graph, seed=0)["freshwater_temp"][0, : 24 * 28]
    by_hand = (1.163 * (1 - 0.6) * 72.0 * np.maximum(13.0 - fresh_t, 0.0)).sum()
    assert total == pytest.approx(by_hand, rel=1e-9)


def _actions(cp, default: float, named: dict[str, float]) -> np.ndarray:
    a = np.full(cp.n_actions, default)
    for name, v in named.items():
        a[cp.action_names.index(name)] = v
    return a


def _run(cp, steps: int = 24 * 60, value: float | np.ndarray = 0.7, seed: int = 0) -> np.ndarray:
    b = Batch(cp, cp.exogenous(seed=seed), 1)
    a = np.broadcast_to(np.asarray(value, dtype=np.float64), (1, cp.n_actions))
    return np.array([b.step(a)[0].copy() for _ in range(steps)])


def _kpis(cp, Y: np.ndarray) -> tuple[float, float]:
    return float(Y[:, Y_COST].sum()), float(Y[:, Y_CO2].sum())


def test_rewiring_an_exchange_changes_results():
    doc = _shipped()
    base = compile_park(_graph(doc))
    rewired = copy.deepcopy(doc)
    e = next(x for x in rewired["exchanges"] if x["id"] == "electrolyser_heat_to_store")
    e["to"] = "ras.heat"  # 60 °C stack heat straight to the fish farm's make-up water
    cp = compile_park(_graph(rewired))
    Y0, Y = _run(base), _run(cp)
    assert not np.array_equal(Y0, Y)
    e = cp.link_ids.index("electrolyser_heat_to_store")
    assert cp.bus_ids[cp.LD[e]] == "ras.heat" and Y[:, N_HEAD + e].sum() > 0


def test_adding_a_link_changes_results():
    doc = _shipped()
    base = compile_park(_graph(doc))
    more = copy.deepcopy(doc)
    more["exchanges"].append({"id": "chp_heat_to_ras", "from": "chp.heat", "to": "ras.heat", "capacity": "200 kW"})
    cp = compile_park(_graph(more))
    # CHP at rated power, no store heat to the fish: their make-up heat is backup heat unless the new link helps
    Y, Y0 = _run(cp, value=_actions(cp, 0.5, {"chp.engine": 1.0, "store_heat_to_ras": 0.0})), _run(
        base, value=_actions(base, 0.5, {"chp.engine": 1.0, "store_heat_to_ras": 0.0}))
    e = cp.link_ids.index("chp_heat_to_ras")
    assert Y[:, N_HEAD + e].sum() > 0  # free CHP heat goes to the fish before the store takes it
    assert _kpis(base, Y0)[0] > _kpis(cp, Y)[0]  # ... and replaces backup heat the store could not give


def test_a_second_heat_store_is_used():
    doc = _shipped()
    energy = next(c for c in doc["companies"] if c["id"] == "park_energy")
    store = copy.deepcopy(next(a for a in energy["assets"] if a["id"] == "heat_store"))
    store["id"], store["tags"] = "heat_store_b", []
    energy["assets"].append(store)
    # the electrolyser's heat now charges store B, which alone heats the digester
    next(x for x in doc["exchanges"] if x["id"] == "electrolyser_heat_to_store")["to"] = "heat_store_b.heat"
    doc["exchanges"] = [x for x in doc["exchanges"] if x["id"] != "store_heat_to_digester"]
    doc["exchanges"].append({"id": "store_b_to_digester", "from": "heat_store_b.heat", "to": "digester.heat",
                             "capacity": "150 kW", "control": "controllable"})
    cp = compile_park(_graph(doc))
    Y = _run(cp, steps=24 * 30)
    use = {u.id: u.total for u in exchange_use(cp, Y)}
    assert use["store_b_to_digester"] > 0 and use["electrolyser_heat_to_store"] > 0 and use["store_heat_to_ras"] > 0
    level_b = Y[:, N_HEAD + len(cp.link_ids) + cp.node_keys.index("heat_store_b.heat")]
    assert np.ptp(level_b) > 100.0  # it charges and discharges


def test_permuting_the_file_gives_bit_identical_results():
    doc = _shipped()
    base = compile_park(_graph(doc))
    rng = np.random.default_rng(0)
    d = copy.deepcopy(doc)
    d["companies"] = d["companies"][::-1]
    for c in d["companies"]:
        c["assets"] = c["assets"][::-1]
    rng.shuffle(d["exchanges"])
    d["series"] = dict(reversed(list(d["series"].items())))
    perm = compile_park(_graph(d))
    assert perm.action_names == base.action_names
    A = np.random.default_rng(3).random((500, base.n_actions))
    b1, b2 = Batch(base, base.exogenous(seed=1), 1), Batch(perm, perm.exogenous(seed=1), 1)
    for a in A:
        assert np.array_equal(b1.step(a[None]), b2.step(a[None]))


def test_every_exchange_carries_flow_in_a_year_or_says_why(kraakoya):
    Y = _run(kraakoya, steps=8760, value=0.6)
    use = exchange_use(kraakoya, Y, A=np.full((8760, kraakoya.n_actions), 0.6))
    assert all(u.total > 0 for u in use), [u for u in use if u.total <= 0]
    # switched off, an exchange says why it carried nothing
    mask = kraakoya.LE.copy()
    mask[kraakoya.link_ids.index("oxygen_to_ras")] = 0.0
    b = Batch(kraakoya, kraakoya.exogenous(seed=0), 1, mask=mask[None])
    Y = np.array([b.step(np.full((1, kraakoya.n_actions), 0.6))[0].copy() for _ in range(48)])
    off = next(u for u in exchange_use(kraakoya, Y, mask=mask) if u.id == "oxygen_to_ras")
    assert off.total == 0 and "disabled" in off.reason


def test_a_batch_row_may_carry_its_own_topology(kraakoya):
    K = 4
    mask = np.tile(kraakoya.LE, (K, 1))
    mask[1, kraakoya.link_ids.index("oxygen_to_ras")] = 0.0
    mask[2, kraakoya.link_ids.index("reused_water_to_ras")] = 0.0
    b = Batch(kraakoya, kraakoya.exogenous(seed=0), K, mask=mask)
    cost = np.zeros(K)
    for _ in range(48):
        cost += b.step(np.full((K, kraakoya.n_actions), 0.6))[:, Y_COST]
    assert cost[0] == cost[3]  # the same topology gives the same numbers
    assert cost[1] > cost[0] and cost[2] > cost[0]  # buying O2 or all make-up water costs more


def test_wrong_shaped_actions_are_refused(kraakoya):
    b = Batch(kraakoya, kraakoya.exogenous(seed=0), 2)
    for bad in (np.zeros(kraakoya.n_actions), np.zeros((kraakoya.n_actions, 2)), 0.5):
        with pytest.raises(ValueError, match="actions must have shape"):
            b.step(bad)


def test_hand_calculation_of_the_small_park():
    # FGD gypsum: 170,000 t/yr = 19.41 t/h given, all of it taken by the plasterboard plant
    # (demand 20 t/h, pipe 30 t/h); the 0.59 t/h short is mined gypsum; transport 20 DKK/t.
    cp = compile_park(_graph(SMALL))
    Y = _run(cp, steps=24 * 10, value=0.5)
    use = {u.id: u.total for u in exchange_use(cp, Y)}
    assert use["gypsum_to_plasterboard"] == pytest.approx(170000e3 / 8760 * 240, rel=1e-12)
    plant = cp.node_keys.index("plant.gypsum")
    bought = Y[:, N_HEAD + len(cp.link_ids) + cp.n_nodes + plant].sum()
    assert bought == pytest.approx((20000 - 170000e3 / 8760) * 240, rel=1e-9)
    # district heat comes through the let-down (steam 12 bar) at 98 %: no backup needed below 30 MW
    dh = cp.node_keys.index("district_heat.heat")
    assert Y[:, N_HEAD + len(cp.link_ids) + cp.n_nodes + dh].sum() == pytest.approx(0.0, abs=1e-6)
    assert Y[:, Y_UNMET].max() < 1e-9


def test_a_loop_with_no_solution_is_refused():
    doc = {
        "schema_version": 2, "park": {"id": "loop", "name": "Loop"},
        "companies": [{"id": "c", "name": "C", "assets": [
            {"id": name, "components": [
                {"type": "converter", "id": "unit", "control": "follow_output", "rated": 10, "reference": "out",
                 "inputs": {"inp": {"carrier": {"resource": "water", "grade": "process"}}},
                 "outputs": {"out": {"carrier": {"resource": "water", "grade": "process"}}}},
                {"type": "demand", "id": "use", "port": "out", "carrier": {"resource": "water", "grade": "process"},
                 "profile": 1}]} for name in ("a", "b")]}],
        "exchanges": [{"id": "a_to_b", "from": "a.out", "to": "b.inp", "capacity": 5},
                      {"id": "b_to_a", "from": "b.out", "to": "a.inp", "capacity": 5}],
    }
    # each unit asks the other for as much as it makes (gain 1 round the loop): no finite solution (issue 22 item 3)
    with pytest.raises(ParkError, match=r"p.yaml:\d+:\d+: .*: a.unit, b.unit follow what is asked of them in a loop"):
        compile_park(_graph(doc))


def test_markets_net_imports_and_exports(kraakoya):
    Y = _run(kraakoya, steps=24 * 7, value=0.3)
    grid = kraakoya.node_keys.index("grid.electricity")
    assert kraakoya.BI[kraakoya.NI[grid, 1], B_MARKET] == grid
    net = Y[:, N_HEAD + len(kraakoya.link_ids) + grid]
    assert (net > 0).any()  # the park imports on balance (RAS pumps), CHP power netted first


@pytest.mark.parametrize("scenario", sorted(p.name for p in (DEFAULT_PARK.parent / "kraakoya_whatif").glob("*.yaml")))
def test_every_shipped_whatif_compiles_and_runs(scenario):
    from sim_env.graph.whatif import load_whatif

    cp = compile_park(load_whatif(DEFAULT_PARK.parent / "kraakoya_whatif" / scenario)[2])
    Y = _run(cp, steps=48, value=0.5)
    assert np.isfinite(Y).all() and Y[:, Y_UNMET].max() < 1e-9


@pytest.mark.parametrize("first", ["eboiler_to_town", "town_heat"])
def test_suppliers_that_follow_a_need_serve_it_in_priority_order(first):
    doc = copy.deepcopy(SMALL)
    town = next(c for c in doc["companies"] if c["id"] == "town")
    town["assets"].append({"id": "eboiler", "components": [
        {"type": "converter", "id": "element", "control": "follow_output", "rated": "40 MW", "reference": "heat",
         "inputs": {"electricity": {"carrier": "electricity", "ratio": 1.01}},
         "outputs": {"heat": {"carrier": {"resource": "heat", "temperature_c": 95}}}}]})
    doc["exchanges"] += [{"id": "eboiler_to_town", "from": "eboiler.heat", "to": "district_heat.heat", "capacity": "40 MW"},
                         {"id": "grid_to_eboiler", "from": "grid.electricity", "to": "eboiler.electricity",
                          "capacity": "40 MW"}]
    for e in doc["exchanges"]:
        if e["id"] in ("eboiler_to_town", "town_heat"):
            e["priority"] = 1 if e["id"] == first else 2
    cp = compile_park(_graph(doc))
    use = {u.id: u.total for u in exchange_use(cp, _run(cp, steps=48))}
    other = "town_heat" if first == "eboiler_to_town" else "eboiler_to_town"
    assert use[first] > 0 and use[other] == 0


def test_a_purchase_sells_no_more_than_its_max():
    doc = copy.deepcopy(SMALL)
    chips = next(c for c in doc["companies"] if c["id"] == "fuel")["assets"][0]
    chips["components"] = [{"type": "source", "id": "biomass", "carrier": "biomass", "price": "0.8 DKK/kg",
                            "max": "1 t/h"}]
    cp = compile_park(_graph(doc))
    Y = _run(cp, steps=24)
    use = {u.id: u.total for u in exchange_use(cp, Y)}
    assert use["fuel_to_boiler"] == pytest.approx(1000.0 * 24)  # the boiler wants far more than 1 t/h
