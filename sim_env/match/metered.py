"""Matchmaking's hourly profiles from the park's meters, with the forecasts' uncertainty as a band.

A flow is metered when the park names its meter: a company's stated flow with ``meter_tag``, or an
exchange with ``meter_tag`` (its supplier's output port and its receiver's input port are both
measured by it). For each, the meter's good readings over the last ``days`` (InfluxDB, through the
read-only account) are fitted to a seasonal year (:func:`~sim_env.match.telemetry.fit_seasonal`),
which replaces the profile the park description gave. The latest forecast that ``aisym forecast
fit`` wrote for the tag (measurement ``forecast``, daily resolution, else hourly) gives the band:
its 80 % interval over its horizon, as factors of its mean, applied to the year's amount. A flow
whose meter has too few readings keeps the described profile, and the notes say why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from aisym.park.graph.carriers import FLOW_UNITS, amount_unit

from .profiles import Profile
from .telemetry import fit_seasonal, meter_readings


@dataclass(frozen=True)
class Metered:
    """A meter's year: ``hourly`` in the flow's canonical unit, fitted to ``readings`` hourly means
    over ``days`` days; ``band``: (low, high) factors of the amount, the 80 % interval of the
    latest forecast (None: no forecast stored for the tag)."""

    tag: str
    hourly: np.ndarray
    readings: int
    days: int
    r2: float
    band: tuple[float, float] | None


def meters(graph) -> dict[str, str]:
    """Each metered flow's key -> its meter tag: ``port:<asset.port>`` for an exchange's ends that no
    other exchange uses, ``flow:<company>.<flow id>`` for a company's stated flow."""
    out: dict[str, str] = {}
    uses: dict[str, int] = {}
    for link in graph.links:
        for port in (link.src, link.dst):
            uses[port] = uses.get(port, 0) + 1
    for link in graph.links:
        # the meter measures this exchange alone: it stands for a port's flow only where no other exchange shares it
        for port in (link.src, link.dst) if link.meter_tag else ():
            if uses[port] == 1:
                out[f"port:{port}"] = link.meter_tag
    for c in graph.doc.companies:
        for f in (*c.outputs, *c.inputs):
            if f.meter_tag:
                out[f"flow:{c.id}.{f.id}"] = f.meter_tag
    return out


def _key_of(flow) -> list[str]:
    return [k for k in (f"port:{flow.port}" if flow.port else "", f"flow:{flow.company}.{flow.id}") if k]


def forecast_band(client, park_id: str, tag: str) -> tuple[float, float] | None:
    """(lo80, hi80) over the mean of the latest forecast issued for ``tag``, daily resolution first."""
    for resolution in ("daily", "hourly"):
        rows = client.rows(f'SELECT "mean", "lo80", "hi80", "issued" FROM "forecast" WHERE "park" = '
                           f"'{park_id}' AND \"series\" = '{tag}' AND \"resolution\" = '{resolution}'")
        if not rows:
            continue
        latest = max(r["issued"] for r in rows)
        rows = [r for r in rows if r["issued"] == latest]
        mean = sum(r["mean"] for r in rows)
        if mean > 0:
            return sum(r["lo80"] for r in rows) / mean, sum(r["hi80"] for r in rows) / mean
    return None


def read_meters(client, graph, profiles: dict[str, Profile], until: datetime | None = None,
                days: int = 365) -> tuple[dict[str, Metered], list[str]]:
    """Every metered flow's year from InfluxDB: ``({tag: Metered}, notes)``.

    :param client: :class:`aisym.influx.InfluxV1` on the park's database (the read-only account)
    :param profiles: the park's profiles (a tag is read in the canonical unit of the flow it meters)
    :param until: end of the history read (default: now)
    """
    until = until or datetime.now(UTC)
    start = (until - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stop = until.strftime("%Y-%m-%dT%H:%M:%SZ")
    units = _units(graph, profiles)
    out, notes = {}, []
    for tag in sorted(set(meters(graph).values())):
        unit = units.get(tag)
        if unit is None:
            continue
        t, v = meter_readings(client, graph, tag, start, stop, unit)
        try:
            year, info = fit_seasonal(t, v)
        except ValueError as e:
            notes.append(f"{tag}: the described profile kept ({e})")
            continue
        out[tag] = Metered(tag, year, info["n"], info["days_covered"], info["r2"],
                           forecast_band(client, graph.park.id, tag))
    return out, notes


def _units(graph, profiles: dict[str, Profile]) -> dict[str, str]:
    """The canonical flow unit each meter tag is read in (that of the flow it meters)."""
    keys = meters(graph)
    out = {link.meter_tag: FLOW_UNITS[link.resource] for link in graph.links if link.meter_tag}
    for prof in profiles.values():
        for f in prof.flows:
            for k in _key_of(f):
                if k in keys:
                    out.setdefault(keys[k], FLOW_UNITS[f.carrier.resource])
    return out


def apply(profiles: dict[str, Profile], graph, metered: dict[str, Metered]) -> list[str]:
    """Replace the hourly year of every metered flow in ``profiles`` (in place); notes say which."""
    keys = meters(graph)
    notes = []
    for prof in profiles.values():
        for i, f in enumerate(prof.flows):
            tag = next((keys[k] for k in _key_of(f) if k in keys), None)
            m = metered.get(tag) if tag else None
            if m is None:
                continue
            prof.flows[i] = replace(f, hourly=m.hourly, metered=m.tag, band=m.band)
            notes.append(f"{f.label()}: {m.hourly.sum():,.4g} {amount_unit(f.carrier.resource)}/yr from meter {m.tag} "
                         f"({m.readings} hourly means over {m.days} days, r² {m.r2:.2f})")
    return notes


def band_note(c) -> None:
    """Add to candidate ``c``'s notes the 80 % band of its delivered amount, from a metered end's forecast."""
    f = next((x for x in (c.output, c.input) if x is not None and x.band is not None), None)
    if f is None or c.annual is None:
        return
    lo, hi = f.band
    c.notes.append(f"80 % band from the forecast of meter {f.metered}: {c.annual * lo:,.4g}-{c.annual * hi:,.4g} "
                   f"{amount_unit(c.output.carrier.resource)}/yr")
