"""Numba kernels of the park twin: one step of N parks over plain float64 arrays.

Layout (``k`` is the park, always the first index, so no per-park slice is ever taken):

- ``P[k, i]``: parameters (:mod:`sim_env.params`, ``P_*``);
- ``EXO[s, t, c]``: exogenous series ``s`` at step ``t``, column ``E_*``; park ``k`` reads
  series ``ser[k]`` at step ``t[k]``, which wraps to 0 after the last step of the series;
- ``S[k, j]``: state ``S_*``; ``A[k, a]``: action fractions ``A_*`` in [0, 1];
- ``Y[k, o]``: per-step outputs in the order of ``OUT_NAMES``; ``OBS[k, :]``: observation.

Nothing is allocated inside the loops. The step is written once, in ``_step_park``; the
plain-Python twin in :mod:`sim_env.reference` is a separate implementation of the same
model, kept for equality tests.
"""

from __future__ import annotations

import math

from numba import njit, prange

from .params import (
    A_CHP,
    A_ELY,
    A_FLARE,
    A_HEAT_DIG,
    A_HEAT_RAS,
    A_HP,
    A_O2,
    A_REUSE,
    A_TREAT,
    A_UPG,
    CH4_KG_PER_NM3,
    COP_MAX,
    CP_WATER_KWH_PER_M3K,
    E_CO2,
    E_FEED,
    E_FRESH_C,
    E_PRICE,
    GWP_CH4,
    LHV_CH4_KWH_PER_NM3,
    N_ACTIONS,
    N_STATE,
    O_CLIP0,
    P_BM_PRICE,
    P_CARBON_PRICE,
    P_CH4_FRAC,
    P_CH4_YIELD,
    P_CHP_ETA_TH,
    P_CHP_FUEL_OFFSET,
    P_CHP_FUEL_SLOPE,
    P_CHP_PMIN,
    P_CHP_RATED,
    P_DIG_EL_KW,
    P_DIG_LOSS_KW,
    P_DIG_TAU_H,
    P_DIG_TEMP_C,
    P_DT_H,
    P_ELY_HEAT_FRAC,
    P_ELY_KWH_KG,
    P_ELY_O2_RATIO,
    P_ELY_PMIN,
    P_ELY_RATED,
    P_EXP_MAX,
    P_EXPORT_FACTOR,
    P_FEED_DM_FRAC,
    P_FLARE_MAX,
    P_GRID_FEE,
    P_H2_PRICE,
    P_HEAT_BACKUP,
    P_HOLDER_NM3,
    P_HP_CARNOT,
    P_HP_RATED,
    P_HP_SINK_C,
    P_HP_SOURCE,
    P_IMP_MAX,
    P_MAKEUP_M3H,
    P_O2_KG_H,
    P_O2_PRICE,
    P_RAS_EL_KW,
    P_RAS_HEAT_FACTOR,
    P_REUSE_CAP,
    P_SLUDGE_FEE,
    P_SLUDGE_KG_DM_H,
    P_STORE_CAP,
    P_STORE_LOSS_H,
    P_STORE_MAX_CH,
    P_STORE_MAX_DIS,
    P_TSET_C,
    P_UPG_CAP,
    P_UPG_HEAT_KWH_NM3,
    P_UPG_KWH_NM3,
    P_UPG_SLIP,
    P_VS_PER_TS,
    P_WATER_KWH_M3,
    P_WATER_PRICE,
    P_WT_CAP,
    P_WT_KWH_M3,
    P_WT_TANK,
    P_X_BIOGAS_HOLDER,
    P_X_CHP_HEAT,
    P_X_ELY_HEAT,
    P_X_HEAT_DIG,
    P_X_HEAT_RAS,
    P_X_O2,
    P_X_SLUDGE,
    REUSE_DT_K,
    S_GAS,
    S_HEAT,
    S_TANK,
    S_VS,
)

