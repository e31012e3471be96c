"""One batched Numba kernel that steps any compiled park (:mod:`sim_env.graph.compile`).

Each component type's behaviour is written once here, in ``_op``; the step runs the park's
compiled schedule ``OPS`` over it. Batch row ``k`` may carry its own topology in ``MASK[k, e]``
(an exchange's capacity is multiplied by it), so K candidate links run in one call without
recompiling. The same functions run without Numba (``.py_func``) as the plain-Python
reference, so a formula is never written twice.

Arrays (``k`` the batch row): ``S[k, n]`` store levels; ``A[k, a]`` action fractions in
[0, 1]; ``COEF[ser[k], t[k], v]`` values; ``Y[k, o]`` per-step outputs laid out by
:func:`output_names`. The scratch arrays ``W*`` (``WB[field, bus, k]``, ``WN[field, node, k]``,
``WL[field, exchange, k]``, ``WP[port, k]``, ``WQ[cell, k]``) hold the row last, as an op runs
each figure over a block of rows: :class:`Scratch` allocates them once, and every step
overwrites them, so nothing is allocated inside the loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from numba import njit, prange

from .compile import (
    B_DISPOSAL,
    B_MARKET,
    B_PURCHASE,
    B_PUSHED,
    B_RESIDUE,
    B_ROOM,
    B_STORE,
    B_VOLL,
    C_FOLLOW_INPUT,
    C_FOLLOW_OUTPUT,
    C_MUST_RUN,
    C_SETPOINT,
    F_CAP,
    F_EXP_MAX,
    F_IMP_MAX,
    F_INIT,
    F_LOSS,
    F_MAX,
    F_MAX_CH,
    F_MAX_DIS,
    F_MIN_LOAD,
    F_PL_OFFSET,
    F_PL_SLOPE,
    F_RATED,
    F_RELEASE,
    F_ROOM_BOUND,
    I_ACTION,
    I_BUS,
    I_CONTROL,
    I_P0,
    I_P1,
    I_PL,
    I_REF,
    I_TYPE,
    L_CAP,
    L_COST,
    L_LOSS,
    OP_CONV_LOAD,
    OP_CONV_SETTLE,
    OP_DEMAND_PLAN,
    OP_DEMAND_SETTLE,
    OP_DISPOSAL,
    OP_IN_LOOP,
    OP_LOOP,
    OP_SOURCE,
    OP_STORE_CLOSE,
    OP_STORE_IN,
    OP_STORE_OPEN,
    OP_STORE_OUT,
    T_CONVERTER,
    T_DEMAND,
    T_DISPOSAL,
    T_MARKET,
    T_PURCHASE,
    T_SOURCE,
    T_STORAGE,
    V_AVAIL,
    V_CO2,
    V_COST,
    V_EXPORT,
    V_IMPORT,
    V_PRICE,
    V_PROFILE,
    CompiledPark,
)

_EPS = 1e-9
# head of the output row; then per exchange, per component (activity, backup, cost), per action clip
Y_REWARD, Y_COST, Y_CARBON, Y_CO2, Y_UNMET, Y_SPILL, Y_OVER_LIMIT, Y_CLIP = range(8)
N_HEAD = 8
HEAD_NAMES = ("reward", "cost", "carbon_cost", "co2_kg", "unmet", "spilled", "over_limit", "clip_total")


def lost_ports(cp: CompiledPark) -> list[int]:
    """The converter ports whose shortfall is lost load: inputs taken on demand with no backup."""
    return [p for p in range(len(cp.PB)) if cp.PD[p] == 0 and cp.PDEF[p] == 1 and cp.PBC[p] < 0]


def backed_ports(cp: CompiledPark) -> list[int]:
    """The converter ports whose shortfall is bought as backup: inputs with a backup price."""
    return [p for p in range(len(cp.PB)) if cp.PD[p] == 0 and cp.PBC[p] >= 0]


def port_columns(cp: CompiledPark) -> tuple[dict[int, int], dict[int, int]]:
    """``(backed, lost)``: the ``Y`` column of each input's ``backup:`` and of each input's ``lost:``
    column (:func:`output_names`), by port."""
    lost, backed = lost_ports(cp), backed_ports(cp)
    end = len(output_names(cp)) - len(lost)
    return ({p: end - len(backed) + j for j, p in enumerate(backed)}, {p: end + j for j, p in enumerate(lost)})


def output_names(cp: CompiledPark) -> list[str]:
    """Names of the ``Y`` columns: the head, then ``flow:<exchange>``, ``level|load|...:<component>``,
    ``clip:<action>``, then ``backup:<converter>:<port index>``: what each input with a backup
    bought, in its bus's unit (``backup:<converter>`` sums them over its inputs, whatever their
    units), and last ``lost:<converter>:<port index>``: what each input taken on demand with no
    backup lacked when settled, in its bus's unit (both the LP's series of the same names)."""
    names = list(HEAD_NAMES)
    names += [f"flow:{e}" for e in cp.link_ids]
    names += [f"activity:{n}" for n in cp.node_keys]
    names += [f"backup:{n}" for n in cp.node_keys]
    names += [f"cost:{n}" for n in cp.node_keys]
    names += [f"clip:{a}" for a in cp.action_names]
    owner = {p: n for n in range(cp.n_nodes) if cp.NI[n, I_TYPE] == T_CONVERTER
             for p in range(cp.NI[n, I_P0], cp.NI[n, I_P1])}
    names += [f"backup:{cp.node_keys[owner[p]]}:{p - cp.NI[owner[p], I_P0]}" for p in backed_ports(cp)]
    names += [f"lost:{cp.node_keys[owner[p]]}:{p - cp.NI[owner[p], I_P0]}" for p in lost_ports(cp)]
    return names


class Scratch:
    """Per-row work arrays of one batch (allocated once), the row index last: an op runs each of
    its figures over a block of rows, which then lie side by side in memory."""

    def __init__(self, cp: CompiledPark, K: int):
        nb, nl, nn, npo = len(cp.bus_ids), len(cp.link_ids), cp.n_nodes, len(cp.PB)
        # one cache line past the rows: a figure's rows then start at a different cache set from the
        # next figure's (at K = 1,024 they were 8 KiB apart, and evicted each other)
        Kp = K + 8
        self.bus = np.zeros((5, nb, Kp))  # offer, need, drawn, given, claimed by inputs not yet settled
        self.link = np.zeros((3, nl, Kp))  # flow, request (-1: none), claimed through it
        # work level, in (must-go), in (pushed), out, activity, backup, cost, CO2; then a converter's
        # running and wanted load within its op (:func:`_converter_load`; 0 outside it); the room a
        # follow-input unit F_ROOM_BOUND marks offers, set before an op reads it (:func:`_refresh_rooms`)
        self.node = np.zeros((11, nn, Kp))
        self.port = np.zeros((max(npo, 1), Kp))  # flow per hour of each converter port
        # a port's flow before a store shares its intake, then (parks with loops) the loops' scratch
        # one row's working state, counted from the arrays themselves (as :func:`_walk` reads them)
        cells = (self.bus.size + self.link.size + self.node.size + self.port.size) // Kp + len(output_names(cp))
        self.port_before = np.zeros((max(npo, 1) + loop_scratch(cp, cells), Kp))


def loop_scratch(cp: CompiledPark, cells: int) -> int:
    """Scratch cells per row a park's loops need (:func:`_loop`): a snapshot of the working state
    (``cells`` of it), the state before an op, one change per op of the longest loop, and a flag;
    0 without loops."""
    if not cp.loops:
        return 0
    return (2 + max(len(v) for v in cp.loops.values())) * cells + 1


def loop_plans_of(cp: CompiledPark, mask: np.ndarray) -> np.ndarray:
    """Each row's plan of every loop (:func:`sim_env.graph.schedule.loop_plans`, from the exchanges
    its mask switches off, one compile of the rules per distinct set), as :func:`_loop` reads it:
    per loop in schedule order, its ops' positions then their group sizes."""
    from .schedule import loop_plans  # here: schedule.py imports compile.py, which this module's block reads

    rows, seen = [], {}
    for k in range(mask.shape[0]):
        off = frozenset(np.flatnonzero(mask[k] == 0.0).tolist())
        if off not in seen:
            seen[off] = [float(x) for order, sizes in loop_plans(cp, off) for x in order + sizes]
        rows.append(seen[off])
    return np.array(rows, dtype=np.float64).reshape(mask.shape[0], -1)


_OFFER, _NEED, _DRAWN, _GIVEN, _CLAIM = range(5)
_FLOW, _REQ, _CLAIMED = range(3)
_WORK, _INP, _INC, _OUT, _ACT, _BACK, _COST, _CO2, _LOAD, _WANT, _ROOM = range(11)

# Which helpers Numba inlines (``inline="always"``): only those a row's loop runs slower without.
# Numba types and lowers an inlined helper afresh at every call site, inside every caller it is
# inlined into; the small leaves (_store_avail, _avail_local, _take_local, _frac, _shortfall, ...)
# are left to LLVM, which inlines them anyway when it links the step: the cold compile 36 → 26 CPU s,
# the same park-steps per second (issue 22 item 6; measured one helper at a time, docs/twin.md).


@njit(cache=True, _nrt=False, error_model="numpy")
def _store_avail(NF, WN, k, st, dt):
    if NF[st, F_RELEASE] > 0.0:  # a process inventory gives only what it releases
        return 0.0
    a = min(NF[st, F_MAX_DIS] * dt - WN[_OUT, st, k], WN[_WORK, st, k] + WN[_INP, st, k] + WN[_INC, st, k] - WN[_OUT, st, k])
    return max(a, 0.0)


@njit(cache=True, _nrt=False, error_model="numpy")
def _avail_local(BI, NF, WB, WN, k, b, dt):
    a = WB[_OFFER, b, k]
    st = BI[b, B_STORE]
    if st >= 0:
        a += _store_avail(NF, WN, k, st, dt)
    m = BI[b, B_MARKET]
    if m >= 0:  # a market sells up to its import limit, net of what it was given this step (issue 22, finding 4)
        if NF[m, F_IMP_MAX] == math.inf:
            a = math.inf
        else:
            a += max(NF[m, F_IMP_MAX] * dt - WB[_DRAWN, b, k] + WB[_GIVEN, b, k], 0.0)
    elif BI[b, B_PURCHASE] >= 0:  # a purchase sells up to its max per step
        a += max(NF[BI[b, B_PURCHASE], F_MAX] * dt - WB[_DRAWN, b, k], 0.0)
    return a


@njit(cache=True, _nrt=False, error_model="numpy")
def _take_local(BI, NF, WB, WN, k, b, x, dt):
    """Take ``x`` from bus ``b``: its offers first, then its store, market or purchase."""
    o = min(x, WB[_OFFER, b, k])
    WB[_OFFER, b, k] -= o
    rest = x - o
    if rest <= 0.0:
        return
    st = BI[b, B_STORE]
    if st >= 0:
        s = min(rest, _store_avail(NF, WN, k, st, dt))
        WN[_OUT, st, k] += s
        rest -= s
    if rest > 0.0:
        WB[_DRAWN, b, k] += rest


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _pull(BI, NF, BIN_PTR, BIN_LINK, LS, LA, LF, MASK, A, WB, WN, WL, k, b, x, dt):
    """Bring up to ``x`` onto bus ``b``: local supply, then its exchanges in priority order."""
    got = min(x, _avail_local(BI, NF, WB, WN, k, b, dt))
    if got > 0.0:
        _take_local(BI, NF, WB, WN, k, b, got, dt)
    for i in range(BIN_PTR[b], BIN_PTR[b + 1]):
        if got >= x - 1e-12:
            break
        e = BIN_LINK[i]
        keep = 1.0 - LF[e, L_LOSS]
        lim = LF[e, L_CAP] * MASK[k, e] * dt - WL[_FLOW, e, k]
        if WL[_REQ, e, k] >= 0.0:
            lim = min(lim, WL[_REQ, e, k] - WL[_FLOW, e, k])
        y = min(lim, (x - got) / keep, _avail_local(BI, NF, WB, WN, k, LS[e], dt))
        if y > 0.0:
            _take_local(BI, NF, WB, WN, k, LS[e], y, dt)
            WL[_FLOW, e, k] += y
            got += y * keep
    return got


@njit(cache=True, _nrt=False, error_model="numpy")  # not inlined: called only for units F_ROOM_BOUND marks
def _follow_in_room(NI, NF, NV, PB, PD, PV, PO, BI, BFI_PTR, BFI_NODE, BOUT_PTR, BOUT_LINK, LD, LF, MASK, COEF, s, ti,
                    WB, WN, WL, k, m, dt):
    """What follow-input converter ``m``, not yet run, can take in this step: its rating, within
    its availability and within what each of its pushed outputs can hand on now, itself and through
    its exchanges (:func:`_accept_local` without rooms, so a chain counts the next such unit at its rating). A
    promise beyond that would be taken, then left on ``m``'s bus and spilled, where the optimum
    cannot spill (fuzzed park 1214: a steam maker pushed 7.7 kWh/h into a turbine whose power had no
    taker yet, and the all-on schedule cost 24.02 DKK over 48 h against the optimum's 30.10)."""
    L = NF[m, F_RATED]
    if NV[m, V_AVAIL] >= 0:
        L = min(L, NF[m, F_RATED] * max(COEF[s, ti, NV[m, V_AVAIL]], 0.0))
    for p in range(NI[m, I_P0], NI[m, I_P1]):
        pb = PB[p]
        if PD[p] != 1 or BI[pb, B_PUSHED] != 1 or PO[p] >= 0:  # an ``of`` ratio is not inverted: no bound
            continue
        a = _accept_local(NF, BI, BFI_PTR, BFI_NODE, WB, WN, k, pb, dt, 0.0)
        for i in range(BOUT_PTR[pb], BOUT_PTR[pb + 1]):
            e = BOUT_LINK[i]
            lim = LF[e, L_CAP] * MASK[k, e] * dt - WL[_FLOW, e, k]
            there = _accept_local(NF, BI, BFI_PTR, BFI_NODE, WB, WN, k, LD[e], dt, 0.0)
            a += max(min(lim, there / (1.0 - LF[e, L_LOSS])), 0.0)
        L = min(L, _load_limit(NI, NF, PV, COEF, s, ti, m, p, a / dt))
    return max(L, 0.0) * dt


