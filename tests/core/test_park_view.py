"""One way in for the edge and the cloud: :func:`aisym.park.load_view` reads a v1 or v2 park file
(issue 22, item 1). Before, the ingestor read only v1 files (``load_park``), so it refused the
v2 parks the twin, the gateway and the dashboards read; a user's v1 file is converted on load.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aisym.contract import Telemetry, check_against_park
from aisym.park import ParkError, load_park, load_view, park_view

ROOT = Path(__file__).resolve().parents[2]
SMALL_V1 = ROOT / "tests" / "core" / "data" / "small_v1.yaml"
KALUNDBORG = ROOT / "aisym" / "parks" / "kalundborg.yaml"


def test_a_users_v1_file_is_converted_on_load_with_its_tags_and_companies():
    v1, view = load_park(SMALL_V1), load_view(SMALL_V1)
    assert view.id == "small_v1" and view.park.currency == "EUR"
    assert view.tags == v1.tags  # the same Tag objects' values: units, ranges, setpoint bounds
    assert view.company_of.items() >= v1.company_of.items()  # + the water market the migration states
    assert park_view(v1) == view  # a v1 model already in hand: the same view


def test_a_broken_v1_file_names_its_own_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL_V1.read_text(encoding="utf-8").replace("rated_kw: 2000", "rated_kw: -3"), encoding="utf-8")
    with pytest.raises(ParkError, match=r"bad\.yaml:\d+:\d+: companies\[1\]\.assets\[0\]\.rated_kw"):
        load_view(bad)


@pytest.mark.parametrize("park", [KALUNDBORG, SMALL_V1], ids=["v2", "v1"])
def test_the_ingestor_reads_either_version(tmp_path, park):
    from cloud.ingest.config import IngestConfig
    from cloud.ingest.ingestor import Ingestor

    ing = Ingestor(IngestConfig(park_file=park, state_dir=tmp_path / "ingest"))  # v2: a ParkError before
    view = load_view(park)
    assert ing.park_id == view.id and ing.processor.park.tags == view.tags
    tag = next(iter(view.tags))
    reading = {"tag": tag, "value": view.tags[tag].min, "unit": view.tags[tag].unit, "ts": 1_700_000_000_000,
               "quality": "good", "seq": 1}
    msg = Telemetry.model_validate({"v": 1, "park": view.id, "node": "gw-1", "readings": [reading]})
    assert list(check_against_park(msg, ing.park)) == []