_EPS = 1e-9


@njit(cache=True, inline="always", error_model="numpy")
def _min_load(x: float, p_min: float, rated: float) -> float:
    """A unit runs at 0 or between min load and rated; requests below min load round to the nearer."""
    if rated <= 0.0:
        return 0.0
    if x < p_min - _EPS:
        return 0.0 if x < 0.5 * p_min else p_min
    return min(x, rated)


@njit(cache=True, inline="always", error_model="numpy")
def _fraction(A, Y, k: int, a: int) -> float:
    """Action ``a`` of park ``k`` clipped to [0, 1]; records applied − requested (here: the box clip)."""
    req = A[k, a]
    if math.isnan(req):  # a NaN request does nothing, and counts as a full clip
        Y[k, O_CLIP0 + a] = 1.0
        return 0.0
    v = min(max(req, 0.0), 1.0)
    Y[k, O_CLIP0 + a] = v - req
    return v


@njit(cache=True, error_model="numpy")
def _step_park(P, EXO, k, s, ti, S, A, Y):
    dt = P[k, P_DT_H]
    a_chp = _fraction(A, Y, k, A_CHP)
    a_upg = _fraction(A, Y, k, A_UPG)
    a_flare = _fraction(A, Y, k, A_FLARE)
    a_ely = _fraction(A, Y, k, A_ELY)
    a_o2 = _fraction(A, Y, k, A_O2)
    a_hp = _fraction(A, Y, k, A_HP)
    a_hr = _fraction(A, Y, k, A_HEAT_RAS)
    a_hd = _fraction(A, Y, k, A_HEAT_DIG)
    a_tr = _fraction(A, Y, k, A_TREAT)
    a_ru = _fraction(A, Y, k, A_REUSE)
    feed = EXO[s, ti, E_FEED]
    price = EXO[s, ti, E_PRICE]
    co2 = EXO[s, ti, E_CO2]
    t_fresh = EXO[s, ti, E_FRESH_C]
    t_source = EXO[s, ti, int(P[k, P_HP_SOURCE])]

    # Digester: first-order degradation of the volatile solids it holds (retention time τ).
    sludge = P[k, P_SLUDGE_KG_DM_H] * feed * dt
    sludge_in = min(sludge, P[k, P_X_SLUDGE] * dt)
    vs_in = sludge_in * P[k, P_VS_PER_TS]
    tau = P[k, P_DIG_TAU_H]
    vs = S[k, S_VS]
    degraded = vs * min(1.0, dt / tau) if tau > 0.0 else vs
    ch4 = degraded * P[k, P_CH4_YIELD]
    ch4_frac = P[k, P_CH4_FRAC]
    biogas = ch4 / ch4_frac if ch4_frac > 0.0 else 0.0
    to_holder = min(biogas, P[k, P_X_BIOGAS_HOLDER] * dt)
    heat_dem_dig = 0.0
    if tau > 0.0:
        feed_m3 = sludge_in / (P[k, P_FEED_DM_FRAC] * 1000.0)
        warm_up = CP_WATER_KWH_PER_M3K * feed_m3 * (P[k, P_DIG_TEMP_C] - P[k, P_TSET_C])
        heat_dem_dig = max(0.0, warm_up + P[k, P_DIG_LOSS_KW] * dt)

    # Gas holder: CHP first, then the upgrader, then the flare; an overfull holder flares.
    lhv_bg = LHV_CH4_KWH_PER_NM3 * ch4_frac
    gas = S[k, S_GAS] + to_holder
    slope = P[k, P_CHP_FUEL_SLOPE]
    offset = P[k, P_CHP_FUEL_OFFSET]
    p_min = P[k, P_CHP_PMIN]
    p_chp = _min_load(a_chp * P[k, P_CHP_RATED], p_min, P[k, P_CHP_RATED])
    fuel = (slope * p_chp + offset) * dt if p_chp > 0.0 else 0.0
    gas_chp = fuel / lhv_bg if lhv_bg > 0.0 else 0.0
    if gas_chp > gas + _EPS:
        p_chp = (gas * lhv_bg / dt - offset) / slope
        p_chp = p_chp if p_chp >= p_min - _EPS else 0.0
        fuel = (slope * p_chp + offset) * dt if p_chp > 0.0 else 0.0
        gas_chp = min(gas, fuel / lhv_bg) if lhv_bg > 0.0 else 0.0
    upg = min(a_upg * P[k, P_UPG_CAP] * dt, max(gas - gas_chp, 0.0))
    flare = min(a_flare * P[k, P_FLARE_MAX] * dt, max(gas - gas_chp - upg, 0.0))
    gas_new = gas - gas_chp - upg - flare
    overflow = max(0.0, gas_new - P[k, P_HOLDER_NM3])
    gas_new -= overflow
    chp_el = p_chp * dt
    chp_heat = P[k, P_CHP_ETA_TH] * fuel
    biomethane = upg * ch4_frac * (1.0 - P[k, P_UPG_SLIP]) * LHV_CH4_KWH_PER_NM3
    slip_kg = upg * ch4_frac * P[k, P_UPG_SLIP] * CH4_KG_PER_NM3
    upg_el = upg * P[k, P_UPG_KWH_NM3]
    upg_heat = upg * P[k, P_UPG_HEAT_KWH_NM3]  # amine regeneration at 120–160 °C: backup heat

    # Flexible electric loads, then water, then shed flexible load if the grid limit is hit.
    p_ely = _min_load(a_ely * P[k, P_ELY_RATED], P[k, P_ELY_PMIN], P[k, P_ELY_RATED])
    q_hp = a_hp * P[k, P_HP_RATED]
    # A heat pump's COP is at least 1 (its electricity ends up as heat) and at most COP_MAX.
    cop = min(max(P[k, P_HP_CARNOT] * (P[k, P_HP_SINK_C] + 273.15) / max(P[k, P_HP_SINK_C] - t_source, 1.0), 1.0), COP_MAX)
    water_dem = P[k, P_MAKEUP_M3H] * dt
    treat = min(a_tr * P[k, P_WT_CAP] * dt, water_dem)
    reuse = a_ru * P[k, P_REUSE_CAP] * dt
    tank = S[k, S_TANK]
    if tank + treat - reuse < 0.0:
        reuse = tank + treat
    if tank + treat - reuse > P[k, P_WT_TANK]:
        treat = P[k, P_WT_TANK] - tank + reuse
    tank_new = tank + treat - reuse
    treat_el = treat * P[k, P_WT_KWH_M3]
    base_el = (P[k, P_RAS_EL_KW] + P[k, P_DIG_EL_KW]) * dt
    fresh = water_dem - reuse
    # Make-up water is made on site (desalination): its electricity is a load like any other.
    # The electrolyser's own water (0.06 % of its power) is left out of the shedding below;
    # an overshoot that small shows in grid_over_limit_kwh.
    fixed = base_el + upg_el + treat_el + fresh * P[k, P_WATER_KWH_M3] - chp_el
    excess = fixed + p_ely * dt + q_hp / cop * dt - P[k, P_IMP_MAX] * dt
    if excess > _EPS:
        p_ely = _min_load(max(0.0, p_ely - excess / dt), P[k, P_ELY_PMIN], P[k, P_ELY_RATED])
        excess = fixed + p_ely * dt + q_hp / cop * dt - P[k, P_IMP_MAX] * dt
        if excess > _EPS:
            q_hp = max(0.0, q_hp - excess / dt * cop)

    # Electrolyser products and the oxygen route to the fish.
    ely_el = p_ely * dt
    h2 = ely_el / P[k, P_ELY_KWH_KG] if P[k, P_ELY_KWH_KG] > 0.0 else 0.0
    o2 = h2 * P[k, P_ELY_O2_RATIO]
    ely_water = (h2 + o2) / 1000.0  # stoichiometric: water in = H2 + O2 out (kg -> m³)
    ely_heat = P[k, P_ELY_HEAT_FRAC] * ely_el
    o2_dem = P[k, P_O2_KG_H] * feed * dt
    o2_ras = min(a_o2 * P[k, P_X_O2] * dt, o2, o2_dem)

    # Heat: make-up water heating, digester, store. Fresh water passes the effluent heat
    # exchanger (factor 1 − recovery); reused water's 2 K is what is left after recovery.
    heat_dem_ras = CP_WATER_KWH_PER_M3K * (
        P[k, P_RAS_HEAT_FACTOR] * fresh * max(P[k, P_TSET_C] - t_fresh, 0.0) + reuse * REUSE_DT_K
    )
    chp_to_store = min(chp_heat, P[k, P_X_CHP_HEAT] * dt)
    ely_to_store = min(ely_heat, P[k, P_X_ELY_HEAT] * dt)
    waste_in = chp_to_store + ely_to_store
    dumped = max(0.0, waste_in - P[k, P_STORE_MAX_CH] * dt)  # waste heat above the charge rate
    waste_in -= dumped
    # The heat pump takes what charge rate the waste heat leaves: it is never run to dump heat.
    hp_heat = min(q_hp * dt, P[k, P_STORE_MAX_CH] * dt - waste_in)
    loss = S[k, S_HEAT] * P[k, P_STORE_LOSS_H] * dt
    avail = S[k, S_HEAT] - loss + waste_in + hp_heat
    q_ras = min(a_hr * P[k, P_X_HEAT_RAS] * dt, heat_dem_ras)
    q_dig = min(a_hd * P[k, P_X_HEAT_DIG] * dt, heat_dem_dig)
    out = q_ras + q_dig
    limit = min(P[k, P_STORE_MAX_DIS] * dt, max(avail, 0.0))
    if out > limit:
        scale = limit / out
        q_ras *= scale
        q_dig *= scale
        out = q_ras + q_dig
    # ... nor beyond the store's free room after this step's discharge (the discharge, limited
    # by avail with the heat pump's heat, stays feasible: clipped, the store ends exactly full).
    room = P[k, P_STORE_CAP] - (S[k, S_HEAT] - loss + waste_in - out)
    hp_heat = min(hp_heat, max(room, 0.0))
    q_hp = hp_heat / dt
    hp_el = q_hp / cop * dt
    heat_new = S[k, S_HEAT] - loss + waste_in + hp_heat - out
    over = max(0.0, heat_new - P[k, P_STORE_CAP])  # only waste heat can overfill the store now
    heat_new -= over
    recovered = waste_in - over  # waste heat delivered or kept in the store
    dumped += over + (chp_heat - chp_to_store) + (ely_heat - ely_to_store)
    unmet = heat_dem_ras - q_ras + heat_dem_dig - q_dig

    # Grid balance and money.
    water_el = (fresh + ely_water) * P[k, P_WATER_KWH_M3]
    load = base_el + upg_el + treat_el + water_el + ely_el + hp_el
    net = load - chp_el
    imp = max(net, 0.0)
    exp_ = max(-net, 0.0)
    spill = max(0.0, exp_ - P[k, P_EXP_MAX] * dt)
    exp_ -= spill
    over_limit = max(0.0, imp - P[k, P_IMP_MAX] * dt)
    cost_grid = (imp * (price + P[k, P_GRID_FEE]) - exp_ * price * P[k, P_EXPORT_FACTOR]) / 1000.0
    cost_water = (fresh + ely_water) * P[k, P_WATER_PRICE]
    cost_heat = (unmet + upg_heat) * P[k, P_HEAT_BACKUP] / 1000.0
    cost_o2 = (o2_dem - o2_ras) * P[k, P_O2_PRICE]
    cost_sludge = (sludge - sludge_in) * P[k, P_SLUDGE_FEE]
    rev_h2 = h2 * P[k, P_H2_PRICE]
    rev_bm = biomethane * P[k, P_BM_PRICE] / 1000.0
    cost = cost_grid + cost_water + cost_heat + cost_o2 + cost_sludge - rev_h2 - rev_bm
    co2_kg = (imp + unmet + upg_heat) * co2 / 1000.0 + slip_kg * GWP_CH4  # backup heat: electric boiler
    carbon = co2_kg / 1000.0 * P[k, P_CARBON_PRICE]

    S[k, S_GAS] = gas_new
    S[k, S_HEAT] = heat_new
    S[k, S_TANK] = tank_new
    S[k, S_VS] = vs - degraded + vs_in
    applied = (
        p_chp / P[k, P_CHP_RATED] if P[k, P_CHP_RATED] > 0.0 else 0.0,
        upg / (P[k, P_UPG_CAP] * dt) if P[k, P_UPG_CAP] > 0.0 else 0.0,
        flare / (P[k, P_FLARE_MAX] * dt) if P[k, P_FLARE_MAX] > 0.0 else 0.0,
        p_ely / P[k, P_ELY_RATED] if P[k, P_ELY_RATED] > 0.0 else 0.0,
        o2_ras / (P[k, P_X_O2] * dt) if P[k, P_X_O2] > 0.0 else 0.0,
        q_hp / P[k, P_HP_RATED] if P[k, P_HP_RATED] > 0.0 else 0.0,
        q_ras / (P[k, P_X_HEAT_RAS] * dt) if P[k, P_X_HEAT_RAS] > 0.0 else 0.0,
        q_dig / (P[k, P_X_HEAT_DIG] * dt) if P[k, P_X_HEAT_DIG] > 0.0 else 0.0,
        treat / (P[k, P_WT_CAP] * dt) if P[k, P_WT_CAP] > 0.0 else 0.0,
        reuse / (P[k, P_REUSE_CAP] * dt) if P[k, P_REUSE_CAP] > 0.0 else 0.0,
    )
    requested = (a_chp, a_upg, a_flare, a_ely, a_o2, a_hp, a_hr, a_hd, a_tr, a_ru)
    clip_total = 0.0
    for a in range(N_ACTIONS):
        # The box clip (already in Y) plus the physical clip of the in-box request.
        d = Y[k, O_CLIP0 + a] + applied[a] - requested[a]
        Y[k, O_CLIP0 + a] = d
        clip_total += abs(d)
    vals = (
        -(cost + carbon),
        cost,
        carbon,
        co2_kg,
        imp,
        exp_,
        spill,
        over_limit,
        load,
        chp_el,
        fuel,
        chp_heat,
        chp_to_store,
        gas_chp,
        upg,
        upg_el,
        upg_heat,
        biomethane,
        slip_kg,
        flare + overflow + (biogas - to_holder),
        biogas,
        ch4,
        sludge,
        sludge - sludge_in,
        vs_in,
        degraded,
        ely_el,
        h2,
        o2,
        o2_dem,
        o2_ras,
        o2_dem - o2_ras,
        o2 - o2_ras,
        ely_water,
        ely_heat,
        ely_to_store,
        hp_heat,
        hp_el,
        cop,
        heat_dem_ras,
        heat_dem_dig,
        q_ras,
        q_dig,
        unmet,
        dumped,
        loss,
        recovered,
        water_dem,
        fresh,
        reuse,
        treat,
        water_dem - treat,
        treat_el,
        water_el,
        base_el,
        cost_grid,
        cost_water,
        cost_heat,
        cost_o2,
        cost_sludge,
        rev_h2,
        rev_bm,
        price,
        co2,
        clip_total,
    )
    for j in range(len(vals)):
        Y[k, j] = vals[j]