@njit(cache=True, _nrt=False, error_model="numpy")  # not inlined: once per op and bus B_ROOM marks
def _refresh_rooms(NI, NF, NV, PB, PD, PV, PO, BI, BFI_PTR, BFI_NODE, BOUT_PTR, BOUT_LINK, LD, LF, MASK, COEF, ser, t, WB,
                   WN, WL, k0, k1, b, dt):
    """Set ``WN[_ROOM]`` (rows ``k0:k1``) of the follow-input converters F_ROOM_BOUND marks on bus
    ``b`` and on the buses its exchanges reach, not yet run (:func:`_follow_in_room`), before an op
    that may send there reads it (:func:`_accept_local`): once per op and bus, not per row."""
    for j in range(BOUT_PTR[b] - 1, BOUT_PTR[b + 1]):
        d = b if j < BOUT_PTR[b] else LD[BOUT_LINK[j]]
        if BI[d, B_ROOM] != 1:
            continue
        for i in range(BFI_PTR[d], BFI_PTR[d + 1]):
            m = BFI_NODE[i]
            if NF[m, F_ROOM_BOUND] > 0.0:
                for k in range(k0, k1):
                    if WN[_ACT, m, k] == 0.0:
                        WN[_ROOM, m, k] = _follow_in_room(NI, NF, NV, PB, PD, PV, PO, BI, BFI_PTR, BFI_NODE, BOUT_PTR,
                                                          BOUT_LINK, LD, LF, MASK, COEF, ser[k], t[k], WB, WN, WL, k, m,
                                                          dt)


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _accept_local(NF, BI, BFI_PTR, BFI_NODE, WB, WN, k, b, dt, rooms):
    """What bus ``b`` can take now: needs not yet offered, store room, follow-input converters not
    yet run at their rating or, with ``rooms`` (1.0) where F_ROOM_BOUND marks one, at the room its
    op set (:func:`_refresh_rooms`); :func:`_follow_in_room` counts the next unit down at its rating."""
    a = max(WB[_NEED, b, k] - WB[_OFFER, b, k], 0.0)
    st = BI[b, B_STORE]
    if st >= 0:
        a += max(NF[st, F_MAX_CH] * dt - WN[_INP, st, k] - WN[_INC, st, k], 0.0)
    if BI[b, B_MARKET] >= 0 or BI[b, B_DISPOSAL] >= 0:
        return math.inf
    for i in range(BFI_PTR[b], BFI_PTR[b + 1]):
        n = BFI_NODE[i]
        if WN[_ACT, n, k] == 0.0:
            a += WN[_ROOM, n, k] if rooms > 0.0 and NF[n, F_ROOM_BOUND] > 0.0 else NF[n, F_RATED] * dt
    return a


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _accept(NI, NF, PV, BI, BFI_PTR, BFI_NODE, BOUT_PTR, BOUT_LINK, LD, LA, LF, MASK, COEF, ser, t, WB, WN, WL, WP, k0, k1,
            n, p, b, dt):
    """Bound converter ``n``'s running load (rows ``k0:k1``) by what pushed bus ``b`` of its output
    ``p`` can take now, itself and through its outgoing exchanges; the exchanges outside, the rows
    inside, as :func:`_can_get`."""
    for k in range(k0, k1):
        WP[p, k] = _accept_local(NF, BI, BFI_PTR, BFI_NODE, WB, WN, k, b, dt, 1.0)
    for i in range(BOUT_PTR[b], BOUT_PTR[b + 1]):
        e = BOUT_LINK[i]
        dst, cap, asked = LD[e], LF[e, L_CAP], LA[e] >= 0
        for k in range(k0, k1):
            lim = cap * MASK[k, e] * dt - WL[_FLOW, e, k]
            if asked:
                lim = min(lim, WL[_REQ, e, k] - WL[_FLOW, e, k])
            WP[p, k] += max(min(lim, _accept_local(NF, BI, BFI_PTR, BFI_NODE, WB, WN, k, dst, dt, 1.0)
                                / (1.0 - LF[e, L_LOSS])), 0.0)
    for k in range(k0, k1):
        WN[_LOAD, n, k] = min(WN[_LOAD, n, k], _load_limit(NI, NF, PV, COEF, ser[k], t[k], n, p, WP[p, k] / dt))


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _asked_local(NF, BI, BFI_PTR, BFI_NODE, WB, WN, k, b, dt):
    """What bus ``b`` asks of a unit that follows it: :func:`_accept_local`, but a dump asks for
    nothing (it takes only what nothing else takes: issue 22, finding 5)."""
    if BI[b, B_DISPOSAL] >= 0 and BI[b, B_MARKET] < 0:
        a = max(WB[_NEED, b, k] - WB[_OFFER, b, k], 0.0)
        st = BI[b, B_STORE]
        if st >= 0:
            a += max(NF[st, F_MAX_CH] * dt - WN[_INP, st, k] - WN[_INC, st, k], 0.0)
        for i in range(BFI_PTR[b], BFI_PTR[b + 1]):
            n = BFI_NODE[i]
            if WN[_ACT, n, k] == 0.0:
                a += WN[_ROOM, n, k] if NF[n, F_ROOM_BOUND] > 0.0 else NF[n, F_RATED] * dt
        return a
    return _accept_local(NF, BI, BFI_PTR, BFI_NODE, WB, WN, k, b, dt, 1.0)


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _asked(NF, BI, BFI_PTR, BFI_NODE, BOUT_PTR, BOUT_LINK, LD, LA, LF, MASK, WB, WN, WL, k, b, dt):
    """What bus ``b`` and the buses its exchanges reach ask of a unit that follows it."""
    a = _asked_local(NF, BI, BFI_PTR, BFI_NODE, WB, WN, k, b, dt)
    for i in range(BOUT_PTR[b], BOUT_PTR[b + 1]):
        e = BOUT_LINK[i]
        lim = LF[e, L_CAP] * MASK[k, e] * dt - WL[_FLOW, e, k]
        if LA[e] >= 0:
            lim = min(lim, WL[_REQ, e, k] - WL[_FLOW, e, k])
        a += max(min(lim, _asked_local(NF, BI, BFI_PTR, BFI_NODE, WB, WN, k, LD[e], dt)
                     / (1.0 - LF[e, L_LOSS])), 0.0)
    return a


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _deliver(BI, WB, WN, k, b, x):
    """``x`` arrives on bus ``b`` as a push: into its store, its market, or as an offer. On a
    store's bus what a need there still lacks passes to it; only the rest enters the store."""
    if BI[b, B_MARKET] >= 0:
        WB[_GIVEN, b, k] += x
    elif BI[b, B_STORE] >= 0:  # limits on gross flows (issue 22, finding 3)
        o = min(x, max(WB[_NEED, b, k] - WB[_OFFER, b, k], 0.0))
        WB[_OFFER, b, k] += o
        WN[_INC, BI[b, B_STORE], k] += x - o
    else:
        WB[_OFFER, b, k] += x


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _push(NF, BI, BFI_PTR, BFI_NODE, BOUT_PTR, BOUT_LINK, LD, LF, MASK, WB, WN, WL, k, b, x, dt):
    """Send ``x`` made by a converter through a pushed bus: local takers, then exchanges."""
    local = min(x, _accept_local(NF, BI, BFI_PTR, BFI_NODE, WB, WN, k, b, dt, 1.0))
    if local > 0.0:
        _deliver(BI, WB, WN, k, b, local)
    rest = x - local
    for i in range(BOUT_PTR[b], BOUT_PTR[b + 1]):
        if rest <= 1e-12:
            break
        e = BOUT_LINK[i]
        keep = 1.0 - LF[e, L_LOSS]
        lim = LF[e, L_CAP] * MASK[k, e] * dt - WL[_FLOW, e, k]
        y = min(rest, lim, _accept_local(NF, BI, BFI_PTR, BFI_NODE, WB, WN, k, LD[e], dt, 1.0) / keep)
        if y > 0.0:
            WL[_FLOW, e, k] += y
            _deliver(BI, WB, WN, k, LD[e], y * keep)
            rest -= y
    if rest > 1e-12:
        WB[_OFFER, b, k] += rest  # nothing took it: left on the bus, spilled at the end


@njit(cache=True, _nrt=False, error_model="numpy")
def _frac(A, Y, k, a, clip0):
    req = A[k, a]
    if math.isnan(req):
        Y[k, clip0 + a] = 1.0
        return 0.0
    v = min(max(req, 0.0), 1.0)
    Y[k, clip0 + a] = v - req
    return v


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _min_load(x, p_min, rated):
    """A unit runs at 0 or between min load and rated; requests below min load round to the nearer."""
    if rated <= 0.0:
        return 0.0
    if x < p_min - _EPS:
        return 0.0 if x < 0.5 * p_min else p_min
    return min(x, rated)


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _port_flows(NI, NF, PV, PO, COEF, ser, t, WP, WN, k0, k1, n):
    """Each port's flow per hour (rows ``k0:k1``) at the reference load ``WN[_LOAD, n, k]``
    (part-load line; ``of`` ratios). Ports outside, rows inside: each port's kind is read once
    for the block and its row loop is straight code (each row computes what it did alone)."""
    p0, p1, ref, pl = NI[n, I_P0], NI[n, I_P1], NI[n, I_REF], NI[n, I_PL]
    for p in range(p0, p1):
        if PO[p] >= 0:
            continue
        if p == ref:
            for k in range(k0, k1):
                WP[p, k] = WN[_LOAD, n, k]
        elif p == pl:
            slope, offset = NF[n, F_PL_SLOPE], NF[n, F_PL_OFFSET]
            for k in range(k0, k1):
                L = WN[_LOAD, n, k]
                WP[p, k] = slope * L + offset if L > 0.0 else 0.0
        else:
            v = PV[p]
            for k in range(k0, k1):
                WP[p, k] = COEF[ser[k], t[k], v] * WN[_LOAD, n, k]
    for p in range(p0, p1):
        if PO[p] >= 0:
            v, o = PV[p], PO[p]
            for k in range(k0, k1):
                WP[p, k] = COEF[ser[k], t[k], v] * WP[o, k]


@njit(cache=True, _nrt=False, error_model="numpy")
def _load_limit(NI, NF, PV, COEF, s, ti, n, p, have):
    """The largest reference load at which port ``p`` needs no more than ``have`` per hour."""
    if p == NI[n, I_REF]:
        return have
    if p == NI[n, I_PL]:
        return (have - NF[n, F_PL_OFFSET]) / NF[n, F_PL_SLOPE] if NF[n, F_PL_SLOPE] > 0.0 else math.inf
    r = COEF[s, ti, PV[p]]
    return have / r if r > 0.0 else math.inf


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _rated_followers(NF, BFO_PTR, BFO_NODE, WN, k, b, dt):
    """The ratings of the converters following bus ``b``'s asks that have not run yet."""
    a = 0.0
    for i in range(BFO_PTR[b], BFO_PTR[b + 1]):
        m = BFO_NODE[i]
        if WN[_ACT, m, k] == 0.0:
            a += NF[m, F_RATED] * dt
    return a


@njit(cache=True, _nrt=False, error_model="numpy")
def _reach(NF, BFO_PTR, BFO_NODE, BI, BIN_PTR, BIN_LINK, LS, LF, MASK, WB, WN, WL, k, b, dt):
    """What bus ``b`` can bring now from its own supply and through its exchanges (masked); a
    converter that follows the ask counts at its rating (a chain is bounded two links deep)."""
    have = _avail_local(BI, NF, WB, WN, k, b, dt) + _rated_followers(NF, BFO_PTR, BFO_NODE, WN, k, b, dt)
    for i in range(BIN_PTR[b], BIN_PTR[b + 1]):
        e = BIN_LINK[i]
        lim = LF[e, L_CAP] * MASK[k, e] * dt - WL[_FLOW, e, k]
        if WL[_REQ, e, k] >= 0.0:
            lim = min(lim, WL[_REQ, e, k] - WL[_FLOW, e, k])
        src = _avail_local(BI, NF, WB, WN, k, LS[e], dt) + _rated_followers(NF, BFO_PTR, BFO_NODE, WN, k, LS[e], dt)
        have += max(min(lim, src), 0.0) * (1.0 - LF[e, L_LOSS])
    return have


