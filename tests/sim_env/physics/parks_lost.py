"""Hand parks where a converter's input taken on demand falls short and is lost load (issue 22,
item 2: the kernel charges it at the value of lost load, the LP has the same slack), and where a
rolling plan's end rule cannot be met. Amounts per hour (dt = 1 h), canonical units, DKK."""

from __future__ import annotations

from .parks import HEAT, asset, park


def _boiler(aid: str) -> dict:
    return asset(aid, {"type": "converter", "id": "boiler", "control": "setpoint", "reference": "heat",
                       "rated": "240 kW", "inputs": {"fuel": {"carrier": "biomass", "ratio": 0.25}},
                       "outputs": {"heat": {"carrier": HEAT}}})


# 11. Two boilers on setpoints draw chips from one purchase of 100 kg/h through exchanges of their
#     own; each alone could get all 100 kg, together they ask 120 kg at rated: the second is 20 kg
#     short when it settles, lost load of biomass at the park's 2 DKK/kg.
def _fuel_shared(pid: str, tank: bool) -> dict:
    """Park 11; with ``tank``, b's heat goes into a 100 kWh tank (half full, nothing draws it)."""
    town = [asset("town", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "480 kW",
                           "backup": {"cost": "1 DKK/kWh"}})]
    if tank:
        town.insert(0, asset("tank", {"type": "storage", "id": "heat", "carrier": HEAT, "capacity": "100 kWh",
                                      "max_charge": "1000 kW", "max_discharge": "1000 kW", "initial": 0.5,
                                      "end": {"rule": "free"}}))
    doc = park(pid, [
        ("fuel", [asset("chips", {"type": "source", "id": "biomass", "carrier": "biomass", "price": "0.8 DKK/kg",
                                  "max": "100 kg/h"})]),
        ("plant", [_boiler("a"), _boiler("b")]),
        ("town", town)],
        [{"id": "chips_to_a", "from": "chips.biomass", "to": "a.fuel", "capacity": "10 t/h"},
         {"id": "chips_to_b", "from": "chips.biomass", "to": "b.fuel", "capacity": "10 t/h"},
         {"id": "a_to_town", "from": "a.heat", "to": "town.heat", "capacity": "2000 kW"},
         {"id": "b_to_tank", "from": "b.heat", "to": "tank.heat", "capacity": "2000 kW"} if tank else
         {"id": "b_to_town", "from": "b.heat", "to": "town.heat", "capacity": "2000 kW"}])
    doc["park"]["value_of_lost_load"] = {"biomass": "2 DKK/kg"}
    return doc


FUEL_SHARED = _fuel_shared("fuel_shared", tank=False)

# 12. A must-run boiler whose chips purchase (100 kg/h) binds, the biomass's lost load (1 DKK/kg, 0.25
#     DKK/kWh of heat) cheaper than the town's backup (0.5 DKK/kWh): the kernel runs it as high as its
#     chips allow, 400 kW; the LP's rules must not feed it on lost load.
MUST_RUN_SHORT = park("must_run_short", [
    ("fuel", [asset("chips", {"type": "source", "id": "biomass", "carrier": "biomass", "price": "0.8 DKK/kg",
                              "max": "100 kg/h"})]),
    ("plant", [asset("boiler", {"type": "converter", "id": "boiler", "control": "must_run", "reference": "heat",
                                "rated": "800 kW", "inputs": {"fuel": {"carrier": "biomass", "ratio": 0.25}},
                                "outputs": {"heat": {"carrier": HEAT}}})]),
    ("town", [asset("town", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "800 kW",
                             "backup": {"cost": "0.5 DKK/kWh"}})])],
    [{"id": "chips_to_boiler", "from": "chips.biomass", "to": "boiler.fuel", "capacity": "10 t/h"},
     {"id": "boiler_to_town", "from": "boiler.heat", "to": "town.heat", "capacity": "2000 kW"}])
MUST_RUN_SHORT["park"]["value_of_lost_load"] = {"biomass": "1 DKK/kg"}

LOST = {"fuel_shared": FUEL_SHARED, "must_run_short": MUST_RUN_SHORT}

# 12b. Park 11 with b's heat going into a 100 kWh tank (half full, nothing draws it) instead of the
#      town: b lacks 20 kg of chips when it settles, then the full tank cuts it back (kernel._reduce).
FUEL_SHARED_TANK = _fuel_shared("fuel_shared_tank", tank=True)

# 13. A heat tank losing 1 %/h with nothing to refill it, discharged on a setpoint to homes with a
#     backup: a rolling plan's end target (no lower than it starts) cannot be reached.
TANK_NO_REFILL = park("tank_no_refill", [
    ("town", [asset("tank", {"type": "storage", "id": "heat", "carrier": HEAT, "capacity": "100 kWh",
                             "max_charge": "4 kW", "max_discharge": "3 kW", "loss": 0.01, "initial": 0.5}),
              asset("homes", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "8 kW",
                              "backup": {"cost": "2 DKK/kWh"}})])],
    [{"id": "tank_to_homes", "from": "tank.heat", "to": "homes.heat", "capacity": "3 kW",
      "control": "controllable"}])


def _must_run(aid: str) -> dict:
    return asset(aid, {"type": "converter", "id": "boiler", "control": "must_run", "reference": "heat",
                       "rated": "320 kW", "inputs": {"fuel": {"carrier": "biomass", "ratio": 0.25}},
                       "outputs": {"heat": {"carrier": HEAT}}})


SUPPLIES = {
    "purchase": {"type": "source", "id": "biomass", "carrier": "biomass", "price": "0.8 DKK/kg", "max": "100 kg/h"},
    "market": {"type": "market", "id": "biomass", "carrier": "biomass", "import_price": "0.8 DKK/kg",
               "import_max": "100 kg/h"},
    "store": {"type": "storage", "id": "biomass", "carrier": "biomass", "capacity": "10000 kg", "max_charge": "100 kg/h",
              "max_discharge": "100 kg/h", "loss": 0.001, "initial": 0.5, "end": {"rule": "free"}},
}


def shared_supply(kind: str, a_priority: int = 2, b_priority: int = 1) -> dict:
    """14. Two must-run boilers (320 kW of heat from 80 kg/h of chips each) on one chips supply
    limited to 100 kg/h (a purchase's max, a market's import_max or a silo's discharge rate), the
    chips lines losing 5 %, the heat mains 10 %, the town's other heat a backup at 0.5 DKK/kWh."""
    doc = park("shared_" + kind, [
        ("fuel", [asset("chips", SUPPLIES[kind])]),
        ("plant", [_must_run("a"), _must_run("b")]),
        ("town", [asset("town", {"type": "demand", "id": "heat", "carrier": HEAT, "profile": "800 kW",
                                 "backup": {"cost": "0.5 DKK/kWh"}})])],
        [{"id": "chips_to_a", "from": "chips.biomass", "to": "a.fuel", "capacity": "10 t/h", "loss": 0.05,
          "priority": a_priority},
         {"id": "chips_to_b", "from": "chips.biomass", "to": "b.fuel", "capacity": "10 t/h", "loss": 0.05,
          "priority": b_priority},
         {"id": "a_to_town", "from": "a.heat", "to": "town.heat", "capacity": "2000 kW", "loss": 0.1},
         {"id": "b_to_town", "from": "b.heat", "to": "town.heat", "capacity": "2000 kW", "loss": 0.1}])
    doc["park"]["value_of_lost_load"] = {"biomass": "1 DKK/kg"}
    return doc
