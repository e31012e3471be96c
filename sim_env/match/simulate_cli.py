"""``aisym match --simulate``: the top candidates simulated for a year, re-ranked, the best set, who gains what."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def run_simulation(graph, shown: list, opts, *, fmt: str, hours: float, seed: int, optimum: bool,
                   ray: str | None, set_size: int, report: Path | None, workers: int | None = None) -> None:
    """Simulate ``shown`` (ranked matchmaking candidates) on ``graph`` and print or write the outcome.

    :param graph: the park as matched (with ``--without``'s exchanges removed)
    :param fmt: ``table``, ``csv`` or ``json`` on stdout
    :param report: also write the HTML report here
    :param workers: local processes sharing each batch's rows (None: as many as pay for their start)
    """
    from .report import report_data, write_csv, write_html, write_json
    from .simulate import park_doc, plan, simulate_plans

    doc = park_doc(graph)
    plans = plan(graph, shown, opts.rate)
    outcome = simulate_plans(doc, graph, plans, hours=hours, exo_seed=seed, set_size=set_size, optimum=optimum,
                             ray_address=ray, workers=workers)
    data = report_data(outcome)
    if report is not None:
        typer.echo(f"wrote {write_html(data, report)}", err=True)
    if fmt == "json":
        write_json(data, sys.stdout)
    elif fmt == "csv":
        write_csv(data, sys.stdout)
    else:
        _table(data)


def _f(x, spec: str = ",.0f") -> str:
    return "-" if x is None else format(x, spec)


def _table(data: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from .readable import amount, money

    # 100 columns, as the match table: a facilitator's terminal; each candidate's other figures
    # come on a line of their own below it, and every figure in --format json or csv
    con = Console(soft_wrap=False, width=100)
    cur = data["currency"]
    t = data["timings"]
    con.print(f"{data['park']}: {len(data['ranking'])} candidates simulated ({data['hours_simulated']:g} h each, "
              f"scaled to a year) in {t.get('seconds', 0.0):.1f} s, "
              f"{t.get('candidate_years_per_min', 0.0):,.0f} candidate-years/min", markup=False, highlight=False)
    tab = Table("#", "from", "to", "how", "net/yr", "invest", "CO2/yr", "residues/yr", "water/yr",
                box=None, pad_edge=False)
    for r in data["ranking"]:
        tab.add_row(str(r["rank"]), r["supplier"], r["receiver"], r["conversion"], money(r["net_per_year"], cur),
                    money(r["investment"], cur), amount(1000 * r["co2_avoided_t_per_year"], "kg"),
                    amount(1000 * r["residues_diverted_t_per_year"], "kg"), amount(r["water_saved_m3_per_year"], "m3"))
    con.print(tab)
    for r in data["ranking"]:
        est = r["matchmaking"]["benefit_per_year"]
        con.print(f"{r['rank']}. {r['id']} (match #{r['match_rank']}): saved {money(r['saved_per_year'], cur)}/yr, "
                  f"resource efficiency {100 * r['efficiency_gain']:+.2f} points"
                  + (f", matchmaking's estimate {money(est, cur)}/yr" if est is not None else ""),
                  markup=False, highlight=False)
    for n in data["not_simulated"]:
        con.print(f"match #{n['match_rank']} {n['from']} -> {n['to']}: {n['why']}", markup=False, highlight=False)
    if data["best_set"]:
        con.print("\nBest set (alone vs marginal in the set, per year):", markup=False)
        for b in data["best_set"]:
            con.print(f"  {b['id']}: alone {_f(b['alone_per_year'])} {cur}, marginal {_f(b['marginal_per_year'])} {cur}",
                      markup=False, highlight=False)
        con.print("Shapley split of the set's money (per year):", markup=False)
        for s in data["shapley"]:
            con.print(f"  {s['company']}: {_f(s['gain_per_year'])} {cur}, investment {_f(s['investment'])} {cur}, "
                      f"payback {_f(s['payback_years'], '.1f')} yr", markup=False, highlight=False)
