"""Forecast quality and refit time: the rolling-origin backtest per series family, and a 60-series refit.

    .venv/bin/python benchmarks/bench_forecast.py [CITYLEARN_DIR] [--buildings 3] [--origins 28] [--refit-series 60]
    .venv/bin/python benchmarks/bench_forecast.py CITYLEARN_DIR --refit-only     # the refit's wall and CPU time
    .venv/bin/python benchmarks/bench_forecast.py CITYLEARN_DIR --variants       # the CityLearn variants tried
    .venv/bin/python benchmarks/bench_forecast.py --mpc-hours 8760 --mpc-start 0 --mpc-only  # a year of MPC per park
    .venv/bin/python benchmarks/bench_forecast.py CITYLEARN_DIR --public taylor,uk_gas \
        --only public,citylearn_solar,citylearn_carbon   # the public series and the weather-driven ones

Families (hourly 1-48 h unless said):

- ``citylearn_load``: CityLearn 2022 buildings' measured non-shiftable load (kWh per hour);
- ``citylearn_load+weather``: the same with outdoor temperature and direct irradiance as covariates
  (LightGBM joins the candidates; the measured weather at the target hours stands for its forecast);
- ``citylearn_solar``: the buildings' PV generation (production; this dataset's heating, cooling
  and hot-water demands are all zero, so it has no heat series: the twin family carries those);
  weather-driven, so judged with three kinds of weather covariates (temperature, direct and diffuse
  irradiance): ``+realised`` the realised weather at the target hours (a perfect 48 h forecast),
  ``+forecasts`` what the park had at the origin (the dataset's 6/12/24 h forecasts, which equal the
  realised weather: see forecast_public.py; the day-ahead forecast of the day before beyond 24 h),
  ``+observed`` no forecast (the weather last observed at each hour of the day);
- ``citylearn_carbon``: the grid's carbon intensity (hourly, partly weather-driven), the same three;
- ``public_taylor``: England & Wales demand, 12 weeks of 2000, shipped in pmdarima (``--public taylor``);
- ``public_uk_gas``: a UK household's hourly gas use (a heat demand), shipped in eemeter (``--public uk_gas``),
  ``+realised`` with the realised outdoor temperature at the target hours (the sample has no forecasts: a
  perfect temperature forecast), ``+observed`` with the temperature last observed at each hour of the day;
- ``citylearn_weather``: outdoor temperature and relative humidity;
- ``twin``: the series the twin generates for the shipped parks (weather, prices, loads): AR(1)
  noise around a seasonal shape, the easy case;
- ``*_daily``: the same loads as daily means, 1-14 d ahead, judged against the weekly naive.

Each cell: median over the family's series [bootstrap 95 % interval of the median; for a family of one
series, a bootstrap over its origins]. A family judged with covariates ends all its runs, the one
without covariates too, 48 h before its data does (those hours are the last forecast's covariates),
so its rows share their origins. ``chosen`` is
the model the backtest picks per series, scored on that same backtest (optimistic by the choice);
``chosen earlier`` the model ``choose`` picks at the table's first origin on ``--select`` (14) daily
origins whose outcomes all precede it, scored on the table's origins (the honest figure); the
``how often`` rows count the models each picks. ``--scores-json`` writes every per-origin MAE.
The CityLearn folder is read only when given (tests never read it).
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forecast_public import (
    citylearn_weather,
    forecast_gap,
    issued_at_origin,
    observed_only,
    taylor_hourly,
    uk_gas_and_temperature,
)

from sim_env.forecast import DAILY, HOURLY, choose, to_daily


def _col(path: Path, name: str) -> np.ndarray:
    with path.open() as fh:
        r = csv.DictReader(fh)
        return np.array([float(row[name] or "nan") for row in r])


def citylearn(root: Path, buildings: int) -> dict[str, dict[str, np.ndarray]]:
    weather = {c: _col(root / "weather.csv", c) for c in ("outdoor_dry_bulb_temperature", "outdoor_relative_humidity",
                                                           "direct_solar_irradiance")}
    fam: dict[str, dict[str, np.ndarray]] = {"citylearn_load": {}, "citylearn_solar": {}, "citylearn_weather": {}}
    for b in range(1, buildings + 1):
        f = root / f"Building_{b}.csv"
        fam["citylearn_load"][f"b{b}.load"] = _col(f, "non_shiftable_load")
        fam["citylearn_solar"][f"b{b}.solar"] = _col(f, "solar_generation")
    fam["citylearn_weather"] = {"temp": weather["outdoor_dry_bulb_temperature"], "rh": weather["outdoor_relative_humidity"]}
    fam["_X"] = {"X": np.column_stack([weather["outdoor_dry_bulb_temperature"], weather["direct_solar_irradiance"]])}
    fam["citylearn_carbon"] = {"carbon": _col(root / "carbon_intensity.csv", "carbon_intensity")}
    return fam


def weather_variants(root: Path) -> dict[str, tuple[np.ndarray, object]]:
    """Covariates (rows aligned with the series) and how the backtest reads them ahead of each origin:
    the realised rows (None), the forecasts issued by the origin, or the weather observed by then."""
    real, fc = citylearn_weather(root)
    print(forecast_gap(real, fc), flush=True)
    day_ahead = real.copy()
    day_ahead[24:] = fc[24][:-24]  # what the park archived: each hour's day-ahead forecast
    h = HOURLY.horizon
    return {"+realised": (real, None), "+forecasts": (day_ahead, issued_at_origin(real, fc, h)),
            "+observed": (real, observed_only(real, h))}


def twin_series() -> dict[str, np.ndarray]:
    from aisym.park.graph import load_graph
    from sim_env.graph.exogenous import generate

    out = {}
    root = Path(__file__).resolve().parents[1] / "aisym" / "parks"
    for park in ("kraakoya", "kalundborg"):
        for k, v in generate(load_graph(root / f"{park}.yaml"), 0, 1, 1.0).items():
            if np.ptp(v[0]) > 0:
                out[f"{park}.{k}"] = v[0]
    return out


def _median_ci(x: list[float], rng: np.random.Generator) -> str:
    a = np.asarray([v for v in x if np.isfinite(v)])
    if a.size == 0:
        return "-"
    boot = np.median(rng.choice(a, (2000, a.size)), axis=1)
    return f"{np.median(a):.3f} [{np.quantile(boot, 0.025):.3f}, {np.quantile(boot, 0.975):.3f}]"


def _origin_ci(f, s, rng, weekly: bool = False) -> tuple[str, str]:
    """One series: (rel. MAE, MASE) with a bootstrap 95 % interval over its origins (each resample of the
    origins scores the model and the naive ones on the same origins)."""
    def per(name):
        return np.asarray(next(x.origin_mae for x in f.scores if x.model == name))

    m = np.asarray(s.origin_mae)
    refs = [per(n) for n in (("naive_weekly",) if weekly else ("naive_daily", "naive_weekly"))
            if any(x.model == n for x in f.scores)]
    idx = rng.integers(0, m.size, (2000, m.size))
    rel = m[idx].mean(axis=1) / np.min([r[idx].mean(axis=1) for r in refs], axis=0)
    mase = s.mase * m[idx].mean(axis=1) / m.mean()
    point = m.mean() / min(r.mean() for r in refs)
    return (f"{point:.3f} [{np.quantile(rel, 0.025):.3f}, {np.quantile(rel, 0.975):.3f}]",
            f"{s.mase:.3f} [{np.quantile(mase, 0.025):.3f}, {np.quantile(mase, 0.975):.3f}]")


def run_family(series: dict[str, np.ndarray], freq, origins: int, X: np.ndarray | None = None, ahead=None,
               trim: bool = False, select: int = 14) -> list:
    """``ahead(o)``: the covariates over the horizon known at origin o (None: X's realised rows); ``trim``:
    leave out the last horizon without covariates too (the same origins as the runs with them).

    ``select`` > 0: each series' model is also chosen as ``choose`` would have chosen it at the table's first
    origin, on ``select`` daily origins whose outcomes all precede it (``f.selected``), so the "chosen earlier"
    row scores a choice made without the table's origins."""
    out = []
    for name, y in series.items():
        h = freq.horizon
        y = y[:-h] if X is not None or trim else y
        kw = {} if X is None else {"X": X[: y.size], "X_future": X[y.size : y.size + h] if ahead is None else
                                   ahead(y.size), "X_ahead": ahead}
        t = time.perf_counter()
        f = choose(name, y, freq, n_origins=origins, **kw)
        f.selected = ""
        if select:
            first = y.size - h - (origins - 1) * freq.day  # the table's first origin
            kws = {} if X is None else {"X": X[:first], "X_future": X[first : first + h] if ahead is None else
                                        ahead(first), "X_ahead": ahead}
            f.selected = choose(name, y[:first], freq, n_origins=select, **kws).model
        print(f"  {name}: {f.model} (earlier: {f.selected}) {[(s.model, round(s.rel_mae, 3)) for s in f.scores]} "
              f"{f.notes} ({time.perf_counter() - t:.1f} s)", flush=True)
        out.append(f)
    return out


def summarize(family: str, fs: list, rng, weekly: bool = False) -> list[str]:
    rows = []
    models = sorted({s.model for f in fs for s in f.scores})
    def pick(f, m):
        want = {"chosen": f.model, "chosen earlier": getattr(f, "selected", "")}.get(m, m)
        return next((s for s in f.scores if s.model == want), None)

    for m in [*models, "chosen", "chosen earlier"]:
        sc = [pick(f, m) for f in fs]
        sc = [s for s in sc if s is not None]
        if not sc:
            continue
        if weekly:  # against the weekly naive alone
            wk = {f.series: next(s.mae for s in f.scores if s.model == "naive_weekly") for f in fs
                  if any(s.model == "naive_weekly" for s in f.scores)}
            rel = [s.mae / wk[f.series] for f, s in zip(fs, sc, strict=False) if f.series in wk]
        else:
            rel = [s.rel_mae for s in sc]
        cells = (_median_ci(rel, rng), _median_ci([s.mase for s in sc], rng))
        if len(fs) == 1 and sc[0].origin_mae:  # one series: the interval is over its origins
            cells = _origin_ci(fs[0], sc[0], rng, weekly)
        cover = [_median_ci([getattr(s, k) for s in sc], rng) if len(sc) > 1 else f"{getattr(sc[0], k):.3f}"
                 for k in ("cover80", "cover95", "raw80")]  # one series: its coverage, no interval
        rows.append(f"| {family} | {m} | {len(sc)} | {cells[0]} | {cells[1]} | {' | '.join(cover)} |")
    for m in ("chosen", "chosen earlier"):
        won = collections.Counter(pick(f, m).model for f in fs if pick(f, m) is not None)
        rows.append(f"| {family} | {m}: how often | {len(fs)} | " + ", ".join(f"{k} {v}" for k, v in won.most_common())
                    + " | | | | |")
    if SCORES is not None:
        SCORES[family] = {f.series: {"model": f.model, "selected": getattr(f, "selected", ""),
                                     "origin_mae": {s.model: s.origin_mae for s in f.scores},
                                     "cover80": {s.model: s.cover80 for s in f.scores}} for f in fs}
    return rows


SCORES: dict | None = None  # --scores-json: every family's per-origin MAE per series and model


def _cpu() -> float:
    import resource

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                   resource.getrusage(resource.RUSAGE_CHILDREN)))