@njit(cache=True, _nrt=False, error_model="numpy")
def _follow_room(NI, NF, NV, PB, PD, PV, PBC, BI, BIN_PTR, BIN_LINK, BFO_PTR, BFO_NODE, LS, LF, MASK, COEF, s, ti, WB,
                 WN, WL, k, b, dt):
    """What converters following bus ``b``'s asks, not yet run, can still make there per step:
    their rating, limited by what each unbacked input of theirs can reach now."""
    a = 0.0
    for j in range(BFO_PTR[b], BFO_PTR[b + 1]):
        m = BFO_NODE[j]
        if WN[_ACT, m, k] != 0.0:
            continue
        L = NF[m, F_RATED]
        if NV[m, V_AVAIL] >= 0:
            L = min(L, NF[m, F_RATED] * max(COEF[s, ti, NV[m, V_AVAIL]], 0.0))
        for q in range(NI[m, I_P0], NI[m, I_P1]):
            if PD[q] == 0 and PBC[q] < 0:
                have = _reach(NF, BFO_PTR, BFO_NODE, BI, BIN_PTR, BIN_LINK, LS, LF, MASK, WB, WN, WL, k, PB[q], dt)
                L = min(L, _load_limit(NI, NF, PV, COEF, s, ti, m, q, have / dt))
        a += max(L, 0.0) * dt
    return a


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _can_get(NI, NF, NV, PB, PD, PV, PBC, BI, BIN_PTR, BIN_LINK, BFO_PTR, BFO_NODE, LS, LF, MASK, COEF, ser, t, WB,
             WN, WL, WP, k0, k1, n, p, b, dt, shared):
    """Bound converter ``n``'s running load (``WN[_LOAD, n, k]``, rows ``k0:k1``) by what its input
    ``p``, taken on demand on bus ``b``, can get this step (issue 22, finding 1): the bus's supply
    and its suppliers' through the exchanges, counting converters that follow the ask, less the
    needs already stated there. With ``shared`` (1.0) also less what inputs of units decided
    before it claimed on the same supplies (:func:`_claim`): two must-run units on one purchase
    share it in that order, never each see all of it.

    The exchanges outside, the rows inside (each exchange's figures read once for the block: 3-4 %
    of a park-step on both shipped parks, the same outputs to the bit on 42 test parks); a row's
    running sum waits in ``WP[p, k]``, free until the op's :func:`_port_flows`; once infinite (a
    market on the bus) it is left so, as adding to it would."""
    fol = BFO_PTR[b + 1] > BFO_PTR[b]
    for k in range(k0, k1):
        have = _avail_local(BI, NF, WB, WN, k, b, dt)
        if have != math.inf:  # a market on the bus: nothing to scan
            have = max(have - shared * WB[_CLAIM, b, k], 0.0)
            if fol:
                have += _follow_room(NI, NF, NV, PB, PD, PV, PBC, BI, BIN_PTR, BIN_LINK, BFO_PTR, BFO_NODE, LS, LF, MASK,
                                     COEF, ser[k], t[k], WB, WN, WL, k, b, dt)
        WP[p, k] = have
    for i in range(BIN_PTR[b], BIN_PTR[b + 1]):
        e = BIN_LINK[i]
        src = LS[e]
        cap, keep = LF[e, L_CAP], 1.0 - LF[e, L_LOSS]
        src_fol = BFO_PTR[src + 1] > BFO_PTR[src]
        for k in range(k0, k1):
            if WP[p, k] == math.inf:
                continue
            lim = cap * MASK[k, e] * dt - WL[_FLOW, e, k] - shared * WL[_CLAIMED, e, k]
            if WL[_REQ, e, k] >= 0.0:
                lim = min(lim, WL[_REQ, e, k] - WL[_FLOW, e, k] - shared * WL[_CLAIMED, e, k])
            got = max(_avail_local(BI, NF, WB, WN, k, src, dt) - shared * WB[_CLAIM, src, k], 0.0)
            if got < lim and src_fol:  # only then can a follower on the far side matter
                got += _follow_room(NI, NF, NV, PB, PD, PV, PBC, BI, BIN_PTR, BIN_LINK, BFO_PTR, BFO_NODE, LS, LF, MASK,
                                    COEF, ser[k], t[k], WB, WN, WL, k, src, dt)
            WP[p, k] += max(min(lim, got), 0.0) * keep
    for k in range(k0, k1):
        have = WP[p, k]
        if have != math.inf:
            have = max(have - max(WB[_NEED, b, k] - WB[_OFFER, b, k], 0.0), 0.0)
        WN[_LOAD, n, k] = min(WN[_LOAD, n, k], _load_limit(NI, NF, PV, COEF, ser[k], t[k], n, p, have / dt))


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _return_input(BI, BIN_PTR, BIN_LINK, LS, LF, WB, WN, WL, k, b, x):
    """Give ``x`` back to where bus ``b`` got it (a clipped load needs less), last exchange first."""
    for i in range(BIN_PTR[b + 1] - 1, BIN_PTR[b] - 1, -1):
        if x <= 1e-12:
            return
        e = BIN_LINK[i]
        keep = 1.0 - LF[e, L_LOSS]
        r = min(x, WL[_FLOW, e, k] * keep)
        if r > 0.0:
            WL[_FLOW, e, k] -= r / keep
            src = LS[e]
            if BI[src, B_MARKET] >= 0 or BI[src, B_PURCHASE] >= 0:
                WB[_DRAWN, src, k] -= r / keep
            elif BI[src, B_STORE] >= 0 and WB[_OFFER, src, k] <= 0.0:
                WN[_OUT, BI[src, B_STORE], k] -= r / keep
            else:
                WB[_OFFER, src, k] += r / keep
            x -= r
    if x > 1e-12:
        if BI[b, B_MARKET] >= 0 or BI[b, B_PURCHASE] >= 0:
            WB[_DRAWN, b, k] -= x
        else:
            WB[_OFFER, b, k] += x


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _claimable(BI, NF, BIN_PTR, BIN_LINK, BOUT_PTR, LS, b):
    """Whether an input on bus ``b`` must claim its supply (:func:`_claim`): some supplier behind
    ``b`` is shared by another exchange and is not an unlimited market. Decided from the tables
    alone, so once per port for a block of rows (a park-specialised kernel drops the code)."""
    shared = False
    for i in range(BIN_PTR[b], BIN_PTR[b + 1]):
        src = LS[BIN_LINK[i]]
        m = BI[src, B_MARKET]
        if BOUT_PTR[src + 1] - BOUT_PTR[src] > 1 and not (m >= 0 and NF[m, F_IMP_MAX] == math.inf):
            shared = True
    return shared


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _claim(BI, NF, BIN_PTR, BIN_LINK, LS, LF, MASK, WB, WN, WL, k, b, x, dt):
    """Reserve on the suppliers behind bus ``b`` what an input stated there (``x``, taken when its
    converter settles) will draw through each exchange, in priority order, as :func:`_pull` will:
    a unit deciding later sees the supply less these claims (:func:`_can_get`). Called only where
    :func:`_claimable`."""
    got = min(x, max(_avail_local(BI, NF, WB, WN, k, b, dt) - WB[_CLAIM, b, k]
                     - max(WB[_NEED, b, k] - WB[_OFFER, b, k], 0.0), 0.0))
    for i in range(BIN_PTR[b], BIN_PTR[b + 1]):
        if got >= x - 1e-12:
            break
        e = BIN_LINK[i]
        keep = 1.0 - LF[e, L_LOSS]
        lim = LF[e, L_CAP] * MASK[k, e] * dt - WL[_FLOW, e, k] - WL[_CLAIMED, e, k]
        if WL[_REQ, e, k] >= 0.0:
            lim = min(lim, WL[_REQ, e, k] - WL[_FLOW, e, k] - WL[_CLAIMED, e, k])
        y = min(lim, (x - got) / keep, _avail_local(BI, NF, WB, WN, k, LS[e], dt) - WB[_CLAIM, LS[e], k])
        if y > 0.0:
            WL[_CLAIMED, e, k] += y
            WB[_CLAIM, LS[e], k] += y
            got += y * keep


@njit(cache=True, _nrt=False, error_model="numpy")
def _release(BIN_PTR, BIN_LINK, LS, WB, WL, k, b):
    """Drop the claims made through bus ``b``'s exchanges: its input is about to be taken."""
    for i in range(BIN_PTR[b], BIN_PTR[b + 1]):
        e = BIN_LINK[i]
        WB[_CLAIM, LS[e], k] -= WL[_CLAIMED, e, k]
        WL[_CLAIMED, e, k] = 0.0


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _wanted_load(NI, NF, NV, PB, BI, BFI_PTR, BFI_NODE, BOUT_PTR, BOUT_LINK, LD, LA, LF, MASK, COEF, s, ti, A, Y, WB, WN,
                 WL, k, n, dt, clip0):
    """The load a converter's control asks for (action, ask of its output bus, or rated), within
    what its availability allows this step."""
    rated = NF[n, F_RATED]
    ctrl = NI[n, I_CONTROL]
    ref = NI[n, I_REF]
    if ctrl == C_SETPOINT:
        a = _frac(A, Y, k, NI[n, I_ACTION], clip0)
        L = _min_load(a * rated, NF[n, F_MIN_LOAD] * rated, rated)
    elif ctrl == C_FOLLOW_OUTPUT:
        L = min(_asked(NF, BI, BFI_PTR, BFI_NODE, BOUT_PTR, BOUT_LINK, LD, LA, LF, MASK, WB, WN, WL, k, PB[ref], dt) / dt,
                rated)
    else:
        L = rated
    if NV[n, V_AVAIL] >= 0:
        L = min(L, rated * max(COEF[s, ti, NV[n, V_AVAIL]], 0.0))
    return L


@njit(cache=True, _nrt=False, error_model="numpy")
def _converter_bound(NI, NF, NV, PB, PD, PV, PO, PBC, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR, BFI_NODE,
                    BFO_PTR, BFO_NODE, LS, LD, LA, LF, MASK, COEF, ser, t, A, Y, WB, WN, WL, WP, k0, k1, n, dt, clip0):
    """Decide a converter's load (then :func:`_converter_take`).

    Ports outside, rows inside: what a port is (taken at once, on demand, pushed) is decided by
    the tables, so its branch is chosen once for the block's rows and the row loop runs straight
    code; each row's running load waits in ``WN[_LOAD, n, k]`` (0 outside this op). Rows share
    nothing, and each row still meets its ports in order, so every row computes what it did when
    the rows were the outer loop."""
    rated = NF[n, F_RATED]  # the component's own figures, read once for the block's rows
    ctrl = NI[n, I_CONTROL]
    ref = NI[n, I_REF]
    p_min = NF[n, F_MIN_LOAD] * rated
    # a unit the rules run as high as its inputs allow shares them with units decided before it
    shared = 1.0 if ctrl in (C_MUST_RUN, C_FOLLOW_INPUT) else 0.0
    for p in range(NI[n, I_P0], NI[n, I_P1]):  # the rooms its outputs may be sent to, read below and when pushed
        if PD[p] == 1:
            _refresh_rooms(NI, NF, NV, PB, PD, PV, PO, BI, BFI_PTR, BFI_NODE, BOUT_PTR, BOUT_LINK, LD, LF, MASK, COEF, ser,
                           t, WB, WN, WL, k0, k1, PB[p], dt)
    for k in range(k0, k1):
        L = _wanted_load(NI, NF, NV, PB, BI, BFI_PTR, BFI_NODE, BOUT_PTR, BOUT_LINK, LD, LA, LF, MASK, COEF, ser[k], t[k],
                         A, Y, WB, WN, WL, k, n, dt, clip0)
        WN[_LOAD, n, k] = L
        WN[_WANT, n, k] = L
    for p in range(NI[n, I_P0], NI[n, I_P1]):
        b = PB[p]
        if PD[p] == 0 and PDEF[p] == 0:
            for k in range(k0, k1):
                have = _avail_local(BI, NF, WB, WN, k, b, dt)
                for i in range(BIN_PTR[b], BIN_PTR[b + 1]):
                    e = BIN_LINK[i]
                    lim = LF[e, L_CAP] * MASK[k, e] * dt - WL[_FLOW, e, k]
                    if WL[_REQ, e, k] >= 0.0:
                        lim = min(lim, WL[_REQ, e, k] - WL[_FLOW, e, k])
                    have += max(min(lim, _avail_local(BI, NF, WB, WN, k, LS[e], dt)), 0.0) * (1.0 - LF[e, L_LOSS])
                WN[_LOAD, n, k] = min(WN[_LOAD, n, k], _load_limit(NI, NF, PV, COEF, ser[k], t[k], n, p, have / dt))
        elif PD[p] == 0 and PBC[p] < 0:  # taken on demand, with no backup: it bounds the load too
            _can_get(NI, NF, NV, PB, PD, PV, PBC, BI, BIN_PTR, BIN_LINK, BFO_PTR, BFO_NODE, LS, LF, MASK, COEF, ser, t,
                     WB, WN, WL, WP, k0, k1, n, p, b, dt, shared)
        elif PD[p] == 1 and BI[b, B_PUSHED] == 1 and not (ctrl == C_FOLLOW_OUTPUT and p == ref):
            _accept(NI, NF, PV, BI, BFI_PTR, BFI_NODE, BOUT_PTR, BOUT_LINK, LD, LA, LF, MASK, COEF, ser, t, WB, WN, WL, WP,
                    k0, k1, n, p, b, dt)
    for k in range(k0, k1):
        L = max(WN[_LOAD, n, k], 0.0)
        if WN[_WANT, n, k] > L and p_min - _EPS > L:
            L = 0.0  # bounded below its min load by what it can take or give: it stops
        WN[_LOAD, n, k] = L
        WN[_WANT, n, k] = 0.0
        WN[_ACT, n, k] = L * dt if L > 0.0 else 1e-300  # marks it as run
    _port_flows(NI, NF, PV, PO, COEF, ser, t, WP, WN, k0, k1, n)
    for k in range(k0, k1):
        WN[_LOAD, n, k] = 0.0
@njit(cache=True, _nrt=False, error_model="numpy")
def _converter_take(NI, PB, PD, PDEF, PBC, BI, NF, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR, BFI_NODE, LS, LD, LA,
                    LF, MASK, A, WB, WN, WL, WP, k0, k1, n, dt):
    """Take the inputs that bound converter ``n``'s load, state the rest, deliver its outputs;
    ports outside, rows inside, as in :func:`_converter_bound`."""
    for p in range(NI[n, I_P0], NI[n, I_P1]):
        b = PB[p]
        if PD[p] == 0:
            if PDEF[p] == 0:
                for k in range(k0, k1):
                    _pull(BI, NF, BIN_PTR, BIN_LINK, LS, LA, LF, MASK, A, WB, WN, WL, k, b, WP[p, k] * dt, dt)
            elif PBC[p] < 0 and _claimable(BI, NF, BIN_PTR, BIN_LINK, BOUT_PTR, LS, b):
                for k in range(k0, k1):
                    _claim(BI, NF, BIN_PTR, BIN_LINK, LS, LF, MASK, WB, WN, WL, k, b, WP[p, k] * dt, dt)
                    WB[_NEED, b, k] += WP[p, k] * dt
            else:
                for k in range(k0, k1):
                    WB[_NEED, b, k] += WP[p, k] * dt
        elif BI[b, B_PUSHED] == 1:
            for k in range(k0, k1):
                _push(NF, BI, BFI_PTR, BFI_NODE, BOUT_PTR, BOUT_LINK, LD, LF, MASK, WB, WN, WL, k, b, WP[p, k] * dt, dt)
        else:
            for k in range(k0, k1):
                WB[_OFFER, b, k] += WP[p, k] * dt


