"""The forecasts dashboard: a panel per metered exchange with its actuals and the stored forecast."""

from __future__ import annotations

from aisym.park.graph import load_graph
from cloud.dashboards import dashboard_json, targets
from cloud.dashboards.flows import flow_panels
from cloud.dashboards.forecasts import BANDS, FORECAST


def test_every_metered_exchange_has_a_forecast_panel_beside_its_actuals():
    park = load_graph(None)
    board = dashboard_json(park)["forecasts"]
    exchanges = [f for p in flow_panels(park) for f in p.flows]
    panels = [p for p in board["panels"] if p.get("type") == "timeseries"]
    assert len(panels) == len(exchanges) > 0
    for f, p in zip(exchanges, panels, strict=True):
        qs = [t["query"] for t in p["targets"]]
        assert qs[0].startswith("SELECT") and f'"signal" = \'{f.tag_id.split(".")[1]}\'' in qs[0]
        assert all(f'"series" = \'{f.tag_id}\'' in q for q in qs[1:]) and len(qs) == 1 + len(BANDS)
    assert board["time"] == {"from": "now-2d", "to": "now+2d"}
    assert len(targets(board)) == len(exchanges) * 6


def test_the_panels_read_what_aisym_forecast_fit_writes():
    import pytest

    pytest.importorskip("statsforecast")
    from cloud.forecast.store import BANDS as STORED
    from cloud.forecast.store import MEASUREMENT

    assert FORECAST == MEASUREMENT and {f for f, _ in BANDS} == set(STORED)
