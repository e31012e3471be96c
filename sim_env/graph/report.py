"""What a run of the compiled twin did with each exchange: its annual flow, or why it carried none."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aisym.park.graph import FLOW_UNITS

from .compile import B_STORE, CompiledPark
from .kernel import N_HEAD


@dataclass(frozen=True)
class ExchangeUse:
    id: str
    total: float  # canonical amount over the run (kWh, m3, kg, Nm3)
    unit: str
    reason: str  # "" when it carried flow


def exchange_use(cp: CompiledPark, Y: np.ndarray, A: np.ndarray | None = None, mask: np.ndarray | None = None
                 ) -> list[ExchangeUse]:
    """Each exchange's total over a run of per-step outputs ``Y`` (steps × outputs).

    :param cp: the compiled park
    :param Y: stacked output rows of one batch row
    :param A: the actions applied (steps × actions), to tell "never asked" from "nothing to give"
    :param mask: the run's edge mask row (default: the file's ``enabled`` flags)
    """
    nl = len(cp.link_ids)
    totals = Y[:, N_HEAD:N_HEAD + nl].sum(axis=0)
    mask = cp.LE if mask is None else mask
    src_given = _bus_activity(cp, Y)
    out = []
    for e, link_id in enumerate(cp.link_ids):
        link = cp.graph.links[e]
        unit = FLOW_UNITS[link.resource].replace("/h", "").replace("kW", "kWh")
        reason = ""
        if totals[e] <= 1e-9:
            if mask[e] == 0.0:
                reason = "disabled (enabled: false, or switched off by the edge mask)"
            elif cp.LA[e] >= 0 and A is not None and np.nanmax(A[:, cp.LA[e]], initial=0.0) <= 0.0:
                reason = "controllable, and the strategy never asked for it"
            elif src_given.get(link.src, 0.0) <= 1e-9:
                reason = f"{link.src} had nothing to give in this run"
            else:
                reason = f"{link.dst} took all it needed from elsewhere (or nothing)"
        out.append(ExchangeUse(link_id, float(totals[e]), unit, reason))
    return out


def _bus_activity(cp: CompiledPark, Y: np.ndarray) -> dict[str, float]:
    """Rough supply per bus over the run: what its components gave or held (for the reasons above)."""
    nl, nn = len(cp.link_ids), cp.n_nodes
    act = Y[:, N_HEAD + nl:N_HEAD + nl + nn]
    given: dict[str, float] = {}
    for n, node in enumerate(cp.graph.nodes):
        for port in node.ports.values():
            if port.direction in ("out", "both"):
                given[port.bus] = given.get(port.bus, 0.0) + float(np.abs(act[:, n]).sum())
    for b, bus in enumerate(cp.bus_ids):
        if cp.BI[b, B_STORE] >= 0:
            given[bus] = given.get(bus, 0.0) + 1.0  # a store may give what it held at the start
    return given
