"""A run's unmet demand and backups per unit: kWh, kg, m3 and Nm3 are never added together.

The kernel sums what stays unmet into one number over every carrier (its ``unmet`` output), and
keeps each demand's backup, each converter input's backup (``backup:<converter>:<port>``) and what
each converter input with no backup lacked (``lost:<converter>:<port>``) in its own column. These totals group them by the
unit of the carrier each belongs to, so a what-if that buys heat and gypsum prints
``4,380 kWh, 12,000 kg`` instead of one figure in no unit (issue 22, finding 10).
"""

from __future__ import annotations

import numpy as np

from aisym.park.graph.carriers import amount_unit

from .compile import I_P0, I_P1, I_TYPE, T_CONVERTER, T_DEMAND, T_MARKET, V_COST, V_IMPORT, V_PROFILE, CompiledPark
from .kernel import N_HEAD, Y_UNMET, port_columns

OTHER = "other units"  # an unmet remainder whose carrier the outputs cannot tell (more than one is possible)
TINY = 1e-6  # an amount below this (kWh, kg, m3, Nm3 over the run) is rounding in the kernel's sums, not a shortfall


def demand_needs(cp: CompiledPark, coef: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Each demand's need summed over the steps ``ts`` (indices into ``coef``, one year's
    ``COEF[t, value]``), as the kernel states it: the profile, never below 0, times the step."""
    need = np.zeros(cp.n_nodes)
    for n in range(cp.n_nodes):
        if cp.NI[n, I_TYPE] == T_DEMAND:
            need[n] = float(np.maximum(coef[ts, cp.NV[n, V_PROFILE]], 0.0).sum()) * cp.dt_h
    return need


def _unit(cp: CompiledPark, n: int, port: str | None = None) -> str:
    node = cp.graph.nodes[n]
    p = node.ports[port] if port is not None else next(iter(node.ports.values()))
    return amount_unit(p.carrier.resource)


def _port_unit(cp: CompiledPark, p: int) -> str:
    """The unit of converter port ``p`` (an index into the port table)."""
    n = next(n for n in range(cp.n_nodes) if cp.NI[n, I_TYPE] == T_CONVERTER and cp.NI[n, I_P0] <= p < cp.NI[n, I_P1])
    return _unit(cp, n, list(cp.graph.nodes[n].ports)[p - cp.NI[n, I_P0]])


def by_unit(cp: CompiledPark, sums: np.ndarray, needs: np.ndarray | None) -> tuple[dict[str, float], dict[str, float]]:
    """``(unmet, backup)`` per unit from a run's summed outputs ``sums`` and each demand's need.

    A demand without a backup is short by its need minus what it got; a converter's input by its
    ``lost:`` column; what the kernel counts as unmet beyond those (an import from a market with no
    import price) goes to the unit those markets share, or to :data:`OTHER`.
    """
    nl, nn = len(cp.link_ids), cp.n_nodes
    act = sums[N_HEAD + nl:N_HEAD + nl + nn]
    back = sums[N_HEAD + nl + nn:N_HEAD + nl + 2 * nn]
    unmet: dict[str, float] = {}
    backup: dict[str, float] = {}
    rest = float(sums[Y_UNMET])
    for n in range(nn):
        t = cp.NI[n, I_TYPE]
        if t == T_DEMAND and cp.NV[n, V_COST] >= 0 and back[n] > TINY:
            backup[_unit(cp, n)] = backup.get(_unit(cp, n), 0.0) + float(back[n])
        elif t == T_DEMAND and needs is not None:
            short = max(float(needs[n] - act[n]), 0.0)
            if short > TINY:
                unmet[_unit(cp, n)] = unmet.get(_unit(cp, n), 0.0) + short
                rest -= short
    backed, lost = port_columns(cp)
    for p, j in backed.items():  # each input's own column, in its own unit
        u, x = _port_unit(cp, p), float(sums[j])
        if x > TINY:
            backup[u] = backup.get(u, 0.0) + x
    for p, j in lost.items():
        u, x = _port_unit(cp, p), float(sums[j])
        if x > TINY:
            unmet[u] = unmet.get(u, 0.0) + x
            rest -= x
    if rest > max(TINY, 1e-9 * abs(float(sums[Y_UNMET]))):
        units = {_unit(cp, n) for n in range(nn) if cp.NI[n, I_TYPE] == T_MARKET and cp.NV[n, V_IMPORT] < 0}
        if needs is None:
            units |= {_unit(cp, n) for n in range(nn) if cp.NI[n, I_TYPE] == T_DEMAND and cp.NV[n, V_COST] < 0}
        u = next(iter(units)) if len(units) == 1 else OTHER
        unmet[u] = unmet.get(u, 0.0) + rest
    return dict(sorted(unmet.items())), dict(sorted(backup.items()))


def format_by_unit(amounts: dict[str, float]) -> str:
    """``{"kWh": 4380.0, "kg": 12000.0}`` as ``"4,380 kWh, 12,000 kg"``; ``"0"`` when empty."""
    parts = [f"{v:,.1f} {u}" if abs(v) < 1e5 else f"{v:,.0f} {u}" for u, v in amounts.items() if abs(v) > 1e-9]
    return ", ".join(parts) or "0"