@njit(cache=True, _nrt=False, error_model="numpy")
def _converter_load(NI, NF, NV, PB, PD, PV, PO, PBC, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR, BFI_NODE,
                    BFO_PTR, BFO_NODE, LS, LD, LA, LF, MASK, COEF, ser, t, A, Y, WB, WN, WL, WP, k0, k1, n, dt, clip0):
    """Decide a converter's load, take the inputs that bound it, state the rest, deliver outputs."""
    _converter_bound(NI, NF, NV, PB, PD, PV, PO, PBC, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR, BFI_NODE,
                     BFO_PTR, BFO_NODE, LS, LD, LA, LF, MASK, COEF, ser, t, A, Y, WB, WN, WL, WP, k0, k1, n, dt, clip0)
    _converter_take(NI, PB, PD, PDEF, PBC, BI, NF, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR, BFI_NODE, LS, LD, LA,
                    LF, MASK, A, WB, WN, WL, WP, k0, k1, n, dt)


@njit(cache=True, _nrt=False, error_model="numpy")
def _store_out(NI, NF, NV, PB, PD, PV, PO, BI, BOUT_PTR, BOUT_LINK, BFI_PTR, BFI_NODE, LD, LA, LF, MASK, COEF, ser, t, A, Y,
               WB, WN, WL, k0, k1, st, dt, clip0):
    """Grant a store's controllable discharges, pro rata when they ask more than it can give."""
    _refresh_rooms(NI, NF, NV, PB, PD, PV, PO, BI, BFI_PTR, BFI_NODE, BOUT_PTR, BOUT_LINK, LD, LF, MASK, COEF, ser, t, WB,
                   WN, WL, k0, k1, NI[st, I_BUS], dt)
    for k in range(k0, k1):
        b = NI[st, I_BUS]
        total = 0.0
        for i in range(BOUT_PTR[b], BOUT_PTR[b + 1]):
            e = BOUT_LINK[i]
            if LA[e] >= 0:
                a = _frac(A, Y, k, LA[e], clip0)
                keep = 1.0 - LF[e, L_LOSS]
                req = min(a * LF[e, L_CAP] * MASK[k, e] * dt,
                          _accept_local(NF, BI, BFI_PTR, BFI_NODE, WB, WN, k, LD[e], dt, 1.0) / keep)
                WL[_REQ, e, k] = max(req, 0.0)
                total += WL[_REQ, e, k]
        if total <= 0.0:
            continue
        limit = _store_avail(NF, WN, k, st, dt)
        scale = limit / total if total > limit else 1.0
        for i in range(BOUT_PTR[b], BOUT_PTR[b + 1]):
            e = BOUT_LINK[i]
            if LA[e] >= 0:
                g = WL[_REQ, e, k] * scale
                WL[_REQ, e, k] = g
                WL[_FLOW, e, k] += g
                WN[_OUT, st, k] += g
                WB[_OFFER, LD[e], k] += g * (1.0 - LF[e, L_LOSS])


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _reaches(BOUT_PTR, BOUT_LINK, LD, pb, b):
    """Whether bus ``pb`` is bus ``b`` or has an exchange into it."""
    if pb == b:
        return True
    for j in range(BOUT_PTR[pb], BOUT_PTR[pb + 1]):  # noqa: SIM110 - a loop Numba compiles as it is
        if LD[BOUT_LINK[j]] == b:
            return True
    return False


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _need_on(NI, b):
    """The demand on bus ``b`` (-1: none); scanned, as only a cut's rare path asks."""
    for n in range(NI.shape[0]):
        if NI[n, I_TYPE] == T_DEMAND and NI[n, I_BUS] == b:
            return n
    return -1


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _input_on(PB, PD, PDEF, b):
    """The converter input taken when settling on bus ``b`` (-1: none); scanned, as only a cut asks."""
    for q in range(PB.shape[0]):
        if PB[q] == b and PD[q] == 0 and PDEF[q] == 1:
            return q
    return -1


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _recallable(NI, BI, PB, PD, PDEF, BOUT_PTR, BOUT_LINK, LD, LF, WB, WN, WL, WP, k, b, skip, dt):
    """What of an output offered or pushed on bus ``b`` can still be taken back (:func:`_take_back`):
    what is left on ``b``, and through each exchange (but those into bus ``skip``) what is left on
    its far bus, its store took in, its market was given, its need took or a converter's input
    settled there took."""
    a = WB[_OFFER, b, k]
    for i in range(BOUT_PTR[b], BOUT_PTR[b + 1]):
        e = BOUT_LINK[i]
        d = LD[e]
        if d == skip:
            continue
        m = _need_on(NI, d)
        there = WB[_OFFER, d, k] + (WN[_ACT, m, k] if m >= 0 else 0.0) + WB[_GIVEN, d, k]
        if BI[d, B_STORE] >= 0:
            there += WN[_INC, BI[d, B_STORE], k]
        q = _input_on(PB, PD, PDEF, d)
        if q >= 0:
            there += WP[q, k] * dt
        a += min(WL[_FLOW, e, k], there / (1.0 - LF[e, L_LOSS]))
    return a


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _flow_into(BOUT_PTR, BOUT_LINK, LD, WL, k, pb, b):
    """What bus ``pb`` sent into bus ``b`` through its exchanges this step."""
    x = 0.0
    for j in range(BOUT_PTR[pb], BOUT_PTR[pb + 1]):
        if LD[BOUT_LINK[j]] == b:
            x += WL[_FLOW, BOUT_LINK[j], k]
    return x


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _take_back(NI, NV, BI, PB, PD, PDEF, PBC, PBO, COEF, s, ti, BOUT_PTR, BOUT_LINK, LD, LF, Y, WB, WN, WL, WP, k, b,
               x, skip, dt):
    """Take ``x`` a cut unit no longer makes back from bus ``b``: what is left there, then through
    its exchanges (but those into bus ``skip``, the full store's, whose share the cut takes), last
    first, what is left on the far bus, what its store took in (it keeps less), what its market was
    given (sold less), what its need took and what a converter's input settled there took (each
    bought as its backup or lost instead, as if it had never come). Returns what could not be taken
    back."""
    r = min(x, WB[_OFFER, b, k])
    WB[_OFFER, b, k] -= r
    x -= r
    for i in range(BOUT_PTR[b + 1] - 1, BOUT_PTR[b] - 1, -1):
        if x <= 0.0:
            break
        e = BOUT_LINK[i]
        d, keep = LD[e], 1.0 - LF[e, L_LOSS]
        if d == skip:
            continue
        got = min(x, WL[_FLOW, e, k]) * keep  # what arrived on the far bus of what is asked back
        o = min(got, WB[_OFFER, d, k])
        WB[_OFFER, d, k] -= o
        rest = got - o
        if BI[d, B_STORE] >= 0:  # a store keeps less (its level is set once all stores have closed)
            i_ = min(rest, WN[_INC, BI[d, B_STORE], k])
            WN[_INC, BI[d, B_STORE], k] -= i_
            rest -= i_
        g = min(rest, WB[_GIVEN, d, k])  # a market sells less
        WB[_GIVEN, d, k] -= g
        rest -= g
        m = _need_on(NI, d)
        if rest > 0.0 and m >= 0:
            t = min(rest, WN[_ACT, m, k])
            WN[_ACT, m, k] -= t
            Y[k, Y_UNMET] += _shortfall(WN, COEF, s, ti, k, m, t, NV[m, V_COST], NV[m, V_CO2], BI[d, B_VOLL])
            rest -= t
        q = _input_on(PB, PD, PDEF, d)
        if rest > 0.0 and q >= 0:
            rest -= _unsettle(NI, BI, PB, PD, PDEF, PBC, PBO, COEF, s, ti, Y, WN, WP, k, q, rest, dt)
        back = (got - rest) / keep
        WL[_FLOW, e, k] -= back
        x -= back
    return x


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _port_column(PD, PDEF, PBC, ncols, q):
    """The ``Y`` column of input ``q``'s backup (it has one) or lost load (it has none), of ``ncols``:
    the backed inputs' columns, then the lost ones', come last (:func:`port_columns`)."""
    lost_n = _n_lost(PD, PDEF, PBC, PD.shape[0])
    if PBC[q] < 0:
        return ncols - lost_n + _n_lost(PD, PDEF, PBC, q)
    return ncols - lost_n - _n_backed(PD, PBC, PD.shape[0]) + _n_backed(PD, PBC, q)


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _owner_of(NI, q):
    """The converter port ``q`` belongs to."""
    for n in range(NI.shape[0]):
        if NI[n, I_TYPE] == T_CONVERTER and NI[n, I_P0] <= q < NI[n, I_P1]:
            return n
    return -1


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _unsettle(NI, BI, PB, PD, PDEF, PBC, PBO, COEF, s, ti, Y, WN, WP, k, q, x, dt):
    """Converter input ``q`` (taken when its unit settled) gets up to ``x`` less than it took: what
    it then lacks is bought as its backup, or is lost load, in its own column (a need's
    :func:`_shortfall`). Returns how much it gave up: at most what it got."""
    n = _owner_of(NI, q)
    j = _port_column(PD, PDEF, PBC, Y.shape[1], q)
    t = min(x, WP[q, k] * dt - Y[k, j])  # what it got
    if t <= 0.0:
        return 0.0
    lost = _shortfall(WN, COEF, s, ti, k, n, t, PBC[q], PBO[q], BI[PB[q], B_VOLL])
    Y[k, j] += t
    Y[k, Y_UNMET] += lost
    return t


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _kept_by_others(NI, NF, PB, PD, PV, PO, PDEF, BI, BOUT_PTR, BOUT_LINK, LD, LF, COEF, s, ti, WB, WN, WL, WP, k, n, b,
                    old, dt):
    """The least load converter ``n`` (at ``old``) can be cut to while a full store on bus ``b``
    takes back its delivery: what its other outputs gave and cannot take back must still be made
    (:func:`_reduce`)."""
    floor = 0.0
    for p in range(NI[n, I_P0], NI[n, I_P1]):
        pb = PB[p]
        if PD[p] != 1 or pb == b:
            continue
        into = _flow_into(BOUT_PTR, BOUT_LINK, LD, WL, k, pb, b) if BI[pb, B_PUSHED] == 1 else 0.0
        if into > 0.0 and into >= WP[p, k] * dt:
            continue  # all of it went into the store: what the cut takes
        if PO[p] >= 0:  # a ratio of another port's flow: not inverted here, so kept
            floor = old
        else:  # offered on its bus or pushed elsewhere: what cannot be taken back (per hour) is still made
            back = _recallable(NI, BI, PB, PD, PDEF, BOUT_PTR, BOUT_LINK, LD, LF, WB, WN, WL, WP, k, pb, b, dt)
            taken = WP[p, k] - (into + back) / dt
            if taken > 0.0:
                floor = max(floor, _load_limit(NI, NF, PV, COEF, s, ti, n, p, taken))
    return floor


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _cut_output(NI, NV, BI, PB, PD, PDEF, PBC, PBO, COEF, s, ti, BOUT_PTR, BOUT_LINK, LD, LF, Y, WB, WN, WL, WP, k, pb, b,
                d, dt):
    """An output on bus ``pb`` of a unit cut by the full store on bus ``b`` makes ``d`` less: returns
    the part the store's inflow gives up (its caller takes it off the store), after taking the rest
    back from where it went (:func:`_take_back`): pushed into the store, its share of the store's
    inflow; pushed elsewhere too (a min load's fall to 0 cuts more than the store's share), or
    offered on its own bus, the rest."""
    if BI[pb, B_PUSHED] == 1 and _reaches(BOUT_PTR, BOUT_LINK, LD, pb, b):
        if pb == b:
            return d
        into = min(d, _flow_into(BOUT_PTR, BOUT_LINK, LD, WL, k, pb, b))
        if d > into:
            _take_back(NI, NV, BI, PB, PD, PDEF, PBC, PBO, COEF, s, ti, BOUT_PTR, BOUT_LINK, LD, LF, Y, WB, WN, WL, WP,
                       k, pb, d - into, b, dt)
        return into
    if pb != b:
        _take_back(NI, NV, BI, PB, PD, PDEF, PBC, PBO, COEF, s, ti, BOUT_PTR, BOUT_LINK, LD, LF, Y, WB, WN, WL, WP, k, pb,
                   d, b, dt)
    return 0.0


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _reduce(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, LS, LD, LF, COEF, ser,
            t, Y, WB, WN, WL, WP, WQ, k, n, b, cut, dt):
    """Lower converter ``n``'s delivery into a full store (on bus ``b``) by ``cut``: its load and
    inputs follow, and so do its other outputs.

    An output offered on its bus (a dump beside it, needs drawing on it) or pushed elsewhere gives
    back what is still there, what a market was given and what needs took of it, which they then
    buy as backup or lack (:func:`_take_back`). What cannot be taken back (a unit that ran on it, a
    store that took it) keeps the unit no lower than that needs; what the store then
    cannot keep overflows at its capacity and is spilled there (:func:`_store_levels`). A cut never
    makes by-products from nothing (a fuzzed park: a boiler cut from 23.8 to 8.5 kW kept its
    12.3 kW of steam, 5.5 of them taken by a turbine, the rest dumped).
    """
    s, ti = ser[k], t[k]
    old = WN[_ACT, n, k] / dt
    per = 0.0
    for p in range(NI[n, I_P0], NI[n, I_P1]):  # what reaches the store per unit of load
        if PD[p] == 1 and BI[PB[p], B_PUSHED] == 1 and old > 0.0 and _reaches(BOUT_PTR, BOUT_LINK, LD, PB[p], b):
            per += WP[p, k] / old
    if per <= 0.0:
        return 0.0
    new = max(old - cut / dt / per, 0.0)
    if new < NF[n, F_MIN_LOAD] * NF[n, F_RATED] - _EPS:
        new = 0.0
    floor = _kept_by_others(NI, NF, PB, PD, PV, PO, PDEF, BI, BOUT_PTR, BOUT_LINK, LD, LF, COEF, s, ti, WB, WN, WL, WP, k, n,
                            b, old, dt)
    if new < floor:
        new = min(max(floor, NF[n, F_MIN_LOAD] * NF[n, F_RATED]), old)
    if new >= old:
        return 0.0
    for p in range(NI[n, I_P0], NI[n, I_P1]):
        WQ[p, k] = WP[p, k]
    WN[_LOAD, n, k] = new  # this row's load for _port_flows (0 outside a converter's op)
    _port_flows(NI, NF, PV, PO, COEF, ser, t, WP, WN, k, k + 1, n)
    WN[_LOAD, n, k] = 0.0
    WN[_ACT, n, k] = new * dt if new > 0.0 else 1e-300
    done = 0.0
    for p in range(NI[n, I_P0], NI[n, I_P1]):
        d = (WQ[p, k] - WP[p, k]) * dt
        if d <= 0.0:
            continue
        if PD[p] == 0:
            if PBC[p] >= 0:  # this input's bought shortfall goes first (its own column: not another input's)
                jb = _port_column(PD, PDEF, PBC, Y.shape[1], p)
                back = min(d, Y[k, jb])
                Y[k, jb] -= back
                WN[_BACK, n, k] -= back
                WN[_COST, n, k] -= back * COEF[s, ti, PBC[p]]
                WN[_CO2, n, k] -= back * COEF[s, ti, PBO[p]]
                d -= back
            elif PDEF[p] == 1:  # so does what it lacked (lost load): it needs less, so it lacks less
                j = _port_column(PD, PDEF, PBC, Y.shape[1], p)
                back = min(d, Y[k, j])
                Y[k, j] -= back
                Y[k, Y_UNMET] -= back
                WN[_COST, n, k] -= back * COEF[s, ti, BI[PB[p], B_VOLL]]
                d -= back
            _return_input(BI, BIN_PTR, BIN_LINK, LS, LF, WB, WN, WL, k, PB[p], d)
        else:
            done += _cut_output(NI, NV, BI, PB, PD, PDEF, PBC, PBO, COEF, s, ti, BOUT_PTR, BOUT_LINK, LD, LF, Y, WB, WN, WL,
                                WP, k, PB[p], b, d, dt)
    return done


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _spill_back(BIN_PTR, BIN_LINK, LS, LF, LPASS, WB, WN, WL, k, b, st, over):
    """Give ``over`` of a store's must-go inflows back to their buses, last exchange first."""
    for i in range(BIN_PTR[b + 1] - 1, BIN_PTR[b] - 1, -1):
        e = BIN_LINK[i]
        if over <= 0.0:
            break
        if LPASS[e] == 0:
            continue
        keep = 1.0 - LF[e, L_LOSS]
        r = min(over, WL[_FLOW, e, k] * keep, WN[_INP, st, k])  # what passed to a need stays with it
        WL[_FLOW, e, k] -= r / keep
        WN[_INP, st, k] -= r
        WB[_OFFER, LS[e], k] += r / keep
        over -= r


