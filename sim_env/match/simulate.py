"""Matchmaking candidates simulated in the compiled twin before anyone invests.

:func:`plan` turns each ranked :class:`~sim_env.match.score.Candidate` into a
:class:`~sim_env.graph.sweep.Candidate` the twin can run: its exchange, and where the pair needs
a conversion, the asset that makes it (added to the receiver's company, as it would build it):

- a heat pump: a converter taking the supplier's heat and the park's grid electricity in the
  ratios ``1 - 1/COP`` and ``1/COP`` at the COP matchmaking found; the ``heat_pump`` template of
  the park schema takes no heat source (an air-source machine), so the converter is written out
  as Kalundborg's wastewater heat pump is;
- a pressure-reducing station or a steam-to-water exchanger: the ``steam_letdown`` template.

A candidate that needs a new input port (a company known only by its sector), or whose carriers
the receiver's port does not take, is not simulated, and says why; one whose amount is not known
on either side is simulated unsized. :func:`simulate_plans` runs every simulated candidate for a
year in one batch under the generic rules (or the optimum re-solved per candidate), re-ranks them
by simulated net benefit, and grows the best set, showing each candidate's benefit alone against
its marginal benefit in the set.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aisym.park.graph import ParkGraph
from aisym.park.graph.carriers import Resource, serves
from sim_env.graph import sweep

from . import costs
from .benefits import Investment, investment
from .score import Candidate as Match

# [E] a supply side whose amount is not known (a converter's product, a market) is simulated with
# this capacity: the twin then carries what the receiver can take, and the run says how much.
UNSIZED = 1.0e6


@dataclass
class Plan:
    """One matchmaking candidate prepared for the twin.

    :param rank: its matchmaking rank (1 first)
    :param match: the matchmaking candidate
    :param candidate: what the twin runs (None: not simulated, ``why_not`` says why)
    :param investment: what building it costs, with the figures used
    :param charged: component key -> company that pays its cost instead of its owner (none by default: a
        seller's cost is its buyers', see :func:`~sim_env.match.benefits.company_money`)
    """

    rank: int
    match: Match
    candidate: sweep.Candidate | None
    why_not: str = ""
    investment: Investment | None = None
    delivery: str = ""  # the exchange id that reaches the receiver
    charged: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    placed: list[tuple[str, dict]] = field(default_factory=list)  # (company, asset) a stated flow becomes

    @property
    def id(self) -> str:
        return self.candidate.id if self.candidate else f"c{self.rank:03d}"

    @property
    def companies(self) -> tuple[str, str]:
        """``(supplier, receiver)``."""
        return self.match.supplier, self.match.receiver


def _ident(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")


def park_doc(graph: ParkGraph) -> dict:
    """The resolved park's v2 document as plain data, for :func:`~sim_env.graph.sweep.with_candidates`
    (a v1 file migrated; exchanges removed with ``without_exchanges`` stay removed)."""
    return graph.doc.model_dump(by_alias=True, mode="json", exclude_unset=True)


def grid_port(graph: ParkGraph) -> tuple[str, str] | None:
    """``(port, component key)`` of the park's electricity purchase (a market with an import price)."""
    for n in graph.nodes:
        if n.type != "market" or "import_price" not in n.val:
            continue
        port = next(iter(n.ports.values()))
        if port.carrier.resource == Resource.electricity:
            return port.bus, n.key
    return None


def _carrier(c) -> dict:
    return c.model_dump(mode="json", exclude_none=True)


def plan(graph: ParkGraph, matches: list[Match], rate: float) -> list[Plan]:
    """Each matchmaking candidate as a sweep candidate, or why it cannot be simulated.

    :param graph: the park the candidates were found on
    :param matches: ranked matchmaking candidates (their rank is their position + 1)
    :param rate: park currency per EUR (the cost figures are in EUR)
    """
    grid = grid_port(graph)
    return [_plan(i, m, grid, rate) for i, m in enumerate(matches, start=1)]


