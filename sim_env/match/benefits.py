"""Who gains what from a simulated exchange: investments, split rules, payback, and Shapley values.

The twin books money per component (``cost:<component>`` of a run), so each company's own change
is known: the receiver stops buying what the exchange brings, the supplier stops paying to
dispose of it (or loses a sale). What the exchange costs to build is an :class:`Investment`
(figures below, cited); what it costs to run (trucks per tonne, pumping) the twin charges on the
exchange. Split rules then say who pays whom:

- ``cost sharing``: the investment and the running cost shared in proportion to each side's
  avoided cost (50/50 when neither saves);
- ``50/50``: the net gain and the investment shared equally;
- ``transfer price``: the receiver pays the supplier a price per unit delivered midway between
  the supplier's floor (what it saves per unit, negated: a residue's disposal) and the
  receiver's ceiling (what it avoids per unit); the receiver builds and runs the link;
- ``shapley`` (a set of candidates, :func:`shapley`): each company's Shapley value over the
  coalitions of companies, a candidate being built when both its companies are in.

Each gives a payback time: the company's share of the investment over its annual gain. Money is
what appears on the companies' books (the park's currency, no carbon price); CO2 is the
candidate's, for the park.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from . import costs

# [D] Large electric heat pumps in Danish district heating: 15 applications to the Danish Energy
# Agency's 2018 round, 30.3 MW of electric capacity, DKK 218 m of construction cost
# (dbdh.dk, "Denmark funds heat pumps for district heating", 9 Jan 2018): 7.19 M DKK per MW
# electric = 964 EUR per kW of compressor power at 7.46 DKK/EUR.
HEAT_PUMP_EUR_PER_KW_EL = 218e6 / 30.3e3 / 7.46038
# [E] a steam-to-water shell-and-tube exchanger with its condensate pot, installed, per kW of heat
EXCHANGER_EUR_PER_KW = 40.0
# [E] a pressure-reducing station with desuperheater and safety valve, installed, per kW of steam
LETDOWN_EUR_PER_KW = 15.0


@dataclass
class Investment:
    """What building a candidate costs (park currency), item by item with the figure used."""

    capex: float
    items: list[tuple[str, float, str]] = field(default_factory=list)  # (what, amount, figure)

    @property
    def annuity(self) -> float:
        """Capital recovery and O&M per year (:data:`~sim_env.match.costs.ANNUITY` of the capex)."""
        return self.capex * costs.ANNUITY


def investment(m, t: costs.Transport, capacity: float | None, rate: float) -> Investment:
    """The investment of matchmaking candidate ``m`` carried by ``t`` at peak ``capacity`` (None: not sized).

    :param m: a :class:`~sim_env.match.score.Candidate`
    :param t: its transport (a pipe's capex is its annuity over :data:`~sim_env.match.costs.ANNUITY`)
    :param capacity: the delivered peak in the carrier's canonical flow unit (kW for heat and steam)
    :param rate: park currency per EUR
    """
    items: list[tuple[str, float, str]] = []
    if t.mode == "pipe" and capacity is not None:
        items.append((f"pipe, {t.distance_km:.1f} km", t.annual / costs.ANNUITY, t.detail))
    elif t.mode == "truck":
        items.append(("truck contract", 0.0, f"no investment; {t.detail} paid per tonne as it runs"))
    kind, kw = m.conversion.kind, capacity
    if kw is not None and kind == "heat pump":
        el = kw / m.conversion.cop
        items.append((f"heat pump {kw:,.0f} kW heat, {el:,.0f} kW el", el * HEAT_PUMP_EUR_PER_KW_EL * rate,
                      f"{HEAT_PUMP_EUR_PER_KW_EL:.0f} EUR/kW el [D] DEA 2018 funding round"))
    elif kw is not None and kind == "exchanger":
        items.append((f"steam-to-water exchanger {kw:,.0f} kW", kw * EXCHANGER_EUR_PER_KW * rate,
                      f"{EXCHANGER_EUR_PER_KW:g} EUR/kW [E]"))
    elif kw is not None and kind == "let-down":
        items.append((f"let-down station {kw:,.0f} kW", kw * LETDOWN_EUR_PER_KW * rate, f"{LETDOWN_EUR_PER_KW:g} EUR/kW [E]"))
    if capacity is None:
        items.append(("not sized", 0.0, "no amount was known: the investment is not estimated"))
    return Investment(sum(a for _, a, _ in items), items)


def company_money(cp, res, charged: dict[str, str] | None = None, own: set[str] | frozenset = frozenset()
                  ) -> dict[str, float]:
    """Money each company spends over run ``res`` (park currency): its components' costs, and the
    running cost of the exchanges it receives.

    What a seller books (a market, a priced source such as a waterworks) is paid by the companies
    its exchanges reach, in proportion to what each exchange carried over the run (a mean price:
    hourly prices are not split hour by hour).

    :param charged: component key -> company that pays that component's cost instead
    :param own: exchanges left out (a candidate's: its split rule says who pays them)
    """
    from sim_env.graph.compile import L_COST

    charged = charged or {}
    owner = {port.bus: node.company for node in cp.graph.nodes for port in node.ports.values()}
    out: dict[str, float] = {}
    for e, link in enumerate(cp.graph.links):
        cost = cp.LF[e, L_COST] * res.totals.get(f"flow:{link.id}", 0.0)
        if link.id not in own and cost != 0.0:
            who = owner.get(link.dst, link.dst)
            out[who] = out.get(who, 0.0) + cost
    for node, key in zip(cp.graph.nodes, cp.node_keys, strict=True):
        cost = res.totals.get(f"cost:{key}", 0.0)  # a candidate's asset is not in the base run
        payers = {charged[key]: 1.0} if key in charged else _buyers(cp, res, node, owner)
        for who, part in payers.items():
            out[who] = out.get(who, 0.0) + cost * part
    return out


def _buyers(cp, res, node, owner: dict[str, str]) -> dict[str, float]:
    if not (node.type == "market" or (node.type == "source" and "price" in node.val)):
        return {node.company: 1.0}
    buses = {p.bus for p in node.ports.values()}
    flows: dict[str, float] = {}
    for link in cp.graph.links:
        other = link.dst if link.src in buses else link.src if link.dst in buses else None
        carried = abs(res.totals.get(f"flow:{link.id}", 0.0))
        if other is not None and carried > 0:
            who = owner.get(other, node.company)
            flows[who] = flows.get(who, 0.0) + carried
    total = sum(flows.values())
    return {w: f / total for w, f in flows.items()} if total > 0 else {node.company: 1.0}


@dataclass
class Share:
    """One company's part of a candidate under one rule (park currency per year)."""

    rule: str
    company: str
    gain: float  # annual gain before capital recovery
    investment: float  # its share of the investment
    net: float  # gain less its share of the investment's annuity

    @property
    def payback_years(self) -> float:
        """Its investment over its annual gain (0: nothing to invest; inf: it never pays back)."""
        if self.investment <= 0:
            return 0.0
        # a gain below a millionth of the investment a year is none (rounding of the run's books)
        return self.investment / self.gain if self.gain > 1e-6 * self.investment else math.inf


def splits(supplier: str, receiver: str, avoided_s: float, avoided_r: float, running: float, delivered: float,
           inv: Investment, scale: float = 1.0) -> list[Share]:
    """A two-company candidate's gains under the cost-sharing, 50/50 and transfer-price rules.

    :param avoided_s: the supplier's own saving over the run (disposal no longer paid; negative: a sale lost)
    :param avoided_r: the receiver's own saving over the run (purchases avoided, net of an added asset's power)
    :param running: the exchange's running cost over the run (trucks, pumping)
    :param delivered: the amount delivered over the run
    :param inv: the investment
    :param scale: runs per year (8760 h / the run's hours): gains are stated per year
    """
    s, r, run = avoided_s * scale, avoided_r * scale, running * scale
    total = s + r - run
    out: list[Share] = []
    pos = max(s, 0.0) + max(r, 0.0)
    fs = max(s, 0.0) / pos if pos > 0 else 0.5
    for rule, f in (("cost sharing", fs), ("50/50", 0.5)):
        if rule == "cost sharing":
            gs, gr = s - f * run, r - (1 - f) * run
        else:
            gs = gr = total / 2
        out += [_share(rule, supplier, gs, f * inv.capex), _share(rule, receiver, gr, (1 - f) * inv.capex)]
    q = delivered * scale
    if q > 0:
        floor, ceiling = -s / q, r / q
        price = (floor + ceiling) / 2
        out += [_share("transfer price", supplier, s + price * q, 0.0),
                _share("transfer price", receiver, r - price * q - run, inv.capex)]
    return out


def transfer_price(avoided_s: float, avoided_r: float, delivered: float) -> float | None:
    """The midpoint price per unit delivered (park currency), or None when nothing was delivered."""
    return None if delivered <= 0 else (avoided_r - avoided_s) / (2 * delivered)


def _share(rule: str, company: str, gain: float, inv: float) -> Share:
    return Share(rule, company, gain, inv, gain - inv * costs.ANNUITY)


def shapley(players: list[str], built_by: list[tuple[str, ...]], value: np.ndarray) -> dict[str, float]:
    """Shapley value of each company when candidate ``j`` is built iff all of ``built_by[j]`` take part.

    :param players: the companies
    :param built_by: per candidate, the companies it needs
    :param value: ``(2**n,)`` the park's gain with candidate subset ``bits`` built (bit ``j``: candidate ``j``)
    """
    m = len(players)
    if m > 16:
        raise ValueError(f"a Shapley split over {m} companies is too many (at most 16)")
    idx = {p: i for i, p in enumerate(players)}
    need = [sum(1 << idx[c] for c in cs) for cs in built_by]

    def v(coalition: int) -> float:
        bits = sum(1 << j for j, nd in enumerate(need) if nd & coalition == nd)
        return float(value[bits])

    vals = {c: v(c) for c in range(1 << m)}
    out = {}
    for i, p in enumerate(players):
        others = [j for j in range(m) if j != i]
        phi = 0.0
        for size in range(m):
            w = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
            for combo in combinations(others, size):
                c = sum(1 << j for j in combo)
                phi += w * (vals[c | (1 << i)] - vals[c])
        out[p] = phi
    return out
