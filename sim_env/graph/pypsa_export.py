"""Any compiled park as a PyPSA network with the same series: an independent judge of the optimum.

:func:`to_pypsa` writes the same perfect-foresight problem as :class:`sim_env.graph.lp.Optimum`
(``rules=False``) in PyPSA's components, so that PyPSA and linopy build and HiGHS solves it
without any of AISYM's LP code. The mapping (docs/pypsa.md has the full table):

- one PyPSA bus per AISYM bus (``carrier`` = the carrier's label with its quality, e.g.
  ``heat 85 °C``), plus helper buses where a PyPSA component needs one of its own: a store's
  level (``<store>:store``), a converter input with a backup or taken on demand
  (``<converter>:<port>``, its backup or lost-load generator there), and the users'
  side of a bus whose store releases first-order (``<bus>:release``, a digester's solids);
- exchanges: Links (``efficiency = 1 − loss``, ``marginal_cost`` = transport cost, ``p_nom`` =
  capacity × the edge mask);
- converters: multi-output Links, ``bus0`` the reference input (or, where the reference is an
  output, an input whose ratio is positive at every step, every ratio rescaled by it), the
  other ports on ``bus1..`` with efficiencies relative to ``bus0`` (negative for inputs),
  time-varying where a ratio is a series (a COP); availability in ``p_max_pu``;
- stores: a Store (``standing_loss``, ``e_initial``; a ``valued`` end as ``marginal_cost_storage``
  = −value at the last step) between a charge and a discharge Link (``max_charge``,
  ``max_discharge``);
- sources: a fixed Generator (its profile) and a surplus sink; demands: Loads, with a backup
  Generator, or one at the value of lost load where the demand has no backup (``<demand>:lost``);
  purchases and market imports: Generators; market exports, disposals, the market's spill beyond
  its export limit and the free spill of the LP: Generators with ``sign = −1``;
- carbon: folded into every marginal cost as carbon price × CO2, as the LP does (no carrier
  ``co2_emissions``, no global constraint).

What PyPSA has no native form for is added by :func:`extra_functionality` (linopy), from data
the network carries in ``n.meta["aisym"]`` (so an exported netCDF file solves the same):

- a first-order release: discharge × dt = release × level of the previous step;
- the on/off of a converter with a min load (``Link-on``, continuous in [0, 1] for the LP
  relaxation, binary otherwise): ``lo × on ≤ p ≤ hi × on``;
- the part-load offset of such a converter: ``offset × on`` in the balance of each port bus it
  reaches;
- a store's ``no_less_than_start`` end, soft as the LP's: ``e[last] + short ≥ start``, each unit
  short at the value of lost load of its resource (``Store-end_short``).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .compile import (
    B_DISPOSAL,
    B_VOLL,
    F_CAP,
    F_END_VALUE,
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
from .lp import spill_buses

FORMATS = ("pypsa",)
FIRST_HOUR = pd.Timestamp("2030-01-01")  # a year of 8,760 h, as the twin's year
# attributes a component takes when another of its kind states them and it does not
_DEFAULTS = {"bus": "", "efficiency": 1.0, "p_nom": 0.0, "p_min_pu": 0.0, "p_max_pu": 1.0, "marginal_cost": 0.0,
             "sign": 1.0, "carrier": "", "p_set": 0.0, "e_nom": 0.0, "e_initial": 0.0, "standing_loss": 0.0,
             "e_min_pu": 0.0, "marginal_cost_storage": 0.0}


class PypsaExportError(ValueError):
    """The park (or the export target) cannot be carried into PyPSA; the message names the component or path."""


@dataclass
class _Kind:
    """Rows of one PyPSA component class, added in one call at the end (much faster than one by one)."""

    names: list[str] = field(default_factory=list)
    static: list[dict] = field(default_factory=list)
    varying: list[dict] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)


def _default(attr: str):
    return _DEFAULTS.get(attr.rstrip("0123456789"), 0.0)


class _Network:
    """Collects buses, links, generators... and their series; builds the :class:`pypsa.Network`."""

    def __init__(self, T: int, src: str):
        self.T, self.src = T, src
        self.kinds: dict[str, _Kind] = {}

    def add(self, cls: str, name: str, **attrs) -> None:
        k = self.kinds.setdefault(cls, _Kind())
        if name in k.taken:  # e.g. an exchange id equal to a converter's key: PyPSA names must be unique
            raise PypsaExportError(f"{self.src}: two PyPSA {cls}s would be named {name!r}; rename one of them")
        k.taken.add(name)
        static, varying = {}, {}
        for a, v in attrs.items():
            if isinstance(v, np.ndarray) and v.ndim == 1:
                if np.all(v == v[0]):
                    static[a] = float(v[0])
                else:
                    varying[a] = v.astype(np.float64)
            else:
                static[a] = v
        k.names.append(name)
        k.static.append(static)
        k.varying.append(varying)

    def build(self, name: str, snapshots: pd.DatetimeIndex, dt_h: float, meta: dict):
        import pypsa

        carriers = sorted({s.get("carrier", "") for s in self.kinds["Bus"].static} - {""})
        with warnings.catch_warnings():  # pandas' str dtype notice of PyPSA's own import code
            warnings.simplefilter("ignore", FutureWarning)
            n = pypsa.Network(name=name)
            n.set_snapshots(snapshots)
            n.snapshot_weightings.loc[:, :] = dt_h  # amounts = rate × dt in the objective and the stores
            n.add("Carrier", carriers)
            for cls in ("Bus", "Link", "Store", "Generator", "Load"):
                if cls not in self.kinds:
                    continue
                k = self.kinds[cls]
                attrs = sorted({a for s in k.static for a in s} | {a for v in k.varying for a in v})
                cols: dict = {}
                for a in attrs:
                    if any(a in v for v in k.varying):
                        data = {nm: (v[a] if a in v else np.full(self.T, s.get(a, _default(a)), dtype=np.float64))
                                for nm, s, v in zip(k.names, k.static, k.varying, strict=True)}
                        cols[a] = pd.DataFrame(data, index=snapshots)
                    else:
                        cols[a] = [s.get(a, _default(a)) for s in k.static]
                n.add(cls, k.names, **cols)
        n.meta = {"aisym": meta}
        return n


class _Exporter:
    """One park's horizon, component by component, into a :class:`_Network` (see :func:`to_pypsa`)."""

    def __init__(self, cp: CompiledPark, coef: np.ndarray, T: int, start: int, year: int, relax: bool,
                 mask: np.ndarray | None):
        if coef.ndim != 3 or coef.shape[2] != len(cp.values) or not 0 <= year < coef.shape[0]:
            raise PypsaExportError(f"{cp.graph.source}: coef must be COEF[year, step, value] of this park "
                                   f"({len(cp.values)} values) with a row {year}; got shape {coef.shape}")
        if T < 1:
            raise PypsaExportError(f"{cp.graph.source}: the horizon needs at least one step, got T={T}")
        self.cp, self.T, self.relax = cp, T, relax
        self.src = Path(cp.graph.source).name
        steps = (start + np.arange(T)) % coef.shape[1]
        self.C = np.ascontiguousarray(coef[year, steps, :])
        self.mask = cp.LE if mask is None else np.asarray(mask, dtype=np.float64)
        self.dt = cp.dt_h
        self.net = _Network(T, self.src)
        self.released = {b for b in range(len(cp.bus_ids))
                         if cp.BI[b, 0] >= 0 and cp.NF[cp.BI[b, 0], F_RELEASE] > 0.0}
        self.meta: dict = {"park": cp.graph.source, "dt_h": self.dt, "start": start, "year": year, "T": T,
                           "relax": relax, "release": [], "on_off": [], "offset": [], "end": []}

    def _c(self, v: int, default: float = 0.0) -> np.ndarray:
        return self.C[:, v] if v >= 0 else np.full(self.T, default)

    def side(self, b: int, supply: bool) -> str:
        """The PyPSA bus of AISYM bus ``b``: a released bus's users take from ``<bus>:release``."""
        bid = self.cp.bus_ids[b]
        return bid if (supply or b not in self.released) else f"{bid}:release"

    def fail(self, what: str, why: str):
        raise PypsaExportError(f"{self.src}: {what}: {why}")

    # -- the park ---------------------------------------------------------------------------------
    def run(self):
        cp, net, dt = self.cp, self.net, self.dt
        for b, bid in enumerate(cp.bus_ids):
            label = cp.graph.buses[bid].carrier.label()
            net.add("Bus", bid, carrier=label)
            if b in self.released:
                net.add("Bus", f"{bid}:release", carrier=label)
        for e, lid in enumerate(cp.link_ids):
            net.add("Link", lid, bus0=self.side(cp.LS[e], False), bus1=self.side(cp.LD[e], True),
                    efficiency=1.0 - cp.LF[e, L_LOSS], marginal_cost=cp.LF[e, L_COST],
                    p_nom=cp.LF[e, L_CAP] * self.mask[e])
        for n in range(cp.n_nodes):
            t_ = cp.NI[n, I_TYPE]
            if t_ == T_STORAGE:
                self.storage(n)
            elif t_ == T_CONVERTER:
                self.converter(n)
            else:
                self.single(n, t_, cp.NI[n, I_BUS])
        for b in spill_buses(cp, self.released):
            net.add("Generator", f"{cp.bus_ids[b]}:spill", bus=self.side(b, False), sign=-1.0, p_nom=np.inf)
        snapshots = pd.date_range(FIRST_HOUR + pd.Timedelta(hours=self.meta["start"] * dt), periods=self.T,
                                  freq=pd.Timedelta(hours=dt))
        snapshots.name = "snapshot"
        return net.build(cp.graph.id, snapshots, dt, self.meta)

    def single(self, n: int, t_: int, b: int) -> None:
        cp, net, key = self.cp, self.net, self.cp.node_keys[n]
        NV, NF = cp.NV, cp.NF
        co2 = cp.carbon_price_per_kg * self._c(NV[n, V_CO2])
        if t_ == T_SOURCE:
            p = np.maximum(self._c(NV[n, V_PROFILE]), 0.0)
            top = float(p.max())
            net.add("Generator", key, bus=self.side(b, True), p_nom=top,
                    p_min_pu=p / top if top > 0 else np.zeros(self.T), p_max_pu=p / top if top > 0 else np.zeros(self.T))
            net.add("Generator", f"{key}:surplus", bus=self.side(b, False), sign=-1.0, p_nom=np.inf,
                    marginal_cost=self._c(NV[n, V_COST]) + co2)
        elif t_ == T_DEMAND:
            d = np.maximum(self._c(NV[n, V_PROFILE]), 0.0)
            net.add("Load", key, bus=self.side(b, False), p_set=d)
            top = float(d.max())
            if NV[n, V_COST] >= 0:
                net.add("Generator", f"{key}:backup", bus=self.side(b, True), p_nom=top,
                        p_max_pu=d / top if top > 0 else np.zeros(self.T), marginal_cost=self._c(NV[n, V_COST]) + co2)
            else:  # unmet at the value of lost load (≤ the demand), as in the LP and the kernel
                net.add("Generator", f"{key}:lost", bus=self.side(b, True), p_nom=top,
                        p_max_pu=d / top if top > 0 else np.zeros(self.T), marginal_cost=self._c(cp.BI[b, B_VOLL]))
        elif t_ == T_PURCHASE:
            net.add("Generator", key, bus=self.side(b, True), p_nom=NF[n, F_MAX],
                    marginal_cost=self._c(NV[n, V_PRICE]) + co2)
        elif t_ == T_DISPOSAL:
            if cp.NI[n, I_CONTROL] == 0 and cp.BI[b, B_DISPOSAL] != n:
                return  # a second surplus disposal on a bus never takes anything (as in the kernel and the LP)
            net.add("Generator", key, bus=self.side(b, False), sign=-1.0, p_nom=NF[n, F_MAX],
                    marginal_cost=self._c(NV[n, V_COST]) + co2)
        elif t_ == T_MARKET:
            if NV[n, V_IMPORT] >= 0 and NV[n, V_EXPORT] >= 0:
                gain = self._c(NV[n, V_EXPORT]) - self._c(NV[n, V_IMPORT]) - co2
                if np.any(gain > 0.0):  # PyPSA would buy to sell; the LP bounds the import (lp._net_of_market)
                    t = int(np.argmax(gain > 0.0))
                    self.fail(f"market {key}", f"its export price beats its import cost at step {self.meta['start'] + t} "
                              f"(by {gain[t]:.4g} per unit): PyPSA's two generators would buy to sell without end; "
                              "the AISYM optimum bounds the import by what the park takes from the market's bus, "
                              "which PyPSA's components cannot state")
            if NV[n, V_IMPORT] >= 0 and NF[n, F_IMP_MAX] > 0:
                net.add("Generator", f"{key}:import", bus=self.side(b, True), p_nom=NF[n, F_IMP_MAX],
                        marginal_cost=self._c(NV[n, V_IMPORT]) + co2)
            if NV[n, V_EXPORT] >= 0 and NF[n, F_EXP_MAX] > 0:
                net.add("Generator", f"{key}:export", bus=self.side(b, False), sign=-1.0, p_nom=NF[n, F_EXP_MAX],
                        marginal_cost=-self._c(NV[n, V_EXPORT]))
            # export beyond the limit spills at no value, as in the LP
            net.add("Generator", f"{key}:spill", bus=self.side(b, False), sign=-1.0, p_nom=np.inf)
        else:
            self.fail(f"component {key}", f"type {t_} is not supported by the PyPSA export")

    def storage(self, n: int) -> None:
        cp, net, dt, key = self.cp, self.net, self.dt, self.cp.node_keys[n]
        NF, b = cp.NF, cp.NI[n, I_BUS]
        cap = NF[n, F_CAP]
        if not cap > 0:
            self.fail(f"storage {key}", f"capacity {cap:g} cannot be a PyPSA Store's e_nom (it must be > 0)")
        s0 = NF[n, F_INIT] * cap
        rule = cp.graph.nodes[n].text.get("end", "no_less_than_start")
        keep = 1.0 - NF[n, F_LOSS] * dt
        if keep <= 0.0:
            self.fail(f"storage {key}", f"a loss of {NF[n, F_LOSS]:g}/h empties it within one step of {dt:g} h")
        rel = min(1.0, NF[n, F_RELEASE] * dt)
        store_bus = f"{key}:store"
        net.add("Bus", store_bus, carrier=cp.graph.buses[cp.bus_ids[b]].carrier.label())
        mcs = np.zeros(self.T)
        if rule == "no_less_than_start":  # soft, as the LP's: each unit short at the value of lost load
            self.meta["end"].append({"store": key, "target": min(s0, cap),
                                     "voll": float(self._c(cp.BI[b, B_VOLL])[-1])})
        elif rule == "valued":
            mcs[-1] = -NF[n, F_END_VALUE] / dt  # the objective weights it by dt
        elif rule != "free":
            self.fail(f"storage {key}", f"end rule {rule!r} is not supported (no_less_than_start, valued, free)")
        # PyPSA keeps (1 − standing_loss)^dt per step, the LP 1 − loss × dt. PyPSA's first step
        # takes e_initial without its standing loss, the LP's loses it: e_initial is the start
        # level after one step of loss.
        net.add("Store", key, bus=store_bus, e_nom=cap, e_initial=keep * s0, standing_loss=1.0 - keep ** (1.0 / dt),
                marginal_cost_storage=mcs)
        net.add("Link", f"{key}:charge", bus0=self.side(b, True), bus1=store_bus, p_nom=NF[n, F_MAX_CH])
        net.add("Link", f"{key}:discharge", bus0=store_bus, bus1=self.side(b, False),
                p_nom=np.inf if rel > 0.0 else NF[n, F_MAX_DIS])
        if rel > 0.0:
            self.meta["release"].append({"store": key, "link": f"{key}:discharge", "release": rel, "initial": s0})

    def converter(self, n: int) -> None:
        cp, net, T, dt, key = self.cp, self.net, self.T, self.dt, self.cp.node_keys[n]
        NI, NF, NV = cp.NI, cp.NF, cp.NV
        node = cp.graph.nodes[n]
        pnames = list(node.ports)
        rated = NF[n, F_RATED]
        avail = np.maximum(self._c(NV[n, V_AVAIL], 1.0), 0.0) if NV[n, V_AVAIL] >= 0 else np.ones(T)
        top = rated * np.minimum(avail, 1.0) * dt
        p_min = NF[n, F_MIN_LOAD] * rated * dt
        has_u = p_min > 0.0
        p0, p1, ref, pl = NI[n, I_P0], NI[n, I_P1], NI[n, I_REF], NI[n, I_PL]
        # each port's amount per step: a × L + c × u (the LP's and the kernel's port flows)
        cL: dict[int, np.ndarray] = {}
        cU: dict[int, np.ndarray] = {}
        for p in range(p0, p1):
            if cp.PO[p] >= 0:
                continue
            if p == ref:
                cL[p], cU[p] = np.ones(T), np.zeros(T)
            elif p == pl:
                cL[p], cU[p] = np.full(T, NF[n, F_PL_SLOPE]), np.full(T, NF[n, F_PL_OFFSET] * dt)
            else:
                cL[p], cU[p] = self.C[:, cp.PV[p]].copy(), np.zeros(T)
        for p in range(p0, p1):
            if cp.PO[p] >= 0:
                r = self.C[:, cp.PV[p]]
                cL[p], cU[p] = r * cL[cp.PO[p]], r * cU[cp.PO[p]]
        if not has_u and any(np.any(cU[p] != 0.0) for p in cU):
            self.fail(f"converter {key}", "a part-load offset without a min load is not supported: the offset "
                      "needs the on/off of a min load to be zero when the unit is off")
        q = self._bus0_port(n, key, cL, cU, pnames)
        buses = {p: self._port_bus(p, key, pnames[p - p0]) for p in range(p0, p1)}
        attrs: dict = {"bus0": buses[q]}
        hi = (cL[q] * top + (cU[q] if has_u else 0.0)) / dt
        for i, p in enumerate(x for x in range(p0, p1) if x != q):
            sign = 1.0 if cp.PD[p] == 1 else -1.0
            attrs[f"bus{i + 1}"] = buses[p]
            attrs["efficiency" if i == 0 else f"efficiency{i + 1}"] = sign * cL[p] / cL[q]
            if has_u:  # what of the port's amount is left once p0 is expressed: the offset on the port's bus
                resid = sign * (cU[p] - cL[p] * cU[q] / cL[q]) / dt
                if np.any(np.abs(resid) > 1e-12 * max(1.0, float(np.abs(hi).max()))):
                    self.meta["offset"].append({"link": key, "bus": buses[p], "coef": resid.tolist()})
        p_nom = float(hi.max())
        attrs["p_nom"] = p_nom
        attrs["p_max_pu"] = hi / p_nom if p_nom > 0 else np.zeros(T)
        if has_u:
            lo = (cL[q] * p_min + cU[q]) / dt
            if p_nom > 0 and lo.min() < 0:
                attrs["p_min_pu"] = np.minimum(lo, 0.0) / p_nom
            self.meta["on_off"].append({"link": key, "lo": lo.tolist(), "hi": hi.tolist()})
        net.add("Link", key, **attrs)

    def _bus0_port(self, n: int, key: str, cL: dict, cU: dict, pnames: list[str]) -> int:
        """The port on ``bus0``: the reference if it is an input, else an input positive at every step."""
        cp = self.cp
        p0, p1, ref, pl = cp.NI[n, I_P0], cp.NI[n, I_P1], cp.NI[n, I_REF], cp.NI[n, I_PL]
        if cp.PD[ref] == 0:
            return ref
        inputs = [p for p in range(p0, p1) if cp.PD[p] == 0 and np.all(cL[p] > 0.0)]
        if not inputs:
            self.fail(f"converter {key}", f"reference port {pnames[ref - p0]!r} is an output and no input has a "
                      "ratio > 0 at every step: a PyPSA Link needs such an input on bus0 to rescale the ports by")
        # the part-load port first (its offset then stays on the reference alone), then constant ratios
        return min(inputs, key=lambda p: (p != pl, float(np.ptp(cL[p])) > 0.0, p))

    def _port_bus(self, p: int, key: str, pname: str) -> str:
        """The PyPSA bus a converter port uses; a backed input, or one taken on demand whose
        shortfall is lost load (as in the LP and the kernel), draws through a bus of its own."""
        cp = self.cp
        b = cp.PB[p]
        if not (cp.PD[p] == 0 and (cp.PBC[p] >= 0 or cp.PDEF[p] == 1)):
            return self.side(b, cp.PD[p] == 1)
        if b in self.released:
            self.fail(f"converter {key}: port {pname}", "a backup on an input from a store with first-order "
                      "release is not supported: the LP books that backup into the store's inflow")
        # the backup can only make up this input (backup ≤ input): it feeds the port's own bus,
        # which the park's bus tops up through a free link
        aux = f"{key}:{pname}"
        self.net.add("Bus", aux, carrier=cp.graph.buses[cp.bus_ids[b]].carrier.label())
        self.net.add("Link", f"{aux}:draw", bus0=self.side(b, False), bus1=aux, p_nom=np.inf)
        if cp.PBC[p] >= 0:
            cost = self._c(cp.PBC[p]) + cp.carbon_price_per_kg * self._c(cp.PBO[p])
            self.net.add("Generator", f"{aux}:backup", bus=aux, p_nom=np.inf, marginal_cost=cost)
        else:  # what the input lacks when settled is lost load, no CO2 (the kernel's _shortfall)
            self.net.add("Generator", f"{aux}:lost", bus=aux, p_nom=np.inf, marginal_cost=self._c(cp.BI[b, B_VOLL]))
        return aux


