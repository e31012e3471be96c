"""Matchmaking: every output against every input of other companies, estimated and ranked.

For each pair :mod:`.compat` says whether and how the output can serve the input. A compatible
pair becomes a :class:`Candidate` with a first estimate per year:

- delivered amount: hour by hour, ``min(supply x gain x (1 - loss), need)`` over the year, where
  both profiles are known (a rating stands in for a side that has only one);
- money (park currency): what the receiver pays now for it, plus the supplier's disposal cost
  saved, less a seller's price, transport (a pipe's annuity or trucking), a heat pump's power;
- CO2 (kg): the receiver's present route's CO2 and the disposal's, less trucks' and power's;
- benefit = money + the park's carbon price x CO2: the ranking key.

Ranking: candidates with a positive benefit first (largest first), then those whose benefit is
not known (no quantities: by score), then those that lose money. The score in [0, 1] is the
conversion's confidence x (0.6 + 0.4 x the knowledge base's support) x the hourly overlap x
0.8 when a batch or seasonal output meets a continuous need.

A company whose sector is a known receiver of an output, and which states no input it fits,
gets a ``new input`` candidate: the sector evidence alone ranks those.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aisym.park.graph.carriers import FLOW_UNITS

from . import costs
from .compat import CONFIDENCE, Conversion, compatible
from .knowledge import Support, support
from .profiles import Flow, Profile


@dataclass(frozen=True)
class Options:
    """What matchmaking may propose and the figures it prices with.

    :param allow_heat_pump: propose heat pumps for heat that is too cold
    :param existing: exchanges already in the park: ``mark`` them, ``exclude`` them, or ``ignore``
        that they exist (to test whether the engine finds them again)
    :param distance_km: route length between sites without coordinates
    :param rate: park currency per EUR (the cited cost figures are in EUR)
    :param electricity_price: currency per kWh a heat pump pays (None: its power is not priced)
    :param electricity_co2: kg CO2 per kWh of that power
    :param carbon_price: currency per kg CO2, added to money for the benefit that ranks
    :param min_support: least knowledge-base support for a ``new input`` candidate
    """

    allow_heat_pump: bool = True
    existing: str = "mark"
    distance_km: float = costs.DEFAULT_DISTANCE_KM
    rate: float = 1.0
    electricity_price: float | None = None
    electricity_co2: float = 0.0
    carbon_price: float = 0.0
    min_support: float = 0.5


@dataclass
class Candidate:
    """A possible exchange from a supplier's output to a receiver's input (or a new input)."""

    output: Flow
    input: Flow | None  # None: the receiver states no such input; a known use suggests one
    receiver: str
    conversion: Conversion
    support: Support | None
    transport: costs.Transport | None = None
    annual: float | None = None  # delivered, canonical amount per year
    capacity: float | None = None  # the largest hourly flow: the exchange's capacity
    overlap: float | None = None  # delivered / the smaller of the two annual totals
    money: float | None = None  # currency per year
    co2: float | None = None  # kg per year avoided
    benefit: float | None = None
    score: float = 0.0
    existing: str | None = None  # the park's exchange id, when it is one
    notes: list[str] = field(default_factory=list)
    alternatives: list[Candidate] = field(default_factory=list)  # other outputs of the supplier that could serve it

    @property
    def supplier(self) -> str:
        return self.output.company

    def reason(self) -> str:
        """The candidate in words, for the facilitator."""
        what = self.input.label() if self.input else f"{self.receiver} (a new input)"
        parts = [f"{self.output.label()} ({self.output.carrier.label()}, {self.output.amount_text()}) -> {what}: "
                 f"{self.conversion.text}"]
        if self.annual is not None:
            parts.append(f"{self.annual:,.4g} {_amount(self.output)}/yr delivered"
                         + (f", {self.overlap:.0%} hour-by-hour overlap" if self.overlap is not None else ""))
        if self.input is not None and self.input.route:
            parts.append(f"replaces {self.input.route}")
        if self.output.kind == "residue" and self.output.route:
            parts.append(f"instead of {self.output.route}")
        if self.support:
            parts.append(self.support.reason())
        parts += self.notes
        if self.alternatives:
            parts.append("also possible from " + ", ".join(f"{a.output.label()} ({a.conversion.text})"
                                                           for a in self.alternatives))
        if self.existing:
            parts.append(f"already in the park as exchange {self.existing}")
        return "; ".join(parts)

    def as_exchange(self) -> dict[str, object]:
        """The candidate as an ``exchanges:`` entry of the park (item 3 adds it to the twin).

        A heat pump or a new input port needs an asset too: ``needs`` says which.
        """
        per_unit = 0.0
        if self.transport is not None:
            per_unit = self.transport.per_unit + (self.transport.annual / self.annual if self.annual else 0.0)
        needs = {"heat pump": "heat_pump", "exchanger": "steam-to-water exchanger",
                 "let-down": "pressure-reducing station"}.get(self.conversion.kind)
        return {"from": self.output.port, "to": self.input.port if self.input else None,
                "resource": self.output.carrier.resource.value,
                "capacity": self.capacity, "loss": self.transport.loss if self.transport else 0.0,
                "transport_cost": per_unit, "needs": needs if self.input else "a new input port",
                "cop": self.conversion.cop}


@dataclass(frozen=True)
class Rejected:
    output: Flow
    input: Flow
    reason: str


def _amount(f: Flow) -> str:
    from aisym.park.graph.carriers import amount_unit

    return amount_unit(f.carrier.resource)


def _series(f: Flow) -> tuple[np.ndarray | None, bool]:
    """The flow's hourly year (or its rating, flat), and whether it is a real profile."""
    if f.hourly is not None:
        return f.hourly, True
    if f.capacity is not None and np.isfinite(f.capacity):
        return np.full(8760, f.capacity), False
    return None, False


