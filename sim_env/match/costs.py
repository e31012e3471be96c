"""Cost and conversion figures of candidate exchanges: pipes, trucks, heat pumps, distances.

Every figure is stated once here, with where it comes from: [S] a published source, [D] derived
from sourced figures, [E] an engineering estimate (to be replaced by a quote before investing).
Cited money is in EUR; :func:`eur_rate` turns it into the park's currency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aisym.park.graph.carriers import Carrier, Resource

# [S] Danish krone's ERM II central rate, 7.46038 DKK per EUR (Danmarks Nationalbank). Other
# currencies float: the caller states their rate (aisym match --eur-rate).
EUR_RATES = {"EUR": 1.0, "DKK": 7.46038}

# [S] District-heating pipe construction cost per trench metre, C1 + C2 x d (d: mean inner
# diameter, m), "park areas" (the cheapest of inner city, outer city, park): C1 = 151 EUR/m,
# C2 = 1378 EUR/m2. Persson & Werner 2011, Heat distribution and the future competitiveness of
# district heating, Applied Energy 88:568-576, doi:10.1016/j.apenergy.2010.09.020.
PIPE_C1_EUR_M = 151.0
PIPE_C2_EUR_M2 = 1378.0
# [E] factors on that cost: a steam line with its condensate return costs more, an uninsulated
# water or gas line less.
PIPE_FACTOR = {"heat": 1.0, "cooling": 1.0, "steam": 1.5, "water": 0.6, "gas": 0.6}
# [E] capital recovery at 4 %/yr over 30 years (0.0578) plus 1 %/yr operation and maintenance.
# The most one canonical unit of each resource is worth anywhere, EUR (kWh, Nm3, kg, m3). A
# candidate whose money per unit delivered is beyond it carries a typo in a price or a quantity
# (45 EUR/kWh for 45 EUR/MWh): it is flagged, not ranked.
VALUE_CEILING_EUR: dict[Resource, float] = {
    Resource.electricity: 4.0,  # [S] the harmonised maximum clearing price of EU day-ahead markets, 4,000 EUR/MWh (SDAC)
    Resource.heat: 0.5, Resource.steam: 0.5, Resource.cooling: 0.5,  # [E] 5x the dearest district heat
    Resource.natural_gas: 5.0, Resource.biogas: 5.0, Resource.biomethane: 5.0,  # [E] per Nm3, 10x the 2022 peak
    Resource.hydrogen: 30.0,  # [E] per kg, 3x delivered green hydrogen
    Resource.oxygen: 2.0, Resource.co2: 2.0,  # [E] per kg, 5x merchant liquid gases
    Resource.water: 20.0,  # [E] per m3, 5x desalinated water delivered
    Resource.sludge: 1.0, Resource.biomass: 2.0,  # [E] per kg dry matter
    Resource.material: 50.0,  # [E] per kg, above copper scrap
    Resource.volatile_solids: 1.0,
}

ANNUITY = 0.04 / (1 - 1.04 ** -30) + 0.01
# [E] flow speeds used to size a pipe: water 1.5 m/s, steam 25 m/s, gas at about 1 bar 10 m/s.
SPEED_M_S = {"heat": 1.5, "cooling": 1.5, "water": 1.5, "steam": 25.0, "gas": 10.0}
HEAT_DT_K = 30.0  # [E] supply-return difference of a hot-water line
STEAM_LATENT_J_KG = 2.0e6  # [S] latent heat of steam at 4-16 bar, 1.93-2.13 MJ/kg (steam tables)
HEAT_LOSS_PER_KM = 0.01  # [E] share of heat or steam lost per km of insulated pipe
# [S] density at 0 °C and 1 atm, kg per Nm3 (or per m3 of a kg/h flow of gas)
GAS_DENSITY = {Resource.co2: 1.977, Resource.oxygen: 1.429, Resource.hydrogen: 0.0899}

# [D] road haulage of a 40 t articulated truck: about 1.5 EUR per vehicle-km ([E] diesel
# 35 L/100 km at 1.6 EUR/L, a driver at 30 EUR/h and 60 km/h, capital and tolls 0.4 EUR/km),
# 25 t payload, back empty: 2 x 1.5 / 25 = 0.12 EUR per tonne-km; [E] 5 EUR/t loading and weighing.
TRUCK_EUR_T_KM = 0.12
TRUCK_EUR_T = 5.0
# [S] 0.107 kg CO2e per tonne-km, all articulated HGVs, UK average load (Defra/DECC 2012 GHG
# Conversion Factors for Company Reporting, Annex 7, table 7e).
TRUCK_KG_CO2_T_KM = 0.107

ROUTE_FACTOR = 1.3  # [E] pipes and roads are longer than the straight line between two sites
DEFAULT_DISTANCE_KM = 2.0  # [E] two sites of one park when neither states coordinates

# [S] industrial heat pumps reach about half of the Carnot COP: COPs of 2.4-5.8 at lifts of
# 95-40 K; sinks up to 160 °C (Arpagaus et al. 2018, High temperature heat pumps: market
# overview..., Energy 152:985-1010, doi:10.1016/j.energy.2018.03.166). 0.5 x Carnot gives 4.9
# at a 40 K lift to 120 °C, 2.0 at 95 K.
HEAT_PUMP_CARNOT_SHARE = 0.5
HEAT_PUMP_MAX_LIFT_K = 95.0
HEAT_PUMP_MAX_SINK_C = 160.0
HEAT_PUMP_MAX_COP = 8.0  # as the park's carnot series: no real machine nears Carnot at small lifts
EXCHANGER_APPROACH_K = 5.0  # [E] a steam-to-water exchanger heats water to 5 K below the steam

SOLIDS = (Resource.material, Resource.biomass, Resource.sludge)
GASES = (Resource.biogas, Resource.biomethane, Resource.natural_gas, Resource.co2, Resource.oxygen,
         Resource.hydrogen)


def eur_rate(currency: str, given: float | None = None) -> float:
    """Units of ``currency`` per EUR: ``given``, or the pegged rate; raises ValueError if neither."""
    if given is not None:
        if given <= 0:
            raise ValueError(f"--eur-rate must be above 0 (got {given:g})")
        return given
    if currency not in EUR_RATES:
        raise ValueError(f"the cited cost figures are in EUR and the park's currency is {currency}: "
                         f"state its rate (aisym match --eur-rate {currency}-per-EUR)")
    return EUR_RATES[currency]


def distance_km(a: tuple[float, float] | None, b: tuple[float, float] | None, default: float) -> tuple[float, str]:
    """Route length between two (lat, lon) sites, and how it was found."""
    if a is None or b is None:
        return default, f"{default:g} km assumed (no coordinates)"
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    straight = 2 * 6371.0 * math.asin(math.sqrt(h))
    return max(straight * ROUTE_FACTOR, 0.1), f"{straight:.2f} km straight x {ROUTE_FACTOR:g}"


# [E] slurries up to about 12 % dry matter are pumped (digester feed, thin sludge); thicker ones are trucked
PUMPABLE_DRY_MATTER = 0.12


def mode(carrier: Carrier) -> str:
    """How a carrier travels: ``pipe``, ``truck`` or ``cable``."""
    if carrier.resource in SOLIDS:
        dm = carrier.dry_matter_fraction
        return "pipe" if dm is not None and dm <= PUMPABLE_DRY_MATTER else "truck"
    return "cable" if carrier.resource == Resource.electricity else "pipe"


def _pipe_kind(resource: Resource) -> str:
    if resource in GASES:
        return "gas"
    return resource.value if resource.value in PIPE_FACTOR else "water"


def pipe_diameter_m(carrier: Carrier, peak: float) -> float:
    """Inner diameter (m) that carries ``peak`` (canonical flow unit) at the stated speed."""
    r, kind = carrier.resource, _pipe_kind(carrier.resource)
    if r in (Resource.heat, Resource.cooling):
        m3_s = peak * 1e3 / (1000.0 * 4186.0 * HEAT_DT_K)
    elif r == Resource.steam:
        rho = 0.5 * (carrier.pressure_bar or 5.0)  # [E] about 0.5 kg/m3 per bar of saturated steam
        m3_s = peak * 1e3 / (STEAM_LATENT_J_KG * rho)
    elif r in GAS_DENSITY:
        m3_s = peak / 3600.0 / GAS_DENSITY[r]
    elif r in SOLIDS:  # a pumped slurry: kg of dry matter per hour as m3 of wet slurry (about 1 t/m3)
        m3_s = peak / (carrier.dry_matter_fraction or 1.0) / 1000.0 / 3600.0
    else:  # m3/h of water, Nm3/h of gas
        m3_s = peak / 3600.0
    return max(math.sqrt(4 * m3_s / (math.pi * SPEED_M_S[kind])), 0.05)


@dataclass(frozen=True)
class Transport:
    """What moving a candidate's flow costs: per year (pipes) and per unit (trucks)."""

    mode: str
    distance_km: float
    annual: float  # currency per year (a pipe's annuity)
    per_unit: float  # currency per canonical amount (trucks)
    co2_per_unit: float  # kg CO2 per canonical amount
    loss: float  # share lost on the way
    detail: str


