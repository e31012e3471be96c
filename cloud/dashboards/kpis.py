"""Cost and CO2 KPIs of the park overview, derived from the park description.

Where the numbers come from: each KPI is one measured tag times a constant from the park's
``market`` section, computed by InfluxQL at query time (``SELECT mean("value") * k``). No extra
measurement is needed, the KPIs work on data ingested before they were defined, and changing a
price is a rebuild of the dashboards. The cost uses the *mean* tariff of the price model
(``electricity_price_eur_per_mwh.mean`` + ``grid_fee_eur_per_mwh``): hourly prices are not a
measured series in this park yet; when a price feed exists, a ``park_kpi`` measurement written
by the ingestor would replace the constant (see docs/cloud.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from aisym.park import Park


@dataclass(frozen=True)
class Kpi:
    """``rate = mean(tag) * factor`` in ``unit``/h; over a time range, ``integral(tag, 1h) * factor`` in ``unit``.

    :param id: short name, used as the legend
    :param tag: the measured tag ``<asset>.<tag>``, a rate (kW, kg/h, m3/h)
    :param factor: the park constant that turns one tag unit into ``unit`` per hour
    :param unit: ``EUR`` or ``kg CO2``
    :param why: the derivation, shown as the panel description
    """

    id: str
    title: str
    tag: str
    factor: float
    unit: str
    why: str


def park_kpis(park: Park) -> list[Kpi]:
    """Grid cost and CO2 of every grid connection; avoided purchases of every symbiosis exchange."""
    m = park.market
    out: list[Kpi] = []
    for grid in park.assets_of_kind("grid"):
        tag = f"{grid.id}.import_power"
        if park.tags.get(tag) is None or park.tags[tag].unit != "kW":
            continue
        tariff = m.electricity_price_eur_per_mwh.mean + m.grid_fee_eur_per_mwh
        co2 = m.grid_co2_g_per_kwh.mean
        out.append(
            Kpi(
                f"{grid.id}_cost",
                "Grid electricity cost",
                tag,
                tariff / 1000,
                "EUR",
                f"import kW x ({m.electricity_price_eur_per_mwh.mean} price + {m.grid_fee_eur_per_mwh} fee) EUR/MWh",
            )
        )
        out.append(Kpi(f"{grid.id}_co2", "Grid CO2", tag, co2 / 1000, "kg CO2",
                       f"import kW x {co2} g CO2/kWh (mean Norwegian consumption mix)"))  # fmt: skip
    for ex in park.exchanges:
        meter = park.tags.get(ex.meter_tag or "")
        if meter is None or not ex.enabled:
            continue
        source_kind = park.assets[ex.source].kind
        if ex.resource == "oxygen" and meter.unit == "kg/h":
            factor, what = m.oxygen_purchase_eur_per_kg, f"{m.oxygen_purchase_eur_per_kg} EUR/kg of liquid O2 not bought"
        elif ex.resource == "heat" and source_kind in ("chp", "electrolyser") and meter.unit == "kW":
            factor, what = m.heat_backup_eur_per_mwh / 1000, f"{m.heat_backup_eur_per_mwh} EUR/MWh of backup heat not bought"
        elif ex.resource == "water" and source_kind == "water_treatment" and meter.unit == "m3/h":
            factor, what = m.water_price_eur_per_m3, f"{m.water_price_eur_per_m3} EUR/m3 of fresh water not bought"
        else:
            continue
        out.append(Kpi(f"{ex.id}_saving", f"Avoided: {ex.id}", ex.meter_tag or "", factor, "EUR", f"{ex.meter_tag} x {what}"))
    return out