@njit(cache=True, inline="always", error_model="numpy")
def _observe_park(P, EXO, k, s, ti, S, OBS, horizon):
    T = EXO.shape[1]
    OBS[k, S_GAS] = S[k, S_GAS] / P[k, P_HOLDER_NM3] if P[k, P_HOLDER_NM3] > 0.0 else 0.0
    OBS[k, S_HEAT] = S[k, S_HEAT] / P[k, P_STORE_CAP] if P[k, P_STORE_CAP] > 0.0 else 0.0
    OBS[k, S_TANK] = S[k, S_TANK] / P[k, P_WT_TANK] if P[k, P_WT_TANK] > 0.0 else 0.0
    vs_ss = P[k, P_SLUDGE_KG_DM_H] * P[k, P_VS_PER_TS] * P[k, P_DIG_TAU_H]
    OBS[k, S_VS] = S[k, S_VS] / vs_ss if vs_ss > 0.0 else 0.0
    j = N_STATE
    row = ti
    for _ in range(horizon + 1):
        # Wrap by comparison: an integer modulo per forecast step cost a third of the whole step.
        if row >= T:
            row -= T
        OBS[k, j] = EXO[s, row, E_PRICE] / 100.0
        OBS[k, j + horizon + 1] = EXO[s, row, E_CO2] / 100.0
        row += 1
        j += 1
    j += horizon + 1
    for c in range(3):
        OBS[k, j + c] = EXO[s, ti, c] / 10.0
    OBS[k, j + 3] = EXO[s, ti, E_FEED]
    hours = ti * P[k, P_DT_H]
    day = 2.0 * math.pi * (hours % 24.0) / 24.0
    year = 2.0 * math.pi * (hours % 8760.0) / 8760.0
    OBS[k, j + 4] = math.sin(day)
    OBS[k, j + 5] = math.cos(day)
    OBS[k, j + 6] = math.sin(year)
    OBS[k, j + 7] = math.cos(year)