def _plan(rank: int, m: Match, grid: tuple[str, str] | None, rate: float) -> Plan:
    p = Plan(rank, m, None)
    if m.existing:
        p.why_not = f"not simulated: already in the park as exchange {m.existing}"
        return p
    if m.input is None:
        p.why_not = f"not simulated: {m.receiver} states no input for it (a new input it would have to build)"
        return p
    if not m.output.port or not m.input.port:  # a stated or estimated flow: a source or demand of its own
        from .companies_in_twin import place_ends

        m, p.placed, notes, why = place_ends(m)
        if why:
            p.why_not = f"not simulated: {why}"
            return p
        p.notes += notes
    cap = m.capacity
    if cap is None or cap <= 0:
        cap = UNSIZED
        p.notes.append("no amount known on either side: simulated unsized, the run says how much it carries")
    t = m.transport or costs.transport(m.output.carrier, cap if cap < UNSIZED else 1.0, costs.DEFAULT_DISTANCE_KM, rate)
    # ids are at most 40 characters: the rank keeps them unique, the assets say what they are
    cid = f"c{rank:03d}_" + _ident(f"{m.output.port.split('.')[0]}_{m.input.port.split('.')[0]}")[:27].rstrip("_")
    kind = m.conversion.kind
    # the pipe's annuity is an investment (payback, below); the twin charges only the running cost per unit
    pipe = {"loss": float(t.loss), "transport_cost": float(t.per_unit)}
    if kind in ("direct", "known use"):
        why = serves(m.output.carrier, m.input.carrier)
        if why is not None:  # a known use across codes or resources: the port takes another carrier
            p.why_not = f"not simulated: the twin's carrier rule refuses it ({why}); the input's carrier would change"
            return p
        ex = {"id": cid, "from": m.output.port, "to": m.input.port, "capacity": float(cap), **pipe}
        p.candidate, p.delivery = sweep.Candidate(cid, [ex]), cid
    elif kind == "heat pump":
        if grid is None:
            p.why_not = "not simulated: the heat pump needs electricity and the park buys none from a grid market"
            return p
        cop = float(m.conversion.cop)
        hp = f"{cid}_hp"
        asset = {"id": hp, "name": f"heat pump for {m.input.label()}", "components": [{
            "type": "converter", "id": "compressor", "control": "follow_output", "rated": float(cap),
            "reference": "heat",
            "inputs": {"electricity": {"carrier": {"resource": "electricity"}, "ratio": 1.0 / cop},
                       "source_heat": {"carrier": _carrier(m.output.carrier), "ratio": 1.0 - 1.0 / cop}},
            "outputs": {"heat": {"carrier": _carrier(m.input.carrier)}}}]}
        feed = cap * (1.0 - 1.0 / cop) / (1.0 - t.loss)
        exs = [{"id": f"{cid}_feed", "from": m.output.port, "to": f"{hp}.source_heat", "capacity": feed, **pipe},
               {"id": f"{cid}_power", "from": grid[0], "to": f"{hp}.electricity", "capacity": cap / cop},
               {"id": cid, "from": f"{hp}.heat", "to": m.input.port, "capacity": float(cap)}]
        p.candidate, p.delivery = sweep.Candidate(cid, exs, [(m.receiver, asset)]), cid
    elif kind in ("let-down", "exchanger"):
        inc, outc = m.output.carrier, m.input.carrier
        st = f"{cid}_station"
        eff = 0.98 if kind == "let-down" else max(min(m.conversion.gain, 0.999), 0.5)
        params = {"rated": float(cap), "in_pressure": float(inc.pressure_bar or 10.0),
                  "in_temperature": float(inc.temperature_c or 180.0), "efficiency": eff,
                  "output": "steam" if kind == "let-down" else "heat",
                  "out_temperature": float(outc.temperature_c or (inc.temperature_c or 180.0) - 5.0)}
        if kind == "let-down":
            params["out_pressure"] = float(outc.pressure_bar or 1.0)
        asset = {"id": st, "name": f"{'let-down station' if kind == 'let-down' else 'steam-to-water exchanger'} "
                                   f"for {m.input.label()}", "template": "steam_letdown", "params": params}
        exs = [{"id": f"{cid}_feed", "from": m.output.port, "to": f"{st}.steam", "capacity": cap / eff / (1 - t.loss),
                **pipe},
               {"id": cid, "from": f"{st}.out", "to": m.input.port, "capacity": float(cap)}]
        p.candidate, p.delivery = sweep.Candidate(cid, exs, [(m.receiver, asset)]), cid
    else:
        p.why_not = f"not simulated: no asset of the park schema makes a {kind!r} conversion"
        return p
    p.investment = investment(m, t, cap if cap < UNSIZED else None, rate)
    return p


