"""The demo's HTML report: one self-contained page per run folder, readable with no internet.

:func:`write_report` reads a run folder (:mod:`cloud.demo.runfiles`), runs or reads its offline
comparison (:func:`~cloud.demo.offline.offline_of_run`) and writes ``report.html`` with

- a summary: park, strategy, simulated hours, wall time, data completeness (against the gateway's
  counter, with what is missing), setpoints decided, sent, held back and applied, processes restarted,
  blind steps and the faults injected;
- the KPI table: the loop, the same strategy offline, the rules and the optimum (cost, CO2,
  objective, gap to the optimum, in the park's currency), and the loop's match with the offline run;
- plotly plots: the exchanges as a Sankey diagram, storage levels, setpoints against actuals
  (blind spans shaded), cumulative cost and CO2 against the rules and the optimum.

plotly's JavaScript is inlined (``js="inline"``, about 4.8 MB) or written beside the page as
``plotly.min.js`` (``js="beside"``); no CDN is referenced either way::

    from cloud.demo.report import write_report

    print(write_report("runs/demo-kraakoya"))  # runs/demo-kraakoya/report.html
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from plotly.offline import get_plotlyjs

from sim_env.graph.kernel import output_names
from sim_env.graph.report import exchange_use
from sim_env.graph.twin import resolve

from . import plots
from .offline import kpi_match, offline_of_run
from .runfiles import RUN_FILE, Run, load_run, loop_matrix, loop_series

SECTIONS = ("summary", "kpis", "flows", "storage", "setpoints", "cost")
PLOT_IDS = ("plot-flows", "plot-storage", "plot-setpoints", "plot-cost")
LABELS = {"loop": "loop", "offline": "offline (same strategy)", "rule": "rule baseline", "optimum": "optimum"}

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f2f2f2; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; font-size: 0.92em; max-width: 70em; } .bad { color: #b00020; }
"""


def write_report(run_dir: str | Path, js: str = "inline", sankey_by: str = "asset", png: bool = False) -> Path:
    """Write ``run_dir/report.html`` and return its path.

    :param run_dir: a run folder of ``aisym demo`` (or :func:`~cloud.demo.offline.synthetic_run`)
    :param js: ``"inline"`` (plotly inside the page) or ``"beside"`` (``plotly.min.js`` next to it)
    :param sankey_by: nodes of the Sankey diagram: ``"asset"`` or ``"company"``
    :param png: also write ``report.png``, the whole page as headless Chromium draws it (:mod:`cloud.demo.browser`)
    """
    if js not in ("inline", "beside"):
        raise ValueError(f"js={js!r}: use inline or beside")
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    if not run.plant:
        raise ValueError(f"{run_dir / 'plant.jsonl'}: no plant steps: nothing to report")
    cp = resolve(run.meta.get("park_file"), float(run.meta["dt_h"]))
    if cp.graph.id != run.meta["park"]:
        raise ValueError(f"{run_dir / RUN_FILE}: park {run.meta['park']!r}, but park_file holds {cp.graph.id!r}")
    if list(run.meta["kpi_names"]) != output_names(cp):
        raise ValueError(f"{run_dir / RUN_FILE}: kpi_names are not the compiled park's outputs (another version?)")
    data = offline_of_run(run_dir)
    match = kpi_match(run_dir, data)
    Y = loop_matrix(run)
    A = np.array([rec["actions"] for rec in run.plant], dtype=np.float64)
    uses = exchange_use(cp, Y, A)
    units = {t: cp.graph.tags[t].unit for t in cp.graph.tags}
    currency = run.meta.get("currency") or cp.graph.currency
    n = len(run.plant)
    series = {LABELS["loop"]: {k: v.tolist() for k, v in loop_series(run).items()}}
    for key in ("offline", "rule", "optimum"):
        r = data["runs"].get(key, {})
        if "series" in r:
            series[LABELS[key]] = {k: v[:n] for k, v in r["series"].items()}
    figs = [("plot-flows", plots.sankey(cp, uses, sankey_by)), ("plot-storage", plots.storage(run)),
            ("plot-setpoints", plots.setpoints(run, units)),
            ("plot-cost", plots.cumulative(float(run.meta["dt_h"]), series, currency))]
    divs = {i: f.to_html(full_html=False, include_plotlyjs=False, div_id=i, config={"displaylogo": False})
            for i, f in figs}
    if js == "inline":
        script = f"<script>{get_plotlyjs()}</script>"
    else:
        (run_dir / "plotly.min.js").write_text(get_plotlyjs(), encoding="utf-8")
        script = '<script src="plotly.min.js"></script>'
    page = _page(run, cp, data, match, uses, divs, script, currency, sankey_by)
    path = run_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    if png:
        from .browser import render

        render(path, run_dir / "report.png", height=page_height(f for _, f in figs))
    return path


