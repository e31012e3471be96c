"""The business-model view of simulated candidates: who gains what, as HTML, CSV or JSON.

:func:`report_data` turns an :class:`~sim_env.match.simulate.Outcome` into plain data: the
re-ranked candidates with their inputs, the ones not simulated and why, the best set with each
candidate's benefit alone and in the set, the Shapley split of the set, each company's gains per
candidate under each split rule with payback, and the park's flows between companies before and
after. :func:`write_html` renders one page per company (a Sankey of the park's flows before and
after its best candidate, its gains, payback and CO2) and the ranking table, with plotly's
script inlined so that the file opens without a network; :func:`write_csv` and :func:`write_json`
serve the same data to other tools.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from pathlib import Path

from aisym.park.graph.carriers import Resource, amount_unit

from .score import describe_inputs


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _flows(outcome, totals: dict[str, float], per_year: float) -> list[dict]:
    """Flows between companies per year, summed by (from, to, resource); flows inside a company left out."""
    agg: dict[tuple[str, str, str], float] = {}
    for link, (a, b, r) in outcome.flow_names.items():
        amount = totals.get(f"flow:{link}", 0.0) * per_year
        if a != b and amount > 0:
            agg[(a, b, r)] = agg.get((a, b, r), 0.0) + amount
    return [{"from": a, "to": b, "resource": r, "unit": amount_unit(Resource(r)), "amount_per_year": v}
            for (a, b, r), v in sorted(agg.items())]


def report_data(outcome) -> dict:
    """Everything the report shows, as JSON-ready values (park currency per year, t CO2 per year)."""
    cur = outcome.currency
    ranking, companies = [], {}
    for i, s in enumerate(outcome.simulated, start=1):
        p, b, k = s.plan, s.benefit, s.per_year
        row = {"rank": i, "id": p.id, "match_rank": p.rank, "supplier": p.companies[0], "receiver": p.companies[1],
               "from": p.match.output.port, "to": p.match.input.port, "conversion": p.match.conversion.kind,
               "saved_per_year": s.saved, "rules_saved_per_year": b.saved * k, "optimum_saved_per_year": s.optimum,
               "money_saved_per_year": b.cost_saved * k, "co2_avoided_t_per_year": b.co2_avoided_t * k,
               "water_saved_m3_per_year": b.water_saved_m3 * k, "residues_diverted_t_per_year": b.residues_diverted_t * k,
               "efficiency_gain": b.efficiency_gain, "delivered_per_year": s.delivered,
               "delivered_unit": amount_unit(p.match.output.carrier.resource),
               "running_cost_per_year": s.running, "rules_offset_per_year": s.rules_offset,
               "investment": p.investment.capex if p.investment else 0.0,
               "annuity_per_year": p.investment.annuity if p.investment else 0.0, "net_per_year": s.net,
               "investment_items": [{"what": w, "amount": a, "figure": f} for w, a, f in
                                    (p.investment.items if p.investment else [])],
               "company_money_saved_per_year": s.companies, "notes": p.notes,
               "matchmaking": {k2: v for k2, v in describe_inputs(p.match).items() if k2 != "reason"},
               "reason": p.match.reason()}
        ranking.append(row)
        for sh in s.shares:
            companies.setdefault(sh.company, []).append({
                "candidate": p.id, "rule": sh.rule, "gain_per_year": sh.gain, "investment": sh.investment,
                "net_per_year": sh.net, "payback_years": _num(sh.payback_years),
                "candidate_co2_avoided_t_per_year": row["co2_avoided_t_per_year"]})
    shapley = [{"company": c, "gain_per_year": v, "investment": outcome.shapley_investment.get(c, 0.0),
                "payback_years": _num(outcome.shapley_investment.get(c, 0.0) / v) if v > 0 else None}
               for c, v in sorted(outcome.shapley.items(), key=lambda kv: -kv[1])]
    per_year = 8760.0 / outcome.hours
    after = {s.plan.id: _flows(outcome, s.benefit.totals, per_year) for s in outcome.simulated}
    return {
        "park": outcome.park, "currency": cur, "hours_simulated": outcome.hours, "timings": outcome.timings,
        "ranking": ranking,
        "not_simulated": [{"match_rank": p.rank, "from": p.match.output.port or p.match.output.label(),
                           "to": (p.match.input.port or p.match.input.label()) if p.match.input else p.match.receiver,
                           "why": p.why_not} for p in outcome.skipped],
        "best_set": [{"id": cid, "alone_per_year": a, "marginal_per_year": g} for cid, a, g in outcome.best],
        "shapley": shapley, "companies": companies,
        "flows_before": _flows(outcome, outcome.base.totals, per_year) if outcome.base is not None else [],
        "flows_after": after,
    }


def write_json(data: dict, out: io.TextIOBase | None = None) -> str:
    text = json.dumps(data, indent=2, default=float)
    if out is not None:
        out.write(text + "\n")
    return text


CSV_FIELDS = ("company", "candidate", "rule", "gain_per_year", "investment", "net_per_year", "payback_years",
              "candidate_rank", "supplier", "receiver", "conversion", "candidate_saved_per_year",
              "candidate_net_per_year", "co2_avoided_t_per_year", "water_saved_m3_per_year",
              "residues_diverted_t_per_year", "delivered_per_year", "delivered_unit")


def write_csv(data: dict, out: io.TextIOBase) -> None:
    """One row per company, candidate and split rule (the Shapley split of the best set as rule ``shapley``),
    with the candidate's simulated figures repeated."""
    by_id = {r["id"]: r for r in data["ranking"]}
    w = csv.DictWriter(out, fieldnames=list(CSV_FIELDS))
    w.writeheader()
    for company, rows in data["companies"].items():
        for g in rows:
            r = by_id[g["candidate"]]
            w.writerow({"company": company, "candidate": g["candidate"], "rule": g["rule"],
                        "gain_per_year": g["gain_per_year"], "investment": g["investment"],
                        "net_per_year": g["net_per_year"], "payback_years": g["payback_years"],
                        "candidate_rank": r["rank"], "supplier": r["supplier"], "receiver": r["receiver"],
                        "conversion": r["conversion"], "candidate_saved_per_year": r["saved_per_year"],
                        "candidate_net_per_year": r["net_per_year"], "co2_avoided_t_per_year": r["co2_avoided_t_per_year"],
                        "water_saved_m3_per_year": r["water_saved_m3_per_year"],
                        "residues_diverted_t_per_year": r["residues_diverted_t_per_year"],
                        "delivered_per_year": r["delivered_per_year"], "delivered_unit": r["delivered_unit"]})
    for s in data["shapley"]:
        w.writerow({"company": s["company"], "candidate": "+".join(b["id"] for b in data["best_set"]), "rule": "shapley",
                    "gain_per_year": s["gain_per_year"], "investment": s["investment"],
                    "payback_years": s["payback_years"]})