def refit_timing(series: dict[str, np.ndarray], n: int, origins: int, workers: int = 2) -> str:
    """Wall and CPU seconds of a full refit (every series re-selected) in ``workers`` processes, and of
    re-fitting the chosen models only. CPU seconds / 2 is the wall time on 2 idle cores (this machine's
    are shared, so its wall time is the load's as much as ours)."""
    from cloud.forecast.refit import RefitState, refit
    from cloud.forecast.store import HOUR_MS, History

    names = list(series)
    hist = {}
    for i in range(n):
        y = series[names[i % len(names)]][-(HOURLY.history + origins * 24 + 48):]
        hist[f"s{i:02d}"] = History(f"s{i:02d}", 0, y + 0.001 * i)
    state = RefitState(Path("/tmp/bench_forecast_state.json"))
    t, c = time.perf_counter(), _cpu()
    refit(hist, state, 0, origins, workers=workers)
    full, full_cpu = time.perf_counter() - t, _cpu() - c

    def broken(*a, **k):
        raise RuntimeError("timing the last-good path")

    t, c = time.perf_counter(), _cpu()
    refit(hist, state, HOUR_MS, origins, fit=broken)
    kept, kept_cpu = time.perf_counter() - t, _cpu() - c
    return (f"refit of a {n}-series park (hourly + daily, 8 weeks of history): with model selection on {origins} "
            f"origins in {workers} processes {full:.1f} s wall, {full_cpu:.1f} CPU s; re-fitting the chosen models "
            f"only {kept:.1f} s wall, {kept_cpu:.1f} CPU s (goal: 60 s on 2 cores; load average now "
            f"{__import__('os').getloadavg()[0]:.1f})")