def page_height(figs) -> int:
    """Pixels the whole page takes at 1300 px wide: the figures' heights and the tables around them."""
    return int(sum(f.layout.height or 450 for f in figs)) + 1500


def _e(x: object) -> str:
    return html.escape(str(x))


def _num(x: float | None, digits: int = 0) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:,.{digits}f}"


def _rows(rows: list[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)


def _summary(run: Run, cp) -> str:
    m = run.meta
    dt = float(m["dt_h"])
    comp = m.get("completeness") or {}
    sp = m.get("setpoints") or {}
    quality = ", ".join(f"{_e(k)}: {_num(v)}" for k, v in (comp.get("by_quality") or {}).items()) or "–"
    ratio = comp.get("ratio")
    speed = m.get("speed")
    faults = m.get("faults") or []
    fault_list = "".join(f"<li>hour {_e(f.get('t', '?'))}: {_e(f.get('what', ''))}</li>" for f in faults)
    rows = [
        ("park", f"{_e(m.get('park_name') or cp.graph.park.name)} (<code>{_e(m['park'])}</code>)"),
        ("park file", f"<code>{_e(m.get('park_file') or cp.graph.source)}</code>"),
        ("strategy", f"<code>{_e(m['strategy'])}</code>"),
        ("simulated hours", f"{_num(len(run.plant) * dt, 1)} of {_num(float(m['hours']), 1)} asked, from hour "
                            f"{_e(m['start'])} of the year generated with seed {_e(m['exo_seed'])}"),
        ("wall time", f"{_num(m.get('wall_s'), 1 if (m.get('wall_s') or 0) >= 10 else 3)} s" + ("" if speed is None else
                                                         f" at {_num(speed)} simulated s per wall s")),
        ("data completeness", f"{_num(comp.get('points_in_influx'))} points in InfluxDB of "
                              f"{_num(comp.get('readings_sent'))} readings sent "
                              f"({'–' if ratio is None else f'{100 * ratio:.2f} %'}); by quality: {quality}"
                              + _missing(comp)),
        ("setpoints", _setpoints(sp)),
        ("restarts", _restarts(m.get("restarts") or [])),
        ("blind steps", f"{_num(m.get('blind_steps'))} (the controller held every setpoint at its safe default)"),
        ("faults", f"<ul>{fault_list}</ul>" if faults else "none"),
    ]
    note = ("<p class='note'>A synthetic run: the twin stepped with the controller's setpoints and no transport "
            "in between (every reading and setpoint counts as delivered).</p>") if m.get("synthetic") else ""
    return f"<table>{_rows(rows)}</table>{note}"


def _missing(comp: dict) -> str:
    """Where readings are missing, counted against the gateway's seqs (``counted_against``)."""
    span = (f"; seqs {_e(comp['first_seq'])}–{_e(comp['last_seq'])} counted against {_e(comp.get('counted_against'))}"
            if "first_seq" in comp else "")
    if not comp.get("missing_seqs"):
        return span
    ranges = ", ".join(f"{a}–{b}" for a, b in comp.get("missing_ranges") or [])
    return f"{span}; <span class='bad'>{_num(comp['missing_seqs'])} missing ({_e(ranges)})</span>"


def _setpoints(sp: dict) -> str:
    """Every setpoint the controller decided: sent or held back; every one sent: what became of it."""
    held = sp.get("held") or 0
    text = (f"{_num(sp.get('applied'))} applied of {_num(sp.get('commanded'))} decided "
            f"({_num(sp.get('sent', sp.get('commanded')))} sent")
    if held:
        text += f", {_num(held)} held back because the gateway's own status said offline"
        if "held_before_run" in sp:
            text += f": {_num(sp['held_before_run'])} of them while the loop was starting"
    text += (f"); rejected {_num(sp.get('rejected'))}, failed {_num(sp.get('failed'))}, "
             f"timeouts {_num(sp.get('timeouts'))}")
    if sp.get("pending"):
        text += f", {_num(sp['pending'])} still unacknowledged at the end"
    refused = {k: v for k, v in (sp.get("messages_refused") or {}).items() if v}
    if refused:
        text += "; messages the controller refused: " + ", ".join(f"{_e(k)} {_num(v)}" for k, v in refused.items())
    return text


def _restarts(restarts: list[dict]) -> str:
    if not restarts:
        return "none (no process exited on its own)"
    items = "".join(f"<li>hour {_e(r.get('t', '?'))}: {_e(r.get('process'))} exited with {_e(r.get('exit_code'))}, "
                    "started again</li>" for r in restarts)
    return f"<ul class='bad'>{items}</ul>"


def _kpis(data: dict, match: dict, currency: str, n: int, dt: float) -> str:
    runs = data["runs"]
    opt = runs.get("optimum", {})
    best = sum(opt["series"]["objective"][:n]) if "series" in opt else None
    head = (f"<tr><th>run</th><th>cost ({_e(currency)})</th><th>CO2 (t)</th><th>objective ({_e(currency)})</th>"
            "<th>gap to the optimum</th></tr>")
    body = []

    def row(label: str, k: dict) -> None:
        gap = None if best is None else 100.0 * (k["objective"] - best) / max(abs(best), 1e-9)
        body.append(f"<tr><th>{_e(label)}</th><td class='num'>{_num(k['cost'])}</td>"
                    f"<td class='num'>{_num(k['co2_t'], 2)}</td><td class='num'>{_num(k['objective'])}</td>"
                    f"<td class='num'>{'–' if gap is None else f'{gap:+.2f} %'}</td></tr>")

    row(LABELS["loop"], match["loop"])
    row(LABELS["offline"], match["offline"])
    errors = []
    for key in ("rule", "optimum"):
        r = runs.get(key, {})
        if "series" in r:
            s = r["series"]
            row(LABELS[key], {"cost": sum(s["cost"][:n]), "co2_t": sum(s["co2_kg"][:n]) / 1000.0,
                              "objective": sum(s["objective"][:n])})
        elif "error" in r:
            errors.append(f"<p class='bad'>{_e(LABELS[key])}: not available ({_e(r['error'])})</p>")
    rel = match["rel"]
    agree = ", ".join(f"{k} {100 * v:+.3f} %" for k, v in rel.items())
    return (f"<table>{head}{''.join(body)}</table>{''.join(errors)}"
            f"<p>Loop against the same strategy offline over the {match['steps']} steps "
            f"({_num(match['steps'] * dt, 1)} h) the loop ran: {agree}.</p>"
            "<p class='note'>Objective: cost plus the park's carbon price × CO2. The offline run drives the twin as "
            "the controller drives the plant (setpoints clipped to their tags' limits, actions no tag drives held as "
            "the plant holds them), so it differs from the loop only by the transport: latency, quantised registers, "
            "blind steps. The rule baseline and the optimum run every action themselves. The optimum is the "
            "perfect-foresight MILP replayed in the twin; it ends each store no lower than it started (the park's "
            "end rule), so over a short run a strategy that empties its stores can cost less than it "
            "(a negative gap).</p>")


def _flows_note(uses, by: str) -> str:
    idle = [u for u in uses if u.total <= 1e-9]
    rows = "".join(f"<tr><td><code>{_e(u.id)}</code></td><td>{_e(u.reason)}</td></tr>" for u in idle)
    table = (f"<details><summary>{len(idle)} exchanges carried nothing</summary><table>"
             f"<tr><th>exchange</th><th>why</th></tr>{rows}</table></details>") if idle else ""
    return (f"<p class='note'>Nodes are {by}s; link colour is the carrier. Each carrier is counted in its own unit, "
            "so link widths compare only within one colour (hover for amounts).</p>" + table)


def _page(run: Run, cp, data: dict, match: dict, uses, divs: dict[str, str], script: str, currency: str,
          by: str) -> str:
    m = run.meta
    dt = float(m["dt_h"])
    n = len(run.plant)
    parts = [
        ("summary", "Summary", _summary(run, cp)),
        ("kpis", "KPIs", _kpis(data, match, currency, n, dt)),
        ("flows", "Flows between the park's assets", divs["plot-flows"] + _flows_note(uses, by)),
        ("storage", "Storage levels", divs["plot-storage"]),
        ("setpoints", "Setpoints against actuals", divs["plot-setpoints"]),
        ("cost", "Cost and CO2", divs["plot-cost"]),
    ]
    body = "".join(f"<section id='{sid}'><h2>{_e(title)}</h2>{content}</section>" for sid, title, content in parts)
    title = f"AISYM demo: {m.get('park_name') or m['park']} ({m['strategy']}, {n * dt:g} h)"
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<style>{_CSS}</style>{script}</head><body><h1>{_e(title)}</h1>{body}</body></html>")