def estimate(c: Candidate, opts: Options, sites: dict[str, tuple[float, float] | None]) -> None:
    """Fill in the candidate's amounts, transport, money, CO2 and score (in place)."""
    out, inp = c.output, c.input
    km, how = costs.distance_km(sites.get(out.company), sites.get(c.receiver), opts.distance_km)
    s, s_real = _series(out)
    d, d_real = _series(inp) if inp is not None else (None, False)
    if s is not None and d is not None and (s_real or d_real):
        loss0 = costs.transport(out.carrier, 1.0, km, opts.rate).loss
        delivered = np.minimum(s * c.conversion.gain * (1 - loss0), d)
        c.capacity = float(delivered.max())
        c.annual = float(delivered.sum())
        if s_real and d_real:
            c.overlap = c.annual / max(min(float((s * c.conversion.gain * (1 - loss0)).sum()), float(d.sum())), 1e-12)
        if not (s_real and d_real):
            c.notes.append(f"{'supply' if not s_real else 'need'} bounded by a rating, not a profile")
        peak = c.capacity / c.conversion.gain / (1 - loss0) if c.capacity else 0.0
        c.transport = costs.transport(out.carrier, max(peak, 1e-9), km, opts.rate)
        c.notes.append(f"{c.transport.detail} ({how})")
        _money(c, opts)
    conf = CONFIDENCE[c.conversion.kind if inp is not None else "new input"]
    know = c.support.weight if c.support else 0.0
    cont = 0.8 if out.continuity in ("batch", "seasonal") and inp is not None and inp.continuity == "continuous" else 1.0
    c.score = conf * (0.6 + 0.4 * know) * (c.overlap if c.overlap is not None else 1.0) * cont


def _money(c: Candidate, opts: Options) -> None:
    out, inp, t = c.output, c.input, c.transport
    delivered = c.annual
    supplied = delivered / c.conversion.gain / (1 - t.loss) if delivered else 0.0
    money, co2 = 0.0, 0.0
    if inp.cost is None and out.kind != "residue":
        # nothing is known of its worth: a price or a transport cost alone would rank it as a loss
        c.notes.append("what the receiver pays now for it is not known, nor what the supplier saves: no money estimate")
        return
    if inp.cost is None:
        c.notes.append("what the receiver pays now for it is not known (counted 0)")
    else:
        money += inp.cost * delivered
    co2 += (inp.co2 or 0.0) * delivered
    if out.kind == "residue":
        money += (out.cost or 0.0) * supplied
        co2 += (out.co2 or 0.0) * supplied
    elif out.kind in ("sale", "market"):
        money -= (out.cost or 0.0) * supplied
        co2 -= (out.co2 or 0.0) * supplied
    else:
        c.notes.append("the supplier's cost of making it is not known: money is an upper bound")
    money -= t.annual + t.per_unit * delivered
    co2 -= t.co2_per_unit * delivered
    if c.conversion.cop is not None:
        kwh = delivered / c.conversion.cop
        if opts.electricity_price is None:
            c.notes.append("the heat pump's power is not priced (no electricity price)")
        else:
            money -= kwh * opts.electricity_price
            c.notes.append(f"heat pump power {c.capacity / c.conversion.cop:,.0f} kW at peak, {kwh:,.4g} kWh/yr")
        co2 -= kwh * opts.electricity_co2
    c.money, c.co2 = money, co2
    c.benefit = money + opts.carbon_price * co2


def implausible(c: Candidate, opts: Options) -> str:
    """Why a candidate's money cannot be right ("" when it can): more per unit than the flow is worth."""
    if c.money is None or not c.annual:
        return ""
    per_unit = abs(c.money) / c.annual / opts.rate  # EUR per canonical unit delivered
    ceiling = costs.VALUE_CEILING_EUR[c.output.carrier.resource]
    if per_unit <= ceiling:
        return ""
    unit = _amount(c.output)
    return (f"implausible: {c.money:,.0f} a year is {per_unit:,.3g} EUR per {unit} delivered, above the most "
            f"{c.output.carrier.resource.value} is worth ({ceiling:g} EUR/{unit}): a price or a quantity typo?")


