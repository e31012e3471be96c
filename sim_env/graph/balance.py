"""Every bus's balance at one step, rebuilt from the kernel's outputs alone.

An independent check, not a copy of the kernel: it reads only the output row ``Y`` (exchange
flows, each component's activity, backup and the spilled total), the store levels before the
step and the park's tables, and recomputes each converter's port flows from its load. What an
input taken on demand with no backup lacked (``lost:<converter>:<port>``, charged at the value of
lost load) came from outside the park onto that input's bus, as what an input with a backup bought
(``backup:<converter>:<port>``) does; those columns must add up to each converter's ``backup:``
column (:func:`backup_mismatch`). Supply
minus use on a bus is then zero, or positive where something was spilled (energy leaves the
park unused, and ``Y[spilled]`` says how much in total). A negative imbalance is energy or
matter made from nothing: a converter that ran on input nobody delivered.

Usable on any compiled park (``tests/sim_env/physics`` runs it on every test park)::

    worst = run_balanced(cp, coef, actions)   # the worst unexplained imbalance over the run
"""

from __future__ import annotations

import numpy as np

from .compile import (
    B_DISPOSAL,
    B_MARKET,
    B_PURCHASE,
    B_PUSHED,
    B_STORE,
    F_PL_OFFSET,
    F_PL_SLOPE,
    I_BUS,
    I_P0,
    I_P1,
    I_PL,
    I_REF,
    I_TYPE,
    L_LOSS,
    T_CONVERTER,
    T_DEMAND,
    T_DISPOSAL,
    T_MARKET,
    T_PURCHASE,
    T_SOURCE,
    T_STORAGE,
    CompiledPark,
)
from .kernel import N_HEAD, Y_SPILL, Batch, initial_state, port_columns


def port_flows(cp: CompiledPark, coef_t: np.ndarray, n: int, load: float) -> dict[int, float]:
    """Each port's amount of converter ``n`` at reference amount ``load``, from the port table."""
    NI, NF = cp.NI, cp.NF
    f: dict[int, float] = {}
    dt = cp.dt_h
    for p in range(NI[n, I_P0], NI[n, I_P1]):
        if cp.PO[p] >= 0:
            continue
        if p == NI[n, I_REF]:
            f[p] = load
        elif p == NI[n, I_PL]:  # the part-load line is per hour: slope × L + offset × dt while running
            f[p] = NF[n, F_PL_SLOPE] * load + NF[n, F_PL_OFFSET] * dt if load > 0 else 0.0
        else:
            f[p] = coef_t[cp.PV[p]] * load
    for p in range(NI[n, I_P0], NI[n, I_P1]):
        if cp.PO[p] >= 0:
            f[p] = coef_t[cp.PV[p]] * f[cp.PO[p]]
    return f


def bus_imbalance(cp: CompiledPark, coef_t: np.ndarray, Y: np.ndarray, S_prev: np.ndarray) -> np.ndarray:
    """Supply minus use on every bus for one step (amounts per step), from one output row ``Y``.

    :param coef_t: ``COEF[year, t]``, the step's values
    :param Y: the kernel's output row of that step
    :param S_prev: store levels before the step
    """
    nl, nn = len(cp.link_ids), cp.n_nodes
    flow = Y[N_HEAD:N_HEAD + nl]
    act = Y[N_HEAD + nl:N_HEAD + nl + nn]
    back = Y[N_HEAD + nl + nn:N_HEAD + nl + 2 * nn]
    bal = np.zeros(len(cp.bus_ids))
    for e in range(nl):
        bal[cp.LD[e]] += flow[e] * (1 - cp.LF[e, L_LOSS])
        bal[cp.LS[e]] -= flow[e]
    for n in range(nn):
        t_, b = cp.NI[n, I_TYPE], cp.NI[n, I_BUS]
        if t_ == T_SOURCE:
            bal[b] += act[n] - back[n]  # given, less its surplus (which leaves the park)
        elif t_ in (T_DEMAND, T_DISPOSAL):
            bal[b] -= act[n]
        elif t_ in (T_PURCHASE, T_MARKET):
            bal[b] += act[n]  # bought, or a market's net import (+) / export (−)
        elif t_ == T_STORAGE:
            bal[b] -= act[n] - S_prev[n] + back[n]  # what the store kept, plus its standing loss
        elif t_ == T_CONVERTER:
            for p, x in port_flows(cp, coef_t, n, act[n]).items():
                bal[cp.PB[p]] += x if cp.PD[p] == 1 else -x
    backed, lost = port_columns(cp)
    for p, j in backed.items():  # each backed input's bought shortfall came from outside onto its bus
        bal[cp.PB[p]] += Y[j]
    for p, j in lost.items():  # the last columns: lost load, valued, never delivered
        bal[cp.PB[p]] += Y[j]
    return bal


