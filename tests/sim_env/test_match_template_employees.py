"""A company's size in its template feeds the estimates (issue 23 item 3): the ``employees`` column is
read (a bad value refuses its row, in one line naming it), and ``aisym match --profiles`` estimates the
flows a company with its NACE code and employees does not state, from the same cited figures as
``--estimate``; a flow it states replaces the estimate."""

from __future__ import annotations

import json
import shutil

import openpyxl
import pytest
from typer.testing import CliRunner

from aisym.cli import app
from sim_env.match.importers import read_profiles
from sim_env.match.template import TEMPLATE, write_template

# a biogas plant that buys maize silage: a receiver of a bakery's residues (as in test_match_estimates.py)
PARK = """schema_version: 2
park: {id: small_bio, name: Small biogas park, currency: DKK, exchange_rates: {EUR: 7.46}}
companies:
  - id: biogas
    name: Biogas plant
    nace: "35.21"
    assets:
      - id: plant
        components:
          - {type: demand, id: feed, carrier: {resource: biomass}, profile: 100 kg/h,
             backup: {cost: 0.3 DKK/kg, name: bought maize silage}}
"""
# By hand, the coefficients of test_match_estimates.py: food and drink manufacturing wasted 11,000,000 t
# in 2022 (Eurostat env_wasfw) and employed 4,820,000 persons: 2.2822 t per employee, 27,385.9 kg for 12.
BREAD_12 = 11e6 * 1000 / 4.82e6 * 12
HEADER = ["company_id", "company_name", "nace", "employees", "direction", "flow_id", "resource", "temperature_c",
          "material", "ewc", "quantity", "cost"]
BAKERY = ["bakery", "Harbour Bakery", "10.71", "12"]
OVEN = ["output", "oven_heat", "heat", "60", "", "", "20 kW", ""]
BREAD = ["output", "bread", "material", "", "bread", "02 06 01", "50 t/yr", "500 DKK/t"]


def _park(tmp_path):
    park = tmp_path / "small.yaml"
    park.write_text(PARK, encoding="utf-8")
    return park


