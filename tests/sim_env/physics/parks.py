"""Small v2 parks, one per component behaviour and per limit, each limit made to bind and each
loss non-zero. The expected figures are hand calculations written beside each test, never read
from the code. Amounts are per hour (dt = 1 h) in canonical units: kW/kWh, kg, DKK."""

from __future__ import annotations

import copy

import numpy as np
import yaml

from aisym.park.graph import parse_graph
from sim_env.graph.compile import compile_park
from sim_env.graph.kernel import N_HEAD, Batch

HEAT = {"resource": "heat", "temperature_c": 80}
GYPSUM = {"resource": "material", "ewc": "10 01 05", "material": "gypsum"}


def park(pid: str, companies: list, exchanges: list) -> dict:
    return {"schema_version": 2, "park": {"id": pid, "name": pid, "currency": "DKK"},
            "companies": [{"id": c, "name": c, "assets": assets} for c, assets in companies],
            "exchanges": exchanges}


def asset(aid: str, *components: dict) -> dict:
    return {"id": aid, "components": list(components)}


# 1. An exchange whose capacity binds and whose loss is non-zero, between a must-take source
#    with a costed surplus and a demand with a backup.
EXCHANGE = park("exchange", [
    ("power", [asset("fgd", {"type": "source", "id": "gypsum", "carrier": GYPSUM, "profile": "10 t/h",
                             "surplus": {"cost": "300 DKK/t"}})]),
    ("gyproc", [asset("plant", {"type": "demand", "id": "gypsum", "carrier": GYPSUM, "profile": "8 t/h",
                                "backup": {"cost": "400 DKK/t"}})])],
    [{"id": "gypsum_link", "from": "fgd.gypsum", "to": "plant.gypsum", "capacity": "6 t/h", "loss": 0.1,
      "transport_cost": "20 DKK/t"}])

# 2. A store whose charge rate binds, with a standing loss.
STORE = park("store", [
    ("works", [asset("waste", {"type": "source", "id": "heat", "carrier": HEAT, "profile": "10 kW",
                               "surplus": {"cost": "1 DKK/kWh"}})]),
    ("town", [asset("tank", {"type": "storage", "id": "heat", "carrier": HEAT, "capacity": "100 kWh",
                             "max_charge": "4 kW", "max_discharge": "3 kW", "loss": 0.01, "initial": 0.5,
                             "end": {"rule": "free"}})])],
    [{"id": "waste_to_tank", "from": "waste.heat", "to": "tank.heat", "capacity": "20 kW"}])

# 3. A store whose discharge rate binds, feeding a demand with a backup (finding 3's park shape:
#    an inflow through the store's bus while it discharges).
STORE_OUT = park("store_out", [
    ("works", [asset("waste", {"type": "source", "id": "heat", "carrier": HEAT, "profile": "2 kW",
                               "surplus": {"cost": "1 DKK/kWh"}})]),
    ("town", [asset("tank", {"type": "storage", "id": "heat", "carrier": HEAT, "capacity": "100 kWh",
                             "max_charge": "4 kW", "max_discharge": "3 kW", "loss": 0.01, "initial": 0.5,
                             "end": {"rule": "free"}},
                    {"type": "demand", "id": "use", "port": "heat", "carrier": HEAT, "profile": "8 kW",
                     "backup": {"cost": "2 DKK/kWh"}})])],
    [{"id": "waste_to_tank", "from": "waste.heat", "to": "tank.heat", "capacity": "20 kW"}])

# 3b. A store alone on a need's bus, its discharge rate binding (no inflow).
STORE_DIS = park("store_dis", [
    ("town", [asset("tank", {"type": "storage", "id": "heat", "carrier": HEAT, "capacity": "100 kWh",
                             "max_charge": "4 kW", "max_discharge": "3 kW", "loss": 0.01, "initial": 0.5,
                             "end": {"rule": "free"}},
                    {"type": "demand", "id": "use", "port": "heat", "carrier": HEAT, "profile": "8 kW",
                     "backup": {"cost": "2 DKK/kWh"}})])],
    [])

# 3d. A heat pump pushing into a store's bus where a need sits (finding 3: what passes the bus counts
#     against neither rate; the store takes at most its charge rate).
STORE_PUSH = park("store_push", [
    ("utility", [asset("grid", {"type": "market", "id": "electricity", "carrier": "electricity",
                                "import_price": "1 DKK/kWh"})]),
    ("plant", [asset("unit", {"type": "converter", "id": "unit", "control": "setpoint", "reference": "heat",
                              "rated": "10 kW", "inputs": {"power": {"carrier": "electricity", "ratio": 0.5}},
                              "outputs": {"heat": {"carrier": HEAT}}})]),
    ("town", [asset("tank", {"type": "storage", "id": "heat", "carrier": HEAT, "capacity": "100 kWh",
                             "max_charge": "4 kW", "max_discharge": "3 kW", "loss": 0.01, "initial": 0.5,
                             "end": {"rule": "free"}},
                    {"type": "demand", "id": "use", "port": "heat", "carrier": HEAT, "profile": "8 kW",
                     "backup": {"cost": "2 DKK/kWh"}})])],
    [{"id": "grid_to_unit", "from": "grid.electricity", "to": "unit.power", "capacity": "100 kW"},
     {"id": "unit_to_tank", "from": "unit.heat", "to": "tank.heat", "capacity": "20 kW"}])