def backup_mismatch(cp: CompiledPark, Y: np.ndarray) -> float:
    """The largest gap between a converter's ``backup:`` column and the sum of its inputs'
    ``backup:<converter>:<port>`` columns in one output row (0 when the kernel is right)."""
    nl, nn = len(cp.link_ids), cp.n_nodes
    backed, _ = port_columns(cp)
    worst = 0.0
    for n in range(nn):
        if cp.NI[n, I_TYPE] == T_CONVERTER:
            mine = sum(float(Y[j]) for p, j in backed.items() if cp.NI[n, I_P0] <= p < cp.NI[n, I_P1])
            worst = max(worst, abs(float(Y[N_HEAD + nl + nn + n]) - mine))
    return worst


def pulled_only(cp: CompiledPark) -> np.ndarray:
    """Buses nothing can offer onto: no source, store, market, purchase or dump on them, no
    converter output, and every exchange into them delivers only what is pulled through it (from a
    bus nothing pushes, not a store's controllable discharge, not free residue or a store's
    must-go inflow). A surplus there cannot be a spill: it was made from nothing (a converter
    giving back input it never got, say)."""
    ok = ((cp.BI[:, B_STORE] < 0) & (cp.BI[:, B_MARKET] < 0) & (cp.BI[:, B_PURCHASE] < 0)
          & (cp.BI[:, B_DISPOSAL] < 0))
    for n in range(cp.n_nodes):
        if cp.NI[n, I_TYPE] == T_SOURCE:
            ok[cp.NI[n, I_BUS]] = False
    for p in range(len(cp.PB)):
        if cp.PD[p] == 1:
            ok[cp.PB[p]] = False
    for e in range(len(cp.LS)):
        src = cp.LS[e]
        if cp.BI[src, B_PUSHED] or cp.LPASS[e] or (cp.LA[e] >= 0 and cp.BI[src, B_STORE] >= 0):
            ok[cp.LD[e]] = False
    return ok


def unexplained(bal: np.ndarray, spilled: float, pulled: np.ndarray | None = None) -> float:
    """The part of one step's imbalance that no reported spill explains: any deficit (made from
    nothing), any surplus beyond what ``Y[spilled]`` reports, and any surplus on a bus nothing
    can offer onto (``pulled``: :func:`pulled_only`), which no spill explains."""
    deficit = float(max(-bal.min(), 0.0)) if len(bal) else 0.0
    surplus = float(bal[bal > 0].sum())
    made = float(bal[pulled & (bal > 0)].sum()) if pulled is not None else 0.0
    return max(deficit, abs(surplus - spilled), made)


def run_balanced(cp: CompiledPark, coef: np.ndarray, actions: np.ndarray, mask: np.ndarray | None = None,
                 start: int = 0) -> tuple[float, np.ndarray]:
    """Run ``actions`` (steps × actions) on one row and check every bus at every step.

    :returns: (the worst unexplained imbalance over the run, the worst imbalance per bus)
    """
    b = Batch(cp, coef, 1, mask=None if mask is None else np.asarray(mask, dtype=np.float64)[None])
    pulled = pulled_only(cp)
    b.t[:] = start
    S_prev = initial_state(cp, 1)[0]
    worst, per_bus = 0.0, np.zeros(len(cp.bus_ids))
    T = coef.shape[1]
    for i, a in enumerate(np.asarray(actions, dtype=np.float64)):
        Y = b.step(a[None])[0]
        bal = bus_imbalance(cp, coef[0, (start + i) % T], Y, S_prev)
        worst = max(worst, unexplained(bal, Y[Y_SPILL], pulled), backup_mismatch(cp, Y))
        per_bus = np.maximum(per_bus, np.abs(bal))
        S_prev = b.S[0].copy()
    return worst, per_bus