def _csv(path, rows):
    path.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _fill_template(path, rows):
    """The shipped template with ``rows`` (dicts by column) written into its Flows sheet."""
    shutil.copy(TEMPLATE, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Flows"]
    cols = {c.value: c.column for c in ws[1]}
    for r, row in enumerate(rows, start=2):
        for name, value in row.items():
            ws.cell(row=r, column=cols[name], value=value)  # main: KeyError 'employees' (no such column)
    wb.save(path)
    return path


def _match(park, *args):
    res = CliRunner().invoke(app, ["match", str(park), *args, "--format", "json", "--top", "50"])
    assert res.exit_code == 0, res.output
    return res


def test_the_template_bakery_with_12_employees_and_no_stated_bread_gets_the_estimate(tmp_path):
    sheet = _fill_template(tmp_path / "bakery.xlsx", [
        {"company_id": "bakery", "company_name": "Harbour Bakery", "nace": "10.71", "employees": 12},
        {"company_id": "bakery", "nace": "10.71", "direction": "output", "flow_id": "oven_heat", "resource": "heat",
         "temperature_c": 60, "quantity": "20 kW"},
    ])
    profiles, problems = read_profiles(sheet, "DKK")
    assert problems == [] and [(p.id, p.employees) for p in profiles] == [("bakery", 12)]
    res = _match(_park(tmp_path), "--profiles", str(sheet))
    out = json.loads(res.stdout)
    food = [c for c in out["candidates"] if c["supplier"] == "bakery" and c["output"] == "est_food_waste"]
    # main: 0 (the column is unknown and the whole file refused)
    assert food, [c["output"] for c in out["candidates"]]
    assert food[0]["annual"] == pytest.approx(BREAD_12, rel=1e-9) and food[0]["annual"] == pytest.approx(27385.89,
                                                                                                        abs=0.01)
    assert food[0]["estimate"]["output"].startswith("estimate from NACE 10.71 and 12 employees: Eurostat env_wasfw")
    assert out["flows"] == 1 + 1 + 3  # the park's feed, the stated oven heat, three estimated flows


def test_estimate_on_the_command_line_is_the_later_word(tmp_path):
    sheet = _csv(tmp_path / "bakery.csv", [BAKERY + [""] * 8])
    res = _match(_park(tmp_path), "--profiles", str(sheet), "--estimate", "bakery::20")
    out = json.loads(res.stdout)
    food = [c for c in out["candidates"] if c["output"] == "est_food_waste"]
    assert len(food) == 1 and food[0]["annual"] == pytest.approx(BREAD_12 / 12 * 20, rel=1e-9)
    assert out["flows"] == 1 + 3  # the park's feed and one set of estimates, not two


def test_a_bad_employees_value_refuses_its_row_in_one_line_and_nothing_else(tmp_path):
    sheet = _csv(tmp_path / "sheet.csv", [
        BAKERY + BREAD,  # row 2
        ["mill", "Mill", "10.61", "twelve"] + [""] * 8,  # row 3
        ["mill", "Mill", "10.61", "0"] + [""] * 8,  # row 4
        ["mill", "Mill", "10.61", "2.5"] + [""] * 8,  # row 5
        ["bakery", "Harbour Bakery", "10.71", "15", *OVEN],  # row 6: 12 on row 2
        ["bakery", "Harbour Bakery", "10.71", "", *OVEN],  # row 7: kept
        ["mill", "Mill", "10.61", "-3", *BREAD[:1], "flour_dust", *BREAD[2:]],  # row 8
        ["dairy", "Dairy", "10.51", "40.0"] + [""] * 8,  # row 9: 40.0 is a whole number (a spreadsheet's float)
        ["cafe", "Cafe", "56.10", "", *OVEN],  # row 10
        ["cafe", "Cafe", "56.10", "3"] + [""] * 8,  # row 11: its size on a later row
    ])
    profiles, problems = read_profiles(sheet, "DKK")
    assert [(p.row, p.column) for p in problems] == [(3, "employees"), (4, "employees"), (5, "employees"),
                                                    (6, "employees"), (8, "employees")]
    assert str(problems[0]) == "row 3, column employees: 'twelve' is not a whole number of persons, like 12"
    assert "was given 12 employees on an earlier row (got 15)" in problems[3].message
    got = {p.id: p for p in profiles}
    assert set(got) == {"bakery", "dairy", "cafe"}  # the mill's rows are all refused; nothing else is lost
    assert [f.id for f in got["bakery"].flows] == ["bread", "oven_heat"] and got["bakery"].employees == 12
    assert got["dairy"].employees == 40 and got["cafe"].employees == 3
    res = CliRunner().invoke(app, ["match", str(_park(tmp_path)), "--profiles", str(sheet), "--format", "json"])
    assert res.exit_code == 0, res.output
    said = [ln for ln in res.stderr.splitlines() if "employees" in ln and "left out" in ln]
    assert said[0] == f"{sheet}: row 3, column employees: 'twelve' is not a whole number of persons, like 12 " \
                      "(row left out)"
    assert len(said) == 5
    assert f"{sheet}: cafe: no sector figure covers NACE 56.10: nothing estimated" in res.stderr.splitlines()


def test_stating_its_bread_in_the_template_replaces_the_estimate(tmp_path):
    sheet = _csv(tmp_path / "bakery.csv", [BAKERY + BREAD])
    out = json.loads(_match(_park(tmp_path), "--profiles", str(sheet)).stdout)
    bakery = [c for c in out["candidates"] if c["supplier"] == "bakery"]
    assert bakery and {c["output"] for c in bakery} == {"bread"}  # never est_food_waste beside it
    assert bakery[0]["annual"] == pytest.approx(50_000.0) and bakery[0]["estimate"]["output"] is None
    assert out["flows"] == 1 + 1 + 2  # the feed, the bread, and the estimated electricity and heat it does not state


def test_the_template_has_an_employees_column_with_help_and_the_examples_bakery(tmp_path):
    path = write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    head = [c.value for c in wb["Flows"][1]]
    assert "employees" in head
    assert [c.value for c in openpyxl.load_workbook(TEMPLATE)["Flows"][1]] == head  # the shipped copy is current
    helps = {r[0]: r[2] for r in wb["Help"].iter_rows(min_row=2, values_only=True) if r and r[0]}
    assert "persons" in helps["employees"] and "estimate" in helps["employees"]
    ws = wb["Flows"]
    col = ws.cell(row=1, column=head.index("employees") + 1).column_letter
    checks = [dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith(f"{col}2:")]
    assert checks and checks[0].type == "whole"
    wb.remove(wb["Flows"])
    wb["Examples"].title = "Flows"
    wb.save(tmp_path / "examples.xlsx")
    profiles, problems = read_profiles(tmp_path / "examples.xlsx")
    bakery = [p for p in profiles if p.employees]
    assert problems == [] and [(p.nace, p.employees, p.flows) for p in bakery] == [("10.71", 12, [])]