# 3c. Free residue shared by a need and a store: the need takes it first.
RESIDUE = park("residue", [
    ("works", [asset("waste", {"type": "source", "id": "heat", "carrier": HEAT, "profile": "10 kW",
                               "surplus": {"cost": "1 DKK/kWh"}})]),
    ("town", [asset("tank", {"type": "storage", "id": "heat", "carrier": HEAT, "capacity": "100 kWh",
                             "max_charge": "10 kW", "max_discharge": "10 kW", "initial": 0.5,
                             "end": {"rule": "free"}}),
              asset("homes", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "6 kW",
                              "backup": {"cost": "1 DKK/kWh"}})])],
    [{"id": "waste_to_tank", "from": "waste.heat", "to": "tank.heat", "capacity": "20 kW"},
     {"id": "waste_to_homes", "from": "waste.heat", "to": "homes.heat", "capacity": "20 kW"}])

# 4. A market whose import limit binds (finding 4); what it cannot bring is lost load, valued as the park states.
IMPORT_DEFAULT_VOLL = park("import", [
    ("utility", [asset("grid", {"type": "market", "id": "electricity", "carrier": "electricity",
                                "import_price": "1 DKK/kWh", "import_max": "50 kW"})]),
    ("mill", [asset("mill", {"type": "demand", "id": "electricity", "carrier": "electricity",
                             "profile": "80 kW"})])],
    [{"id": "grid_to_mill", "from": "grid.electricity", "to": "mill.electricity", "capacity": "200 kW"}])
IMPORT = {**IMPORT_DEFAULT_VOLL, "park": {**IMPORT_DEFAULT_VOLL["park"], "value_of_lost_load": {"electricity": "4 DKK/kWh"}}}

# 4b. A need pulled from a market through a lossy line whose capacity binds.
LINE_LOSS = park("line_loss", [
    ("utility", [asset("grid", {"type": "market", "id": "electricity", "carrier": "electricity",
                                "import_price": "1 DKK/kWh"})]),
    ("mill", [asset("mill", {"type": "demand", "id": "electricity", "carrier": "electricity",
                             "profile": "80 kW", "backup": {"cost": "2 DKK/kWh", "name": "diesel set"}})])],
    [{"id": "grid_to_mill", "from": "grid.electricity", "to": "mill.electricity", "capacity": "60 kW",
      "loss": 0.05}])

# 4c. A fixed supply price (0.2 DKK/kWh) under a spot export (0.3): a market whose export pays more
#     than its import costs, 5 kW of PV and an 8 kW mill on it.
ARBITRAGE = park("arbitrage", [
    ("utility", [asset("grid", {"type": "market", "id": "electricity", "carrier": "electricity",
                                "import_price": "0.2 DKK/kWh", "export_price": "0.3 DKK/kWh"})]),
    ("farm", [asset("pv", {"type": "source", "id": "electricity", "carrier": "electricity", "profile": "5 kW",
                           "surplus": {"cost": 0, "name": "curtailed"}})]),
    ("mill", [asset("mill", {"type": "demand", "id": "electricity", "carrier": "electricity",
                             "profile": "8 kW"})])],
    [{"id": "pv_to_grid", "from": "pv.electricity", "to": "grid.electricity", "capacity": "20 kW"},
     {"id": "grid_to_mill", "from": "grid.electricity", "to": "mill.electricity", "capacity": "20 kW"}])

# 5. A market whose export limit binds.
EXPORT = park("export", [
    ("utility", [asset("grid", {"type": "market", "id": "electricity", "carrier": "electricity",
                                "export_price": "0.3 DKK/kWh", "export_max": "50 kW"})]),
    ("farm", [asset("pv", {"type": "source", "id": "electricity", "carrier": "electricity", "profile": "80 kW",
                           "surplus": {"cost": 0, "name": "curtailed"}})])],
    [{"id": "pv_to_grid", "from": "pv.electricity", "to": "grid.electricity", "capacity": "200 kW"}])