# link colours per resource, so that a kWh band is not read as a kg band
_COLOURS = {"heat": "rgba(214,39,40,.45)", "steam": "rgba(255,127,14,.45)", "electricity": "rgba(31,119,180,.45)",
            "water": "rgba(23,190,207,.45)", "material": "rgba(140,86,75,.45)", "biomass": "rgba(44,160,44,.45)",
            "sludge": "rgba(127,127,127,.45)", "biogas": "rgba(188,189,34,.45)", "biomethane": "rgba(148,103,189,.45)"}


def _sankey(flows: list[dict], title: str):
    import plotly.graph_objects as go

    names = sorted({f["from"] for f in flows} | {f["to"] for f in flows})
    idx = {n: i for i, n in enumerate(names)}
    fig = go.Figure(go.Sankey(
        node={"label": names, "pad": 12},
        link={"source": [idx[f["from"]] for f in flows], "target": [idx[f["to"]] for f in flows],
              "value": [f["amount_per_year"] for f in flows],
              "color": [_COLOURS.get(f["resource"], "rgba(100,100,100,.35)") for f in flows],
              "label": [f"{f['resource']} {f['amount_per_year']:,.4g} {f['unit']}/yr" for f in flows]}))
    fig.update_layout(title=title, height=420, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def _fmt(x, spec: str = ",.0f") -> str:
    return "–" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def _offset_note(data: dict) -> str:
    """Say where the candidates of a batch changed what the rules value (their figures share that shift)."""
    shifted = [r for r in data["ranking"] if abs(r["rules_offset_per_year"]) > 1e-6 * max(1.0, abs(r["saved_per_year"]))]
    if not shifted:
        return "<p>The rules' choices in the batch are those of the park run alone.</p>"
    worst = max(shifted, key=lambda r: abs(r["rules_offset_per_year"]))
    return (f"<p><strong>Note:</strong> the rules value each bus over every candidate's exchanges, switched on or not; "
            f"in {len(shifted)} candidates' batch the idle row saves {_fmt(worst['rules_offset_per_year'])} "
            f"{html.escape(data['currency'])}/yr against the park run alone. Their savings are against that idle row.</p>")


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_html(data: dict, path: str | Path) -> Path:
    """The report as one self-contained HTML file (plotly inlined, no CDN)."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    cur = data["currency"]
    by_id = {r["id"]: r for r in data["ranking"]}
    parts = [f"<h1>{html.escape(data['park'])}: candidate exchanges simulated for a year</h1>",
             f"<p>Under the generic rules, {data['hours_simulated']:g} h simulated and scaled to a year; money in "
             f"{cur} per year; a candidate's <em>net</em> is its saving (money and CO2 at the park's carbon price) "
             "less its investment's annuity. Sankey widths are in each resource's own unit (kWh, kg, m3): compare "
             "a flow before and after, not one resource with another.</p>",
             _offset_note(data),
             "<nav>" + " · ".join(f'<a href="#{html.escape(c)}">{html.escape(c)}</a>' for c in data["companies"])
             + "</nav>", "<h2 id='ranking'>Ranking by simulated benefit</h2>",
             _table(["#", "candidate", "match #", "from", "to", "how", f"saved {cur}/yr", f"investment {cur}",
                     f"net {cur}/yr", "t CO2/yr", "water m3/yr", "residues t/yr", "efficiency", "delivered/yr",
                     f"matchmaking estimate {cur}/yr", "notes"],
                    [[r["rank"], r["id"], r["match_rank"], r["from"], r["to"], r["conversion"], _fmt(r["saved_per_year"]),
                      _fmt(r["investment"]), _fmt(r["net_per_year"]), _fmt(r["co2_avoided_t_per_year"], ",.1f"),
                      _fmt(r["water_saved_m3_per_year"]), _fmt(r["residues_diverted_t_per_year"], ",.1f"),
                      _fmt(100 * r["efficiency_gain"], "+.2f") + " pts",
                      f"{_fmt(r['delivered_per_year'], ',.4g')} {r['delivered_unit']}",
                      _fmt(r["matchmaking"]["benefit_per_year"]), "; ".join(r["notes"])] for r in data["ranking"]])]
    parts.append("<h3>The ranking's inputs</h3>" + _table(
        ["candidate", "investment items", "matchmaking reason"],
        [[r["id"], "; ".join(f"{i['what']}: {_fmt(i['amount'])} ({i['figure']})" for i in r["investment_items"]),
          r["reason"]] for r in data["ranking"]]))
    if data["not_simulated"]:
        parts.append("<h3>Not simulated</h3>" + _table(["match #", "from", "to", "why"],
                                                        [[n["match_rank"], n["from"], n["to"], n["why"]]
                                                         for n in data["not_simulated"]]))
    if data["best_set"]:
        parts.append("<h2>The best set (candidates compete)</h2>" + _table(
            ["candidate", f"alone {cur}/yr", f"marginal in the set {cur}/yr"],
            [[b["id"], _fmt(b["alone_per_year"]), _fmt(b["marginal_per_year"])] for b in data["best_set"]]))
        parts.append("<h3>Shapley split of the set's money</h3>" + _table(
            ["company", f"gain {cur}/yr", f"investment {cur}", "payback years"],
            [[s["company"], _fmt(s["gain_per_year"]), _fmt(s["investment"]), _fmt(s["payback_years"], ".1f")]
             for s in data["shapley"]]))
    figs = []
    for company, rows in data["companies"].items():
        best = max(rows, key=lambda g: g["gain_per_year"] if g["rule"] == "50/50" else -math.inf)["candidate"]
        mine = [f for f in data["flows_before"] if company in (f["from"], f["to"])]
        after = [f for f in data["flows_after"][best] if company in (f["from"], f["to"])]
        figs += [(f"sankey_{company}_before", _sankey(mine, f"{company}: flows before")),
                 (f"sankey_{company}_after", _sankey(after, f"{company}: flows with {best}"))]
        parts.append(f"<section class='company'><h2 id='{html.escape(company)}'>{html.escape(company)}</h2>"
                     f"<div class='row'><div id='sankey_{html.escape(company)}_before' class='plot'></div>"
                     f"<div id='sankey_{html.escape(company)}_after' class='plot'></div></div>" + _table(
                         ["candidate", "rule", f"gain {cur}/yr", f"investment {cur}", f"net {cur}/yr", "payback years",
                          "candidate t CO2/yr"],
                         [[g["candidate"], g["rule"], _fmt(g["gain_per_year"]), _fmt(g["investment"]),
                           _fmt(g["net_per_year"]), _fmt(g["payback_years"], ".1f"),
                           _fmt(by_id[g["candidate"]]["co2_avoided_t_per_year"], ",.1f")] for g in rows]) + "</section>")
    scripts = "".join(f"<script>(function(f){{Plotly.newPlot({json.dumps(div)}, f.data, f.layout);}})"
                      f"({pio.to_json(fig)});</script>" for div, fig in figs)
    style = ("body{font-family:sans-serif;margin:1.5em;max-width:1400px}table{border-collapse:collapse;margin:.5em 0;"
             "font-size:.85em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}.row{display:flex;gap:1em}"
             ".plot{flex:1;min-width:0}section.company{page-break-before:always;border-top:2px solid #444;margin-top:2em}")
    doc = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(data['park'])} candidates</title>"
           f"<style>{style}</style><script>{get_plotlyjs()}</script></head><body>{''.join(parts)}{scripts}</body></html>")
    path = Path(path)
    path.write_text(doc, encoding="utf-8")
    return path
