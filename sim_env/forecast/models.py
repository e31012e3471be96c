"""The candidate models, each a function of a cleaned history: ``(y, h, X, X_future) -> Bands``.

statsforecast's models are used directly on numpy arrays (no data frames): seasonal naive for the
day and the week, MSTL (daily and weekly seasons) with a small AutoARIMA on its trend and remainder. Where covariates exist
(temperature, a feeding plan, a production schedule, prices), LightGBM on lags of at least the
horizon, so one model serves every lead time; its intervals are split-conformal, from the errors
on the last part of the history held out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEVELS = (80, 95)
BAND_KEYS = ("mean", "lo-80", "hi-80", "lo-95", "hi-95")

Bands = dict[str, np.ndarray]


@dataclass(frozen=True)
class Frequency:
    """One forecast resolution: steps per day and per week, and the longest lead time (steps)."""

    name: str
    day: int
    week: int
    horizon: int
    history: int  # the most recent steps a model is fitted on (MSTL's cost grows with it)

    @property
    def unit(self) -> str:
        return "h" if self.day > 1 else "d"


PROFILE_DAYS = 28  # the profile's fit: 4 weeks (a yearly swing is near linear over them; 14 days lost, 0.78 vs 0.71)
HOURLY = Frequency("hourly", 24, 168, 48, 8 * 168)
DAILY = Frequency("daily", 1, 7, 14, 52 * 7)


def _sf(model, y: np.ndarray, h: int) -> Bands:
    r = model.forecast(y=y, h=h, level=list(LEVELS))
    return {k: np.asarray(r[k], dtype=float) for k in BAND_KEYS}


def naive(season: int) -> Callable[..., Bands]:
    def run(y: np.ndarray, h: int, X=None, X_future=None) -> Bands:
        from statsforecast.models import SeasonalNaive

        return _sf(SeasonalNaive(season_length=season), y, h)

    return run


def _stl_jumps(period: int, seasonal: int) -> dict[str, int]:
    """R's ``stats::stl`` defaults (Cleveland et al. 1990, "STL", J. Official Statistics 6(1), sec. 3.4;
    R's ``s.jump``/``t.jump``/``l.jump`` = ceiling(window / 10)): each loess is fitted at every
    jump-th point and interpolated between. statsmodels' default of 1 fits at every point, 5-15x
    the cost for a weekly season of hourly data, the backtest's main cost."""
    trend = int(np.ceil(1.5 * period / (1 - 1.5 / seasonal)))
    trend += 1 - trend % 2
    low_pass = period + 1 - period % 2
    return {"seasonal_jump": -(-seasonal // 10), "trend_jump": -(-trend // 10), "low_pass_jump": -(-low_pass // 10)}


def decompose(y: np.ndarray, seasons: list[int], iterate: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """MSTL (Bandara, Hyndman & Bergmeir 2021, arXiv:2107.13462): STL per season, shortest first,
    each on the series less the other seasons, ``iterate`` rounds; seasonal windows 7 + 4k as in R's
    ``forecast::mstl``. Returns (seasonal components, one row per season; the deseasonalised series)."""
    from statsmodels.tsa.seasonal import STL

    seasons = sorted(seasons)
    seas = np.zeros((len(seasons), y.size))
    deseas = np.asarray(y, dtype=float).copy()
    for _ in range(iterate if len(seasons) > 1 else 1):
        for i, s in enumerate(seasons):
            deseas += seas[i]
            window = 7 + 4 * (i + 1)
            seas[i] = STL(deseas, period=s, seasonal=window, seasonal_deg=0, **_stl_jumps(s, window)).fit().seasonal
            deseas -= seas[i]
    return seas, deseas


def mstl(freq: Frequency) -> Callable[..., Bands]:
    """MSTL's seasons repeated ahead, plus a small non-seasonal ARIMA on the deseasonalised series
    (trend + remainder) that carries the persistence of the last hours (AutoETS there lost to the
    weekly naive on AR(1) noise: 1.06x vs 0.81x on 4 weeks). AutoARIMA's order search is most of an
    ARIMA's cost: it runs on the first history this model sees (a backtest's earliest origin, so the
    later origins learn nothing from their future); later calls refit that order's coefficients."""
    order: dict[str, object] = {}

    def run(y: np.ndarray, h: int, X=None, X_future=None) -> Bands:
        from statsforecast.models import ARIMA, AutoARIMA

        seasons = [s for s in (freq.day, freq.week) if s > 1 and y.size >= 2 * s] or [freq.week]
        seas, deseas = decompose(y, seasons)
        b = None
        if order:
            try:
                b = _sf(ARIMA(**order), deseas, h)
            except ValueError:  # the order does not fit this history (a near-constant one): search again
                order.clear()
        if b is None:
            auto = AutoARIMA(max_p=2, max_q=2, seasonal=False).fit(deseas)
            p, q, _, _, _, d, _ = auto.model_["arma"]
            coef = auto.model_["coef"]
            order.update(order=(p, d, q), include_mean="intercept" in coef, include_drift="drift" in coef)
            r = auto.predict(h=h, level=list(LEVELS))
            b = {k: np.asarray(r[k], dtype=float) for k in BAND_KEYS}
        ahead = sum(row[y.size - s + np.arange(h) % s] for row, s in zip(seas, sorted(seasons), strict=True))
        return {k: v + ahead for k, v in b.items()}

    return run


def profile_ar(freq: Frequency, season: int, fit_days: int) -> Callable[..., Bands]:
    """A seasonal profile plus AR(1) on its residual, the classic "profile + AR residual" load model:
    least squares of the last ``fit_days`` days on a level, a slope and one value per phase of
    ``season`` (hour of day, or of week); the residual's last value carried ahead, decaying as phi^k
    (phi its lag-1 autocorrelation). Intervals from the AR(1) innovations, Gaussian (then calibrated
    on the backtest's errors like every model's). Fitted on history only, about a millisecond a call."""

    def run(y: np.ndarray, h: int, X=None, X_future=None) -> Bands:
        from scipy.stats import norm

        n = min(y.size, fit_days * freq.day)
        t = np.arange(n + h, dtype=float)
        phase = (np.arange(n + h) + y.size - n) % season  # phases counted from the series' first step
        # least squares on one constant per phase and a common slope, in closed form (Frisch-Waugh: the
        # slope from the series and the time less their phase means; LAPACK's lstsq cost 20x this)
        cnt = np.maximum(np.bincount(phase[:n], minlength=season), 1)
        y_p, t_p = (np.bincount(phase[:n], v, minlength=season) / cnt for v in (y[-n:], t[:n]))
        dt = t[:n] - t_p[phase[:n]]
        slope = float(dt @ (y[-n:] - y_p[phase[:n]])) / float(dt @ dt) if dt @ dt > 0 else 0.0
        fitted = y_p[phase] + slope * (t - t_p[phase])
        r = y[-n:] - fitted[:n]
        phi = float(np.clip(r[1:] @ r[:-1] / max(float(r[:-1] @ r[:-1]), 1e-300), 0.0, 0.995))
        k = np.arange(1, h + 1)
        mean = fitted[n:] + phi**k * r[-1]
        sd = float(np.std(r[1:] - phi * r[:-1])) * np.sqrt(np.cumsum(phi ** (2 * (k - 1))))
        out = {"mean": mean}
        for lv in LEVELS:
            z = float(norm.ppf(0.5 + lv / 200))
            out[f"lo-{lv}"], out[f"hi-{lv}"] = mean - z * sd, mean + z * sd
        return out

    return run


class Combination:
    """The mean of other candidates' forecasts and of their interval bounds (calibrated afterwards like
    any model's); forecast combination beats its members on average (M4: Makridakis et al. 2020,
    Int. J. Forecasting 36(1); the mean of a few models: Petropoulos & Svetunkov 2020, same issue).
    Called like a model it runs its members; ``run_all`` combines the members' forecasts already made."""

    def __init__(self, **members: Callable[..., Bands]):
        self.members = members

    def combine(self, forecasts: dict[str, Bands]) -> Bands:
        return {k: np.mean([forecasts[m][k] for m in self.members], axis=0) for k in BAND_KEYS}

    def __call__(self, y: np.ndarray, h: int, X=None, X_future=None) -> Bands:
        return self.combine({m: run(y, h, X, X_future) for m, run in self.members.items()})


def run_all(models: dict, names, y: np.ndarray, h: int, X=None, X_future=None) -> dict[str, Bands]:
    """The forecasts of ``names`` (and of the members of any combination among them), each model run once."""
    out: dict[str, Bands] = {}

    def get(name: str) -> Bands:
        if name not in out:
            run = models[name]
            out[name] = run.combine({m: get(m) for m in run.members}) if isinstance(run, Combination) else run(
                y, h, X, X_future)
        return out[name]

    for name in names:
        get(name)
    return {n: out[n] for n in names}


def _lags(freq: Frequency) -> list[int]:
    first = -(-freq.horizon // freq.week) * freq.week
    return sorted({freq.horizon, freq.horizon + freq.day, first, first + freq.week})


def _features(y: np.ndarray, X: np.ndarray, lags: list[int], freq: Frequency, t: np.ndarray) -> np.ndarray:
    cols = [y[t - k] for k in lags]
    cols += [t % freq.day, (t // freq.day) % 7] if freq.day > 1 else [t % 7]
    return np.column_stack([*cols, X[t]])


def lightgbm(freq: Frequency) -> Callable[..., Bands]:
    def run(y: np.ndarray, h: int, X=None, X_future=None) -> Bands:
        import lightgbm as lgb

        lags = _lags(freq)
        full_x = np.vstack([X, X_future])
        full_y = np.concatenate([y, np.full(h, np.nan)])
        t = np.arange(max(lags), y.size)
        hold = min(freq.week, t.size // 4)  # the last week held out for the interval widths

        def fit(idx):
            m = lgb.LGBMRegressor(n_estimators=150, learning_rate=0.05, num_leaves=15, min_child_samples=10,
                                  verbose=-1, n_jobs=1)
            return m.fit(_features(full_y, full_x, lags, freq, idx), y[idx])

        held = t[-hold:]
        err = np.abs(y[held] - fit(t[:-hold]).predict(_features(full_y, full_x, lags, freq, held)))
        mean = fit(t).predict(_features(full_y, full_x, lags, freq, np.arange(y.size, y.size + h)))
        out = {"mean": mean}
        for lv in LEVELS:
            q = float(np.quantile(err, lv / 100)) if err.size else 0.0
            out[f"lo-{lv}"], out[f"hi-{lv}"] = mean - q, mean + q
        return out

    return run


def candidates(freq: Frequency, n: int, covariates: bool) -> dict[str, Callable[..., Bands]]:
    """The models worth trying on ``n`` steps of history: the naive ones always, MSTL past two days
    (two weeks for its weekly season), LightGBM with covariates and enough rows past its lags."""
    out = {"naive_daily": naive(freq.day)} if freq.day > 1 or n >= 2 else {}
    if n >= 2 * freq.week:
        out["naive_weekly"] = naive(freq.week)
    if n >= 3 * max(freq.day, 7):
        out["mstl"] = mstl(freq)
    if freq.day > 1 and n >= PROFILE_DAYS * freq.day:
        out["profile_ar"] = profile_ar(freq, freq.day, PROFILE_DAYS)
        if "mstl" in out:
            out["mean(mstl,profile_ar)"] = Combination(mstl=out["mstl"], profile_ar=out["profile_ar"])
    if covariates and n >= max(_lags(freq)) + 2 * freq.week:
        out["lightgbm"] = lightgbm(freq)
    return out


def constant(value: float, h: int) -> Bands:
    return {k: np.full(h, value) for k in BAND_KEYS}
