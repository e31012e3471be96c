"""Fit every metered series of a park, keeping the last good model of a series whose refit fails.

The state file (JSON) holds, per series and resolution, the model last chosen and when; the health
of each refit goes to InfluxDB as ``forecast_health`` (tags ``park``, ``series``, ``resolution``;
fields ``status`` ``ok``/``kept``/``none``, ``model``, ``message``, ``last_good``), beside the
forecasts themselves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aisym.contract.lineprotocol import point
from sim_env.forecast import DAILY, HOURLY, SeriesForecast, choose, to_daily
from sim_env.forecast.models import BAND_KEYS, candidates
from sim_env.forecast.prepare import prepare

from .store import History

HEALTH = "forecast_health"


@dataclass
class Outcome:
    forecast: SeriesForecast
    history: History
    status: str  # ok: refitted; kept: refit failed, the last good model forecast; none: no forecast
    message: str = ""
    last_good_ms: int = 0


@dataclass
class RefitState:
    """``series|resolution`` -> {"model": name, "fitted_ms": when}; saved atomically."""

    path: Path
    models: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> RefitState:
        try:
            return cls(path, json.loads(path.read_text()))
        except FileNotFoundError:
            return cls(path)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.models, indent=1, sort_keys=True))
        os.replace(tmp, self.path)


def _daily_history(h: History) -> History:
    from .store import DAY_MS, HOUR_MS

    skip = (-h.start_ms // HOUR_MS) % 24  # hours until the first midnight (UTC)
    return History(h.series, h.start_ms + skip * HOUR_MS, to_daily(h.values, (24 - skip) % 24), DAY_MS)


def _with_last_good(f: SeriesForecast, values, model: str) -> None:
    """Forecast with the model that last worked, no backtest (the refit's selection just failed)."""
    p = prepare(values, f.freq.day, f.freq.week)
    if p.reason:
        raise ValueError(p.reason)
    y = p.y[-f.freq.history :]
    run = candidates(f.freq, y.size, False).get(model)
    if run is None:
        raise ValueError(f"{model} cannot run on {y.size} steps")
    f.model, f.bands = model, {k: v - p.offset for k, v in run(y, f.freq.horizon).items() if k in BAND_KEYS}


def _fit_one(fit: Callable[..., SeriesForecast], series: str, values, freq, n_origins: int):
    """One selection, its failure returned as text (a worker's exception need not pickle)."""
    try:
        return fit(series, values, freq, n_origins=n_origins)
    except Exception as e:  # a bug or a numerical failure in one series must not stop the park
        return f"{type(e).__name__}: {e}"


def _picklable(fn) -> bool:
    import pickle

    try:
        pickle.dumps(fn)
        return True
    except Exception:  # a local function (a test's failing fit): the selections run here instead
        return False


def _fits(fit, jobs: list, n_origins: int, workers: int):
    """The selections of ``jobs`` in their order, in ``workers`` forked processes (series are
    independent and each a few CPU seconds, so a pool of the machine's cores divides the wall time)."""
    args = [(fit, s, hist.values, freq, n_origins) for _, s, freq, hist, _ in jobs]
    if workers <= 1 or len(jobs) < 2 or not _picklable(fit):
        yield from (_fit_one(*a) for a in args)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers inherit the imported (and JIT-compiled) libraries instead of importing them again
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(_fit_one, *zip(*args, strict=True))


def refit(
    history: dict[str, History], state: RefitState, now_ms: int, n_origins: int = 7,
    fit: Callable[..., SeriesForecast] = choose, progress: Callable[[], None] | None = None,
    reselect_ms: int = 0, workers: int = 1,
) -> list[Outcome]:
    """Both resolutions of every series; ``fit`` is the selection (a parameter so a failure can be tested).

    :param reselect_ms: a model chosen less than this long ago is refitted without a new backtest; 0: always choose
    :param workers: processes the selections run in (a ``fit`` that cannot be pickled runs in this one)
    """
    done: dict[str, Outcome] = {}
    order, jobs = [], []
    for s, h in sorted(history.items()):
        for freq, hist in ((HOURLY, h), (DAILY, _daily_history(h))):
            key = f"{s}|{freq.name}"
            order.append(key)
            last = state.models.get(key)
            if last and now_ms - last.get("chosen_ms", last["fitted_ms"]) < reselect_ms:
                f = SeriesForecast(s, freq)
                try:
                    _with_last_good(f, hist.values, last["model"])
                    state.models[key] = {**last, "fitted_ms": now_ms}
                    done[key] = Outcome(f, hist, "ok", "", now_ms)
                    if progress:
                        progress()
                    continue
                except Exception:  # the full selection below tries again and says what is wrong
                    pass
            jobs.append((key, s, freq, hist, last))
    for (key, s, freq, hist, last), f in zip(jobs, _fits(fit, jobs, n_origins, workers), strict=True):
        if isinstance(f, SeriesForecast):
            o = Outcome(f, hist, "ok" if not f.reason else "none", f.reason)
        else:
            f, msg = SeriesForecast(s, freq), f"refit failed: {f}"
            o = Outcome(f, hist, "none", msg + "; no earlier model")
            if last:
                try:
                    _with_last_good(f, hist.values, last["model"])
                    o = Outcome(f, hist, "kept", f"{msg}; keeping {last['model']} fitted at {last['fitted_ms']}")
                except Exception as e2:
                    f.reason = o.message = f"{msg}; the last good model failed too: {e2}"
        if o.status == "ok" and f.model:
            state.models[key] = {"model": f.model, "fitted_ms": now_ms, "chosen_ms": now_ms}
        o.last_good_ms = state.models.get(key, {}).get("fitted_ms", 0)
        done[key] = o
        if progress:
            progress()
    return [done[k] for k in order]


def health_lines(park_id: str, outcomes: list[Outcome], now_ms: int) -> list[str]:
    return [
        point(HEALTH, {"park": park_id, "series": o.forecast.series, "resolution": o.forecast.freq.name},
              {"status": o.status, "model": o.forecast.model or "-", "message": o.message or "; ".join(o.forecast.notes),
               "last_good": int(o.last_good_ms)}, now_ms)
        for o in outcomes
    ]