def mpc_comparison(park: str, hours: float, start: int = 24 * 30, replan: float = 24.0, horizon: float = 36.0) -> str:
    """MPC on perfect, synthetic-noise and learned forecasts over the same hours of the twin, relaxed
    (LP) plans every ``replan`` hours; each run's wall time scaled to a year (8760 h) beside it."""
    from sim_env.forecast.mpc import LearnedMpc
    from sim_env.graph.baselines import GraphMpc
    from sim_env.graph.evaluate import evaluate

    root = Path(__file__).resolve().parents[1] / "aisym" / "parks"
    out = []
    runs = {"perfect": GraphMpc(horizon, replan, noise=0.0, relax=True),
            "synthetic noise": GraphMpc(horizon, replan, noise=1.0, relax=True),
            "learned": LearnedMpc(horizon, replan, relax=True)}
    res = {}
    for name, strategy in runs.items():
        t, c = time.perf_counter(), _cpu()
        res[name] = evaluate(strategy, root / f"{park}.yaml", hours=hours, start=start, exo_seed=3)
        wall, cpu = time.perf_counter() - t, _cpu() - c
        out.append(f"| {park} | {hours:.0f} h | MPC, {name} forecasts | {res[name].objective:,.0f} | "
                   f"{100 * (res[name].objective / res['perfect'].objective - 1):+.2f} % | {wall:.0f} s, {cpu:.0f} CPU s | "
                   f"{cpu * 8760 / hours / 60:.0f} CPU min |")
    return "\n".join(["| park | run | strategy | objective (cost + CO2) | vs perfect | wall, CPU | a year (CPU) |",
                      "|---|---|---|---|---|---|---|", *out])