def transport(carrier: Carrier, peak: float, km: float, rate: float) -> Transport:
    """Cost of moving ``carrier`` at ``peak`` (canonical flow unit) over ``km``, in the park's money.

    :param carrier: what travels (its resource picks pipe, truck or cable)
    :param peak: the largest hourly flow the link must carry
    :param km: route length
    :param rate: park currency per EUR
    """
    how = mode(carrier)
    if how == "truck":
        wet = 1.0 / (carrier.dry_matter_fraction or 1.0)  # canonical sludge and biomass are dry matter
        per_t = (TRUCK_EUR_T + TRUCK_EUR_T_KM * km) * rate
        return Transport(how, km, 0.0, per_t * wet / 1000.0, TRUCK_KG_CO2_T_KM * km * wet / 1000.0, 0.0,
                         f"truck {km:.1f} km: {per_t:.3g}/t wet")
    if how == "cable":
        return Transport(how, km, 0.0, 0.0, 0.0, 0.0, "a cable: grid connection costs not estimated")
    d = pipe_diameter_m(carrier, peak)
    kind = _pipe_kind(carrier.resource)
    capex = (PIPE_C1_EUR_M + PIPE_C2_EUR_M2 * d) * PIPE_FACTOR[kind] * km * 1000.0 * rate
    loss = min(HEAT_LOSS_PER_KM * km, 0.5) if kind in ("heat", "steam") else 0.0
    return Transport(how, km, capex * ANNUITY, 0.0, 0.0, loss,
                     f"{kind} pipe DN{d * 1000:.0f}, {km:.1f} km, capex {capex:,.0f}, annuity {capex * ANNUITY:,.0f}/yr")


def heat_pump_cop(source_c: float, sink_c: float) -> float:
    """COP of an industrial heat pump: 0.5 x Carnot, within [1, 8]."""
    lift = max(sink_c - source_c, 1.0)
    return min(max(HEAT_PUMP_CARNOT_SHARE * (sink_c + 273.15) / lift, 1.0), HEAT_PUMP_MAX_COP)