def to_pypsa(cp: CompiledPark, coef: np.ndarray, T: int, start: int = 0, year: int = 0, relax: bool = True,
             mask: np.ndarray | None = None):
    """The park's perfect-foresight problem over ``T`` steps as a :class:`pypsa.Network`.

    It is :class:`~sim_env.graph.lp.Optimum` with ``rules=False``: the same series, bounds and
    costs (carbon price × CO2 folded into the marginal costs). Solve it with :func:`solve` (or
    ``n.optimize(extra_functionality=extra_functionality)``); flows are per hour, the snapshot
    weightings are the step length.

    :param cp: the compiled park
    :param coef: ``COEF`` (years × steps × values) from :meth:`CompiledPark.exogenous`
    :param T: horizon in steps
    :param start: first step of the horizon (the steps wrap around the year, as the LP's)
    :param year: which row of ``coef``
    :param relax: converters' on/off continuous in [0, 1] (the LP relaxation) instead of binary
    :param mask: exchange capacity multipliers (default: the file's ``enabled`` flags)
    :return: the network; ``n.meta["aisym"]`` holds what :func:`extra_functionality` adds
    :raises PypsaExportError: a component PyPSA cannot carry, named with its file
    """
    return _Exporter(cp, coef, T, start, year, relax, mask).run()