@dataclass
class Simulated:
    """A candidate's simulated year: the park's benefit and each company's part (park currency per year)."""

    plan: Plan
    benefit: sweep.Benefit
    per_year: float  # runs per year: the benefit's figures are over the run, times this per year
    companies: dict[str, float]  # company -> money saved per year (its own books, before any payment)
    running: float  # the exchanges' running cost per year (trucks, pumping)
    delivered: float  # amount delivered to the receiver per year
    optimum: float | None = None  # saving per year under the re-solved optimum, when asked
    rules_offset: float = 0.0  # what its batch's idle row saves against the park run alone, per year
    shares: list = field(default_factory=list)  # benefits.Share under each rule

    @property
    def saved(self) -> float:
        """Money and carbon saved per year, before capital recovery (the rules' run, or the optimum's)."""
        return self.optimum if self.optimum is not None else self.benefit.saved * self.per_year

    @property
    def net(self) -> float:
        """:attr:`saved` less the investment's annuity: the re-ranking key."""
        return self.saved - (self.plan.investment.annuity if self.plan.investment else 0.0)


@dataclass
class Outcome:
    """Everything ``aisym match --simulate`` shows and reports."""

    park: str
    currency: str
    hours: float
    base: object  # the base GraphResult
    simulated: list[Simulated]  # re-ranked, best net first
    skipped: list[Plan]
    best: list[tuple[str, float, float]] = field(default_factory=list)  # (id, alone, marginal), per year
    shapley: dict[str, float] = field(default_factory=dict)  # company -> money per year in the best set
    shapley_investment: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    flow_names: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # exchange -> (from co, to co, resource)


class Compiled:
    """The park document compiled with sets of candidates, each set parsed and compiled once per run of the
    pipeline: the loop checks of :mod:`.batches`, the batch run, the best set and the optimum share it (a
    park file parsed 25 times per ``--simulate`` on Kalundborg before, issue 23 item 8).

    A set is known by its content, not its ids: :mod:`.batches` loosens a candidate's control in place.
    A set that does not compile keeps its :class:`~sim_env.graph.compile.CompileError`, raised again.
    """

    def __init__(self, doc: dict, source: str):
        self.doc, self.source = doc, source
        self.parses = 0  # sets parsed and compiled: the pipeline's test counts them
        self._done: dict[str, object] = {}

    def __call__(self, cands: list[sweep.Candidate]):
        """``(compiled park, masks)`` of :func:`~sim_env.graph.sweep.with_candidates` for ``cands``."""
        from sim_env.graph.compile import CompileError

        key = json.dumps([(c.id, c.exchanges, c.assets) for c in cands], sort_keys=True, default=str)
        if key not in self._done:
            self.parses += 1
            try:
                self._done[key] = sweep.with_candidates(self.doc, cands, self.source)
            except CompileError as err:
                self._done[key] = err
        found = self._done[key]
        if isinstance(found, CompileError):
            raise found
        return found


Progress = Callable[[str, float], None]


