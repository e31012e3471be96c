"""The leaderboard of any park: strategies × scenarios × held-out years on the compiled twin.

``aisym bench --park FILE`` runs here. A scenario is ``base`` (the park itself), a what-if
overlay of a v2 park (``park:`` names its base, see :mod:`sim_env.graph.whatif`; by path, or by
name from the what-ifs shipped beside the park, ``<park>_whatif/NAME.yaml``), a user's v1 overlay
(:mod:`sim_env.graph.v1_overlay`) applied to a v1 park, or another park file. Every
run's optimality gap is measured against the perfect-foresight optimum of the same scenario and
year, replayed in the twin (:class:`~sim_env.graph.baselines.GraphOptimum`). Results are
:class:`sim_env.rl.leaderboard.Run` rows, written as CSV, Markdown and PNG
(:func:`sim_env.rl.leaderboard.write_outputs`), with costs in the park's currency.

**What the gap compares.** The optimum must leave each store no emptier than it found it (the
park's ``end`` rule); the other strategies are free to empty them, which over a day is worth
more than any skill (random beat the optimum of Kalundborg by 0.42 % over 24 h). So every run's
stored content gained (end minus start) is valued at the optimum's own shadow prices of those
end rules (:meth:`~sim_env.graph.lp.Optimum.end_values`, an ``end.value`` where the park gives
one) and the gap is taken on cost + carbon − that value. By LP duality no run can then beat
the optimum (up to the MIP gap), however its stores end.

A policy of another layout cannot run a scenario: its rows are ``n/a`` with the reason; a
policy that fits none of the scenarios is refused before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from aisym.park import DEFAULT_PARK
from aisym.park.graph import ParkGraph, load_graph, parse_graph

from .baselines import STRATEGIES, make_graph_strategy
from .evaluate import evaluate


def whatif_folder(park: str | Path | None) -> Path:
    """Where a park's shipped what-ifs lie: ``<park>_whatif/`` beside it (the shipped park's by default)."""
    p = Path(park) if park is not None else DEFAULT_PARK
    return p.with_name(p.stem + "_whatif")


def resolve_graph_scenario(spec: str | Path, park: str | Path | None) -> tuple[str, ParkGraph]:
    """``(name, graph)`` of a scenario of ``park`` (see the module docstring)."""
    if str(spec) == "base":
        g = load_graph(park)
        return "base", g
    path = Path(spec)
    if not path.suffix:
        folder = whatif_folder(park)
        path = folder / f"{spec}.yaml"
        if not path.exists():
            shipped = ", ".join(sorted(p.stem for p in folder.glob("*.yaml"))) or f"none in {folder}"
            raise ValueError(f"no scenario {spec!r}: give base, a what-if or park file, or a shipped one ({shipped})")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such scenario file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:  # named by the file's own line, not the parser's "<unicode string>"
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise ValueError(f"{where}: not valid YAML: {getattr(e, 'problem', None) or e}") from None
    if isinstance(data, dict) and "schema_version" in data:
        return path.stem, load_graph(path)
    if isinstance(data, dict) and "park" in data and "merge" not in data:
        from .whatif import load_whatif

        return path.stem, load_whatif(path)[2]
    from aisym.park.graph.migrate import migrate

    from .v1_overlay import load_scenario

    sc = load_scenario(path, base=park)  # a user's v1 overlay: on their v1 park
    doc = migrate(sc.park)
    return path.stem, parse_graph(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), f"{path} (v1 overlay)")


def resolve_graph_strategy(spec: str) -> Callable[[], Any]:
    """A factory for ``random|rule|mpc|optimum``, ``module:Class`` or ``NAME=POLICY_FOLDER``."""
    if spec in STRATEGIES:
        return lambda: make_graph_strategy(spec)
    if "=" in spec:
        name, folder = spec.split("=", 1)
        from sim_env.rl.strategy import GraphPolicyStrategy

        GraphPolicyStrategy(folder, name)  # fail now, not after an hour of baselines
        return lambda: GraphPolicyStrategy(folder, name)
    if ":" in spec:
        from sim_env.rl.leaderboard import import_strategy

        return import_strategy(spec, "sim_env.graph.evaluate.Strategy")
    raise ValueError(f"strategy {spec!r}: use one of {', '.join(STRATEGIES)}, module:Class or NAME=FOLDER")


def run_graph_bench(park: str | Path | None, strategies: Iterable[str], scenarios: Iterable[str | Path],
                    seeds: Iterable[int], hours: float = 8760.0, progress: Callable[[str], None] | None = None,
                    note: Callable[[str], None] | None = None):
    """Every strategy on every scenario and held-out year of ``park``; the optimum always runs.

    :param progress: called as each run starts (one step of a progress bar)
    :param note: called with the optimum's solver progress meanwhile (no step)

    :returns: ``(runs, currency)``
    """
    from sim_env.rl.leaderboard import Run

    from .compile import compile_park

    factories = {s: resolve_graph_strategy(s) for s in strategies if s != "optimum"}
    compiled = [(name, compile_park(graph)) for name, graph in (resolve_graph_scenario(s, park) for s in scenarios)]
    misfit = misfits(factories, compiled)
    runs: list[Run] = []
    currency = compiled[0][1].graph.park.currency if compiled else "EUR"
    for name, cp in compiled:
        for seed in seeds:
            if progress:
                progress(f"{name} year {seed}: optimum")
            say = None if note is None else (lambda line, name=name, seed=seed: note(f"{name} year {seed}: optimum, {line}"))
            optimum = make_graph_strategy("optimum", end_values=True, progress=say)
            try:
                best = evaluate(optimum, cp, hours=hours, exo_seed=seed)
            except RuntimeError as e:  # HiGHS found no solution: said in the rows, the other scenarios still run
                runs += [Run.not_applicable(name, s, seed, f"the optimum failed: {_line(e)}")
                         for s in ["optimum", *factories]]
                continue
            values = optimum.end_values
            results = [("optimum", best)]
            for spec, factory in factories.items():
                if progress:
                    progress(f"{name} year {seed}: {spec}")
                strategy = factory()
                label = getattr(strategy, "name", spec)
                if (name, spec) in misfit:
                    runs.append(Run.not_applicable(name, label, seed, misfit[name, spec]))
                    continue
                try:
                    results.append((label, evaluate(strategy, cp, hours=hours, exo_seed=seed)))
                except RuntimeError as e:  # an MPC plan with no solution fails this row only (issue 22, item 7)
                    runs.append(Run.not_applicable(name, label, seed, f"failed: {_line(e)}"))
            for label, r in results:
                runs.append(Run(name, label, seed, r.cost, r.co2_t, r.unmet, r.objective, fair_gap(r, best, values),
                                r.seconds, r.stored_value(values)))
                runs[-1].unmet_by_unit = r.unmet_by_unit  # kWh and kg apart (issue 22, finding 10); Run keeps the sum
    return runs, currency


def _unmet_text(runs, scenario: str, strategy: str) -> str:
    """The mean unmet demand over the years, per unit (``"120.0 kWh, 3.0 kg"``)."""
    from .units import format_by_unit

    sel = [getattr(r, "unmet_by_unit", {}) for r in runs if r.scenario == scenario and r.strategy == strategy and not r.note]
    units = sorted({u for d in sel for u in d})
    return format_by_unit({u: sum(d.get(u, 0.0) for d in sel) / max(len(sel), 1) for u in units})


def _line(e: Exception) -> str:
    """An error's message on one line (an infeasible set's constraints joined by "; ")."""
    out = ""
    for x in (x.strip() for x in str(e).splitlines() if x.strip()):
        out += x if not out else (" " if out.endswith(":") else "; ") + x
    return out


def fair_gap(run, best, values) -> float:
    """Optimality gap (%) on cost + carbon − stored content gained, valued at the optimum's end prices ``values``."""
    floor = best.objective - best.stored_value(values)
    return 100.0 * (run.objective - run.stored_value(values) - floor) / max(abs(floor), 1e-9)


