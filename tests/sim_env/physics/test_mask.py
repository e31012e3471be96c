"""A masked exchange is exactly a removed one (issue 22, finding 2): for every exchange of every
shipped park and of generated parks, a year's first two days with the actions held give the same
output whether the exchange is masked (mask 0) or deleted from the file."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from aisym.park import ParkError, parse_park
from aisym.park.graph import migrate_text, parse_graph
from sim_env.graph.balance import run_balanced
from sim_env.graph.compile import CompileError, compile_park
from sim_env.graph.kernel import Y_CARBON, Y_COST, Batch

PARKS = Path(__file__).resolve().parents[3] / "aisym" / "parks"
STEPS = 48


def _doc(name: str) -> dict:
    text = (PARKS / f"{name}.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    if doc.get("schema_version") != 2:
        doc = yaml.safe_load(migrate_text(parse_park(text, name), name))
    return doc


def _cost(cp, coef, action: float, mask: np.ndarray | None, names: list[str]) -> float:
    A = np.array([[action if n in names else 0.0 for n in cp.action_names]])
    b = Batch(cp, coef, 1, mask=None if mask is None else mask[None])
    return sum(float(b.step(A)[0, Y_COST] + b.Y[0, Y_CARBON]) for _ in range(STEPS))


def _removed(doc: dict, e: str):
    """The park compiled without exchange ``e``; None where that leaves it invalid."""
    cut = copy.deepcopy(doc)
    cut["exchanges"] = [x for x in cut["exchanges"] if x["id"] != e]
    try:
        return compile_park(parse_graph(yaml.safe_dump(cut, sort_keys=False), "cut.yaml"))
    except (ParkError, CompileError):
        return None


def masked_versus_removed(doc: dict, action: float = 0.5) -> tuple[list[tuple[str, float]], int]:
    """Each exchange whose masking and removal differ, with the difference; and how many were compared
    (an exchange whose removal leaves an invalid park, a port nothing supplies, cannot be)."""
    cp = compile_park(parse_graph(yaml.safe_dump(doc, sort_keys=False), "park.yaml"))
    coef = cp.exogenous(seed=0)
    names = cp.action_names
    differ, compared = [], 0
    for j, e in enumerate(cp.link_ids):
        cp2 = _removed(doc, e)
        if cp2 is None:
            continue
        compared += 1
        mask = cp.LE.copy()
        mask[j] = 0.0
        a = _cost(cp, coef, action, mask, names)
        b = _cost(cp2, cp2.exogenous(seed=0), action, None, names)
        if abs(a - b) > 1e-9 * max(abs(a), 1.0):
            differ.append((e, a - b))
    return differ, compared


@pytest.mark.parametrize("name", ["kraakoya", "kalundborg"])
def test_masking_an_exchange_equals_removing_it_in_every_shipped_park(name):
    differ, compared = masked_versus_removed(_doc(name))
    print(f"\n{name}: {len(differ)} of {compared} exchanges differ masked vs removed: {differ}")
    assert compared > 0
    assert not differ


def random_park(seed: int) -> dict:
    """A park of heat sources, heat needs, electric boilers following the ask, and heat stores, joined
    by random exchanges (capacities, losses and priorities random), each boiler fed from one grid."""
    rng = np.random.default_rng(seed)
    heat = {"resource": "heat", "temperature_c": 80}
    assets, givers, takers, exchanges = [], [], [], []
    for i in range(int(rng.integers(5, 9))):
        kind = rng.choice(["source", "demand", "boiler", "store"], p=[0.3, 0.3, 0.25, 0.15])
        aid = f"{kind}{i}"
        if kind == "source":
            comp = [{"type": "source", "id": "heat", "carrier": heat, "profile": float(rng.uniform(1, 10)),
                     "surplus": {"cost": float(rng.uniform(0, 0.2))}}]
            givers.append(f"{aid}.heat")
        elif kind == "demand":
            comp = [{"type": "demand", "id": "heat", "carrier": heat, "profile": float(rng.uniform(1, 10)),
                     "backup": {"cost": float(rng.uniform(0.5, 2))}}]
            takers.append(f"{aid}.heat")
        elif kind == "boiler":
            comp = [{"type": "converter", "id": "boiler", "control": "follow_output", "reference": "heat",
                     "rated": float(rng.uniform(2, 8)), "inputs": {"power": {"carrier": "electricity",
                                                                            "ratio": float(rng.uniform(1, 1.2))}},
                     "outputs": {"heat": {"carrier": heat}}}]
            givers.append(f"{aid}.heat")
            exchanges.append({"id": f"grid_to_{aid}", "from": "grid.electricity", "to": f"{aid}.power",
                              "capacity": float(rng.uniform(1, 10))})
        else:
            comp = [{"type": "storage", "id": "heat", "carrier": heat, "capacity": float(rng.uniform(5, 30)),
                     "max_charge": float(rng.uniform(1, 5)), "max_discharge": float(rng.uniform(1, 5)),
                     "loss": 0.01, "end": {"rule": "free"}}]
            givers.append(f"{aid}.heat")
            takers.append(f"{aid}.heat")
        assets.append((aid, {"id": aid, "components": comp}))
    assets.append(("grid", {"id": "grid", "components": [{"type": "market", "id": "electricity",
                                                          "carrier": "electricity", "import_price": 0.3}]}))
    pairs = {(g, t) for g in givers for t in takers if g.split(".")[0] != t.split(".")[0]}
    for j, (g, t) in enumerate(sorted(pairs)):
        if rng.random() < 0.5:
            exchanges.append({"id": f"x{j}", "from": g, "to": t, "capacity": float(rng.uniform(1, 10)),
                              "loss": float(rng.uniform(0, 0.1)), "priority": int(rng.integers(0, 3)),
                              "transport_cost": float(rng.uniform(0, 0.05))})
    return {"schema_version": 2, "park": {"id": f"random{seed}", "name": "random", "currency": "DKK"},
            "companies": [{"id": aid, "name": aid, "assets": [a]} for aid, a in assets], "exchanges": exchanges}


def _valid(seed: int) -> dict | None:
    doc = random_park(seed)
    try:
        compile_park(parse_graph(yaml.safe_dump(doc, sort_keys=False), "random.yaml"))
    except (ParkError, CompileError):
        return None
    return doc


RANDOM = [s for s in range(40) if _valid(s) is not None][:6]
# The first 8 seeds of range(200) whose park has a loop: two load-following boilers serving two
# demands whose exchanges' priorities order them opposite ways. Before each row ran its loops as the
# park without its masked exchanges would (kernel ``_loop``, compile ``loop_plans``), masked and
# removed differed on 2 of 13 exchanges (seed 29: x3, x6 -0.316 DKK), 0/7 (48), 1/6 (49: x1 +0.753),
# 2/12 (64: x2 -6.90, x6 -7.76), 1/13 (82: x1 +0.029), 0/16 (146), 2/11 (167: x2, x7 -1.44) and
# 3/11 (183: x11 +1.00, x5 -5.69, x7 +10.70), over 48 steps.
LOOPED = (29, 48, 49, 64, 82, 146, 167, 183)


@pytest.mark.parametrize("seed", RANDOM + list(LOOPED))
def test_masking_an_exchange_equals_removing_it_in_generated_parks(seed):
    doc = random_park(seed)
    cp = compile_park(parse_graph(yaml.safe_dump(doc, sort_keys=False), "random.yaml"))
    assert bool(cp.loops) == (seed in LOOPED)
    differ, compared = masked_versus_removed(doc)
    print(f"\nrandom park {seed}: {len(differ)} of {compared} exchanges differ masked vs removed: {differ}")
    assert compared > 0
    assert not differ


def test_rows_of_one_batch_each_run_their_loops_as_their_own_mask_says():
    """One batch, one row per exchange of a park with a loop of three load-followers (seed 183), each
    row masking its own: each row's 48 steps cost what the park without that exchange costs alone,
    though the rows share a block of the kernel (the loop's plan is per row, not per block)."""
    doc = random_park(183)
    cp = compile_park(parse_graph(yaml.safe_dump(doc, sort_keys=False), "random.yaml"))
    assert cp.loops
    coef, nl = cp.exogenous(seed=0), len(cp.link_ids)
    mask = np.tile(cp.LE, (nl, 1))
    mask[np.arange(nl), np.arange(nl)] = 0.0
    A = np.array([[0.5 if n in cp.action_names else 0.0 for n in cp.action_names]] * nl)
    b = Batch(cp, coef, nl, mask=mask)
    cost = np.zeros(nl)
    for _ in range(STEPS):
        cost += b.step(A)[:, Y_COST] + b.Y[:, Y_CARBON]
    compared = 0
    for j, e in enumerate(cp.link_ids):
        cp2 = _removed(doc, e)
        if cp2 is None:
            continue
        compared += 1
        alone = _cost(cp2, cp2.exogenous(seed=0), 0.5, None, cp.action_names)
        assert cost[j] == pytest.approx(alone, rel=1e-9, abs=1e-9), e
    assert compared >= 8


# Seeds of range(300) whose stores overfill under random actions (a load-following boiler pushing
# into a store and onto other buses). Run over the 227 valid generated parks of seeds 0-299, 48 h of
# random actions each, the balance check found 34 out of balance, none of them checked before:
# - a store's close that could neither cut its pushers back nor spill its must-go inflows back
#   clipped the level at capacity and the excess vanished unreported (seed 64, step 21: 0.0029 kWh):
#   now left on the store's bus, spilled there (kernel ``_store_close``);
# - a unit pushing into a store and elsewhere was cut back by all it pushed anywhere, but only its
#   flow into the store was taken back, so its output bus gave more than it made (seed 8, step 2:
#   -0.43 kWh; 82, 183, 197, 242): now each pusher is cut by its share of what it sent there.
# 0 of 227 out of balance after both.
OVERFILL = (5, 8, 15, 23, 34, 62, 64, 82, 100, 102, 183, 197, 242)


def _balanced(seed: int) -> float:
    cp = compile_park(parse_graph(yaml.safe_dump(random_park(seed), sort_keys=False), "random.yaml"))
    return run_balanced(cp, cp.exogenous(seed=0), np.random.default_rng(seed).random((48, cp.n_actions)))[0]


@pytest.mark.parametrize("seed", sorted(set(RANDOM) | set(OVERFILL)))
def test_every_bus_balances_at_every_step_in_generated_parks(seed):
    assert _balanced(seed) < 1e-9