def extra_functionality(n, snapshots) -> None:
    """The constraints PyPSA has no native form for, from ``n.meta["aisym"]`` (see the module docstring).

    :param n: a network from :func:`to_pypsa` (or read back from its netCDF file), its model built
    :param snapshots: the snapshots optimised (all of them: the release reaches back one step)
    """
    import linopy
    import xarray as xr

    meta = n.meta.get("aisym") if isinstance(n.meta, dict) else None
    if not meta:
        return
    sns = pd.Index(snapshots)
    if len(sns) != len(n.snapshots) or not (sns == n.snapshots).all():
        raise PypsaExportError(f"{meta['park']}: the AISYM constraints need the whole horizon optimised at once")
    m, dt = n.model, float(meta["dt_h"])
    link_p = m["Link-p"]
    for r in meta["release"]:  # a process inventory gives exactly what it releases: dis × dt = rel × level[t−1]
        e_prev = m["Store-e"].sel(name=r["store"], drop=True).to_linexpr().shift(snapshot=1).fillna(0)
        rhs = xr.DataArray(np.r_[r["release"] * r["initial"], np.zeros(len(sns) - 1)], coords=[sns])
        m.add_constraints(dt * link_p.sel(name=r["link"], drop=True) - r["release"] * e_prev == rhs,
                          name=f"Store-release-{r['store']}")
    _end_targets(m, sns, meta.get("end", []))
    if not meta["on_off"]:
        return
    names = pd.Index([o["link"] for o in meta["on_off"]], name="name")
    coords = [sns, names]
    if meta["relax"]:
        on = m.add_variables(lower=0.0, upper=1.0, coords=coords, name="Link-on")
    else:
        on = m.add_variables(coords=coords, name="Link-on", binary=True)
    lo = xr.DataArray(np.array([o["lo"] for o in meta["on_off"]]).T, coords=coords)
    hi = xr.DataArray(np.array([o["hi"] for o in meta["on_off"]]).T, coords=coords)
    p = link_p.sel(name=names)
    m.add_constraints(p - hi * on <= 0.0, name="Link-on-upper")
    m.add_constraints(p - lo * on >= 0.0, name="Link-on-lower")
    if meta["offset"]:  # the part-load offset: coef × on on the port's bus, inside PyPSA's own balance rows
        balance = m.constraints["Bus-nodal_balance"]
        old = balance.lhs
        terms = [(xr.DataArray(np.asarray(o["coef"]), coords=[sns]) * on.sel(name=o["link"], drop=True))
                 .expand_dims(name=[o["bus"]]) for o in meta["offset"]]
        lhs = linopy.merge([old, *terms], dim="_term", join="outer")
        balance.update(lhs=lhs.sel(name=old.indexes["name"]))


