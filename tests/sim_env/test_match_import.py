"""Company templates: CSV and XLSX rows with errors that name row and column; empty templates refused kindly."""

from __future__ import annotations

import csv
import shutil

import openpyxl
import pytest

from sim_env.match.importers import NAMES, EmptyTemplate, read_profiles
from sim_env.match.template import TEMPLATE, write_template

GOOD = [
    {"company_id": "brewery", "nace": "11.05", "lat": "56.15", "lon": "10.21", "direction": "output",
     "flow_id": "spent_grain", "resource": "material", "ewc": "02 07 04", "material": "spent grain",
     "quantity": "12000 t/yr", "profile": "1;1;1;1;1;1;2;2;1;1;1;1", "cost": "25 EUR/t", "continuity": "batch"},
    {"company_id": "dairy", "nace": "10.51", "direction": "input", "flow_id": "heat", "resource": "heat",
     "temperature_c": "70", "quantity": "3 MW", "cost": "45 EUR/MWh", "heat_pump": "no"},
]
BAD = [  # each with the column its error must name
    ({"company_id": "brewery", "nace": "11.05", "direction": "sideways", "flow_id": "x", "resource": "heat"}, "direction"),
    ({"company_id": "brewery", "nace": "11.05", "direction": "output", "flow_id": "ash", "resource": "material",
      "quantity": "5 MW"}, "quantity"),
    ({"company_id": "Bad Id", "nace": "11.05", "direction": "output", "flow_id": "x", "resource": "heat"}, "company_id"),
    ({"company_id": "mill", "nace": "eleven", "direction": "output", "flow_id": "x", "resource": "heat"}, "nace"),
    ({"company_id": "mill", "nace": "10.61", "direction": "output", "flow_id": "bran", "resource": "material",
      "ewc": "123"}, "ewc"),
    ({"company_id": "mill", "nace": "10.61", "direction": "output", "flow_id": "hot", "resource": "heat",
      "grade": "potable"}, "grade"),
    ({"company_id": "mill", "nace": "10.61", "direction": "input", "flow_id": "w", "resource": "water",
      "grade": "muddy"}, "grade"),
    ({"company_id": "mill", "nace": "10.61", "direction": "output", "flow_id": "s", "resource": "sludge",
      "quantity": "10 t/yr", "profile": "1;2;3"}, "profile"),
    ({"company_id": "mill", "nace": "10.61", "direction": "output", "flow_id": "c", "resource": "heat",
      "cost": "3 EUR/t"}, "cost"),
    ({"company_id": "mill", "nace": "10.61", "direction": "output", "flow_id": "h", "resource": "heat",
      "heat_pump": "no"}, "heat_pump"),
]


def _write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=NAMES)
        w.writeheader()
        for r in rows:
            w.writerow(r)


def test_csv_bad_rows_name_row_and_column_and_good_rows_are_kept(tmp_path):
    path = tmp_path / "companies.csv"
    rows = [GOOD[0], *[b for b, _ in BAD], GOOD[1]]
    _write_csv(path, rows)
    profiles, problems = read_profiles(path)
    by_row = {p.row: p for p in problems}
    for i, (_, column) in enumerate(BAD, start=3):  # header is row 1, the first good row is row 2
        assert i in by_row, f"row {i} ({column}) has no problem: {problems}"
        assert by_row[i].column == column, str(by_row[i])
        assert str(by_row[i]).startswith(f"row {i}, column {column}: ")
    assert len(problems) == len(BAD)
    got = {p.id: p for p in profiles}
    assert set(got) == {"brewery", "dairy"}
    grain = got["brewery"].flows[0]
    assert grain.annual == pytest.approx(12_000e3) and grain.cost == pytest.approx(0.025)  # 25 EUR/t in EUR/kg
    assert grain.hourly[24 * 190] == pytest.approx(2 * grain.hourly[0])  # July's factor 2 against January's 1
    assert got["brewery"].site == (56.15, 10.21) and grain.origin == "row 2"
    heat = got["dairy"].flows[0]
    assert heat.heat_pump is False and heat.cost == pytest.approx(0.045) and heat.carrier.temperature_c == 70


def test_costs_convert_to_the_park_currency_only_with_a_rate(tmp_path):
    path = tmp_path / "c.csv"
    _write_csv(path, [GOOD[0]])
    _, problems = read_profiles(path, currency="DKK")  # EUR never converts to DKK silently
    assert problems and problems[0].column == "cost"


