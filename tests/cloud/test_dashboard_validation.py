"""Build-time checks the dashboards rely on: a meter tag must be able to measure its exchange's flow, and no
asset or tag may take the name of a series the platform writes itself (the ingestor's measurements)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from aisym.park import ParkError
from aisym.park.graph import load_graph, parse_graph
from aisym.park.graph.build import RESERVED_IDS
from cloud.dashboards.demo import demo_lines

KALUNDBORG = Path(__file__).resolve().parents[2] / "aisym" / "parks" / "kalundborg.yaml"
TEXT = KALUNDBORG.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_a_temperature_tag_cannot_meter_a_heat_flow():
    ex = "{id: district_heat_to_town, meter_tag: "
    text = TEXT.replace(ex + "asv6.dh_out,", ex + "asv6.dh_supply_temp,")
    assert text != TEXT
    with pytest.raises(ParkError) as e:
        parse_graph(text, "kalundborg.yaml")
    line = _line_of(text, "{id: district_heat_to_town")
    msg = str(e.value)
    assert re.search(rf"kalundborg\.yaml:{line}:\d+: exchanges\[7\]\.meter_tag: asv6\.dh_supply_temp measures temperature "
                     r"in degC: it cannot meter a heat flow", msg), msg


def test_a_power_tag_meters_a_steam_flow_in_mw():
    g = load_graph(KALUNDBORG)
    assert g.tags["refinery.steam_in"].unit == "MW"
    assert next(ln for ln in g.links if ln.id == "steam_to_refinery").meter_tag == "refinery.steam_in"


def test_the_reserved_names_cover_every_series_the_ingestor_writes(influx):
    """Run the real ingestor on demo traffic: every measurement that is not an asset is one of the platform's own."""
    g = load_graph(KALUNDBORG)
    lines = demo_lines(g, time.time_ns() // 1_000_000, minutes=6)
    influx.write(lines)
    written = {r["name"] for r in influx.rows("SHOW MEASUREMENTS")}
    own = written - set(g.assets)
    assert {"data_quality", "ingest_health", "seq_gap", "node_status", "node_health"} <= own
    assert own <= RESERVED_IDS, sorted(own - RESERVED_IDS)


@pytest.mark.parametrize("name", ["data_quality", "seq_gap", "ingest_health", "node_status"])
def test_an_asset_or_tag_named_like_a_platform_series_is_refused(name):
    text = TEXT.replace("      - id: fgd\n", f"      - id: {name}\n").replace("from: fgd.gypsum", f"from: {name}.gypsum")
    with pytest.raises(ParkError) as e:
        parse_graph(text, "kalundborg.yaml")
    line = _line_of(text, f"- id: {name}\n")
    assert re.search(rf"kalundborg\.yaml:{line}:\d+: .*{name!r} is a name the platform uses for its own series", str(e.value))
    text = TEXT.replace("{name: gypsum_out,", f"{{name: {name},")
    with pytest.raises(ParkError, match=f"{name!r} is a name the platform uses for its own series"):
        parse_graph(text, "kalundborg.yaml")