def _end_targets(m, sns: pd.Index, ends: list[dict]) -> None:
    """A store's ``no_less_than_start`` as the LP states it: ``e[last] + short ≥ target``, each unit
    short at the value of lost load (a lossy store nothing refills stays feasible, kept full)."""
    import xarray as xr

    if not ends:
        return
    names = pd.Index([r["store"] for r in ends], name="name")
    target = xr.DataArray(np.array([float(r["target"]) for r in ends]), coords=[names])
    short = m.add_variables(lower=0.0, upper=target, coords=[names], name="Store-end_short")
    e_last = m["Store-e"].sel(snapshot=sns[-1], name=names, drop=True)
    m.add_constraints(e_last + short >= target, name="Store-end_target")
    voll = xr.DataArray(np.array([float(r["voll"]) for r in ends]), coords=[names])
    m.add_objective(m.objective.expression + (voll * short).sum(), overwrite=True)


def solve(n, threads: int = 1, time_limit_s: float = 300.0) -> float:
    """Solve a :func:`to_pypsa` network with HiGHS and return its objective (cost + carbon, park currency).

    :param n: the network
    :param threads: HiGHS threads
    :param time_limit_s: HiGHS's time limit
    :raises RuntimeError: HiGHS found no optimal solution
    """
    status, condition = n.optimize(solver_name="highs", extra_functionality=extra_functionality, io_api="direct",
                                   include_objective_constant=False, log_to_console=False, threads=threads,
                                   time_limit=time_limit_s)
    if status != "ok":
        raise RuntimeError(f"{n.meta['aisym']['park']}: PyPSA/HiGHS found no optimum ({status}, {condition})")
    return float(n.objective + n.objective_constant)