def simulate_plans(doc: dict, graph: ParkGraph, plans: list[Plan], *, hours: float = 8760.0, exo_seed: int = 0,
                   set_size: int = 0, optimum: bool = False, optimum_hours: float = 168.0,
                   ray_address: str | None = None, specialise: str | None = None,
                   progress: Progress | None = None, workers: int | None = None) -> Outcome:
    """Simulate every plan that has a candidate in one batch, split its benefit, and re-rank.

    One forward path: the park is parsed once per set of candidates (:class:`Compiled`), each batch is
    run once, and the park alone once (shared by every batch, and by the next call on the same park).

    Benefits are against the batch's idle row: the rules value each bus over every exchange of
    the compiled park, switched on or not, so the candidates of a batch can change the rules'
    choices in all its rows alike. Each candidate's ``rules_offset`` says by how much its batch's
    idle row differs from the park run alone (0: the candidates did not change the rules).

    :param doc: the park's v2 document the candidates are added to
    :param graph: the same park resolved (its companies and ports)
    :param plans: from :func:`plan`
    :param hours: simulated hours under the rules (figures are scaled to a year)
    :param set_size: grow the best set of this many candidates (0: not) and split it by Shapley
    :param optimum: rank by the optimum re-solved per candidate over ``optimum_hours`` instead
    :param ray_address: run the batch on this Ray cluster
    :param workers: local processes sharing each batch's rows (:func:`~sim_env.graph.sweep.simulate`)
    :param progress: called with a text and the fraction done (0..1) before each batch and each round of
        the best set (the workbench's twin jobs show it)
    """
    from .batches import batches
    from .companies_in_twin import settle

    doc = settle(doc, plans)  # stated flows' assets are part of the park in every run, its own included
    parks = Compiled(doc, graph.source)
    live = [p for p in plans if p.candidate is not None]
    # an idle exchange from a market changes the kernel's run in its batch's other rows (the chips market to the
    # digester: 1.6e11 a week on Kalundborg): each runs in a batch of its own, against the park run alone
    market = [p for p in live if p.match.output.kind == "market"]
    groups = batches(doc, [p for p in live if p not in market], graph.source, parks)
    groups += [g for p in market for g in batches(doc, [p], graph.source, parks)]
    alone_ids = {p.id for p in market if p.candidate is not None}
    skipped = [p for p in plans if p.candidate is None]
    out = Outcome(graph.park.id, graph.currency, hours, None, [], skipped)
    per_year = 8760.0 / hours
    steps = len(groups) + (set_size + 1 if set_size > 0 else 0)  # the batches, the best set's rounds, its subsets
    tell = (lambda text, i: progress(text, min(i / max(steps, 1), 1.0))) if progress else (lambda text, i: None)
    compiled = {}
    alone = _memo(lambda: _park_alone(parks, graph, hours, exo_seed, specialise))
    for i, group in enumerate(groups):  # one batch each: candidates of two groups would close a loop together
        tell(f"batch {i + 1} of {len(groups)}: {len(group)} candidate(s), {hours:g} h", i)
        cands = [p.candidate for p in group]
        own = cands[0].id in alone_ids
        if ray_address is not None:
            base, bens, timing = sweep.simulate(doc, cands, hours=hours, exo_seed=exo_seed, specialise=specialise,
                                                ray_address=ray_address, source=graph.source, own_base=own)
            runs = None
        else:
            base, bens, timing, runs = _run(parks, cands, alone if own else None, hours, exo_seed, specialise,
                                            workers)
        out.base = base
        offset = (alone()[1].objective - base.objective) * per_year
        for k, v in timing.items():
            out.timings[k] = out.timings.get(k, 0.0) + v if k == "seconds" else v
        cp, masks = parks(cands)
        out.flow_names.update(_flow_names(cp))
        opt = None
        if optimum:
            opt, t = sweep.optimum_benefits(doc, cands, hours=optimum_hours, exo_seed=exo_seed, source=graph.source,
                                            compiled=(cp, masks))
            out.timings.update({f"optimum_{k}": v for k, v in t.items()})
        for j, (p, b) in enumerate(zip(group, bens, strict=True)):
            compiled[p.id] = (cp, masks, group, runs)
            out.simulated.append(_simulated(cp, base, p, b, per_year,
                                            None if opt is None else opt[j] * 8760.0 / optimum_hours))
            out.simulated[-1].rules_offset = offset
    if groups:
        n = sum(len(g) for g in groups)
        out.timings["candidate_years_per_min"] = 60.0 * n * hours / 8760 / max(out.timings["seconds"], 1e-9)
        out.timings["batches"] = len(groups)
    _flag(out, graph, per_year)
    out.simulated.sort(key=lambda s: -s.net)
    if set_size > 0 and out.simulated:
        cp, masks, group, runs = compiled[out.simulated[0].plan.id]  # among the candidates that compile with the best
        _best_set(out, doc, graph, parks, (cp, masks, group, runs), set_size, hours, exo_seed, specialise, workers,
                  lambda r: tell(f"best set: round {r + 1} of {set_size}" if r < set_size
                                 else "best set: its subsets for the Shapley split", len(groups) + r))
    out.timings["parses"] = parks.parses
    if progress:
        progress("simulated", 1.0)
    return out