def _fuel_boiler(max_kg_h: str, loss: float = 0.0) -> dict:
    """A boiler following a town's heat need, its fuel bought from a purchase with a limit."""
    return park("boiler", [
        ("fuel", [asset("chips", {"type": "source", "id": "biomass", "carrier": "biomass",
                                  "price": "0.8 DKK/kg", "max": max_kg_h})]),
        ("plant", [asset("boiler", {"type": "converter", "id": "boiler", "control": "follow_output",
                                    "reference": "heat", "rated": "1000 kW",
                                    "inputs": {"fuel": {"carrier": "biomass", "ratio": 0.25}},
                                    "outputs": {"heat": {"carrier": HEAT}}})]),
        ("town", [asset("town", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "800 kW",
                                 "backup": {"cost": "0.5 DKK/kWh"}})])],
        [{"id": "chips_to_boiler", "from": "chips.biomass", "to": "boiler.fuel", "capacity": "10 t/h"},
         {"id": "boiler_to_town", "from": "boiler.heat", "to": "town.heat", "capacity": "2000 kW", "loss": loss}])


# 6. A boiler with enough fuel, and 7. the same with its fuel purchase binding (finding 1).
BOILER = _fuel_boiler("1000 kg/h")
BOILER_SHORT = _fuel_boiler("100 kg/h")
BOILER_LOSSY = _fuel_boiler("1000 kg/h", loss=0.1)  # 6b. its heat main loses 10 %

# 8. A unit with a min load, run on a setpoint, its by-product heat dumped at a cost.
MIN_LOAD = park("min_load", [
    ("utility", [asset("grid", {"type": "market", "id": "electricity", "carrier": "electricity",
                                "import_price": "0.5 DKK/kWh"})]),
    ("plant", [asset("unit", {"type": "converter", "id": "unit", "control": "setpoint", "reference": "power",
                              "rated": "100 kW", "min_load": 0.4,
                              "inputs": {"power": {"carrier": "electricity"}},
                              "outputs": {"heat": {"carrier": HEAT, "ratio": 0.5}}},
                     {"type": "disposal", "id": "dump", "port": "heat", "carrier": HEAT, "cost": "0.01 DKK/kWh"})])],
    [{"id": "grid_to_unit", "from": "grid.electricity", "to": "unit.power", "capacity": "200 kW"}])

# 8b. The same unit serving a 10 kW heat need below its min load: worth running at min load.
MIN_LOAD_NEED = park("min_load_need", [
    ("utility", [asset("grid", {"type": "market", "id": "electricity", "carrier": "electricity",
                                "import_price": "0.2 DKK/kWh"})]),
    ("plant", [asset("unit", {"type": "converter", "id": "unit", "control": "setpoint", "reference": "power",
                              "rated": "100 kW", "min_load": 0.4,
                              "inputs": {"power": {"carrier": "electricity"}},
                              "outputs": {"heat": {"carrier": HEAT, "ratio": 0.5}}},
                     {"type": "disposal", "id": "dump", "port": "heat", "carrier": HEAT, "cost": "0.01 DKK/kWh"})]),
    ("town", [asset("town", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "10 kW",
                             "backup": {"cost": "1 DKK/kWh"}})])],
    [{"id": "grid_to_unit", "from": "grid.electricity", "to": "unit.power", "capacity": "200 kW"},
     {"id": "unit_to_town", "from": "unit.heat", "to": "town.heat", "capacity": "50 kW"}])

# 9. Two suppliers competing for one need, the order set by ``priority`` (lower first).
PRIORITY = park("priority", [
    ("a", [asset("a", {"type": "source", "id": "heat", "carrier": HEAT, "profile": "6 kW",
                       "surplus": {"cost": "0.1 DKK/kWh"}})]),
    ("b", [asset("b", {"type": "source", "id": "heat", "carrier": HEAT, "profile": "6 kW",
                       "surplus": {"cost": "0.2 DKK/kWh"}})]),
    ("town", [asset("town", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "8 kW",
                             "backup": {"cost": "1 DKK/kWh"}})])],
    [{"id": "a_to_town", "from": "a.heat", "to": "town.heat", "capacity": "20 kW", "priority": 2},
     {"id": "b_to_town", "from": "b.heat", "to": "town.heat", "capacity": "20 kW", "priority": 1}])

