"""Issue 23 item 5: results a facilitator can read (names, units, rounded money, 100 columns, grouped reasons)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from aisym.cli import app
from sim_env.match.readable import amount, money

KALUNDBORG = "aisym/parks/kalundborg.yaml"


def test_amounts_and_money_read_as_people_write_them():
    assert amount(1.653e8, "kg") == "165 kt"  # main printed 1.653e+08 kg
    assert amount(2.499e8, "kWh") == "250 GWh"
    assert amount(3.2e6, "m3") == "3.20 M m³" and amount(None, "kg") == "?"
    assert money(142_672_120, "DKK") == "143 M DKK" and money(-8.4e9, "DKK") == "-8.40 bn DKK"


def test_the_match_table_fits_100_columns_and_names_companies():
    res = CliRunner().invoke(app, ["match", KALUNDBORG, "--top", "10"], env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert max(len(s) for s in lines) <= 100, max(len(s) for s in lines)  # main: 250 columns
    assert "Ørsted Asnæs" in res.output or "Asnæs" in res.output  # a company's name, not asv6.dh
    assert "asv6.dh" not in res.output
    assert re.search(r"\d (kt|GWh|MWh|t)\b", res.output) and "e+0" not in res.output
    assert re.search(r"\d+ M DKK", res.output)


def test_explain_groups_rejections_by_reason_with_counts():
    res = CliRunner().invoke(app, ["match", KALUNDBORG, "--top", "5", "--explain"], env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.output
    m = re.search(r"Rejected pairs \((\d+)\), by reason:", res.output)
    assert m, res.output[-2000:]
    groups = re.findall(r"^- (\d+) × (.+?): e\.g\. ", res.output, re.M)
    assert 3 <= len(groups) <= 15  # main: 842 one-line rejections
    assert sum(int(n) for n, _ in groups) == int(m.group(1))
    assert max(len(s) for s in res.output.splitlines()) <= 100 and len(res.output.splitlines()) < 150