def _can_write(path: Path) -> bool:
    return os.access(path, os.W_OK)


def export(park, out: Path, hours: int = 168, start: int = 0, seed: int = 0, fmt: str = "pypsa"):
    """Write ``park`` over ``hours`` from hour ``start`` (series of ``seed``) as a PyPSA netCDF file.

    :param park: a path (v1 or v2 park file), a graph or a compiled park
    :param out: the ``.nc`` file to write (its folder must exist and be writable)
    :param hours: horizon (h)
    :param start: first hour of the year
    :param seed: seed of the generated series
    :param fmt: export format (only ``"pypsa"``)
    :return: the network written
    :raises PypsaExportError: a bad format or target, or a component PyPSA cannot carry
    """
    from .twin import resolve

    if fmt not in FORMATS:
        raise PypsaExportError(f"--format {fmt!r} is not supported; formats: {', '.join(FORMATS)}")
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if out.exists() and out.is_dir():
        raise PypsaExportError(f"{out}: is a folder; give a file name such as {out / 'park.nc'}")
    if not folder.is_dir():
        raise PypsaExportError(f"{out}: the folder {folder} does not exist")
    if not _can_write(folder) or (out.exists() and not _can_write(out)):
        raise PypsaExportError(f"{out}: cannot write there (permission denied)")
    if hours < 1 or start < 0:
        raise PypsaExportError(f"hours must be >= 1 and start >= 0, got hours={hours}, start={start}")
    cp = resolve(park)
    T = max(1, round(hours / cp.dt_h))
    n = to_pypsa(cp, cp.exogenous(seed=seed), T, start=round(start / cp.dt_h))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        n.export_to_netcdf(out)
    return n