def misfits(factories: dict[str, Callable[[], Any]], compiled: list) -> dict[tuple[str, str], str]:
    """``{(scenario, spec): why}`` for policies that cannot run a scenario's layout, checked before any run.

    :raises ValueError: a policy that fits none of the scenarios (one line: the first reason)
    """
    out: dict[tuple[str, str], str] = {}
    for spec, factory in factories.items():
        probe = factory()
        if not callable(getattr(probe, "misfit", None)):
            continue
        why = {name: probe.misfit(cp) for name, cp in compiled}
        bad = {name: w for name, w in why.items() if w is not None}
        if bad and len(bad) == len(compiled):
            raise ValueError(f"strategy {spec}: fits none of the scenarios; {next(iter(bad.values()))}")
        out.update({(name, spec): w for name, w in bad.items()})
    return out


def default_scenarios(park: str | Path | None) -> list[str]:
    """``base`` and the what-ifs shipped beside a v2 park (``<park>_whatif/*.yaml``)."""
    if park is None:
        return ["base"]
    return ["base", *(str(p) for p in sorted(whatif_folder(park).glob("*.yaml")))]


def bench_any_park(park: Path, strategies: list[str], scenarios: list[str] | None, seeds: tuple[int, ...], hours: float,
                   out: Path, console) -> dict[str, Path]:
    """``aisym bench --park``: run, print the table, write CSV, Markdown and PNG into ``out``."""
    from rich.progress import Progress
    from rich.table import Table

    from sim_env.rl.leaderboard import rank, summarize, write_outputs

    scenarios = scenarios or default_scenarios(park)
    total = len(scenarios) * len(seeds) * (len(set(strategies) - {"optimum"}) + 1)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("leaderboard", total=total)
        runs, currency = run_graph_bench(park, strategies, scenarios, seeds, hours,
                                         progress=lambda what: bar.update(task, advance=1, description=what),
                                         note=lambda what: bar.update(task, description=what))
    compared = (f"gap: cost + carbon − stored content gained (end minus start of each store, valued at the optimum's "
                f"shadow prices of its end rule), against the optimum of the same scenario and year; {currency}")
    units = sorted({u for r in runs for u in getattr(r, "unmet_by_unit", {})})
    heading = f"unmet demand ({' + '.join(units)})" if units else "unmet demand"
    files = write_outputs(runs, out, currency=currency, unmet=heading, compared=compared)
    table = Table(title=f"Leaderboard of {Path(park).name} ({len(seeds)} held-out years, {hours:g} h each)")
    for col in ("scenario", "strategy", f"cost {currency}", f"stored {currency}", "CO2 t", "unmet", "gap %"):
        name = col in ("scenario", "strategy")  # names stay whole on a narrow console; figures wrap
        table.add_column(col, justify="left" if name else "right", no_wrap=name)
    stored: dict[tuple[str, str], list[float]] = {}
    for r in runs:
        if not r.note:
            stored.setdefault((r.scenario, r.strategy), []).append(r.stored_value)
    for r in sorted(summarize(runs), key=rank):
        if not r["years"]:
            table.add_row(r["scenario"], r["strategy"], "n/a", "", "", "", r["note"][5:])
            continue
        table.add_row(r["scenario"], r["strategy"], f"{r['cost']:,.0f} ± {r['cost_std']:,.0f}",
                      f"{sum(stored[r['scenario'], r['strategy']]) / r['years']:+,.0f}",
                      f"{r['co2_t']:,.1f} ± {r['co2_t_std']:,.1f}", _unmet_text(runs, r['scenario'], r['strategy']),
                      f"{r['gap_pct']:.2f} ± {r['gap_pct_std']:.2f}")
    console.print(table)
    console.print(compared, markup=False, highlight=False)
    for r in runs:
        if r.note and r.seed == seeds[0]:
            console.print(f"{r.scenario}: {r.strategy} {r.note}", markup=False, highlight=False, soft_wrap=True)
    return files