@njit(cache=True, _nrt=False, error_model="numpy")  # a rare path: compiled once, not inlined
def _sent_to(NI, PB, PD, BI, BOUT_PTR, BOUT_LINK, LD, WL, WP, k, n, b, dt):
    """What converter ``n`` sent toward bus ``b`` (a full store's) this step, at its own end: its
    output on ``b`` and its flows into ``b``. A unit may push into a store and onto other buses: only
    what it sent there is cut when the store overfills, each pusher by its share."""
    sent = 0.0
    for p in range(NI[n, I_P0], NI[n, I_P1]):
        pb = PB[p]
        if PD[p] != 1 or BI[pb, B_PUSHED] != 1:
            continue
        if pb == b:
            sent += WP[p, k] * dt
        for j in range(BOUT_PTR[pb], BOUT_PTR[pb + 1]):
            if LD[BOUT_LINK[j]] == b:
                sent += WL[_FLOW, BOUT_LINK[j], k]
    return sent


@njit(cache=True, _nrt=False, error_model="numpy")
def _store_close(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, STP_PTR, STP_NODE,
                 LS, LD, LF, LPASS, COEF, ser, t, Y, WB, WN, WL, WP, WQ, k0, k1, st, dt):
    """End a store's step: converters that overfill it run less, then must-go inflows spill back
    (its level is set once all stores have closed: :func:`_store_levels`)."""
    for k in range(k0, k1):
        b = NI[st, I_BUS]
        cap = NF[st, F_CAP]
        level = WN[_WORK, st, k] + WN[_INP, st, k] + WN[_INC, st, k] - WN[_OUT, st, k]
        over = level - cap
        if over > 0.0 and WN[_INC, st, k] > 0.0:
            inc0 = WN[_INC, st, k]
            cut_total = min(over, inc0)
            share = cut_total / inc0
            for i in range(STP_PTR[st], STP_PTR[st + 1]):
                n = STP_NODE[i]
                sent = _sent_to(NI, PB, PD, BI, BOUT_PTR, BOUT_LINK, LD, WL, WP, k, n, b, dt)
                if sent <= 0.0:
                    continue
                done = _reduce(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, LS,
                               LD, LF, COEF, ser, t, Y, WB, WN, WL, WP, WQ, k, n, b, sent * share, dt)
                delivered = done
                for p in range(NI[n, I_P0], NI[n, I_P1]):
                    pb = PB[p]
                    if PD[p] != 1 or BI[pb, B_PUSHED] != 1 or delivered <= 0.0:
                        continue
                    if pb == b:
                        WN[_INC, st, k] -= delivered
                        delivered = 0.0
                    for j in range(BOUT_PTR[pb], BOUT_PTR[pb + 1]):
                        e = BOUT_LINK[j]
                        if LD[e] == b and delivered > 0.0:
                            r = min(delivered, WL[_FLOW, e, k])
                            WL[_FLOW, e, k] -= r
                            WN[_INC, st, k] -= r * (1.0 - LF[e, L_LOSS])
                            delivered -= r
            level = WN[_WORK, st, k] + WN[_INP, st, k] + WN[_INC, st, k] - WN[_OUT, st, k]
            over = level - cap
        if over > 0.0:  # must-go inflows the store cannot keep go back to their buses (dumped there)
            _spill_back(BIN_PTR, BIN_LINK, LS, LF, LPASS, WB, WN, WL, k, b, st, over)


@njit(cache=True, _nrt=False, error_model="numpy")
def _close_again(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, STP_PTR, STP_NODE,
                 LS, LD, LF, LPASS, COEF, ser, t, Y, WB, WN, WL, WP, WQ, k0, k1, dt):
    """After the last close, a store that inputs given back since its close overfill closes again
    (:func:`_store_levels`), until none is over: a unit it cuts gives its own inputs back, perhaps
    to a store further up that has closed again already (wood bin → chipper → silo → boiler →
    tank), one store of such a chain per pass, and a chain holds no more stores than the park."""
    for _ in range(WN.shape[1]):  # as many passes as components: WN's axis, not NI's, so that codegen's
        again = False             # fold keeps the passes a loop (it unrolls a loop over a table's size)
        for n in range(NI.shape[0]):
            if NI[n, I_TYPE] == T_STORAGE:  # noqa: SIM102 - fold drops a known test, not one beside a call
                if _overfull(NF, WN, k0, k1, n):
                    _store_close(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK,
                                 STP_PTR, STP_NODE, LS, LD, LF, LPASS, COEF, ser, t, Y, WB, WN, WL, WP, WQ, k0, k1, n, dt)
                    again = True
        if not again:
            break


@njit(cache=True, _nrt=False, error_model="numpy")
def _overfull(NF, WN, k0, k1, st):
    """Whether store ``st`` holds more than its capacity in a row of ``k0:k1`` (beyond rounding)."""
    cap = NF[st, F_CAP]
    for k in range(k0, k1):
        if WN[_WORK, st, k] + WN[_INP, st, k] + WN[_INC, st, k] - WN[_OUT, st, k] > cap + 1e-12 * max(cap, 1.0):
            return True
    return False


@njit(cache=True, _nrt=False, error_model="numpy")
def _store_levels(NI, NF, S, WB, WN, k0, k1):
    """Each store's level at the end of the step, once every store has closed and closed again: a unit
    that a later store's close cut back gives its input back to where it came from, an earlier-closed
    store included (its ``_OUT`` falls after its close: a silo feeding a boiler cut by a full heat
    tank), so no store's level is final before the last close; a store those inputs overfill closes
    again (:func:`_close_again`: its pushers cut, its must-go inflows sent back). What a store still
    cannot keep is left on its bus: spilled there, never lost unsaid. Stores outside, rows inside."""
    for st in range(NI.shape[0]):
        if NI[st, I_TYPE] != T_STORAGE:
            continue
        b = NI[st, I_BUS]
        cap = NF[st, F_CAP]
        for k in range(k0, k1):
            level = WN[_WORK, st, k] + WN[_INP, st, k] + WN[_INC, st, k] - WN[_OUT, st, k]
            if level > cap:
                WB[_OFFER, b, k] += level - cap
            S[k, st] = min(max(level, 0.0), cap)
            WN[_ACT, st, k] = S[k, st]


@njit(cache=True, _nrt=False, error_model="numpy")
def _begin(BI, LS, LA, LF, MASK, A, Y, WB, WN, WL, k0, k1, dt, clip0):
    """Clear the rows' scratch (in memory order: each figure's block of rows is contiguous);
    controllable exchanges out of anything but a store cap what may be pulled through them (a
    store's are granted when it discharges), whether one is such a cap read once for the block."""
    for e in range(LS.shape[0]):
        req = LA[e] >= 0 and BI[LS[e], B_STORE] < 0
        for k in range(k0, k1):
            WL[_FLOW, e, k] = 0.0
            WL[_REQ, e, k] = _frac(A, Y, k, LA[e], clip0) * LF[e, L_CAP] * MASK[k, e] * dt if req else -1.0
            WL[_CLAIMED, e, k] = 0.0
    for j in range(WB.shape[0]):
        for b in range(WB.shape[1]):
            for k in range(k0, k1):
                WB[j, b, k] = 0.0
    for j in range(WN.shape[0]):
        for n in range(WN.shape[1]):
            for k in range(k0, k1):
                WN[j, n, k] = 0.0
    for k in range(k0, k1):
        Y[k, Y_UNMET] = 0.0  # summed over the step's shortfalls
        for j in range(clip0 + A.shape[1], Y.shape[1]):  # lost inputs, written when settled
            Y[k, j] = 0.0


@njit(cache=True, _nrt=False, error_model="numpy")
def _store_open(NF, S, WB, WN, k0, k1, n, b, dt):
    """Standing loss and first-order release, both from the level at the start of the step."""
    for k in range(k0, k1):
        lv = S[k, n]
        rel = lv * min(1.0, NF[n, F_RELEASE] * dt)
        WN[_BACK, n, k] = lv * NF[n, F_LOSS] * dt  # a store's "backup" column holds its standing loss
        WN[_WORK, n, k] = lv - WN[_BACK, n, k] - rel
        WB[_OFFER, b, k] += rel


@njit(cache=True, _nrt=False, error_model="numpy")
def _store_in(NF, BIN_PTR, BIN_LINK, LS, LF, LPASS, MASK, WB, WN, WL, k0, k1, n, b, dt):
    """A store takes the must-go supply of its passive exchanges (waste heat) up to its charge rate."""
    for k in range(k0, k1):
        for j in range(BIN_PTR[b], BIN_PTR[b + 1]):
            e = BIN_LINK[j]
            if LPASS[e] == 0:
                continue
            keep = 1.0 - LF[e, L_LOSS]
            room = NF[n, F_MAX_CH] * dt - WN[_INP, n, k] - WN[_INC, n, k]
            y = min(LF[e, L_CAP] * MASK[k, e] * dt - WL[_FLOW, e, k], room / keep, WB[_OFFER, LS[e], k])
            if y > 0.0:
                WB[_OFFER, LS[e], k] -= y
                WL[_FLOW, e, k] += y
                WN[_INP, n, k] += y * keep


@njit(cache=True, _nrt=False, error_model="numpy")
def _disposal_setpoint(NI, NF, NV, BI, COEF, ser, t, A, Y, WB, WN, k0, k1, n, b, dt, clip0):
    """A flare on demand: burns its action's share of ``max`` from what its bus holds."""
    for k in range(k0, k1):
        a = _frac(A, Y, k, NI[n, I_ACTION], clip0)
        s, ti = ser[k], t[k]
        got = min(a * NF[n, F_MAX] * dt, _avail_local(BI, NF, WB, WN, k, b, dt))
        if got > 0.0:
            _take_local(BI, NF, WB, WN, k, b, got, dt)
        WN[_ACT, n, k] = got
        WN[_COST, n, k] += got * COEF[s, ti, NV[n, V_COST]]
        WN[_CO2, n, k] = got * COEF[s, ti, NV[n, V_CO2]]


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _take_residue(BIN_PTR, BIN_LINK, LS, LF, LPASS, MASK, WB, WL, k, b, x, dt):
    """A need stated on bus ``b`` takes free residue (waste heat, sludge) through its passive
    exchanges at once, so no store takes it first; it waits on ``b`` to be taken when settled.
    On a store's bus the need takes the store's must-go inflow the same way: what passes the bus
    never enters the store, so it counts against neither its charge nor its discharge limit
    (issue 22, finding 3: limits on gross flows, as the LP states them)."""
    got = 0.0
    for i in range(BIN_PTR[b], BIN_PTR[b + 1]):
        e = BIN_LINK[i]
        if LPASS[e] == 0 or got >= x:
            continue
        keep = 1.0 - LF[e, L_LOSS]
        y = min((x - got) / keep, LF[e, L_CAP] * MASK[k, e] * dt - WL[_FLOW, e, k], WB[_OFFER, LS[e], k])
        if y > 0.0:
            WB[_OFFER, LS[e], k] -= y
            WL[_FLOW, e, k] += y
            WB[_OFFER, b, k] += y * keep
            got += y * keep