def bagasse(paper_priority: int, boiler_priority: int) -> dict:
    """9b. A sugar mill's bagasse shared by a paper mill's need and a boiler following a town's heat,
    the order set by the exchanges' ``priority`` (finding 9)."""
    return park("bagasse", [
        ("sugar", [asset("mill", {"type": "source", "id": "bagasse", "carrier": "biomass", "profile": "10 t/h",
                                  "surplus": {"cost": "10 DKK/t"}})]),
        ("paper", [asset("paper", {"type": "demand", "id": "fibre", "carrier": "biomass", "profile": "6 t/h",
                                   "backup": {"cost": "200 DKK/t"}})]),
        ("power", [asset("boiler", {"type": "converter", "id": "boiler", "control": "follow_output",
                                    "reference": "heat", "rated": "20000 kW",
                                    "inputs": {"fuel": {"carrier": "biomass", "ratio": 0.5}},
                                    "outputs": {"heat": {"carrier": HEAT}}})]),
        ("town", [asset("town", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "10000 kW",
                                 "backup": {"cost": "0.05 DKK/kWh"}})])],
        [{"id": "bagasse_to_paper", "from": "mill.bagasse", "to": "paper.fibre", "capacity": "20 t/h",
          "priority": paper_priority},
         {"id": "bagasse_to_boiler", "from": "mill.bagasse", "to": "boiler.fuel", "capacity": "20 t/h",
          "priority": boiler_priority},
         {"id": "boiler_to_town", "from": "boiler.heat", "to": "town.heat", "capacity": "30000 kW"}])


# 10. Two boilers on one header (finding 5): a must-run waste boiler and a load-following wood
#     boiler serve one steam need; a dump takes only what nothing takes.
TWO_BOILERS = park("two_boilers", [
    ("waste", [asset("waste", {"type": "source", "id": "waste", "carrier": GYPSUM | {"material": "waste",
                                                                                        "ewc": "20 03 01"},
                               "profile": "200 kg/h", "surplus": {"cost": "1 DKK/kg"}})]),
    ("fuel", [asset("chips", {"type": "source", "id": "biomass", "carrier": "biomass", "price": "0.8 DKK/kg",
                              "max": "10000 kg/h"})]),
    ("plant", [asset("wboiler", {"type": "converter", "id": "boiler", "control": "must_run", "reference": "steam",
                                 "rated": "500 kW",
                                 "inputs": {"waste": {"carrier": {"resource": "material", "ewc": "20 03 01",
                                                                  "material": "waste"}, "ratio": 0.4}},
                                 "outputs": {"steam": {"carrier": HEAT}}}),
               asset("bboiler", {"type": "converter", "id": "boiler", "control": "follow_output", "reference": "steam",
                                 "rated": "1000 kW",
                                 "inputs": {"fuel": {"carrier": "biomass", "ratio": 0.25}},
                                 "outputs": {"steam": {"carrier": HEAT}}})]),
    ("town", [asset("town", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "800 kW",
                             "backup": {"cost": "0.5 DKK/kWh"}},
                    {"type": "disposal", "id": "dump", "port": "heat", "carrier": HEAT, "cost": "0.01 DKK/kWh"})])],
    [{"id": "waste_to_boiler", "from": "waste.waste", "to": "wboiler.waste", "capacity": "1000 kg/h"},
     {"id": "chips_to_boiler", "from": "chips.biomass", "to": "bboiler.fuel", "capacity": "10 t/h"},
     {"id": "waste_boiler_to_town", "from": "wboiler.steam", "to": "town.heat", "capacity": "2000 kW"},
     {"id": "wood_boiler_to_town", "from": "bboiler.steam", "to": "town.heat", "capacity": "2000 kW"}])

ALL = {"exchange": EXCHANGE, "store": STORE, "store_out": STORE_OUT, "store_dis": STORE_DIS, "residue": RESIDUE,
       "store_push": STORE_PUSH,
       "import": IMPORT, "line_loss": LINE_LOSS,
       "export": EXPORT, "boiler": BOILER, "boiler_lossy": BOILER_LOSSY, "boiler_short": BOILER_SHORT,
       "min_load": MIN_LOAD, "min_load_need": MIN_LOAD_NEED, "priority": PRIORITY, "two_boilers": TWO_BOILERS}


def compiled(doc: dict):
    return compile_park(parse_graph(yaml.safe_dump(copy.deepcopy(doc), sort_keys=False), f"{doc['park']['id']}.yaml"))


def run(cp, actions: np.ndarray | float = 0.0, steps: int = 3) -> np.ndarray:
    """Output rows of ``steps`` steps with the actions held (or given per step)."""
    coef = cp.exogenous(seed=0)
    b = Batch(cp, coef, 1)
    A = np.broadcast_to(np.asarray(actions, dtype=np.float64), (steps, cp.n_actions)) if np.ndim(actions) < 2 \
        else np.asarray(actions, dtype=np.float64)
    return np.array([b.step(a[None])[0].copy() for a in A])


def col(cp, name: str) -> int:
    """The output column of ``flow:<exchange>``, ``activity:<component>``, ``backup:...``, ``cost:...``."""
    kind, key = name.split(":", 1)
    nl, nn = len(cp.link_ids), cp.n_nodes
    if kind == "flow":
        return N_HEAD + cp.link_ids.index(key)
    base = {"activity": 0, "backup": 1, "cost": 2}[kind]
    return N_HEAD + nl + base * nn + cp.node_keys.index(key)