@njit(cache=True, error_model="numpy", inline="always")
def _advance_park(P, EXO, ser, t, S, A, Y, OBS, horizon, k, T):
    """Step park ``k`` once, advance its clock and write its next observation."""
    ti = t[k]
    if ti >= T:
        ti %= T
    _step_park(P, EXO, k, ser[k], ti, S, A, Y)
    ti = ti + 1 if ti + 1 < T else 0  # the clock stays within the series (no modulo per step)
    t[k] = ti
    _observe_park(P, EXO, k, ser[k], ti, S, OBS, horizon)


@njit(cache=True, parallel=True, error_model="numpy")
def step_batch_numba(P, EXO, ser, t, S, A, Y, OBS, horizon):
    """Step every park once, advance its clock and write its next observation (``prange``)."""
    T = EXO.shape[1]
    for k in prange(S.shape[0]):
        _advance_park(P, EXO, ser, t, S, A, Y, OBS, horizon, k, T)


@njit(cache=True, error_model="numpy")
def step_serial_numba(P, EXO, ser, t, S, A, Y, OBS, horizon):
    """:func:`step_batch_numba` without threads: as fast on 2 cores, and cheaper to call for one park."""
    T = EXO.shape[1]
    for k in range(S.shape[0]):
        _advance_park(P, EXO, ser, t, S, A, Y, OBS, horizon, k, T)


@njit(cache=True, error_model="numpy")
def reset_numba(P, EXO, ser, t, S, S0, OBS, horizon, mask):
    """Put the parks where ``mask`` is true back to their initial state ``S0[k]`` and observe them."""
    T = EXO.shape[1]
    for k in range(S.shape[0]):
        if mask[k]:
            for j in range(S.shape[1]):
                S[k, j] = S0[k, j]
            _observe_park(P, EXO, k, ser[k], t[k] % T, S, OBS, horizon)
