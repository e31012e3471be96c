"""The impact figures as the page, its charts and the CSV write them: one rounding for all three.

Charts are inline SVG bars drawn on the server (no script, no CDN), one per indicator, since each
has its own unit; the table under them carries the same numbers for screen readers and copying.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .indicators import DECIMALS, KEYS, MONEY
from .report import HIDDEN

W, H, PAD_L, PAD_B, PAD_T = 420, 150, 8, 22, 10


def rounded(key: str, v) -> Decimal | None:
    """The figure as shown and exported (None: not known or not the viewer's to read)."""
    if v is None or v == HIDDEN:
        return None
    return Decimal(f"{v:.{DECIMALS[key]}f}")


def csv_value(key: str, v) -> str:
    r = rounded(key, v)
    return "" if r is None else str(r)


def shown(key: str, v) -> str:
    r = rounded(key, v)
    return "—" if r is None else number_format(r, decimal_pos=DECIMALS[key], force_grouping=True)


def labels(currency: str) -> dict[str, tuple[str, str]]:
    """(name, unit) of each indicator."""
    return {"disposal_cost": (_("Disposal cost avoided"), currency),
            "purchase_cost": (_("Purchase cost avoided"), currency),
            "raw_material_t": (_("Raw material saved"), "t"), "water_m3": (_("Water saved"), "m3"),
            "energy_mwh": (_("Energy saved"), "MWh"), "ghg_t": (_("GHG avoided"), "t CO2e")}


def month_rows(months, series: list[dict], cells=None, keys=KEYS) -> list[dict]:
    """Table rows: the month, each figure as shown, and (for one exchange) where it came from."""
    out = []
    for i, (y, m) in enumerate(months):
        row = {"label": f"{y}-{m:02d}", "values": [shown(k, series[i][k]) for k in keys]}
        if cells is not None:
            row["source"], row["hours"] = cells[i].source, cells[i].hours
        out.append(row)
    return out


def charts(months, series: list[dict], currency: str, with_money: bool) -> list[dict]:
    """One bar chart per indicator with at least one figure the viewer may read."""
    names = labels(currency)
    out = []
    for k in KEYS:
        if k in MONEY and not with_money:
            continue
        values = [rounded(k, s[k]) for s in series]
        known = [float(v) for v in values if v is not None]
        if not known or not any(known):
            continue
        top = max(known) if max(known) > 0 else 1.0
        bottom = min(0.0, min(known))
        span = top - bottom or 1.0
        step = (W - PAD_L) / len(months)
        zero = PAD_T + (H - PAD_B - PAD_T) * top / span
        bars = []
        for i, ((y, m), v) in enumerate(zip(months, values, strict=True)):
            if v is None:
                continue
            h = (H - PAD_B - PAD_T) * abs(float(v)) / span
            bars.append({"x": round(PAD_L + i * step + 2, 1), "y": round(zero - h if v >= 0 else zero, 1),
                         "w": round(step - 4, 1), "h": round(h, 1), "title": f"{y}-{m:02d}: {shown(k, v)}"})
        ticks = [{"x": round(PAD_L + (i + 0.5) * step, 1), "label": f"{m:02d}"} for i, (_y, m) in enumerate(months)]
        name, unit = names[k]
        out.append({"key": k, "name": name, "unit": unit, "bars": bars, "ticks": ticks, "width": W, "height": H,
                    "zero": round(zero, 1), "tick_y": H - 6, "top": shown(k, top)})
    return out