@njit(cache=True, _nrt=False, error_model="numpy")
def _shortfall(WN, COEF, s, ti, k, n, short, cost_v, co2_v, voll_v):
    """A shortfall bought as backup (cost and CO2 per unit); returns what stays unmet, which costs
    the value of lost load of its resource (column ``voll_v``; issue 22, finding 4)."""
    if short <= 1e-12:
        return 0.0
    if cost_v < 0:
        WN[_COST, n, k] += short * COEF[s, ti, voll_v]
        return short
    WN[_BACK, n, k] += short
    WN[_COST, n, k] += short * COEF[s, ti, cost_v]
    WN[_CO2, n, k] += short * COEF[s, ti, co2_v]
    return 0.0


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _settle_need(BI, NF, BIN_PTR, BIN_LINK, LS, LA, LF, MASK, A, WB, WN, WL, k, b, x, dt):
    got = _pull(BI, NF, BIN_PTR, BIN_LINK, LS, LA, LF, MASK, A, WB, WN, WL, k, b, x, dt)
    WB[_NEED, b, k] -= x
    return max(x - got, 0.0)


@njit(cache=True, _nrt=False, error_model="numpy")
def _n_lost(PD, PDEF, PBC, p1):
    """How many ports before ``p1`` are inputs taken on demand with no backup (:func:`lost_ports`)."""
    c = 0
    for q in range(p1):
        if PD[q] == 0 and PDEF[q] == 1 and PBC[q] < 0:
            c += 1
    return c


@njit(cache=True, _nrt=False, error_model="numpy")
def _n_backed(PD, PBC, p1):
    """How many ports before ``p1`` are inputs with a backup (:func:`backed_ports`)."""
    c = 0
    for q in range(p1):
        if PD[q] == 0 and PBC[q] >= 0:
            c += 1
    return c


@njit(cache=True, _nrt=False, error_model="numpy")
def _conv_settle(NI, PB, PD, PDEF, PBC, PBO, BI, NF, BIN_PTR, BIN_LINK, LS, LA, LF, MASK, COEF, ser, t, A, Y, WB,
                 WN, WL, WP, k0, k1, n, dt):
    """Take the inputs a converter's load stated but did not take at once; buy or count shortfalls.
    What an input with no backup lacks is lost load, reported in its ``lost:`` column (the last
    columns, one per such port in port order: :func:`lost_ports`); what one with a backup bought, in
    its ``backup:`` column (just before them: :func:`backed_ports`)."""
    bought0 = N_HEAD + LS.shape[0] + 3 * NI.shape[0] + A.shape[1]  # after the head, flows, nodes, clips
    lost0 = bought0 + _n_backed(PD, PBC, PD.shape[0])
    # ports outside, rows inside (as :func:`_converter_bound`); a row's sum of what stays unmet
    # waits in WN[_LOAD, n, k], summed in port order as before
    for p in range(NI[n, I_P0], NI[n, I_P1]):
        if PD[p] == 0 and PDEF[p] == 1:
            jb = bought0 + _n_backed(PD, PBC, p) if PBC[p] >= 0 else -1  # its column, once per block
            for k in range(k0, k1):
                s, ti = ser[k], t[k]
                if PBC[p] < 0:
                    _release(BIN_PTR, BIN_LINK, LS, WB, WL, k, PB[p])
                short = _settle_need(BI, NF, BIN_PTR, BIN_LINK, LS, LA, LF, MASK, A, WB, WN, WL, k, PB[p], WP[p, k] * dt, dt)
                lost = _shortfall(WN, COEF, s, ti, k, n, short, PBC[p], PBO[p], BI[PB[p], B_VOLL])
                if lost > 0.0:
                    Y[k, lost0 + _n_lost(PD, PDEF, PBC, p)] = lost
                elif jb >= 0 and short > 1e-12:  # bought (as _shortfall counts it)
                    Y[k, jb] = short
                WN[_LOAD, n, k] += lost
    for k in range(k0, k1):
        Y[k, Y_UNMET] += WN[_LOAD, n, k]
        WN[_LOAD, n, k] = 0.0


@njit(cache=True, _nrt=False, error_model="numpy")
def _source(NV, COEF, ser, t, WB, WN, k0, k1, n, b, dt):
    """A source offers its profile's value this step."""
    for k in range(k0, k1):
        WN[_ACT, n, k] = max(COEF[ser[k], t[k], NV[n, V_PROFILE]], 0.0) * dt
        WB[_OFFER, b, k] += WN[_ACT, n, k]


@njit(cache=True, _nrt=False, error_model="numpy")
def _demand_plan(NV, BI, BIN_PTR, BIN_LINK, LS, LF, LPASS, MASK, COEF, ser, t, WB, WL, k0, k1, n, b, dt):
    """A demand states its need on its bus and takes free residue at once (:func:`_take_residue`)."""
    v, residue = NV[n, V_PROFILE], BI[b, B_RESIDUE] == 1
    for k in range(k0, k1):
        x = max(COEF[ser[k], t[k], v], 0.0) * dt
        WB[_NEED, b, k] += x
        if residue:
            _take_residue(BIN_PTR, BIN_LINK, LS, LF, LPASS, MASK, WB, WL, k, b, x, dt)


@njit(cache=True, _nrt=False, error_model="numpy")
def _take_residues(NI, PB, PD, PDEF, BI, BIN_PTR, BIN_LINK, LS, LF, LPASS, MASK, WB, WL, WP, k0, k1, n, dt):
    """The inputs a converter takes when settling take free residue at once, as a need does."""
    for p in range(NI[n, I_P0], NI[n, I_P1]):
        if PD[p] == 0 and PDEF[p] == 1 and BI[PB[p], B_RESIDUE] == 1:  # only there is residue to take
            for k in range(k0, k1):
                _take_residue(BIN_PTR, BIN_LINK, LS, LF, LPASS, MASK, WB, WL, k, PB[p], WP[p, k] * dt, dt)


@njit(cache=True, _nrt=False, error_model="numpy")
def _demand_settle(NV, BI, NF, BIN_PTR, BIN_LINK, LS, LA, LF, MASK, COEF, ser, t, A, Y, WB, WN, WL, k0, k1, n, b, dt):
    """A demand takes what its bus brings; the rest is bought as backup or stays unmet."""
    for k in range(k0, k1):
        x = max(COEF[ser[k], t[k], NV[n, V_PROFILE]], 0.0) * dt
        short = _settle_need(BI, NF, BIN_PTR, BIN_LINK, LS, LA, LF, MASK, A, WB, WN, WL, k, b, x, dt)
        WN[_ACT, n, k] = x - short
        Y[k, Y_UNMET] += _shortfall(WN, COEF, ser[k], t[k], k, n, short, NV[n, V_COST], NV[n, V_CO2], BI[b, B_VOLL])


# A loop's segment is repeated until no op's change of the working state moves by more than
# LOOP_TOL (relative, or absolute below one unit) from its previous pass; LOOP_PASSES bounds it
LOOP_TOL = 1e-12
LOOP_PASSES = 1000


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _cell(x, WQ, k, a, b, mode):
    """One cell ``x`` of the working state against the loop scratch ``WQ[a, k]`` (and ``b``):
    0 save it there, 1 add it, 2 subtract it, 3 load it; 4 (``a`` held the cell before an op,
    ``b`` the op's change in the previous pass) store the op's change in ``b`` and return how far
    it moved. Returns (the cell's new value, the move)."""
    if mode == 0:
        WQ[a, k] = x
    elif mode == 1:
        x += WQ[a, k]
    elif mode == 2:
        x -= WQ[a, k]
    elif mode == 3:
        x = WQ[a, k]
    else:
        d = x - WQ[a, k]
        move = abs(d - WQ[b, k]) / max(abs(d), abs(WQ[b, k]), 1.0)
        WQ[b, k] = d
        return x, move
    return x, 0.0


@njit(cache=True, _nrt=False, error_model="numpy")
def _walk(WB, WN, WL, WP, Y, WQ, k, a, b, mode):
    """:func:`_cell` over row ``k``'s whole working state, cell ``j`` at ``WQ[a + j, k]`` (and
    ``b + j``); returns the largest move."""
    worst, j = 0.0, 0
    for r in range(WB.shape[0]):
        for c in range(WB.shape[1]):
            WB[r, c, k], m = _cell(WB[r, c, k], WQ, k, a + j, b + j, mode)
            worst, j = max(worst, m), j + 1
    for r in range(WN.shape[0]):
        for c in range(WN.shape[1]):
            WN[r, c, k], m = _cell(WN[r, c, k], WQ, k, a + j, b + j, mode)
            worst, j = max(worst, m), j + 1
    for r in range(WL.shape[0]):
        for c in range(WL.shape[1]):
            WL[r, c, k], m = _cell(WL[r, c, k], WQ, k, a + j, b + j, mode)
            worst, j = max(worst, m), j + 1
    for c in range(WP.shape[0]):
        WP[c, k], m = _cell(WP[c, k], WQ, k, a + j, b + j, mode)
        worst, j = max(worst, m), j + 1
    for c in range(Y.shape[1]):
        Y[k, c], m = _cell(Y[k, c], WQ, k, a + j, b + j, mode)
        worst, j = max(worst, m), j + 1
    return worst


@njit(cache=True, _nrt=False, inline="always", error_model="numpy")
def _plan_at(OPS, i0):
    """The loop at ``OPS[i0]``: its op count, where its plan starts in the plan region, the
    region's size (2 cells per op of every loop, :func:`loop_plans_of`)."""
    m, off, total, i = 0, 0, 0, 0
    while i < OPS.shape[0]:
        if OPS[i, 0] != OP_LOOP:
            i += 1
            continue
        c = 0
        while i + 1 + c < OPS.shape[0] and OPS[i + 1 + c, 0] >= OP_IN_LOOP:
            c += 1
        if i < i0:
            off += 2 * c
        elif i == i0:
            m = c
        total += 2 * c
        i += 1 + c
    return m, off, total


@njit(cache=True, _nrt=False, error_model="numpy")
def _loop(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR,
          BFI_NODE, BFO_PTR, BFO_NODE, STP_PTR, STP_NODE, LS, LD, LA, LF, LPASS, OPS, COEF, MASK, ser, t, S, A, Y,
          WB, WN, WL, WP, WQ, k0, k1, dt, clip0, i0):
    """Run the loop whose segment starts after ``OPS[i0]`` as each row's plan says (written by
    :class:`Batch` from the row's mask, :func:`sim_env.graph.schedule.loop_plans`): its ops in the
    order of the park without the row's masked exchanges, each group of them that is still a loop
    there resolved by :func:`_settle`, each other op run once. A masked exchange is thus exactly a
    removed one (issue 22, item 2); with nothing masked, one group of every op. Rows of one plan
    (the common case) run as one block, each op over all of them; otherwise row by row."""
    m, off, total = _plan_at(OPS, i0)
    base = WQ.shape[0] - 1 - total + off
    same = True
    for k in range(k0 + 1, k1):
        for c in range(2 * m):
            same = same and WQ[base + c, k] == WQ[base + c, k0]
    rows = k1 - k0 if same else 1
    for ka in range(k0, k1, rows):
        q = 0
        while q < m:
            g = int(WQ[base + m + q, ka])
            if g == 1:
                j = int(WQ[base + q, ka])
                _loop_op(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK,
                         BFI_PTR, BFI_NODE, BFO_PTR, BFO_NODE, STP_PTR, STP_NODE, LS, LD, LA, LF, LPASS, COEF, MASK,
                         ser, t, S, A, Y, WB, WN, WL, WP, WQ, ka, ka + rows, dt, clip0, OPS[i0 + 1 + j, 0] - OP_IN_LOOP,
                         OPS[i0 + 1 + j, 1])
            else:
                _settle(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR,
                        BFI_NODE, BFO_PTR, BFO_NODE, STP_PTR, STP_NODE, LS, LD, LA, LF, LPASS, OPS, COEF, MASK, ser, t,
                        S, A, Y, WB, WN, WL, WP, WQ, ka, ka + rows, dt, clip0, i0, base, q, g)
            q += max(g, 1)


@njit(cache=True, _nrt=False, error_model="numpy")
def _settle(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR,
            BFI_NODE, BFO_PTR, BFO_NODE, STP_PTR, STP_NODE, LS, LD, LA, LF, LPASS, OPS, COEF, MASK, ser, t, S, A, Y,
            WB, WN, WL, WP, WQ, k0, k1, dt, clip0, i0, base, q, g):
    """Resolve the group of ``g`` ops at plan positions ``q:q + g`` (row ``k0``'s plan, shared by rows
    ``k0:k1``) of the loop at ``OPS[i0]`` (Gauss-Seidel): each pass starts from the snapshot of the
    working state taken before the group plus every op's change in the previous pass, and each op
    runs once that op's own change is taken back out, so it sees what the ops after it did last
    pass. The ops are the step's own (:func:`_loop_op`). Stops when no change moves by more than
    LOOP_TOL; after LOOP_PASSES each row's flag ``WQ[-1, k]`` holds ``i0 + 1`` and :class:`Batch`
    raises, naming the loop's members."""
    cells = WB.shape[0] * WB.shape[1] + WN.shape[0] * WN.shape[1] + WL.shape[0] * WL.shape[1] + WP.shape[0] + Y.shape[1]
    snap = max(PB.shape[0], 1)
    before = snap + cells
    for k in range(k0, k1):
        _walk(WB, WN, WL, WP, Y, WQ, k, snap, snap, 0)
        for j in range(2 * cells, (2 + g) * cells):
            WQ[snap + j, k] = 0.0
    for p in range(LOOP_PASSES):
        if p > 0:
            for k in range(k0, k1):
                _walk(WB, WN, WL, WP, Y, WQ, k, snap, snap, 3)
                for j in range(g):
                    _walk(WB, WN, WL, WP, Y, WQ, k, before + (1 + j) * cells, 0, 1)
        worst = 0.0
        for j in range(g):
            change = before + (1 + j) * cells
            for k in range(k0, k1):
                _walk(WB, WN, WL, WP, Y, WQ, k, change, 0, 2)
                _walk(WB, WN, WL, WP, Y, WQ, k, before, 0, 0)
            o = int(WQ[base + q + j, k0])
            _loop_op(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR,
                     BFI_NODE, BFO_PTR, BFO_NODE, STP_PTR, STP_NODE, LS, LD, LA, LF, LPASS, COEF, MASK, ser, t, S, A, Y,
                     WB, WN, WL, WP, WQ, k0, k1, dt, clip0, OPS[i0 + 1 + o, 0] - OP_IN_LOOP, OPS[i0 + 1 + o, 1])
            for k in range(k0, k1):
                worst = max(worst, _walk(WB, WN, WL, WP, Y, WQ, k, before, change, 4))
        if p > 0 and worst <= LOOP_TOL:
            return
    for k in range(k0, k1):
        WQ[WQ.shape[0] - 1, k] = i0 + 1


