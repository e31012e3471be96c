"""Mutation benchmark of the forecasts' refit (issue 21, the refit's speed): would their tests notice
a wrong rule?

The companion of ``bench_mutants.py``, with its method: each mutant is one meaningful change, applied
as a source patch to a temporary copy of the packages, and killed when the tests of these rules fail
on it. Numba stays on (statsforecast's models are Numba code: without it one test takes minutes).

``.venv/bin/python benchmarks/bench_mutants_forecast.py [--only NAME,...] [--list]``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants_runner import main  # a sibling script, not a package

M, R = "sim_env/forecast/models.py", "cloud/forecast/refit.py"
B, S, L = "sim_env/forecast/backtest.py", "sim_env/forecast/select.py", "cloud/forecast/live.py"
TESTS = ["tests/sim_env/test_forecast_profile.py",
         "tests/sim_env/test_forecast_speed.py", "tests/cloud/test_forecast_refit.py", "tests/sim_env/test_forecast.py",
         "tests/sim_env/test_forecast_covariates.py", "tests/cloud/test_forecast_live_rules.py"]

# (name, file, text, replacement): each text occurs exactly once in its file
MUTANTS = [
    ("mstl: the ARIMA order searched again at every origin", M, "        if order:\n", "        if False:\n"),
    ("mstl: an order that fails a later history not searched again", M,
     "                order.clear()", "                raise"),
    ("stl: statsmodels' loess jump of 1, not R's ceil(window / 10)", M,
     '"seasonal_jump": -(-seasonal // 10)', '"seasonal_jump": 1'),
    ("stl: the trend window left even", M, "    trend += 1 - trend % 2\n", "\n"),
    ("mstl: the seasons repeated ahead a step out of phase", M,
     "row[y.size - s + np.arange(h) % s]", "row[y.size - s - 1 + np.arange(h) % s]"),
    ("profile_ar: the last residual not carried ahead (the profile alone)", M,
     "mean = fitted[n:] + phi**k * r[-1]", "mean = fitted[n:]"),
    ("profile_ar: the forecast read a step early in the profile", M,
     "mean = fitted[n:] + phi**k * r[-1]", "mean = fitted[n - 1 : -1] + phi**k * r[-1]"),
    ("combination: the first member's forecast, not the mean", M,
     "np.mean([forecasts[m][k] for m in self.members], axis=0)", "forecasts[next(iter(self.members))][k]"),
    ("run_all: a combination's members run again for it", M,
     "if isinstance(run, Combination) else run(", "if False else run("),
    ("refit pool: the results handed back out of order", R,
     "yield from pool.map(_fit_one, *zip(*args, strict=True))",
     "yield from reversed(list(pool.map(_fit_one, *zip(*args, strict=True))))"),
    ("refit pool: a worker's failure does not keep the last good model", R,
     '            o = Outcome(f, hist, "none", msg + "; no earlier model")\n            if last:',
     '            o = Outcome(f, hist, "none", msg + "; no earlier model")\n            if False:'),
    ("backtest: the realised covariates read even where the forecast known at the origin is given", B,
     "if X_ahead is None else X_ahead(o)", "if True else X_ahead(o)"),
    ("choose: the forecast asked for at the kept tail's origins, not the values' own", S,
     "X_ahead(o + shift)", "X_ahead(o)"),
    ("controller's forecasts: a stale stored forecast used", L,
     "if oldest < now - self.fresh_ms:", "if False:"),
    ("controller's forecasts: the stored forecast read an hour early (lead 0 as lead 1)", L,
     "targets = [now + k * HOUR_MS for k in range(1, h + 1)]", "targets = [now + k * HOUR_MS for k in range(h)]"),
    ("controller's forecasts: the meter's unit not converted to the series'", L,
     "self._to_unit(float(v), m.unit, m.series_unit)", "float(v)"),
]



if __name__ == "__main__":
    main(__doc__, MUTANTS, TESTS, files=["tests/cloud/__init__.py"], trees=["cloud"], no_jit=False, timeout=900.0)
