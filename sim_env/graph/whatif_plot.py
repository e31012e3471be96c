"""A park against its what-if: one bar pair per headline figure (matplotlib, PNG)."""

from __future__ import annotations

from pathlib import Path


def whatif_plot(rows: list[tuple[str, str, float, float]], base: str, other: str, path: Path) -> Path:
    """Bars of each (label, unit, base, what-if) row, each on its own axis (their units differ)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(rows), figsize=(3.2 * len(rows), 3.4))
    for ax, (label, unit, a, b) in zip(axes, rows, strict=True):
        ax.bar([0, 1], [a, b], color=["#4c72b0", "#dd8452"])
        ax.set_xticks([0, 1], ["base", "what-if"])
        ax.set_title(f"{label}\n({unit})", fontsize=9)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
    fig.suptitle(f"{other} vs {base}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
