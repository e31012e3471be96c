"""The leaderboard of any park: strategies × scenarios × held-out years on the compiled twin.

``aisym bench --park FILE`` runs here. A scenario is ``base`` (the park itself), a what-if
overlay of a v2 park (``park:`` names its base, see :mod:`sim_env.graph.whatif`), a v1 overlay
of ``sim_env/scenarios/`` (by name or path) applied to a v1 park, or another park file. Every
run's optimality gap is measured against the perfect-foresight optimum of the same scenario and
year, replayed in the twin (:class:`~sim_env.graph.baselines.GraphOptimum`). Results are
:class:`sim_env.rl.leaderboard.Run` rows, written as CSV, Markdown and PNG by the same writer
as the hand-written twin's leaderboard, with costs in the park's currency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from aisym.park.graph import ParkGraph, load_graph, parse_graph

from .baselines import STRATEGIES, make_graph_strategy
from .evaluate import evaluate

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"


def resolve_graph_scenario(spec: str | Path, park: str | Path | None) -> tuple[str, ParkGraph]:
    """``(name, graph)`` of a scenario of ``park`` (see the module docstring)."""
    if str(spec) == "base":
        g = load_graph(park)
        return "base", g
    path = Path(spec)
    if not path.suffix:
        path = SCENARIO_DIR / f"{spec}.yaml"
        if not path.exists():
            shipped = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml")))
            raise ValueError(f"no scenario {spec!r}: give base, a what-if or park file, or a shipped one ({shipped})")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such scenario file")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "schema_version" in data:
        return path.stem, load_graph(path)
    if isinstance(data, dict) and "park" in data and "merge" not in data:
        from .whatif import load_whatif

        return path.stem, load_whatif(path)[2]
    from aisym.park.graph.migrate import migrate
    from sim_env.scenario import load_scenario

    base = park if park is not None else None
    sc = load_scenario(path, base=base)
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
                    seeds: Iterable[int], hours: float = 8760.0, progress: Callable[[str], None] | None = None):
    """Every strategy on every scenario and held-out year of ``park``; the optimum always runs.

    :returns: ``(runs, currency)``
    """
    from sim_env.rl.leaderboard import Run

    from .compile import compile_park

    factories = {s: resolve_graph_strategy(s) for s in strategies if s != "optimum"}
    graphs = [resolve_graph_scenario(s, park) for s in scenarios]
    runs: list[Run] = []
    skipped: list[tuple[str, int, str, str]] = []
    currency = graphs[0][1].park.currency if graphs else "EUR"
    for name, graph in graphs:
        cp = compile_park(graph)
        for seed in seeds:
            if progress:
                progress(f"{name} year {seed}: optimum")
            best = evaluate(make_graph_strategy("optimum"), cp, hours=hours, exo_seed=seed)
            results = [("optimum", best)]
            for spec, factory in factories.items():
                if progress:
                    progress(f"{name} year {seed}: {spec}")
                strategy = factory()
                try:
                    results.append((getattr(strategy, "name", spec), evaluate(strategy, cp, hours=hours, exo_seed=seed)))
                except ValueError as e:  # e.g. a policy trained on another layout: the row is n/a, the rest runs
                    if progress:
                        progress(f"{name} year {seed}: {spec} n/a ({e})")
                    skipped.append((name, seed, spec, str(e)))
            for label, r in results:
                runs.append(Run(name, label, seed, r.cost, r.co2_t, r.unmet, r.objective, r.gap_to(best), r.seconds))
    return runs, currency


def default_scenarios(park: str | Path | None) -> list[str]:
    """``base`` and the what-ifs shipped beside a v2 park (``<park>_whatif/*.yaml``)."""
    if park is None:
        return ["base"]
    folder = Path(park).with_name(Path(park).stem + "_whatif")
    return ["base", *(str(p) for p in sorted(folder.glob("*.yaml")))]


def bench_any_park(park: Path, strategies: list[str], scenarios: list[str] | None, seeds: tuple[int, ...], hours: float,
                   out: Path, console) -> dict[str, Path]:
    """``aisym bench --park``: run, print the table, write CSV, Markdown and PNG into ``out``."""
    from rich.progress import Progress
    from rich.table import Table

    from sim_env.rl.leaderboard import summarize, write_outputs

    scenarios = scenarios or default_scenarios(park)
    total = len(scenarios) * len(seeds) * (len(set(strategies) - {"optimum"}) + 1)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("leaderboard", total=total)
        runs, currency = run_graph_bench(park, strategies, scenarios, seeds, hours,
                                         progress=lambda what: bar.update(task, advance=1, description=what))
    files = write_outputs(runs, out, currency=currency, unmet="unmet demand (sum of carriers' units)")
    table = Table(title=f"Leaderboard of {Path(park).name} ({len(seeds)} held-out years, {hours:g} h each)")
    for col in ("scenario", "strategy", f"cost {currency}", "CO2 t", "unmet", "gap %"):
        table.add_column(col, justify="left" if col in ("scenario", "strategy") else "right")
    for r in sorted(summarize(runs), key=lambda r: (r["scenario"], r["gap_pct"])):
        table.add_row(r["scenario"], r["strategy"], f"{r['cost_eur']:,.0f} ± {r['cost_eur_std']:,.0f}",
                      f"{r['co2_t']:,.1f} ± {r['co2_t_std']:,.1f}", f"{r['unmet_demand']:,.1f}",
                      f"{r['gap_pct']:.2f} ± {r['gap_pct_std']:.2f}")
    console.print(table)
    return files