def test_xlsx_template_rows_are_read_with_their_sheet_rows(tmp_path):
    path = tmp_path / "filled.xlsx"
    shutil.copy(TEMPLATE, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Flows"]
    for r, row in enumerate([GOOD[0], BAD[1][0], GOOD[1]], start=2):
        for c, name in enumerate(NAMES, start=1):
            if name in row:
                ws.cell(row=r, column=c, value=row[name])
    wb.save(path)
    profiles, problems = read_profiles(path)
    assert [(p.row, p.column) for p in problems] == [(3, "quantity")]
    assert "kg/h" in problems[0].message
    assert sorted(p.id for p in profiles) == ["brewery", "dairy"]


def test_empty_template_is_refused_kindly(tmp_path):
    assert [c.value for c in openpyxl.load_workbook(TEMPLATE)["Flows"][1]] == NAMES  # the shipped copy is current
    with pytest.raises(EmptyTemplate, match=r"no rows filled in yet.*Examples sheet"):
        read_profiles(TEMPLATE)
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_text(",".join(NAMES) + "\n,,,\n", encoding="utf-8")
    with pytest.raises(EmptyTemplate):
        read_profiles(empty_csv)


def test_unknown_column_is_refused_with_the_known_ones(tmp_path):
    path = tmp_path / "typo.csv"
    path.write_text("company_id,nace,directon\nx,10.51,output\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 1: unknown column 'directon'"):
        read_profiles(path)


def test_template_has_help_examples_and_drop_downs(tmp_path):
    path = write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:3] == ["Flows", "Help", "Examples"]
    ws = wb["Flows"]
    assert [c.value for c in ws[1]] == NAMES
    assert ws["A1"].comment is not None and "required" in ws["A1"].comment.text
    lists = {str(dv.sqref).split(":")[0][:-1]: dv for dv in ws.data_validations.dataValidation}
    direction = ws.cell(row=1, column=NAMES.index("direction") + 1).column_letter
    assert lists[direction].type == "list" and "Lists!" in lists[direction].formula1
    resource = wb["Lists"]
    assert "heat" in [c.value for c in next(col for col in resource.iter_cols() if col[0].value == "resource")]
    # the examples are themselves a valid filled-in file
    ex = tmp_path / "examples.xlsx"
    wb2 = openpyxl.load_workbook(path)
    wb2.remove(wb2["Flows"])
    wb2["Examples"].title = "Flows"
    wb2.save(ex)
    profiles, problems = read_profiles(ex)
    assert problems == [] and len(profiles) == 4  # a brewery, a dairy, a fish farm, a bakery by sector and size


def test_companies_known_by_sector_alone_are_receivers_ranked_by_known_uses(tmp_path):
    from sim_env.match.score import Options, match

    path = tmp_path / "sectors.csv"
    _write_csv(path, [
        {"company_id": "power", "nace": "35.11", "direction": "output", "flow_id": "fgd", "resource": "material",
         "ewc": "100105"},  # no quantity, no cost: a code alone
        {"company_id": "bakery", "nace": "10.71"},
        {"company_id": "cement", "nace": "23.51"},
        {"company_id": "boards", "nace": "2362"},
    ])
    profiles, problems = read_profiles(path)
    assert problems == [] and [p.id for p in profiles] == ["power", "bakery", "cement", "boards"]
    cands, _ = match({p.id: p for p in profiles}, Options())
    assert [c.receiver for c in cands] == ["boards", "cement"]
    assert cands[0].output.carrier.ewc == "10 01 05" and cands[0].support.use.id == "fgd_gypsum_to_plaster"


# Issue 23 item 5: template fixes.
BAKERY = {"company_id": "bakery", "company_name": "Bakery", "nace": "10.71", "direction": "output",
          "flow_id": "bread", "resource": "material", "material": "bread", "ewc": "02 06 01",
          "quantity": "50 t/yr", "cost": "60 EUR/t"}


def test_a_two_digit_division_is_a_sector(tmp_path):
    path = tmp_path / "d.csv"
    _write_csv(path, [{"company_id": "farm", "nace": "01"}, {**BAKERY, "nace": "10"}])
    got, problems = read_profiles(path)
    assert not problems  # main: both rows refused ("'01' is not a NACE Rev. 2 class")
    assert {p.id: p.nace for p in got} == {"farm": "01", "bakery": "10"}


def test_t_is_a_tonne_and_ton_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "t.csv"
    _write_csv(path, [BAKERY, {**BAKERY, "flow_id": "crumbs", "quantity": "50 tons/yr"},
                      {**BAKERY, "flow_id": "flour", "cost": "60 EUR/ton"}])
    got, problems = read_profiles(path)
    assert got[0].flows[0].annual == pytest.approx(50_000)  # kg: 50 t is 50 tonnes
    # main: "50 tons/yr" read as US short tons (45.4 t) and "EUR/ton" accepted
    assert [(p.row, p.column) for p in problems] == [(3, "quantity"), (4, "cost")]
    assert all("ambiguous" in p.message and "tonne" in p.message for p in problems)


def test_costs_in_another_currency_convert_with_a_stated_rate(tmp_path):
    path = tmp_path / "c.csv"
    _write_csv(path, [BAKERY, {**BAKERY, "flow_id": "oil", "cost": "1.2 SEK/kg"}])
    got, problems = read_profiles(path, currency="DKK", rates={"EUR": 7.46038})
    assert [(p.row, p.column) for p in problems] == [(3, "cost")]  # no SEK rate stated
    assert "SEK" in problems[0].message and "--rate SEK=" in problems[0].message
    assert got[0].flows[0].cost == pytest.approx(60 * 7.46038 / 1000)  # DKK/kg
    got, problems = read_profiles(path, currency="DKK", rates={"EUR": 7.46038, "SEK": 0.65})
    assert not problems and got[0].flows[1].cost == pytest.approx(1.2 * 0.65)


def test_the_cli_converts_template_costs_with_eur_rate(tmp_path):
    from typer.testing import CliRunner

    from aisym.cli import app

    path = tmp_path / "bakery.csv"
    _write_csv(path, [BAKERY])
    res = CliRunner().invoke(app, ["match", "aisym/parks/kalundborg.yaml", "--profiles", str(path),
                                   "--eur-rate", "7.46", "--top", "3", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert "row left out" not in res.output  # main: "cost: ... EUR ... DKK" and the row left out