def _direct_features(y: np.ndarray, X: np.ndarray | None, origins: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows (origin, lead 1..h), everything known at the origin: the lead, the last two values and the last
    day's mean, the same hour on the last known day(s) and a week and two back, hour, weekday, hour x
    weekday; with weather: its values at the target, the day's mean temperature, the change since the origin."""
    o, k = np.repeat(origins, h), np.tile(np.arange(1, h + 1), origins.size)
    t = o + k - 1
    d = -(-k // 24) * 24
    day_mean = np.convolve(y, np.ones(24) / 24, "full")[: y.size]
    cols = [k, y[o - 1], y[o - 2], day_mean[o - 1], y[t - d], y[t - d - 24], y[t - 168], y[t - 336],
            t % 24, (t // 24) % 7, t % 24 + 24 * ((t // 24) % 7)]
    if X is not None:
        temp_day = np.convolve(X[:, 0], np.ones(24) / 24, "same")
        cols += [*X[t].T, temp_day[t], X[t, 0] - X[o - 1, 0]]
    return np.column_stack(cols), t


def direct_lightgbm(y: np.ndarray, h: int, X: np.ndarray | None = None, X_future: np.ndarray | None = None) -> np.ndarray:
    """A direct multi-horizon LightGBM (one model, the lead a feature; origins every 2 h of the history)."""
    import lightgbm as lgb

    full_y = np.concatenate([y, np.full(h, np.nan)])
    full_x = None if X is None else np.vstack([X, X_future])
    F, t = _direct_features(full_y, full_x, np.arange(337, y.size - h + 1, 2), h)
    m = lgb.LGBMRegressor(n_estimators=200, learning_rate=0.05, num_leaves=31, min_child_samples=20, subsample=0.8,
                          subsample_freq=1, colsample_bytree=0.8, verbose=-1, n_jobs=1).fit(F, full_y[t])
    return m.predict(_direct_features(full_y, full_x, np.array([y.size]), h)[0])


def variants(root: Path, buildings: int, origins: int = 28) -> list[str]:
    """CityLearn loads: the shipped models against what was tried for the 0.85 / 0.75 goals (issue 21):
    a direct multi-horizon LightGBM with calendar, longer lags and weather (temperature, direct and diffuse
    irradiance, humidity, the day's mean temperature), and its mean with MSTL. Origins a week apart
    over the last 28 weeks (every season of the loads' year); rel. MAE against the better seasonal naive."""
    from sim_env.forecast.models import lightgbm, mstl, naive

    W = np.column_stack([_col(root / "weather.csv", c) for c in (
        "outdoor_dry_bulb_temperature", "direct_solar_irradiance", "diffuse_solar_irradiance", "outdoor_relative_humidity")])
    h, rows = HOURLY.horizon, []
    for b in range(1, buildings + 1):
        y = _col(root / f"Building_{b}.csv", "non_shiftable_load")
        errs: dict[str, list[float]] = {}
        for o in range(y.size - h - origins * 168, y.size - h, 168):
            lo = o - HOURLY.history
            yy, act = y[lo:o], y[o : o + h]
            p = {"naive_daily": naive(24)(yy, h)["mean"], "naive_weekly": naive(168)(yy, h)["mean"],
                 "mstl": mstl(HOURLY)(yy, h)["mean"],
                 "lightgbm+weather (shipped)": lightgbm(HOURLY)(yy, h, W[lo:o, :2], W[o : o + h, :2])["mean"],
                 "direct": direct_lightgbm(yy, h), "direct+weather": direct_lightgbm(yy, h, W[lo:o], W[o : o + h])}
            p["mean(mstl, direct)"] = (p["mstl"] + p["direct"]) / 2
            p["mean(mstl, direct+weather)"] = (p["mstl"] + p["direct+weather"]) / 2
            for k, v in p.items():
                errs.setdefault(k, []).append(float(np.mean(np.abs(v - act))))
        mae = {k: np.mean(v) for k, v in errs.items()}
        ref = min(mae["naive_daily"], mae["naive_weekly"])
        rows.append(f"| b{b} | " + " | ".join(f"{v / ref:.3f}" for v in mae.values()) + " |")
        print(rows[-1], flush=True)
    return ["| building | " + " | ".join(errs) + " |", "|---" * (len(errs) + 1) + "|", *rows]


def variants_gas(end: int, origins: int = 28) -> list[str]:
    """UK household gas (eemeter's sample), the variants of ``variants`` with the temperature, on daily origins
    ending ``end`` hours into the series: choose a variant on origins the benchmark's table does not use."""
    from sim_env.forecast.models import lightgbm, mstl, naive

    y, temp = uk_gas_and_temperature()
    W, h, errs = temp[:, None], HOURLY.horizon, {}
    for o in range(end - h - (origins - 1) * 24, end - h + 1, 24):
        lo = o - HOURLY.history
        yy, act = y[lo:o], y[o : o + h]
        p = {"naive_daily": naive(24)(yy, h)["mean"], "naive_weekly": naive(168)(yy, h)["mean"],
             "mstl": mstl(HOURLY)(yy, h)["mean"],
             "lightgbm+temp (shipped)": lightgbm(HOURLY)(yy, h, W[lo:o], W[o : o + h])["mean"],
             "direct": direct_lightgbm(yy, h), "direct+temp": direct_lightgbm(yy, h, W[lo:o], W[o : o + h])}
        p["mean(mstl, direct+temp)"] = (p["mstl"] + p["direct+temp"]) / 2
        for k, v in p.items():
            errs.setdefault(k, []).append(float(np.mean(np.abs(v - act))))
    mae = {k: np.mean(v) for k, v in errs.items()}
    ref = min(mae["naive_daily"], mae["naive_weekly"])
    return ["| origins end at hour | " + " | ".join(errs) + " |", "|---" * (len(errs) + 1) + "|",
            f"| {end} | " + " | ".join(f"{v / ref:.3f}" for v in mae.values()) + " |"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("citylearn", nargs="?", type=Path, help="CityLearn 2022 folder (Building_N.csv, weather.csv)")
    ap.add_argument("--buildings", type=int, default=3)
    ap.add_argument("--origins", type=int, default=28)
    ap.add_argument("--refit-series", type=int, default=60)
    ap.add_argument("--refit-origins", type=int, default=7)
    ap.add_argument("--refit-workers", type=int, default=2)
    ap.add_argument("--refit-only", action="store_true")
    ap.add_argument("--mpc-hours", type=float, default=0.0, help="also compare MPC's forecasts over these hours")
    ap.add_argument("--mpc-only", action="store_true")
    ap.add_argument("--variants", action="store_true", help="CityLearn loads: the variants tried (needs CITYLEARN_DIR)")
    ap.add_argument("--mpc-replan", type=float, default=24.0, help="hours between MPC's plans")
    ap.add_argument("--mpc-parks", default="kraakoya,kalundborg")
    ap.add_argument("--mpc-start", type=int, default=24 * 30, help="first hour of the year (0 for a whole year)")
    ap.add_argument("--public", default="", help="public series shipped in wheels, comma-separated: taylor (pmdarima), "
                    "uk_gas (eemeter)")
    ap.add_argument("--variants-gas", type=int, default=0, metavar="END", help="UK gas: the variants on 28 daily "
                    "origins ending END hours into the series (not the table's origins, which end 48 h before its end)")
    ap.add_argument("--only", default="", help="comma-separated family prefixes to run (and no refit timing)")
    ap.add_argument("--select", type=int, default=14, help="earlier daily origins the 'chosen earlier' row picks on")
    ap.add_argument("--scores-json", type=Path, help="write each series' per-origin MAE per model here")
    a = ap.parse_args()
    global SCORES
    SCORES = {} if a.scores_json else None
    if a.mpc_hours:
        for park in a.mpc_parks.split(","):
            print(mpc_comparison(park, a.mpc_hours, a.mpc_start, a.mpc_replan), flush=True)
    if a.mpc_only:
        return
    if a.variants:
        print("\n".join(variants(a.citylearn, a.buildings)))
        return
    if a.variants_gas:
        print("\n".join(variants_gas(a.variants_gas)))
        return
    rng = np.random.default_rng(0)
    table = ["| family | model | series | rel. MAE | MASE | 80 % coverage | 95 % coverage | 80 % uncalibrated |",
             "|---|---|---|---|---|---|---|---|"]
    only = [f for f in a.only.split(",") if f]

    def keep(fam: str) -> bool:
        return not only or any(fam.startswith(f) for f in only)

    families: dict[str, dict[str, np.ndarray]] = {"twin": twin_series()} if keep("twin") or a.refit_only else {}
    X, wx = None, {}  # wx: family -> {tag: (covariates, what the backtest reads of them ahead of an origin)}
    public = a.public.split(",") if a.public else []
    if "taylor" in public:
        families["public_taylor"] = {"taylor.demand": taylor_hourly()}
    if "uk_gas" in public:
        gas, temp = uk_gas_and_temperature()
        families["public_uk_gas"] = {"uk.gas": gas}
        wx["public_uk_gas"] = {"+realised": (temp[:, None], None), "+observed": (temp[:, None], observed_only(temp[:, None],
                                                                                                          HOURLY.horizon))}
    if a.citylearn:
        cl = citylearn(a.citylearn, a.buildings)
        X = cl.pop("_X")["X"]
        families.update(cl)
        wx["citylearn_solar"] = wx["citylearn_carbon"] = weather_variants(a.citylearn)
    table += backtest_families({} if a.refit_only else {f: v for f, v in families.items() if keep(f)}, wx, X, a.origins, rng)
    print("\n".join(table), flush=True)
    print(f"load average now {__import__('os').getloadavg()[0]:.1f}", flush=True)
    if a.scores_json:
        a.scores_json.write_text(json.dumps(SCORES))
    if only:
        return
    pool = {**families.get("citylearn_load", {}), **families.get("citylearn_solar", {}), **families["twin"]}
    print(refit_timing(pool, a.refit_series, a.refit_origins, a.refit_workers))


def backtest_families(families: dict, wx: dict, X: np.ndarray | None, origins: int, rng) -> list[str]:
    """Each family's table rows: hourly, with each kind of covariates it has, daily where it makes sense."""
    table: list[str] = []
    for fam, series in families.items():
        print(f"{fam} ({len(series)} series, {origins} origins)", flush=True)
        table += summarize(fam, run_family(series, HOURLY, origins, trim=fam in wx), rng)
        if fam == "citylearn_load":
            print(f"{fam}+weather", flush=True)
            table += summarize(fam + "+weather", run_family(series, HOURLY, origins, X), rng)
        for tag, (cov, ahead) in wx.get(fam, {}).items():  # weather-driven: realised, forecast, observed
            print(f"{fam}{tag}", flush=True)
            table += summarize(fam + tag, run_family(series, HOURLY, origins, cov, ahead), rng)
        if fam in ("citylearn_load", "citylearn_solar", "public_taylor", "public_uk_gas"):
            print(f"{fam}_daily", flush=True)
            daily = {k: to_daily(v) for k, v in series.items()}
            table += summarize(fam + "_daily", run_family(daily, DAILY, origins), rng, weekly=True)
        print("\n".join(table), flush=True)
    return table


if __name__ == "__main__":
    main()
