"""The v1 park format (a user's v1 file): Kråkøya's v1 file validates; bad files get one clear error
with a line. The shipped park is v2 (tests/core/test_park_graph.py); the v1 file it was written
from is kept by the speed yardstick and serves here as a full v1 file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aisym.park import ParkError, load_park, parse_park

V1 = Path(__file__).resolve().parents[2] / "benchmarks" / "kraakoya_yardstick" / "kraakoya_v1.yaml"
BASE = V1.read_text(encoding="utf-8")


def test_the_v1_file_validates():
    park = load_park(V1)
    assert park.park.id == "kraakoya"
    kinds = {a.kind for a in park.assets.values()}
    assert kinds >= {
        "fish_farm",
        "digester",
        "gas_holder",
        "chp",
        "electrolyser",
        "heat_pump",
        "heat_store",
        "water_treatment",
        "grid",
    }
    assert {e.resource.value for e in park.exchanges} >= {"heat", "biogas", "water", "oxygen", "electricity", "sludge"}
    controllable = [t for t in park.tags.values() if t.controllable]
    assert controllable and all(t.min <= t.control.safe_default <= t.max for t in controllable)
    assert all(e.meter_tag in park.tags for e in park.exchanges if e.meter_tag)
    assert park.company_of["electrolyser"] == "nte_h2"


def test_every_default_number_cites_a_source():
    # Each numeric parameter line of an asset carries a comment with its source tag.
    import re

    uncited = [
        line
        for line in BASE.splitlines()
        if re.match(r"^\s+[a-z_]+(_kw|_c|_fraction|_per_\w+|_m3|_nm3|_days|_kwh|_t_per_year)?: [-0-9.]+\s*$", line)
        and line.split(":")[0].strip() not in ("initial_fraction", "min", "max", "schema_version")
    ]
    assert uncited == []


def _bad(old: str, new: str, count: int = 1) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, count)


# (what is wrong, text, field path expected in the message, words expected)
CASES = [
    ("yaml syntax", "schema_version: 1\npark: [unclosed\n", "<document>", "YAML syntax"),
    ("not a mapping", "- a\n- b\n", "<document>", "mapping"),
    ("empty file", "", "<document>", "empty"),
    ("unknown schema version", _bad("schema_version: 1", "schema_version: 7"), "schema_version", "Input should be 1"),
    ("typo in a field", _bad("rated_kw: 2000", "rated_kws: 2000"), "companies[1].assets[0].rated_kws", "unknown field"),
    (
        "missing field",
        _bad("        retention_days: 30", "        # retention_days: 30"),
        "companies[2].assets[0].retention_days",
        "Field required",
    ),
    (
        "negative capacity",
        _bad("capacity_nm3: 700", "capacity_nm3: -700"),
        "companies[2].assets[1].capacity_nm3",
        "greater than 0",
    ),
    (
        "wrong type",
        _bad("retention_days: 30", "retention_days: thirty"),
        "companies[2].assets[0].retention_days",
        "valid number",
    ),
    ("unknown asset kind", _bad("kind: heat_pump", "kind: steam_turbine"), "companies[2].assets[4]", "steam_turbine"),
    ("fraction above 1", _bad("eta_el: 0.40", "eta_el: 1.40"), "companies[2].assets[2].eta_el", "less than or equal to 1"),
    (
        "duplicate YAML key",
        _bad("        eta_th: 0.45", "        eta_th: 0.45\n        eta_th: 0.5"),
        "<document>",
        "duplicate key 'eta_th'",
    ),
    ("duplicate asset id", _bad("- id: upgrader", "- id: chp"), "companies[2].assets[3].id", "already used"),
    (
        "dangling exchange",
        _bad("from: ras, to: digester", "from: ras, to: digestor"),
        "exchanges[0].to",
        "no asset 'digestor'",
    ),
    (
        "impossible resource",
        _bad("resource: oxygen, from: electrolyser", "resource: oxygen, from: heat_pump"),
        "exchanges[6].resource",
        "cannot hand out oxygen",
    ),
    (
        "unit of a capacity",
        _bad("capacity: 320, unit: kg/h", "capacity: 320, unit: t/h"),
        "exchanges[6].unit",
        "stated in kg/h",
    ),
    (
        "safe default out of bounds",
        _bad("safe_default: 13.0", "safe_default: 30.0"),
        "companies[0].assets[0].tags[7]",
        "outside the bounds",
    ),
    (
        "min above max",
        _bad("{name: ph, quantity: ph, unit: pH, min: 4, max: 10}", "{name: ph, quantity: ph, unit: pH, min: 10, max: 4}"),
        "companies[0].assets[0].tags[3]",
        "must be below max",
    ),
    (
        "unit of a tag",
        _bad("{name: water_temp, quantity: temperature, unit: degC", "{name: water_temp, quantity: temperature, unit: K"),
        "companies[0].assets[0].tags[0]",
        "does not measure temperature",
    ),
    (
        "meter tag unknown",
        _bad("meter_tag: chp.gas_flow", "meter_tag: chp.gasflow"),
        "exchanges[2].meter_tag",
        "no tag 'chp.gasflow'",
    ),
    (
        "duplicate tag",
        _bad(
            "{name: ph, quantity: ph, unit: pH, min: 4, max: 10}\n          - {name: heat_in",
            "{name: ph, quantity: ph, unit: pH, min: 4, max: 10}\n          - {name: ph",
        ),
        "companies[0].assets[0].tags[4].name",
        "appears twice",
    ),
    ("no companies", _bad("companies:\n  - id: eco_seafood", "companies: []\nold:\n  - id: eco_seafood"), "", ""),
]


@pytest.mark.parametrize(("what", "text", "path", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_park_file_gets_a_clear_error(what, text, path, words):
    with pytest.raises(ParkError) as info:
        parse_park(text, source="bad_park.yaml")
    msg = str(info.value)
    assert "bad_park.yaml" in msg
    assert path in msg
    assert words in msg
    assert "Traceback" not in msg


def test_error_names_the_line():
    text = _bad("capacity_nm3: 700", "capacity_nm3: -700")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "capacity_nm3: -700" in s)
    with pytest.raises(ParkError) as info:
        parse_park(text, source="p.yaml")
    assert info.value.problems[0].line == line
    assert f"p.yaml:{line}:" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ParkError, match="file not found"):
        load_park(tmp_path / "nope.yaml")
