"""The park as a v2 park file, written from what the workbench holds.

The file goes back through :func:`aisym.park.graph.parse_graph`, the CLI's loader, before it is
returned, so ``aisym twin``, ``match`` and ``demo`` run on exactly what the workbench holds.
What the workbench does not edit (carriers, series, exchanges, assets) comes back as imported;
a listing's fields are written as the flow's fields, keeping the file's own spelling (a carrier
named by id, ``170000 t/yr``) wherever the value did not change. So export, import, export gives
the same file, byte for byte.
"""

from __future__ import annotations

import math

import yaml

from aisym.park.graph.carriers import Carrier
from cloud.workbench.companies.models import Company, Listing
from cloud.workbench.parks.importer import _amount
from cloud.workbench.parks.models import Park

# the amount a cost is per, for each unit a listing may be in
_PER = {"kW": "kWh", "MW": "MWh", "kg/h": "kg", "m3/h": "m3", "Nm3/h": "Nm3"}
_CONTINUITY = {"continuous": "continuous", "one_off": "batch", "seasonal": "seasonal"}
_FREQUENCY = {"continuous": "continuous", "daytime": "continuous", "batch": "one_off", "seasonal": "seasonal"}


def _per(unit: str) -> str:
    return _PER.get(unit) or unit.split("/", 1)[0]


def _carrier(x: Listing, park: Park):
    carrier = {"resource": x.resource, **x.quality}
    if x.ewc:
        carrier["ewc"] = x.ewc
    if x.material:
        carrier["material"] = x.material
    original = x.document.get("carrier")
    if original is not None:
        defs = {c["id"]: {k: v for k, v in c.items() if k != "id"} for c in park.document.get("carriers", [])}
        resolved = defs.get(original, {"resource": original}) if isinstance(original, str) else original
        if Carrier(**resolved) == Carrier(**carrier):
            return original  # unchanged: the file's own way of naming it
    return carrier


def _flow(x: Listing, park: Park, private: bool) -> dict:
    f = dict(x.document)
    if not private:  # costs are the company's: left out of a file for someone who may not read them
        f.pop("cost", None)
        f.pop("co2", None)
    f["id"] = x.slug
    f["carrier"] = _carrier(x, park)
    if _amount(f.get("quantity"), x.unit) != (x.quantity, x.unit if x.quantity is not None else ""):
        f.pop("quantity", None)
        if x.quantity is not None:
            f["quantity"] = f"{x.quantity:g} {x.unit}"
    if private and _amount(f.get("cost"), "")[0] != x.cost:
        f.pop("cost", None)
        if x.cost is not None:
            f["cost"] = f"{x.cost:g} {park.currency}/{_per(x.unit)}" if x.unit else x.cost
    for name in ("route", "description"):
        value = getattr(x, name)
        if value or name in f:
            f[name] = value
    if not x.description and x.name != (x.material or x.slug.replace("_", " ")):
        f["description"] = x.name  # a flow has no name: the words a person typed travel as its description
    if _FREQUENCY[f.get("continuity", "continuous")] != x.frequency:
        f["continuity"] = _CONTINUITY[x.frequency]
    if x.frequency == "seasonal" and x.months and "profile" not in f:
        f["profile"] = [1.0 if m in x.months else 0.0 for m in range(1, 13)]
    return {k: f[k] for k in ("id", "carrier", *[k for k in f if k not in ("id", "carrier")])}


def _company(c: Company, park: Park, private: bool) -> dict:
    d = dict(c.document)
    d.update(id=c.slug, name=c.name)
    for name in ("nace", "location"):
        if getattr(c, name) or name in d:
            d[name] = getattr(c, name)
    for name in ("lat", "lon"):
        value = getattr(c, name)
        if value is not None and not math.isnan(value):
            d[name] = value
        else:
            d.pop(name, None)
    listings = list(c.listings.order_by("pk"))
    for side, direction in (("outputs", Listing.OUTPUT), ("inputs", Listing.INPUT)):
        flows = [_flow(x, park, private) for x in listings if x.direction == direction]
        if flows:
            d[side] = flows
        else:
            d.pop(side, None)
    head = ("id", "name", "nace", "location", "lat", "lon")
    return {k: d[k] for k in (*[h for h in head if h in d], *[k for k in d if k not in head])}


def export_park(park: Park, private_of=None) -> str:
    """The park's v2 file (YAML text), checked by the CLI's loader.

    :param private_of: ids of the companies whose costs go into the file; None: all of them (the
        command line, run by whoever runs the server, and the server-side engines)
    """
    from aisym.park.graph.loader import parse_graph

    doc = dict(park.document)
    info = dict(doc.get("park", {}))
    info.update(id=park.slug, name=park.name, currency=park.currency)
    for name in ("location", "country", "description"):
        if getattr(park, name) or name in info:
            info[name] = getattr(park, name)
    if park.timezone != "UTC" or "timezone" in info:
        info["timezone"] = park.timezone
    out = {"schema_version": 2, "park": info}
    for key in ("carriers", "series"):
        if key in doc:
            out[key] = doc[key]
    out["companies"] = [_company(c, park, private_of is None or c.pk in private_of)
                        for c in park.companies.order_by("pk")]
    if "exchanges" in doc:
        out["exchanges"] = doc["exchanges"]
    text = yaml.safe_dump(out, sort_keys=False, allow_unicode=True, width=120)
    parse_graph(text, f"{park.slug}.yaml")  # raises ParkError naming the field: never hand out a file the CLI refuses
    return text
