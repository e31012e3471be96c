"""The leaderboard's rows and files (``aisym bench`` runs them on the compiled twin: :mod:`sim_env.graph.bench`).

Every strategy runs on every scenario and every held-out weather/price year
(:data:`sim_env.rl.envs.BENCH_SEEDS`); the perfect-foresight optimum of the same scenario and
year gives each run its optimality gap. Results go to ``leaderboard.csv`` (one row per run),
``leaderboard.md`` (mean ± std over years per scenario and strategy) and ``leaderboard.png``;
money columns are named by the park's currency (``cost_dkk``), and a strategy that cannot run a
scenario (a policy of another layout) is a row with ``n/a`` and the reason in ``note``.

Add a strategy: write a class with ``name``, ``reset(env_info)`` and ``act(obs, info)``
(:class:`sim_env.graph.evaluate.Strategy`) and pass ``--strategy my_module:MyStrategy``. Add a
scenario: a what-if or park file passed as ``--scenario file.yaml``.
"""

from __future__ import annotations

import csv
import importlib
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

COLUMNS = ("cost", "co2_t", "unmet_demand", "gap_pct")
MONEY = ("cost", "objective", "stored_value")  # written as <name>_<currency> (cost_eur, cost_dkk)
COMPARED = ("gap: cost + carbon − stored content gained (each store's end minus start, valued at the optimum's "
            "shadow prices of ending them no emptier than they started), against the perfect-foresight optimum of "
            "the same scenario and year")


@dataclass
class Run:
    scenario: str
    strategy: str
    seed: int
    cost: float  # the park's currency
    co2_t: float
    unmet_demand: float  # the demand the park's own flows did not cover, summed over carriers in their units
    objective: float  # cost + carbon, the park's currency
    gap_pct: float
    seconds: float
    stored_value: float = 0.0  # stored content gained over the run at the optimum's end prices (see graph.bench)
    note: str = ""  # why a strategy is n/a for this row

    @classmethod
    def not_applicable(cls, scenario: str, strategy: str, seed: int, why: str) -> Run:
        nan = math.nan
        return cls(scenario, strategy, seed, nan, nan, nan, nan, nan, 0.0, nan, f"n/a: {why}")


def import_strategy(spec: str, protocol: str) -> Callable[[], Any]:
    """The class named by ``module:Class``, checked to have ``reset`` and ``act`` (see ``protocol``).

    ``module`` is looked up as Python would, then in the current folder: the ``aisym`` script's own
    folder is first on ``sys.path``, not the one it runs in, so ``my_strategies.py`` beside the user
    would otherwise need ``PYTHONPATH=.``.
    """
    module, _, cls = spec.partition(":")
    try:
        factory = getattr(_import_here(module), cls)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"strategy {spec!r}: cannot import {cls} from {module}: {e}") from None
    for method in ("reset", "act"):
        if not callable(getattr(factory, method, None)):
            raise ValueError(f"strategy {spec!r} has no {method}() method (see {protocol})")
    return factory


def _import_here(module: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != module.split(".")[0] or os.getcwd() in sys.path:
            raise
    sys.path.append(os.getcwd())  # last: a module of the same name installed elsewhere still wins
    return importlib.import_module(module)


def _mean_std(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]  # the years a strategy could not run are n/a, not zeros
    if not len(arr):
        return math.nan, math.nan
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


def summarize(runs: list[Run]) -> list[dict[str, Any]]:
    """One row per (scenario, strategy): mean and std over seeds of each column."""
    rows = []
    keys = dict.fromkeys((r.scenario, r.strategy) for r in runs)
    for scen, strat in keys:
        sel = [r for r in runs if r.scenario == scen and r.strategy == strat]
        ran = [r for r in sel if not r.note]
        row: dict[str, Any] = {"scenario": scen, "strategy": strat, "years": len(ran)}
        for col in COLUMNS:
            row[col], row[col + "_std"] = _mean_std([getattr(r, col) for r in sel])
        row["note"] = next((r.note for r in sel if r.note), "")
        rows.append(row)
    return rows


def _csv_name(name: str, currency: str) -> str:
    """``cost`` → ``cost_dkk``: money columns carry the park's currency."""
    base = name[:-4] if name.endswith("_std") else name
    return f"{base}_{currency.lower()}" + ("_std" if name.endswith("_std") else "") if base in MONEY else name


def _cell(v: Any) -> Any:
    return "n/a" if isinstance(v, float) and math.isnan(v) else v


UNMET = "unmet demand (sum of carriers' units)"


def write_outputs(runs: list[Run], folder: str | Path, currency: str = "EUR", unmet: str = UNMET,
                  compared: str = COMPARED) -> dict[str, Path]:
    """``leaderboard.csv`` (runs), ``leaderboard_summary.csv``, ``leaderboard.md`` and ``leaderboard.png``.

    :param currency: the park's currency: the cost columns' unit and the suffix of their CSV names
    :param unmet: the heading of the unmet-demand column
    :param compared: one sentence saying what the gap compares (written under the Markdown table)
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {
        "runs": folder / "leaderboard.csv",
        "summary": folder / "leaderboard_summary.csv",
        "markdown": folder / "leaderboard.md",
        "plot": folder / "leaderboard.png",
    }
    fields = list(Run.__dataclass_fields__)
    with out["runs"].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([_csv_name(k, currency) for k in fields])
        w.writerows([[_cell(getattr(r, k)) for k in fields] for r in runs])
    rows = summarize(runs)
    with out["summary"].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([_csv_name(k, currency) for k in rows[0]])
        w.writerows([[_cell(v) for v in r.values()] for r in rows])
    out["markdown"].write_text(markdown(rows, currency, unmet) + f"\n{compared}\n")
    plot(rows, out["plot"])
    return out


def markdown(rows: list[dict[str, Any]], currency: str = "EUR", unmet: str = UNMET) -> str:
    lines = [
        f"| scenario | strategy | years | cost ({currency}) | CO2 (t) | {unmet} | optimality gap (%) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=rank):
        if r["note"] and not r["years"]:
            cells = [r["note"], "", "", ""]
        else:
            cells = [
                f"{r[c]:,.0f} ± {r[c + '_std']:,.0f}" if c == "cost" else f"{r[c]:,.2f} ± {r[c + '_std']:,.2f}"
                for c in COLUMNS
            ]
        lines.append(f"| {r['scenario']} | {r['strategy']} | {r['years']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rank(row: dict[str, Any]) -> tuple:
    """Sort key of summary rows: by scenario, then gap; n/a rows last."""
    gap = row["gap_pct"]
    return row["scenario"], math.isnan(gap), 0.0 if math.isnan(gap) else gap


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / max(len(strategies), 1)
    for ax, col, label in ((axes[0], "gap_pct", "optimality gap (%)"), (axes[1], "co2_t", "CO2 (t)")):
        for i, strat in enumerate(strategies):
            vals = [next((r for r in rows if r["scenario"] == s and r["strategy"] == strat), None) for s in scenarios]
            y = [v[col] if v else math.nan for v in vals]
            err = [v[col + "_std"] if v else 0 for v in vals]
            ax.bar(np.arange(len(scenarios)) + i * width, y, width, yerr=err, label=strat, capsize=3)
        ax.set_xticks(np.arange(len(scenarios)) + width * (len(strategies) - 1) / 2, scenarios, rotation=15)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_yscale("symlog", linthresh=1.0)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(strategies), fontsize=9, frameon=False)
    fig.suptitle("AISYM leaderboard: mean ± std over held-out years")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