def rank_key(c: Candidate) -> tuple:
    if c.benefit is not None and c.benefit > 0:
        return (0, -c.benefit, -c.score)
    if c.benefit is None:
        return (1, -c.score, 0.0)
    return (2, -c.benefit, -c.score)


def match(profiles: dict[str, Profile], opts: Options = Options(), existing: dict[tuple[str, str], str] | None = None,
          uses=None) -> tuple[list[Candidate], list[Rejected]]:
    """Every output of every company against every input of the others; ranked candidates and rejects.

    :param profiles: company id -> profile
    :param opts: what may be proposed, and the figures
    :param existing: ``(from port, to port) -> exchange id`` of the park's exchanges
    :param uses: knowledge-base entries (default: the shipped file)
    """
    existing = existing or {}
    sites = {p.id: p.site for p in profiles.values()}
    cands: list[Candidate] = []
    rejected: list[Rejected] = []
    for sup in profiles.values():
        for out in sup.outputs():
            for rec in profiles.values():
                if rec.id == sup.id:
                    continue
                found = _pairs(out, sup, rec, opts, uses, cands, rejected, existing)
                if not found and out.kind in ("residue", "product"):
                    _new_input(out, sup, rec, opts, uses, cands)
    for c in cands:
        estimate(c, opts, sites)
    flagged = [c for c in cands if implausible(c, opts)]
    rejected += [Rejected(c.output, c.input, implausible(c, opts)) for c in flagged]
    cands = [c for c in cands if c not in flagged]
    if opts.existing == "exclude":
        cands = [c for c in cands if c.existing is None]
    return sorted(_simplest(cands), key=rank_key), rejected


def _simplest(cands: list[Candidate]) -> list[Candidate]:
    """One candidate per supplier and input: the simplest route (direct before a conversion, an
    existing exchange first), the others kept as its alternatives."""
    groups: dict[tuple, list[Candidate]] = {}
    for c in cands:
        key = (c.supplier, c.input.label()) if c.input is not None else (c.output.label(), c.receiver)
        groups.setdefault(key, []).append(c)
    out = []
    for group in groups.values():
        group.sort(key=lambda c: (c.existing is None, -CONFIDENCE[c.conversion.kind], rank_key(c)))
        best = group[0]
        best.alternatives = group[1:]
        out.append(best)
    return out


def _pairs(out, sup, rec, opts, uses, cands, rejected, existing) -> bool:
    found = False
    for inp in rec.inputs():
        if out.kind == "market" and inp.kind == "market":
            continue  # two markets trade outside the park
        conv, why, known = compatible(out, inp, sup.nace, rec.nace, opts.allow_heat_pump, uses, opts.min_support)
        if conv is None:
            rejected.append(Rejected(out, inp, why))
            continue
        found = True
        ex = existing.get((out.port, inp.port)) if opts.existing != "ignore" else None
        cands.append(Candidate(out, inp, rec.id, conv, known, existing=ex))
    return found


def _new_input(out, sup, rec, opts, uses, cands) -> None:
    if out.carrier.grade is not None and out.carrier.grade.value in ("wastewater", "seawater"):
        return  # it needs treatment before any use: the treatment plant is the candidate, not a new input
    known = support(out.carrier, sup.nace, rec.nace, uses)
    if known is not None and known.weight >= opts.min_support:
        cands.append(Candidate(out, None, rec.id, Conversion("known use", f"{rec.id} ({rec.nace}) is a known user"),
                               known))


def describe_inputs(c: Candidate) -> dict[str, object]:
    """The ranking's inputs of one candidate, as plain values (for tables, CSV and JSON)."""
    unit = FLOW_UNITS[c.output.carrier.resource]
    return {
        "supplier": c.supplier, "output": c.output.port or c.output.id, "receiver": c.receiver,
        "input": (c.input.port or c.input.id) if c.input else "(new input)",
        "carrier": c.output.carrier.label(), "conversion": c.conversion.text,
        "annual": c.annual, "unit": _amount(c.output), "capacity": c.capacity, "capacity_unit": unit,
        "overlap": c.overlap, "distance_km": c.transport.distance_km if c.transport else None,
        "mode": c.transport.mode if c.transport else costs.mode(c.output.carrier),
        "transport_per_year": (c.transport.annual + c.transport.per_unit * (c.annual or 0.0)) if c.transport else None,
        "receiver_cost_per_unit": c.input.cost if c.input else None,
        "supplier_cost_per_unit": c.output.cost, "supplier_kind": c.output.kind,
        "heat_pump_cop": c.conversion.cop,
        "heat_pump_peak_kw": c.capacity / c.conversion.cop if c.conversion.cop and c.capacity else None,
        "known_use": c.support.use.id if c.support else None,
        "support": round(c.support.weight, 3) if c.support else 0.0,
        "money_per_year": c.money, "co2_kg_per_year": c.co2, "benefit_per_year": c.benefit,
        "score": round(c.score, 4), "existing": c.existing, "reason": c.reason(),
    }
