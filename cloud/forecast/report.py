"""The backtest's table, CSV and PNG: one row per series and resolution, the chosen model's scores."""

from __future__ import annotations

import csv
from pathlib import Path

from sim_env.forecast import SeriesForecast

# cover80/95: the calibrated intervals' coverage, judged out of sample (see sim_env.forecast.backtest);
# raw80/95: the model's own intervals before calibration
COLUMNS = ("series", "resolution", "model", "rel_mae", "mase", "cover80", "cover95", "raw80", "raw95", "origins",
           "notes")


def rows(forecasts: list[SeriesForecast]) -> list[dict]:
    out = []
    for f in forecasts:
        s = f.chosen
        notes = "; ".join([*f.notes, f.reason] if f.reason else f.notes)
        out.append({
            "series": f.series, "resolution": f.freq.name, "model": f.model or "-",
            "rel_mae": s.rel_mae if s else None, "mase": s.mase if s else None,
            "cover80": s.cover80 if s else None, "cover95": s.cover95 if s else None,
            "raw80": s.raw80 if s else None, "raw95": s.raw95 if s else None,
            "origins": s.origins if s else 0, "notes": notes,
        })
    return out


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def write_csv(table: list[dict], path: Path) -> None:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(table)


def rich_table(table: list[dict], title: str):
    from rich.table import Table

    t = Table(title=title)
    numeric = ("rel_mae", "mase", "cover80", "cover95", "raw80", "raw95", "origins")
    for c in COLUMNS:
        t.add_column(c, overflow="fold", justify="right" if c in numeric else "left")
    for r in table:
        t.add_row(*(_fmt(r[c]) for c in COLUMNS))
    return t


def write_png(table: list[dict], path: Path, title: str) -> None:
    """Relative MAE per series (below 1: better than the better seasonal naive) and 80 % coverage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = [r for r in table if r["rel_mae"] is not None]
    labels = [f"{r['series']} ({r['resolution'][0]})" for r in scored]
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, max(3.0, 0.3 * len(scored) + 1.5)), sharey=True)
    a.barh(labels, [r["rel_mae"] for r in scored], color="tab:blue")
    a.axvline(1.0, color="k", lw=1)
    a.set_xlabel("MAE / better seasonal naive")
    b.barh(labels, [r["cover80"] for r in scored], color="tab:green")
    b.axvspan(0.75, 0.85, color="tab:green", alpha=0.15)
    b.set_xlabel("80 % interval coverage")
    b.set_xlim(0, 1)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