def _run(parks: Compiled, cands: list[sweep.Candidate], alone, hours: float, exo_seed: int, specialise: str | None,
         workers: int | None = None):
    """One batch run (row 0 the park, row k candidate k) and each candidate's benefit: against row 0, or
    against the park run alone (``alone``: its memo) when its idle row is not the park's."""
    t0 = time.perf_counter()
    cp, masks = parks(cands)
    runs, used = sweep.run_batch(parks.doc, cands, hours=hours, exo_seed=exo_seed, specialise=specialise,
                                 source=parks.source, compiled=(cp, masks), workers=workers)
    base, base_cp = runs[0], None
    if alone is not None:
        base_cp, base = alone()
    bens = sweep.benefits(cp, base, runs[1:], [c.id for c in cands], cands, base_cp)
    seconds = time.perf_counter() - t0
    return base, bens, {"seconds": seconds, "workers": used["workers"],
                        "candidate_years_per_min": 60.0 * len(cands) * hours / 8760 / max(seconds, 1e-9)}, runs


def _flag(out: Outcome, graph: ParkGraph, per_year: float) -> None:
    """A simulated figure that cannot be right is flagged with why, not ranked (as matchmaking's estimates)."""
    from .companies_in_twin import implausible

    if out.base is None:
        return
    try:
        rate = costs.eur_rate(graph.currency, graph.doc.park.exchange_rates.get("EUR"))
    except ValueError:  # a currency without a stated EUR rate: only the park's total cost bounds the figure
        rate = None
    keep = []
    for s in out.simulated:
        why = implausible(s.saved, s.delivered, s.plan.match.input.carrier.resource, rate, out.base.cost * per_year)
        if why:
            s.plan.why_not = f"simulated, flagged and not ranked: {why}"
            out.skipped.append(s.plan)
        else:
            keep.append(s)
    out.simulated = keep


def _simulated(cp, base, p: Plan, b: sweep.Benefit, per_year: float, optimum: float | None) -> Simulated:
    """A candidate's figures per year, each company's own books and the split rules."""
    from .benefits import company_money, splits

    own = {e["id"] for e in p.candidate.exchanges}
    m0 = company_money(cp, base, p.charged, own)
    m1 = company_money(cp, _Row(b.totals), p.charged, own)
    saved = {c: (m0.get(c, 0.0) - m1.get(c, 0.0)) * per_year for c in {*m0, *m1}}
    running = sum(float(e.get("transport_cost", 0.0)) * b.carried[e["id"]] for e in p.candidate.exchanges)
    s = Simulated(p, b, per_year, {c: v for c, v in saved.items() if abs(v) > 1e-9}, running * per_year,
                  b.carried[p.delivery] * per_year, optimum)
    sup, rec = p.companies
    s.shares = splits(sup, rec, saved.get(sup, 0.0), saved.get(rec, 0.0), s.running, s.delivered,
                      p.investment) if sup != rec else []
    return s

def _memo(f):
    box: list = []
    return lambda: box[0] if box else (box.append(f()) or box[0])


_ALONE: dict[str, tuple] = {}  # the park run alone, by document and run: a warm workbench worker's next job reuses it
_ALONE_KEPT = 4
_ALONE_LOCK = threading.Lock()


def _park_alone(parks: Compiled, graph: ParkGraph, hours: float, exo_seed: int, specialise: str | None):
    """``(compiled park, run)``: the park as it is, compiled without any candidate, under the rules; the
    graph already resolved when the document is its own (nothing placed), else parsed once."""
    from sim_env.graph.baselines import GraphRules
    from sim_env.graph.compile import compile_park
    from sim_env.graph.evaluate import evaluate_batch

    key = json.dumps([parks.doc, hours, exo_seed, specialise], sort_keys=True, default=str)
    found = _ALONE.get(key)
    if found is None:
        cp = compile_park(graph) if parks.doc == park_doc(graph) else parks([])[0]
        run = evaluate_batch(GraphRules(), cp, cp.LE[None, :], hours=hours, exo_seed=exo_seed, specialise=specialise)[0]
        with _ALONE_LOCK:  # the workbench may run jobs in its request threads
            while len(_ALONE) >= _ALONE_KEPT:
                _ALONE.pop(next(iter(_ALONE)))
            _ALONE[key] = found = (cp, run)
    return found


class _Row:
    """A run's totals where :func:`~sim_env.match.benefits.company_money` wants a GraphResult."""

    def __init__(self, totals: dict[str, float]):
        self.totals = totals


