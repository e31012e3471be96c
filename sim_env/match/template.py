"""The XLSX template a company fills in: its flows, with column help, examples and drop-down lists.

``python -m sim_env.match.template`` (or ``aisym match --write-template PATH``) writes it; the
shipped copy is ``data/company_template.xlsx``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .importers import CHOICES, COLUMNS, MAX_EMPLOYEES

TEMPLATE = Path(__file__).resolve().parent / "data" / "company_template.xlsx"

# rows of the Examples sheet: a brewery's spent grain and yeast, a dairy's heat need, a fish farm's sludge, and a
# bakery known by its sector and size alone (its flows are estimated until it states them)
EXAMPLES = [
    {"company_id": "brewery_north", "company_name": "North Brewery Ltd", "nace": "11.05", "lat": 56.15, "lon": 10.21,
     "direction": "output", "flow_id": "spent_grain", "resource": "material", "ewc": "02 07 04",
     "material": "spent grain", "dry_matter_fraction": "", "quantity": "12000 t/yr",
     "profile": "1;1;1;1.1;1.2;1.3;1.3;1.2;1;1;0.9;0.9", "cost": "25 EUR/t", "route": "collected for biogas",
     "continuity": "batch", "hazardous": "no", "description": "wet, 20-25 % dry matter"},
    {"company_id": "brewery_north", "company_name": "North Brewery Ltd", "nace": "11.05", "lat": 56.15, "lon": 10.21,
     "direction": "output", "flow_id": "cooling_heat", "resource": "heat", "temperature_c": 35,
     "quantity": "1.5 MW", "cost": "0 EUR/MWh", "route": "cooling tower", "continuity": "daytime"},
    {"company_id": "dairy_south", "company_name": "South Dairy", "nace": "10.51", "lat": 56.12, "lon": 10.18,
     "direction": "input", "flow_id": "process_heat", "resource": "heat", "temperature_c": 70, "quantity": "3 MW",
     "cost": "45 EUR/MWh", "co2": "0.2 kg/kWh", "route": "own gas boiler", "heat_pump": "yes"},
    {"company_id": "fish_farm_east", "company_name": "East Salmon", "nace": "03.21", "direction": "output",
     "flow_id": "fish_sludge", "resource": "biomass", "dry_matter_fraction": 0.1, "ewc": "02 01 99",
     "quantity": "40 t/yr", "description": "fish sludge, 10 % dry matter (40 t DM in 400 t wet)",
     "cost": "600 EUR/t", "route": "trucked to a farm (60 EUR per wet t)"},
    {"company_id": "harbour_bakery", "company_name": "Harbour Bakery", "nace": "10.71", "employees": 12,
     "lat": 56.16, "lon": 10.22},
]


def write_template(path: str | Path = TEMPLATE) -> Path:
    """Write the template: sheets Flows (to fill in), Help, Examples and Lists (the drop-downs)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    flows = wb.active
    flows.title = "Flows"
    lists = wb.create_sheet("Lists")
    bold, need = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for j, (name, required, help_text, _) in enumerate(COLUMNS, start=1):
        cell = flows.cell(row=1, column=j, value=name)
        cell.font = bold
        cell.comment = Comment(("required. " if required else "") + help_text, "AISYM")
        if required:
            cell.fill = need
        flows.column_dimensions[cell.column_letter].width = max(12, len(name) + 2)
    names = [c[0] for c in COLUMNS]
    for k, (col, values) in enumerate(CHOICES.items(), start=1):
        lists.cell(row=1, column=k, value=col).font = bold
        for i, v in enumerate(values, start=2):
            lists.cell(row=i, column=k, value=v)
        letter = lists.cell(row=1, column=k).column_letter
        dv = DataValidation(type="list", formula1=f"=Lists!${letter}$2:${letter}${len(values) + 1}", allow_blank=True,
                            showErrorMessage=True, errorTitle=col, error=f"pick one of: {', '.join(values)}")
        target = flows.cell(row=2, column=names.index(col) + 1).column_letter
        dv.add(f"{target}2:{target}1000")
        flows.add_data_validation(dv)
    for col, lo, hi in (("lat", -90, 90), ("lon", -180, 180), ("ch4_fraction", 0, 1), ("purity_fraction", 0, 1),
                        ("dry_matter_fraction", 0, 1)):
        dv = DataValidation(type="decimal", operator="between", formula1=str(lo), formula2=str(hi), allow_blank=True,
                            showErrorMessage=True, errorTitle=col, error=f"a number from {lo} to {hi}")
        target = flows.cell(row=2, column=names.index(col) + 1).column_letter
        dv.add(f"{target}2:{target}1000")
        flows.add_data_validation(dv)
    dv = DataValidation(type="whole", operator="between", formula1="1", formula2=str(MAX_EMPLOYEES), allow_blank=True,
                        showErrorMessage=True, errorTitle="employees", error=f"a whole number from 1 to {MAX_EMPLOYEES}")
    target = flows.cell(row=2, column=names.index("employees") + 1).column_letter
    dv.add(f"{target}2:{target}1000")
    flows.add_data_validation(dv)
    for col in ("nace", "ewc", "company_id", "flow_id"):  # text, so 23.10 stays 23.10 and 02 07 04 keeps its zeros
        letter = flows.cell(row=1, column=names.index(col) + 1).column_letter
        for r in range(2, 1001):
            flows[f"{letter}{r}"].number_format = "@"
    flows.freeze_panes = "A2"
    help_ws = wb.create_sheet("Help")
    help_ws.append(["column", "required", "what to write", "example"])
    for c in help_ws[1]:
        c.font = bold
    for name, required, help_text, example in COLUMNS:
        help_ws.append([name, "yes" if required else "", help_text, example])
    help_ws.append([])
    help_ws.append(["One row per input or output of your company. Fill in the Flows sheet; leave unknown cells empty "
                    "(a quantity may be unknown: partners are then found by your sector and waste codes)."])
    help_ws.append(["A row with only the company columns describes a company by its sector; with its employees, "
                    "its outputs and inputs are estimated from published sector figures (marked as estimates) "
                    "until you state them."])
    help_ws.column_dimensions["C"].width = 90
    ex = wb.create_sheet("Examples")
    ex.append(names)
    for c in ex[1]:
        c.font = bold
    for row in EXAMPLES:
        ex.append([row.get(n, "") for n in names])
    wb.move_sheet("Lists", offset=3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


if __name__ == "__main__":
    print(write_template(sys.argv[1] if len(sys.argv) > 1 else TEMPLATE))
