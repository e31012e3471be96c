"""A flow's seasonal profile fitted from its meter's readings in a real InfluxDB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aisym.park.graph import load_graph
from sim_env.match.telemetry import fit_meter

KALUNDBORG = Path(__file__).resolve().parents[2] / "aisym" / "parks" / "kalundborg.yaml"


def test_profile_fitted_from_a_meter_tag_in_influxdb(influx):
    g = load_graph(KALUNDBORG)
    # fgd.gypsum_out meters the gypsum belt in t/h; 90 days of 10-minute readings, 20 t/h mean,
    # +-4 t/h over the year; bad readings (quality 'bad', value 999) must be left out
    t0 = np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64)
    secs = t0 + np.arange(0, 90 * 86400, 600)
    doy = (secs - t0) / 86400.0
    tph = 20 + 4 * np.cos(2 * np.pi * doy / 365.0)
    key = "fgd,signal=gypsum_out,unit=t/h"
    lines = [f'{key} value={float(v)!r},quality="good" {s * 1000}' for s, v in zip(secs, tph, strict=True)]
    lines += [f'{key} value=999.0,quality="bad" {(s + 300) * 1000}' for s in secs[::50]]
    influx.write(lines, precision="ms")
    year, info = fit_meter(influx, g, "fgd.gypsum_out", "2024-01-01T00:00:00Z", "2024-04-01T00:00:00Z", "kg/h",
                           harmonics=1)
    assert info["n"] == 90 * 24 and info["r2"] > 0.99
    assert year[0] == pytest.approx(24_000, rel=0.01)  # 24 t/h on 1 January, in kg/h
    assert year[24 * 60] == pytest.approx((20 + 4 * np.cos(2 * np.pi * 60 / 365)) * 1000, rel=0.01)
    with pytest.raises(ValueError, match="does not convert to kW"):
        fit_meter(influx, g, "fgd.gypsum_out", "2024-01-01T00:00:00Z", "2024-04-01T00:00:00Z", "kW")
    with pytest.raises(ValueError, match=r"no tag 'fgd\.nothing'"):
        fit_meter(influx, g, "fgd.nothing", "2024-01-01", "2024-02-01", "kg/h")