def _flow_names(cp) -> dict[str, tuple[str, str, str]]:
    company = {n.key.split(".")[0]: n.company for n in cp.graph.nodes}  # asset -> company
    return {link.id: (company.get(link.src.split(".")[0], link.src), company.get(link.dst.split(".")[0], link.dst),
                      link.resource.value) for link in cp.graph.links}


def subset_values(cp, masks, chosen: list[int], *, hours: float = 8760.0, exo_seed: int = 0,
                  specialise: str | None = None, run=None):
    """Money the park saves per year with each subset of candidates built, in one batch of ``2**n`` rows.

    :param cp: the park compiled with the candidates (:func:`~sim_env.graph.sweep.with_candidates`)
    :param masks: its masks (row 0 the park, row ``1 + i`` candidate ``i``)
    :param chosen: the candidates' indices (at most 8)
    :param run: runs the rows, labelled (a :class:`~sim_env.graph.sweep_workers.Rows` of this park); default: here
    :returns: ``(2**n,)``: entry ``bits`` has candidate ``chosen[j]`` built where bit ``j`` is set
    """
    import numpy as np

    from sim_env.graph.baselines import GraphRules
    from sim_env.graph.evaluate import evaluate_batch

    if len(chosen) > 8:
        raise ValueError(f"{len(chosen)} candidates: subsets are simulated for at most 8 (256 rows)")
    rows = []
    for bits in range(1 << len(chosen)):
        row = masks[0].copy()
        for j, i in enumerate(chosen):
            if bits >> j & 1:
                row = np.maximum(row, masks[1 + i])
        rows.append(row)
    if run is not None:
        runs = run(np.array(rows), [f"subset {bits:0{len(chosen)}b}" for bits in range(len(rows))])
    else:
        runs = evaluate_batch(GraphRules(), cp, np.array(rows), hours=hours, exo_seed=exo_seed, specialise=specialise)
    return np.array([(runs[0].cost - r.cost) * 8760.0 / hours for r in runs])


def _best_set(out: Outcome, doc, graph, parks: Compiled, batch, k: int, hours, exo_seed, specialise, workers,
              step) -> None:
    """The best set of ``k`` (greedy), and the Shapley split of its money over its companies.

    :param batch: ``(compiled park, masks, plans, runs)`` of the best candidate's batch (its runs reused
        when no candidate of it is flagged: the best set's first round is that batch)
    :param workers: local processes sharing each round's rows and the subsets' (:func:`~sim_env.graph.sweep.simulate`)
    :param step: called with the round (0 first; ``k``: the subsets' batch)
    """
    from .benefits import shapley

    cp, masks, todo, runs = batch
    per_year = 8760.0 / hours
    # a flagged candidate (an implausible simulated figure, its why_not set) is never picked
    ok = [p.candidate for p in todo if not p.why_not]
    same = len(ok) == len(todo)
    picked = sweep.best_set(doc, ok, k, hours=hours, exo_seed=exo_seed, specialise=specialise, source=graph.source,
                            compiled=(cp, masks) if same else parks(ok), runs=runs if same else None, step=step,
                            workers=workers)
    out.best = [(cid, a * per_year, g * per_year) for cid, a, g in picked]
    ids = [p.candidate.id for p in todo]
    chosen = [todo[ids.index(cid)] for cid, _, _ in picked][:8]  # 2**8 rows at most
    if not chosen:
        return
    step(k)
    park = sweep.SweepPark.of(doc, [p.candidate for p in todo], graph.source, hours, exo_seed, specialise)
    with sweep.Rows(park, compiled=(cp, masks), workers=workers) as run:
        value = subset_values(cp, masks, [ids.index(p.candidate.id) for p in chosen], hours=hours, exo_seed=exo_seed,
                              specialise=specialise, run=run)
    players = sorted({c for p in chosen for c in p.companies})
    out.shapley = shapley(players, [p.companies for p in chosen], value)
    out.shapley_investment = {c: 0.0 for c in players}
    for p in chosen:  # the investment game is additive: each candidate's shared by its two companies
        for c in set(p.companies):
            out.shapley_investment[c] += (p.investment.capex if p.investment else 0.0) / len(set(p.companies))