@njit(cache=True, _nrt=False, error_model="numpy")
def _loop_op(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR,
             BFI_NODE, BFO_PTR, BFO_NODE, STP_PTR, STP_NODE, LS, LD, LA, LF, LPASS, COEF, MASK, ser, t, S, A, Y,
             WB, WN, WL, WP, WQ, k0, k1, dt, clip0, op, n):
    """One op of a loop, as :func:`_step_park` dispatches it (the ops a loop can hold)."""
    b = NI[n, I_BUS]
    if op == OP_STORE_IN:
        _store_in(NF, BIN_PTR, BIN_LINK, LS, LF, LPASS, MASK, WB, WN, WL, k0, k1, n, b, dt)
    elif op == OP_DEMAND_PLAN:
        _demand_plan(NV, BI, BIN_PTR, BIN_LINK, LS, LF, LPASS, MASK, COEF, ser, t, WB, WL, k0, k1, n, b, dt)
    elif op == OP_CONV_LOAD:
        _converter_load(NI, NF, NV, PB, PD, PV, PO, PBC, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR,
                        BFI_NODE, BFO_PTR, BFO_NODE, LS, LD, LA, LF, MASK, COEF, ser, t, A, Y, WB, WN, WL, WP, k0, k1, n,
                        dt, clip0)
        _take_residues(NI, PB, PD, PDEF, BI, BIN_PTR, BIN_LINK, LS, LF, LPASS, MASK, WB, WL, WP, k0, k1, n, dt)
    elif op == OP_STORE_OUT:
        _store_out(NI, NF, NV, PB, PD, PV, PO, BI, BOUT_PTR, BOUT_LINK, BFI_PTR, BFI_NODE, LD, LA, LF, MASK, COEF, ser, t, A,
                       Y, WB, WN, WL, k0, k1,
                   n, dt, clip0)
    elif op == OP_DISPOSAL:
        _disposal_setpoint(NI, NF, NV, BI, COEF, ser, t, A, Y, WB, WN, k0, k1, n, b, dt, clip0)
    elif op == OP_CONV_SETTLE:
        _conv_settle(NI, PB, PD, PDEF, PBC, PBO, BI, NF, BIN_PTR, BIN_LINK, LS, LA, LF, MASK, COEF, ser, t, A, Y, WB,
                     WN, WL, WP, k0, k1, n, dt)
    elif op == OP_DEMAND_SETTLE:
        _demand_settle(NV, BI, NF, BIN_PTR, BIN_LINK, LS, LA, LF, MASK, COEF, ser, t, A, Y, WB, WN, WL, k0, k1, n, b,
                       dt)


@njit(cache=True, _nrt=False, error_model="numpy")
def _step_park(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR,
               BFI_NODE, BFO_PTR, BFO_NODE, STP_PTR, STP_NODE, LS, LD, LA, LF, LPASS, OPS, COEF, MASK, ser, t, S, A, Y, WB,
               WN, WL, WP, WQ, k0, k1, dt, carbon, LOOPS):
    """Step rows ``k0:k1`` op by op, each op over all of them (issue 22 item 6): an op's call and its
    table reads are paid once per block of rows, not per row. Rows share nothing but the tables,
    so each row's arithmetic is what it would be alone. ``Y[k, Y_UNMET]`` accumulates the unmet.

    ``LOOPS`` is ``None`` for a park without loops (else how many it has): Numba then drops the
    loops' branch before typing it, so such a park's kernel never compiles :func:`_loop` and what
    it calls (20 of the generic kernel's 52 CPU s of cold compile; a cache entry of its own)."""
    nn, nl = NI.shape[0], LS.shape[0]
    clip0 = N_HEAD + nl + 3 * nn
    _begin(BI, LS, LA, LF, MASK, A, Y, WB, WN, WL, k0, k1, dt, clip0)
    for i in range(OPS.shape[0]):
        op, n = OPS[i, 0], OPS[i, 1]
        b = NI[n, I_BUS]
        if op == OP_SOURCE:
            _source(NV, COEF, ser, t, WB, WN, k0, k1, n, b, dt)
        elif op == OP_STORE_OPEN:
            _store_open(NF, S, WB, WN, k0, k1, n, b, dt)
        elif op == OP_STORE_IN:
            _store_in(NF, BIN_PTR, BIN_LINK, LS, LF, LPASS, MASK, WB, WN, WL, k0, k1, n, b, dt)
        elif op == OP_DEMAND_PLAN:
            _demand_plan(NV, BI, BIN_PTR, BIN_LINK, LS, LF, LPASS, MASK, COEF, ser, t, WB, WL, k0, k1, n, b, dt)
        elif op == OP_CONV_LOAD:
            _converter_load(NI, NF, NV, PB, PD, PV, PO, PBC, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR,
                            BFI_NODE, BFO_PTR, BFO_NODE, LS, LD, LA, LF, MASK, COEF, ser, t, A, Y, WB, WN, WL, WP, k0, k1, n,
                            dt, clip0)
            _take_residues(NI, PB, PD, PDEF, BI, BIN_PTR, BIN_LINK, LS, LF, LPASS, MASK, WB, WL, WP, k0, k1, n, dt)
        elif op == OP_STORE_OUT:
            _store_out(NI, NF, NV, PB, PD, PV, PO, BI, BOUT_PTR, BOUT_LINK, BFI_PTR, BFI_NODE, LD, LA, LF, MASK, COEF,
                       ser, t, A,
                       Y, WB, WN, WL, k0, k1,
                       n, dt, clip0)
        elif op == OP_DISPOSAL:
            _disposal_setpoint(NI, NF, NV, BI, COEF, ser, t, A, Y, WB, WN, k0, k1, n, b, dt, clip0)
        elif op == OP_CONV_SETTLE:
            _conv_settle(NI, PB, PD, PDEF, PBC, PBO, BI, NF, BIN_PTR, BIN_LINK, LS, LA, LF, MASK, COEF, ser, t, A, Y, WB,
                         WN, WL, WP, k0, k1, n, dt)
        elif op == OP_DEMAND_SETTLE:
            _demand_settle(NV, BI, NF, BIN_PTR, BIN_LINK, LS, LA, LF, MASK, COEF, ser, t, A, Y, WB, WN, WL, k0, k1, n, b,
                           dt)
        elif op == OP_STORE_CLOSE:
            _store_close(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, STP_PTR,
                         STP_NODE, LS, LD, LF, LPASS, COEF, ser, t, Y, WB, WN, WL, WP, WQ, k0, k1, n, dt)
        elif op == OP_LOOP:  # noqa: SIM102 - codegen reads each branch's test as op == OP_<name>
            if LOOPS is not None:  # None: Numba prunes this branch before typing it (the docstring)
                _loop(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR,
                      BFI_NODE, BFO_PTR, BFO_NODE, STP_PTR, STP_NODE, LS, LD, LA, LF, LPASS, OPS, COEF, MASK, ser, t, S, A, Y,
                      WB, WN, WL, WP, WQ, k0, k1, dt, clip0, i)
    _close_again(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, STP_PTR, STP_NODE,
                 LS, LD, LF, LPASS, COEF, ser, t, Y, WB, WN, WL, WP, WQ, k0, k1, dt)
    _store_levels(NI, NF, S, WB, WN, k0, k1)
    _forward_leftovers(BI, LS, LD, LA, LF, MASK, WB, WL, k0, k1, dt)
    _account(NI, NF, NV, BI, LS, LF, COEF, ser, t, Y, WB, WN, WL, k0, k1, dt, carbon)
    _clips(NI, NF, LA, LF, MASK, A, Y, WN, WL, k0, k1, dt, clip0)


@njit(cache=True, _nrt=False, error_model="numpy")
def _forward_leftovers(BI, LS, LD, LA, LF, MASK, WB, WL, k0, k1, dt):
    """Must-go supply left on a bus flows on through passive exchanges to a market or disposal
    (exchanges outside, rows inside: which exchanges can is decided by the tables)."""
    for e in range(LS.shape[0]):
        src, dst = LS[e], LD[e]
        if LA[e] >= 0 or (BI[dst, B_MARKET] < 0 and BI[dst, B_DISPOSAL] < 0):
            continue
        j = _GIVEN if BI[dst, B_MARKET] >= 0 else _OFFER
        for k in range(k0, k1):
            if WB[_OFFER, src, k] <= 0.0:
                continue
            y = min(WB[_OFFER, src, k], LF[e, L_CAP] * MASK[k, e] * dt - WL[_FLOW, e, k])
            if y > 0.0:
                WB[_OFFER, src, k] -= y
                WL[_FLOW, e, k] += y
                WB[j, dst, k] += y * (1.0 - LF[e, L_LOSS])


@njit(cache=True, _nrt=False, error_model="numpy")
def _market(NF, NV, COEF, s, ti, WB, WN, k, n, b, dt):
    """Net a market's bus: import what was drawn beyond what was given, else export (within its
    limit; the rest spills). Returns (co2, over the import limit, spilled, unpriced import)."""
    net = WB[_DRAWN, b, k] - WB[_GIVEN, b, k]
    co2, over, spill, unmet = 0.0, 0.0, 0.0, 0.0
    if net > 0.0:
        if NV[n, V_IMPORT] < 0:
            unmet, net = net, 0.0
        else:
            over = max(0.0, net - NF[n, F_IMP_MAX] * dt)
            WN[_COST, n, k] += net * COEF[s, ti, NV[n, V_IMPORT]]
            co2 = net * COEF[s, ti, NV[n, V_CO2]]
    elif net < 0.0:
        exp_ = -net
        spill = max(0.0, exp_ - (NF[n, F_EXP_MAX] * dt if NV[n, V_EXPORT] >= 0 else 0.0))
        exp_ -= spill
        if exp_ > 0.0:
            WN[_COST, n, k] -= exp_ * COEF[s, ti, NV[n, V_EXPORT]]
        net = -exp_
    WN[_ACT, n, k] = net
    return co2, over, spill, unmet


@njit(cache=True, _nrt=False, error_model="numpy")
def _left_on_bus(NV, COEF, s, ti, WB, WN, k, n, b, limit):
    """A source's surplus or a surplus disposal's intake: what its bus has left (up to ``limit``);
    returns it and its CO2."""
    left = min(WB[_OFFER, b, k], limit)
    WB[_OFFER, b, k] -= left
    WN[_COST, n, k] += left * COEF[s, ti, NV[n, V_COST]]
    return left, left * COEF[s, ti, NV[n, V_CO2]]


@njit(cache=True, _nrt=False, error_model="numpy")
def _account_components(NI, NF, NV, BI, COEF, ser, t, Y, WB, WN, k0, k1, dt):
    """What each source, dump, market and purchase did this step, for :func:`_account`.

    Components outside, rows inside: a component's kind is read once for the block's rows. Each
    row's sums wait in its output head (``Y_CO2``, ``Y_OVER_LIMIT``, ``Y_SPILL``, ``Y_UNMET``),
    added in component order as they were when rows were the outer loop."""
    for k in range(k0, k1):
        Y[k, Y_CO2] = 0.0
        Y[k, Y_OVER_LIMIT] = 0.0
        Y[k, Y_SPILL] = 0.0
    for n in range(NI.shape[0]):
        ty, b = NI[n, I_TYPE], NI[n, I_BUS]
        if ty == T_SOURCE:
            for k in range(k0, k1):
                left, c = _left_on_bus(NV, COEF, ser[k], t[k], WB, WN, k, n, b, math.inf)
                WN[_BACK, n, k] = left  # a source's "backup" column holds its surplus
                Y[k, Y_CO2] += c
        elif ty == T_DISPOSAL and NI[n, I_CONTROL] == 0 and BI[b, B_DISPOSAL] == n:
            for k in range(k0, k1):
                left, c = _left_on_bus(NV, COEF, ser[k], t[k], WB, WN, k, n, b, NF[n, F_MAX] * dt)
                WN[_ACT, n, k] += left
                Y[k, Y_CO2] += c
        elif ty == T_MARKET:
            for k in range(k0, k1):
                c, o, sp, u = _market(NF, NV, COEF, ser[k], t[k], WB, WN, k, n, b, dt)
                Y[k, Y_CO2] += c
                Y[k, Y_OVER_LIMIT] += o
                Y[k, Y_SPILL] += sp
                Y[k, Y_UNMET] += u
        elif ty == T_PURCHASE:
            for k in range(k0, k1):
                WN[_ACT, n, k] = WB[_DRAWN, b, k]
                WN[_COST, n, k] += WN[_ACT, n, k] * COEF[ser[k], t[k], NV[n, V_PRICE]]
                Y[k, Y_CO2] += WN[_ACT, n, k] * COEF[ser[k], t[k], NV[n, V_CO2]]
        elif ty == T_CONVERTER:
            for k in range(k0, k1):
                if WN[_ACT, n, k] < 1e-200:
                    WN[_ACT, n, k] = 0.0


