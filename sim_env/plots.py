"""Plots of twin runs (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .evaluate import Result
from .params import OUT_INDEX

PLOTTED = (  # (KPI, label) for the delta bars
    ("objective_eur", "cost + carbon"),
    ("co2_t", "CO2"),
    ("fresh_water_m3", "fresh water"),
    ("heat_recovered_mwh", "heat recovered"),
    ("unmet_heat_mwh", "backup heat"),
    ("o2_purchased_t", "O2 bought"),
    ("resource_efficiency", "resource eff."),
)


def compare_plot(base: Result, whatif: Result, base_name: str, whatif_name: str, path: str | Path) -> Path:
    """Cumulative cost of both runs over time, and the what-if's KPI changes in %; saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    col = OUT_INDEX["reward"]
    for res, name in ((base, base_name), (whatif, whatif_name)):
        days = np.arange(1, res.hourly.shape[0] + 1) / 24.0
        ax1.plot(days, -np.cumsum(res.hourly[:, col]) / 1000.0, label=name)
    ax1.set_xlabel("day")
    ax1.set_ylabel("cumulative cost + carbon cost (kEUR)")
    ax1.legend()
    ax1.grid(alpha=0.3)
    pct = []
    for key, _ in PLOTTED:
        a, b = base.kpis[key], whatif.kpis[key]
        pct.append(100.0 * (b - a) / abs(a) if a else 0.0)
    better_up = {"heat_recovered_mwh", "resource_efficiency"}
    colors = [
        "tab:green" if (v >= 0) == (key in better_up) or v == 0 else "tab:red"
        for (key, _), v in zip(PLOTTED, pct, strict=True)
    ]
    ax2.barh([label for _, label in PLOTTED], pct, color=colors)
    ax2.axvline(0, color="black", lw=0.8)
    ax2.set_xlabel(f"{whatif_name} vs {base_name} (%)")
    ax2.invert_yaxis()
    ax2.grid(alpha=0.3, axis="x")
    fig.suptitle(f"What-if: {whatif_name} ({base.strategy})")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
