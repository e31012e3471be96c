"""Forecasts through the real InfluxDB: history read by the read-only account, forecasts and health
written by a writer and read back exactly, a failed refit keeping the last good model, the CLI."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("statsforecast")

from aisym.contract.lineprotocol import point
from aisym.influx import InfluxV1
from aisym.park.graph import load_graph
from cloud.forecast.refit import RefitState, health_lines, refit
from cloud.forecast.store import BANDS, HOUR_MS, forecast_lines, read_forecasts, read_history
from tests.conftest import INFLUX_USERS

START_MS = 1_767_225_600_000  # 2026-01-01T00:00Z
HOURS = 3 * 168
SERIES = {"chp.heat_out": ("chp", "heat_out"), "digester.biogas_flow": ("digester", "biogas_flow")}


def _history_lines(park_id: str) -> list[str]:
    rng = np.random.default_rng(0)
    t = np.arange(HOURS)
    lines = []
    for k, (asset, signal) in enumerate(SERIES.values()):
        y = 100 + 30 * np.sin(2 * np.pi * t / 24 + k) + rng.normal(0, 3, HOURS)
        for i in range(HOURS):
            for minute in (0, 30):  # two readings an hour: the history is their mean
                value = float(y[i]) + (1.0 if minute else -1.0)
                ts = START_MS + i * HOUR_MS + minute * 60_000
                lines.append(point(asset, {"park": park_id, "signal": signal, "node": "gw1"}, {"value": value}, ts))
    return lines


@pytest.fixture
def park():
    return load_graph(None)


@pytest.fixture
def filled(influx, park):
    influx.write(_history_lines(park.id))
    return influx


def _as(influxdb, influx, user):
    return InfluxV1(influxdb.url, influx.database, user, INFLUX_USERS[user])


def test_forecasts_read_back_exactly_and_every_series_gets_a_forecast_or_reason(influxdb, filled, park, tmp_path):
    reader, writer = _as(influxdb, filled, "dashboards"), _as(influxdb, filled, "ingest")
    until = START_MS + HOURS * HOUR_MS
    hist = read_history(reader, park, until, days=21)
    assert np.count_nonzero(~np.isnan(hist["chp.heat_out"].values)) == HOURS
    outcomes = refit(hist, RefitState(tmp_path / "s.json"), until, n_origins=2)
    assert len(outcomes) == 2 * len(park.tags)  # hourly and daily of all 46 tags
    done = {(o.forecast.series, o.forecast.freq.name) for o in outcomes if o.status == "ok" and not o.forecast.reason}
    assert {s for s, _ in done} == set(SERIES)
    assert all(o.forecast.reason == "no readings" for o in outcomes if o.forecast.series not in SERIES)
    lines = forecast_lines(park.id, [(o.forecast, o.history) for o in outcomes], until)
    assert len(lines) == 2 * (48 + 14)
    writer.write(lines)
    writer.write(health_lines(park.id, outcomes, until))
    stored = read_forecasts(reader, park.id)
    assert len(stored) == len(lines)
    by_key = {(r["series"], r["resolution"], r["lead"]): r for r in stored}
    for o in outcomes:
        f = o.forecast
        for i in range(f.bands.get("mean", np.empty(0)).size):
            r = by_key[(f.series, f.freq.name, i + 1)]
            assert r["time"] == o.history.end_ms + i * o.history.step_ms
            assert r["model"] == f.model and r["issued"] == until
            for field, band in BANDS.items():
                assert r[field] == float(f.bands[band][i])  # exactly: floats travel as their repr
    hourly = by_key[("chp.heat_out", "hourly", 1)]
    assert hourly["time"] == until
    health = reader.rows('SELECT * FROM "forecast_health" WHERE "status" = \'none\'')
    assert len(health) == 2 * (len(park.tags) - len(SERIES))


def test_a_failed_refit_keeps_the_last_good_model_and_says_so(influxdb, filled, park, tmp_path):
    reader = _as(influxdb, filled, "dashboards")
    until = START_MS + HOURS * HOUR_MS
    hist = {s: h for s, h in read_history(reader, park, until, days=21).items() if s in SERIES}
    state = RefitState(tmp_path / "state.json")
    first = refit(hist, state, until, n_origins=1)
    state.save()
    models = {(o.forecast.series, o.forecast.freq.name): o.forecast.model for o in first}

    def broken(*a, **k):
        raise FloatingPointError("singular matrix")

    again = refit(hist, RefitState.load(tmp_path / "state.json"), until + HOUR_MS, fit=broken)
    assert [o.status for o in again] == ["kept"] * 4
    for o in again:
        assert o.forecast.model == models[(o.forecast.series, o.forecast.freq.name)]
        assert o.forecast.bands["mean"].size in (48, 14)
        assert o.message.startswith("refit failed: FloatingPointError: singular matrix; keeping")
        assert o.last_good_ms == until
    line = health_lines(park.id, again, until + HOUR_MS)[0]
    assert "status=\"kept\"" in line and "keeping" in line


def test_cli_backtest_writes_table_csv_and_png(influxdb, filled, park, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from aisym.cli import app

    monkeypatch.setenv("AISYM_INFLUX_READER_PASSWORD", INFLUX_USERS["dashboards"])
    until = str(START_MS + HOURS * HOUR_MS)
    args = ["forecast", "backtest", "--influx-url", influxdb.url, "--database", filled.database, "--until", until,
            "--days", "21", "--origins", "2", "--out", str(tmp_path)]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    csv = (tmp_path / "backtest.csv").read_text().splitlines()
    assert len(csv) == 1 + 2 * len(park.tags)
    assert (tmp_path / "backtest.png").stat().st_size > 1000
    assert "backtest of kraakoya (2 daily origins)" in r.output
    heat = next(line for line in csv if line.startswith("chp.heat_out,hourly,"))
    assert heat.split(",")[2] in ("naive_daily", "naive_weekly", "mstl")
    bad = CliRunner().invoke(app, [*args[:-2], "--until", "yesterday-ish"])
    assert bad.exit_code == 2 and "--until: 'yesterday-ish' is neither" in bad.output


def test_cli_fit_writes_forecasts_that_show_reads(influxdb, filled, park, tmp_path):
    from typer.testing import CliRunner

    from aisym.cli import app

    env = {"AISYM_INFLUX_READER_PASSWORD": INFLUX_USERS["dashboards"], "AISYM_INFLUX_USER": "ingest",
           "AISYM_INFLUX_PASSWORD": INFLUX_USERS["ingest"], "COLUMNS": "200"}
    common = ["--influx-url", influxdb.url, "--database", filled.database]
    until = str(START_MS + HOURS * HOUR_MS)
    r = CliRunner().invoke(app, ["forecast", "fit", *common, "--until", until, "--days", "21", "--origins", "1",
                                 "--state", str(tmp_path / "state.json")], env=env)
    assert r.exit_code == 0, r.output
    assert "wrote 124 forecast points of 4 series forecasts (4 refitted, 0 kept the last good model, 88 none)" in r.output
    assert "chp.gas_flow (hourly): none: no readings" in r.output
    assert (tmp_path / "state.json").exists()
    r = CliRunner().invoke(app, ["forecast", "show", *common, "--series", "chp.heat_out"], env=env)
    assert r.exit_code == 0, r.output
    assert r.output.count("chp.heat_out") == 2  # hourly and daily
    r = CliRunner().invoke(app, ["forecast", "show", *common, "--series", "chp.nothing"], env=env)
    assert r.exit_code == 2 and "'chp.nothing' is not a tag of park kraakoya" in r.output


def test_a_refit_within_the_reselect_window_keeps_the_choice_without_a_backtest(influxdb, filled, park, tmp_path):
    reader = _as(influxdb, filled, "dashboards")
    until = START_MS + HOURS * HOUR_MS
    hist = {s: h for s, h in read_history(reader, park, until, days=21).items() if s in SERIES}
    state = RefitState(tmp_path / "state.json")
    refit(hist, state, until, n_origins=1)

    def must_not_run(*a, **k):
        raise AssertionError("a backtest ran inside the reselect window")

    again = refit(hist, state, until + HOUR_MS, fit=must_not_run, reselect_ms=24 * HOUR_MS)
    assert [o.status for o in again] == ["ok"] * 4 and all(o.forecast.bands["mean"].size for o in again)
    late = refit(hist, state, until + 25 * HOUR_MS, fit=must_not_run, reselect_ms=24 * HOUR_MS)
    assert [o.status for o in late] == ["kept"] * 4  # the window passed: a selection was tried (and failed here)