@njit(cache=True, _nrt=False, error_model="numpy")
def _account(NI, NF, NV, BI, LS, LF, COEF, ser, t, Y, WB, WN, WL, k0, k1, dt, carbon):
    """Money and CO2 of the step, per component, and the output row."""
    nn, nl = NI.shape[0], LS.shape[0]
    _account_components(NI, NF, NV, BI, COEF, ser, t, Y, WB, WN, k0, k1, dt)
    for k in range(k0, k1):
        co2, over_limit, spilled, unmet = Y[k, Y_CO2], Y[k, Y_OVER_LIMIT], Y[k, Y_SPILL], Y[k, Y_UNMET]
        cost = 0.0
        for n in range(nn):
            co2 += WN[_CO2, n, k]
            cost += WN[_COST, n, k]
        for b in range(BI.shape[0]):
            if WB[_OFFER, b, k] > 1e-9:
                spilled += WB[_OFFER, b, k]
        o_flow = N_HEAD
        for e in range(nl):
            cost += WL[_FLOW, e, k] * LF[e, L_COST]
            Y[k, o_flow + e] = WL[_FLOW, e, k]
        Y[k, Y_COST] = cost
        Y[k, Y_CARBON] = co2 * carbon
        Y[k, Y_REWARD] = -(cost + co2 * carbon)
        Y[k, Y_CO2] = co2
        Y[k, Y_UNMET] = unmet
        Y[k, Y_SPILL] = spilled
        Y[k, Y_OVER_LIMIT] = over_limit
        for n in range(nn):
            Y[k, o_flow + nl + n] = WN[_ACT, n, k]
            Y[k, o_flow + nl + nn + n] = WN[_BACK, n, k]
            Y[k, o_flow + nl + 2 * nn + n] = WN[_COST, n, k]


@njit(cache=True, _nrt=False, error_model="numpy")
def _clips(NI, NF, LA, LF, MASK, A, Y, WN, WL, k0, k1, dt, clip0):
    """Applied minus requested fraction per action (the box clip is already in ``Y``). Actions
    outside, rows inside; each row's total is summed in ``Y[k, Y_CLIP]`` in action order."""
    for k in range(k0, k1):
        Y[k, Y_CLIP] = 0.0
    for n in range(NI.shape[0]):
        a = NI[n, I_ACTION]
        if a < 0:
            continue
        full = NF[n, F_RATED] * dt if NI[n, I_TYPE] == T_CONVERTER else NF[n, F_MAX] * dt
        for k in range(k0, k1):
            applied = WN[_ACT, n, k] / full if full > 0.0 else 0.0
            req = A[k, a]
            req = 0.0 if math.isnan(req) else min(max(req, 0.0), 1.0)
            d = Y[k, clip0 + a] + applied - req
            Y[k, clip0 + a] = d
            Y[k, Y_CLIP] += abs(d)
    for e in range(LA.shape[0]):
        a = LA[e]
        if a < 0:
            continue
        for k in range(k0, k1):
            full = LF[e, L_CAP] * MASK[k, e] * dt
            applied = WL[_FLOW, e, k] / full if full > 0.0 else 0.0
            req = A[k, a]
            req = 0.0 if math.isnan(req) else min(max(req, 0.0), 1.0)
            d = Y[k, clip0 + a] + applied - req
            Y[k, clip0 + a] = d
            Y[k, Y_CLIP] += abs(d)


# rows stepped op by op together: long enough to pay each op's call and table reads once for
# many rows, short enough that the block's scratch stays in the core's caches
BLOCK = 64


@njit(cache=True, _nrt=False, error_model="numpy")
def step_serial(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR, BFI_NODE,
                BFO_PTR, BFO_NODE, STP_PTR, STP_NODE, LS, LD, LA, LF, LPASS, OPS,
                COEF, MASK, ser, t, S, A, Y, WB, WN, WL, WP, WQ, dt, carbon, LOOPS):
    """Step every batch row once and advance its clock (wrapping at the end of its series)."""
    T, K = COEF.shape[1], S.shape[0]
    for k in range(K):
        if t[k] >= T:
            t[k] = t[k] % T
    for k0 in range(0, K, BLOCK):
        _step_park(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR,
                   BFI_NODE, BFO_PTR, BFO_NODE, STP_PTR, STP_NODE, LS, LD, LA, LF, LPASS, OPS, COEF, MASK, ser, t, S, A, Y,
                   WB, WN, WL, WP, WQ, k0, min(k0 + BLOCK, K), dt, carbon, LOOPS)
    for k in range(K):
        t[k] = t[k] + 1 if t[k] + 1 < T else 0


@njit(cache=True, _nrt=False, parallel=True, error_model="numpy")
def step_parallel(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR, BFI_NODE,
                  BFO_PTR, BFO_NODE, STP_PTR, STP_NODE, LS, LD, LA, LF, LPASS, OPS,
                  COEF, MASK, ser, t, S, A, Y, WB, WN, WL, WP, WQ, dt, carbon, LOOPS):
    """:func:`step_serial` with the blocks of rows spread over threads (``prange``)."""
    T, K = COEF.shape[1], S.shape[0]
    for k in range(K):
        if t[k] >= T:
            t[k] = t[k] % T
    for j in prange((K + BLOCK - 1) // BLOCK):
        k0 = j * BLOCK
        _step_park(NI, NF, NV, PB, PD, PV, PO, PBC, PBO, PDEF, BI, BIN_PTR, BIN_LINK, BOUT_PTR, BOUT_LINK, BFI_PTR,
                   BFI_NODE, BFO_PTR, BFO_NODE, STP_PTR, STP_NODE, LS, LD, LA, LF, LPASS, OPS, COEF, MASK, ser, t, S, A, Y,
                   WB, WN, WL, WP, WQ, k0, min(k0 + BLOCK, K), dt, carbon, LOOPS)
    for k in range(K):
        t[k] = t[k] + 1 if t[k] + 1 < T else 0


def initial_state(cp: CompiledPark, K: int) -> np.ndarray:
    """Store levels at the start: ``initial × capacity`` of each store (0 for other components)."""
    S = np.zeros((K, cp.n_nodes))
    for n in range(cp.n_nodes):
        if cp.NI[n, I_TYPE] == T_STORAGE:
            S[:, n] = cp.NF[n, F_INIT] * cp.NF[n, F_CAP]
    return S


def _index_as_is(context, builder, idxty, idx, size):
    """``numba.np.arrayobj.fix_integer_index`` without the wraparound of a negative index."""
    from numba.core import types

    return context.cast(builder, idx, idxty, types.intp if idxty.signed else types.uintp)


@contextmanager
def indices_as_they_are() -> Iterator[None]:
    """Compile this module's functions (and the step functions generated from them) with array
    indices taken as they are.

    Numba gives every signed integer index Python's wraparound (``-1`` is the last item): a compare
    and a select per dimension of every access, which this kernel pays on nearly every one, since its
    indices come from the tables (``n = OPS[i, 1]``, ``e = BIN_LINK[i]``, ``st = BI[b, B_STORE]``). It
    never indexes with a negative number: ``-1`` in a table means "none" and is tested before use
    (``tests/sim_env/test_kernel_indices.py`` runs the physics with Numba's bounds check on, which then
    raises on any negative index). Without the wraparound the generic kernel runs 0.51 → 0.65 M
    park-steps per CPU s on Kråkøya at K = 64, ``fold`` 1.02 → 1.17 (docs/twin.md).

    Held under Numba's compiler lock, so nothing else compiles while the index rule is swapped. A
    Numba without ``fix_integer_index`` compiles as usual (only slower)."""
    from numba.core.compiler_lock import global_compiler_lock
    from numba.np import arrayobj

    with global_compiler_lock:
        fix = getattr(arrayobj, "fix_integer_index", None)
        if fix is not None:
            arrayobj.fix_integer_index = _index_as_is
        try:
            yield
        finally:
            if fix is not None:
                arrayobj.fix_integer_index = fix


class Batch:
    """K copies of a compiled park stepped together; each row may mask its own exchanges.

    :param cp: the compiled park
    :param coef: ``COEF`` from :meth:`CompiledPark.exogenous` (years × steps × values)
    :param K: batch rows
    :param mask: ``(K, n_exchanges)`` multipliers of exchange capacity (1 on, 0 off); default: the
        file's ``enabled`` flags
    :param parallel: spread the blocks of 64 rows over Numba's threads (``prange``), the same outputs
        to the bit: on 2 cores Kråkøya runs 1.9-2.0x the park-steps per wall second at K >= 256
        (``benchmarks/bench_graph.py``); a block is the least a thread takes, so K <= 64 gains
        nothing. Its first step compiles ``step_parallel`` (about 10 CPU s more, then cached)
    :param specialise: ``None`` runs this generic kernel; ``"fold"`` (fastest) or ``"tables"`` a
        step function generated for this park from this same source (:mod:`.codegen`):
        bit-identical; ``fold`` runs about 2.8× the generic kernel's park-steps per CPU second on
        Kråkøya (1.8× before the scratch held the row last, which its straight row loops gain
        from), ``tables`` 0.7× of it (it calls every helper once per row); each needs a cold
        compile per park (Kråkøya: 100–140 CPU s for ``fold``, 17–26 for ``tables``, against
        28–37 CPU s once for the generic kernel of a park without loops, whatever the park, on
        machines as loaded as ours), cached on disk; edge masks stay data. A park with loops runs on the
        generic kernel (the generated ones refuse it, with a warning)
    """

    def __init__(self, cp: CompiledPark, coef: np.ndarray, K: int = 1, mask: np.ndarray | None = None,
                 parallel: bool = False, specialise: str | None = None):
        self.cp, self.K = cp, K
        self.coef = np.ascontiguousarray(coef, dtype=np.float64)
        nl = len(cp.link_ids)
        self.mask = np.tile(cp.LE, (K, 1)) if mask is None else np.ascontiguousarray(mask, dtype=np.float64)
        if self.mask.shape != (K, nl):
            raise ValueError(f"mask must have shape ({K}, {nl}) (rows, exchanges), got {self.mask.shape}")
        self.ser = np.arange(K, dtype=np.int64) % self.coef.shape[0]
        self.t = np.zeros(K, dtype=np.int64)
        self.S = initial_state(cp, K)
        self.Y = np.zeros((K, len(output_names(cp))))
        w = Scratch(cp, K)
        if cp.loops:  # each row's loop plans (its mask is constant for the batch's life), before the flag
            w.port_before = np.ascontiguousarray(np.concatenate(
                [w.port_before[:-1], np.pad(loop_plans_of(cp, self.mask).T, ((0, 0), (0, 8))), w.port_before[-1:]],
                axis=0))
        self._w = (w.bus, w.node, w.link, w.port, w.port_before)
        self._fn = step_parallel if parallel else step_serial
        # None where the park has no loop: that kernel never compiles the loops' code (_step_park)
        self._loops = len(cp.loops) if cp.loops else None
        self._args: list | None = None
        self._fresh = True
        if specialise is not None and cp.loops:  # the generated kernels unroll OPS once: no repeats
            import warnings

            warnings.warn(f"{cp.graph.source}: specialise={specialise!r} steps no park with loops "
                          f"({'; '.join(', '.join(v) for v in cp.loops.values())}): the generic kernel runs it",
                          stacklevel=2)
            specialise = None
        if specialise is not None:
            from .codegen import arguments, park_module  # codegen reads this module's source

            mod = park_module(cp, specialise)
            self._fn = mod.step_parallel if parallel else mod.step_serial
            WB, WN, WL, WP, WQ = self._w
            self._args = arguments(self._fn, dict(COEF=self.coef, MASK=self.mask, ser=self.ser, t=self.t, S=self.S,
                                                  A=None, Y=self.Y, WB=WB, WN=WN, WL=WL, WP=WP, WQ=WQ))
            self._a_at = next(i for i, a in enumerate(self._args) if a is None)

    def step(self, A: np.ndarray) -> np.ndarray:
        """Apply actions ``A`` of shape ``(K, n_actions)`` (fractions in [0, 1]); returns ``Y``."""
        cp = self.cp
        # always a writable C array: a read-only view (np.broadcast_to) is another Numba type and
        # would compile the whole kernel a second time (~40 s cold)
        A = np.require(A, dtype=np.float64, requirements=("C", "W"))
        if A.shape != (self.K, cp.n_actions):
            raise ValueError(f"actions must have shape ({self.K}, {cp.n_actions}) (rows, actions: "
                             f"{', '.join(cp.action_names)}), got {A.shape}")
        if self._fresh:  # the first call compiles the kernel (or loads it from the cache): see there
            self._fresh = False
            with indices_as_they_are():
                return self.step(A)
        if self._args is not None:
            self._args[self._a_at] = A
            self._fn(*self._args)
            return self.Y
        WB, WN, WL, WP, WQ = self._w
        self._fn(cp.NI, cp.NF, cp.NV, cp.PB, cp.PD, cp.PV, cp.PO, cp.PBC, cp.PBO, cp.PDEF, cp.BI, cp.BIN_PTR,
                 cp.BIN_LINK, cp.BOUT_PTR, cp.BOUT_LINK, cp.BFI_PTR, cp.BFI_NODE, cp.BFO_PTR, cp.BFO_NODE, cp.STP_PTR,
                 cp.STP_NODE, cp.LS, cp.LD, cp.LA, cp.LF, cp.LPASS, cp.OPS, self.coef, self.mask, self.ser, self.t,
                 self.S, A, self.Y, WB, WN, WL, WP, WQ, cp.dt_h, cp.carbon_price_per_kg, self._loops)
        if cp.loops and WQ[-1].any():  # a loop did not settle: never a silent result
            k = int(np.flatnonzero(WQ[-1])[0])
            members = cp.loops[int(WQ[-1, k]) - 1]
            raise LoopError(f"{cp.graph.source}: the loop {', '.join(members)} did not settle in {LOOP_PASSES} "
                            f"passes (row {k}, step {int(self.t[k]) - 1}): its flows do not converge")
        return self.Y


class LoopError(RuntimeError):
    """A loop of the park did not settle within a step (:func:`_loop`); the message names its members."""

