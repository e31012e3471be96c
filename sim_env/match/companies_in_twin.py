"""Every company can be simulated: a stated or estimated flow becomes a component of the twin.

A flow from a company's template, from the park file's ``outputs:``/``inputs:``, or estimated from
its sector and size has no asset in the park. A candidate that uses one places it there, written
with the park schema's generic components (no second model):

- an output: a ``source`` giving its profile, whose ``surplus`` is its present route at its stated
  cost (the disposal or the sale the candidate saves);
- an input: a ``demand`` taking its profile, whose ``backup`` is its present purchase at its stated
  cost (what the candidate avoids buying).

The asset belongs to the flow's company (a company not in the park is added with it) and is part
of the park in every run, the park's own run included, so a candidate's benefit is only what its
exchange changes. :func:`implausible` flags a simulated figure that cannot be right.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace

import numpy as np

from aisym.park.graph.carriers import Carrier, serves

from . import costs
from .profiles import Flow

# the twin's ids are at most 40 characters (aisym.park.graph.components.Identifier)
_MAX_ID = 40


def _ident(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")


def asset_id(flow: Flow, carrier: Carrier) -> str:
    """The placed asset's id: the same flow placed as the same carrier is one asset for every candidate."""
    base = _ident(f"{flow.company}_{flow.id}")
    if carrier != flow.carrier:
        base = _ident(f"{base}_as_{carrier.resource.value}")
    return ("x_" + base)[:_MAX_ID].rstrip("_")


def _mean(flow: Flow) -> tuple[float | None, list[str]]:
    """The flow's mean per hour (canonical), and a note where the twin gets less than its shape."""
    if flow.hourly is not None:
        h = np.asarray(flow.hourly, dtype=float)
        notes = [] if np.ptp(h) <= 1e-9 * max(abs(h.mean()), 1.0) else [
            f"{flow.label()} simulated flat at its mean (the park schema's series have no monthly shape)"]
        return float(h.mean()), notes
    return None, []


def component(flow: Flow, carrier: Carrier) -> tuple[dict | None, str, list[str]]:
    """``(component, why_not, notes)``: the flow as a source (an output) or a demand (an input)."""
    mean, notes = _mean(flow)
    if mean is None:
        return None, f"{flow.label()} states no quantity: the twin cannot give or take it", []
    present = {"cost": float(flow.cost or 0.0), "co2": float(flow.co2 or 0.0)}
    if flow.cost is None:
        notes.append(f"{flow.label()}: the cost of its present route is not known (counted 0 in the twin)")
    what = carrier.model_dump(mode="json", exclude_none=True)
    if flow.direction == "output":
        return {"type": "source", "id": "out", "carrier": what, "profile": mean,
                "surplus": {**present, "name": flow.route or "its present route"}}, "", notes
    return {"type": "demand", "id": "in", "carrier": what, "profile": mean,
            "backup": {**present, "name": flow.route or "its present purchase"}}, "", notes


def place_ends(m):
    """The candidate with a port for each end the park has no asset for.

    :param m: a matchmaking candidate (:class:`sim_env.match.score.Candidate`) with an input
    :returns: ``(candidate, placed, notes, why_not)``; ``placed`` lists ``(company, asset)``
    """
    out, inp = m.output, m.input
    placed, notes = [], []
    if not out.port:
        carrier = out.carrier
        if inp.port and serves(out.carrier, inp.carrier) is not None and m.conversion.kind == "known use":
            # a known use says this residue replaces what the port takes: the new source gives that carrier
            carrier = inp.carrier
            notes.append(f"{out.label()} placed in the twin as {carrier.label()} ({m.conversion.text}), "
                         "kg for kg as matchmaking counts it")
        comp, why, more = component(out, carrier)
        if comp is None:
            return m, [], [], why
        aid = asset_id(out, carrier)
        placed.append((out.company, {"id": aid, "name": f"{out.id} of {out.company}", "components": [comp]}))
        out = replace(out, port=f"{aid}.out", carrier=carrier)
        notes += more
    if not inp.port:
        comp, why, more = component(inp, inp.carrier)
        if comp is None:
            return m, [], [], why
        aid = asset_id(inp, inp.carrier)
        placed.append((inp.company, {"id": aid, "name": f"{inp.id} of {inp.company}", "components": [comp]}))
        inp = replace(inp, port=f"{aid}.in")
        notes += more
    return replace(m, output=out, input=inp), placed, notes, ""


def settle(doc: dict, plans) -> dict:
    """The park document with every plan's placed assets (each once), and their companies where new."""
    placed = [(c, a) for p in plans if p.candidate is not None for c, a in p.placed]
    if not placed:
        return doc
    doc = copy.deepcopy(doc)
    companies = {c["id"]: c for c in doc.setdefault("companies", [])}
    seen = {a["id"] for c in companies.values() for a in c.get("assets", [])}
    for company, asset in placed:
        if asset["id"] in seen:
            continue
        seen.add(asset["id"])
        if company not in companies:  # a company of a template or an estimate: the park gains it
            companies[company] = {"id": company, "name": company, "assets": []}
            doc["companies"].append(companies[company])
        companies[company].setdefault("assets", []).append(copy.deepcopy(asset))
    return doc


def implausible(saved: float, delivered: float, resource, rate: float | None, park_cost: float) -> str:
    """Why a simulated figure cannot be right ("" when it can), as matchmaking's ``implausible`` for its estimate.

    :param saved: the candidate's simulated saving per year (park currency)
    :param delivered: the amount it delivered per year (canonical)
    :param resource: the delivered resource
    :param rate: park currency per EUR (None: not known, the value per unit is not checked)
    :param park_cost: the park's total cost per year in its own run (park currency)
    """
    if saved < 0 and -saved > abs(park_cost) > 0:
        return (f"implausible: a loss of {-saved:,.0f} a year is more than the park's total cost "
                f"({abs(park_cost):,.0f} a year): a price or a quantity typo?")
    if delivered > 0 and rate:
        per_unit = abs(saved) / delivered / rate
        ceiling = costs.VALUE_CEILING_EUR[resource]
        if per_unit > ceiling:
            return (f"implausible: {saved:,.0f} a year is {per_unit:,.3g} EUR per unit delivered, above the most "
                    f"{resource.value} is worth ({ceiling:g} EUR): a price or a quantity typo?")
    return ""
