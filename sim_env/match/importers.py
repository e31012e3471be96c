"""Profiles a company fills in: a CSV file, or the XLSX template (``data/company_template.xlsx``).

One row per input or output; a row with only the company columns describes a company by its
sector alone (a possible receiver). A company's ``employees`` (with its NACE code) lets matchmaking
estimate the flows it does not state (:func:`sim_env.match.estimates.from_templates`). A bad cell
gets an error naming its row and column, and the rows that are good are kept; a file with no rows
filled in is refused with what to do.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from aisym.park.graph.carriers import FLOW_UNITS, Carrier, Resource, WaterGrade, amount_unit, quality_problems
from aisym.park.quantity import CURRENCIES, UnitProblem, parse_quantity

from .knowledge import nace as norm_nace
from .profiles import Flow, Profile, shape

# (column, required, help, example) in the template's order
COLUMNS: list[tuple[str, bool, str, str]] = [
    ("company_id", True, "short id of your company: lower case, digits, _ (the same on each of its rows)", "brewery_north"),
    ("company_name", False, "your company's name", "North Brewery Ltd"),
    ("nace", True, "your sector, NACE Rev. 2 code (Eurostat), like 11.05", "11.05"),
    ("employees", False, "persons employed at the site, a whole number: with your NACE code, the flows you do not "
                         "state are estimated from your sector's published figures until you state them", "12"),
    ("location", False, "a named place, for people", "Harbour Road 4, Aarhus"),
    ("lat", False, "latitude of the site, degrees (WGS 84)", "56.15"),
    ("lon", False, "longitude of the site, degrees (WGS 84)", "10.21"),
    ("direction", True, "output (you give it out) or input (you take it in)", "output"),
    ("flow_id", True, "short id of this flow, unique in your company", "spent_grain"),
    ("resource", True, "what it is: " + ", ".join(r.value for r in Resource if r != Resource.volatile_solids), "material"),
    ("temperature_c", False, "heat, steam, cooling, water: temperature in °C", ""),
    ("pressure_bar", False, "steam, hydrogen: pressure in bar", ""),
    ("grade", False, "water: " + ", ".join(g.value for g in WaterGrade), ""),
    ("ch4_fraction", False, "biogas, biomethane, natural gas: CH4 share, 0-1", ""),
    ("purity_fraction", False, "CO2, O2, hydrogen: purity, 0-1", ""),
    ("dry_matter_fraction", False, "sludge, biomass: dry-matter share, 0-1", "0.22"),
    ("ewc", False, "materials and residues: European Waste Catalogue code, like 02 07 04 (* if hazardous)", "02 07 04"),
    ("material", False, "materials: a plain name, like gypsum, fly ash, spent grain", "spent grain"),
    ("quantity", False, "mean flow with its unit: 3000 t/yr, 2 MW, 40 m3/h; sludge and biomass in dry matter "
                        "(empty: not known)", "12000 t/yr"),
    ("profile", False, "flat, or 12 monthly factors Jan..Dec separated by ; (empty: flat)",
     "1;1;1;1.1;1.2;1.3;1.3;1.2;1;1;0.9;0.9"),
    ("cost", False, "what its present route costs per unit, with its unit: 150 EUR/t (outputs: disposal; "
                    "inputs: what you pay for it)", "25 EUR/t"),
    ("co2", False, "CO2 of its present route per unit, with its unit: 0.02 kg/kg", ""),
    ("route", False, "its present route in words: landfill, bought natural gypsum", "sold as cattle feed"),
    ("continuity", False, "continuous, daytime, seasonal or batch", "continuous"),
    ("hazardous", False, "outputs: yes if hazardous waste (default: from the EWC code's *)", "no"),
    ("accepts_hazardous", False, "inputs: yes if your permit takes hazardous waste", ""),
    ("heat_pump", False, "heat inputs: no if a heat pump may not lift a colder supply", ""),
    ("description", False, "anything else a partner should know", "wet, 20-25 % dry matter"),
]
NAMES = [c[0] for c in COLUMNS]
CHOICES = {
    "direction": ["output", "input"],
    "resource": [r.value for r in Resource if r != Resource.volatile_solids],
    "grade": [g.value for g in WaterGrade],
    "continuity": ["continuous", "daytime", "seasonal", "batch"],
    "hazardous": ["yes", "no"], "accepts_hazardous": ["yes", "no"], "heat_pump": ["yes", "no"],
}
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# a bound on a site's persons employed: no site employs a million, and the workbench keeps the number as a
# 32-bit integer (Company.employees), so a larger figure is a typo, refused rather than stored
MAX_EMPLOYEES = 1_000_000
_NACE = re.compile(r"^\d{2}(\.\d{1,2})?$")  # a division (10), group (10.7) or class (10.71)
# "ton" is a US short ton (907 kg) to pint and a metric tonne to most Europeans: refused, not guessed.
_TON = re.compile(r"\b(short_?|long_?|metric_?)?tons?\b", re.IGNORECASE)
_CURRENCY = re.compile(r"\b(" + "|".join(CURRENCIES) + r")\b")
_QUALITY = ("temperature_c", "pressure_bar", "grade", "ch4_fraction", "purity_fraction", "dry_matter_fraction",
            "ewc", "material")


@dataclass(frozen=True)
class RowProblem:
    """A bad cell: the file's row (1 is the header) and the column."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class EmptyTemplate(ValueError):
    """A template or CSV with no rows filled in."""


class _Bad(Exception):
    def __init__(self, column: str, message: str):
        self.column, self.message = column, message


def read_profiles(path: str | Path, currency: str = "EUR",
                  rates: dict[str, float] | None = None) -> tuple[list[Profile], list[RowProblem]]:
    """The profiles in a filled-in CSV or XLSX, and the problems of the rows left out.

    :param path: a ``.csv`` or ``.xlsx`` file with the template's columns
    :param currency: the park's currency: costs convert to it (a bare number is taken to be in it)
    :param rates: units of the park's currency per unit of another (``{"EUR": 7.46}``): costs stated
        in that currency convert by it; a cost in a currency without a rate is refused (its row)
    :raises EmptyTemplate: no row is filled in
    :raises ValueError: the file cannot be read, or lacks a required column
    """
    path = Path(path)
    rows = _xlsx_rows(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_rows(path)
    header, data = rows[0] if rows else [], rows[1:]
    missing = [c for c, req, _, _ in COLUMNS if req and c not in header]
    unknown = [h for h in header if h and h not in NAMES]
    if unknown:
        raise ValueError(f"{path}: row 1: unknown column {unknown[0]!r}; the columns are {', '.join(NAMES)}")
    filled = [(i, r) for i, r in data if any(str(v).strip() for v in r if v is not None)]
    if not filled:
        raise EmptyTemplate(f"{path} has no rows filled in yet. Write one row per input or output under the header "
                            "(the Examples sheet shows how; the Help sheet explains each column), then import it again.")
    if missing:
        raise ValueError(f"{path}: row 1: the header lacks the column(s) {', '.join(missing)}")
    profiles: dict[str, Profile] = {}
    problems: list[RowProblem] = []
    for n, values in filled:
        cells = {h: ("" if v is None else str(v).strip()) for h, v in zip(header, values, strict=False) if h}
        try:
            _row(cells, n, currency, profiles, rates or {})
        except _Bad as e:
            problems.append(RowProblem(n, e.column, e.message))
    return list(profiles.values()), problems


def _csv_rows(path: Path) -> list[tuple[int, list[str]] | list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read: {e}") from None
    lines = list(csv.reader(text.splitlines()))
    if not lines:
        return []
    return [[h.strip() for h in lines[0]], *[(i, r) for i, r in enumerate(lines[1:], start=2)]]


def _xlsx_rows(path: Path):
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises zipfile, KeyError and its own errors on a bad file
        raise ValueError(f"{path}: cannot read as XLSX: {e}") from None
    ws = wb["Flows"] if "Flows" in wb.sheetnames else wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    head = next(it, None)
    if head is None:
        return []
    header = [("" if h is None else str(h).strip()) for h in head]
    rows = [header, *[(i, list(r)) for i, r in enumerate(it, start=2)]]
    wb.close()
    return rows


def _yes(cells, col: str) -> bool | None:
    v = cells.get(col, "").lower()
    if v in ("", "none"):
        return None
    if v in ("yes", "y", "true", "1"):
        return True
    if v in ("no", "n", "false", "0"):
        return False
    raise _Bad(col, f"write yes or no (got {cells[col]!r})")


def _number(cells, col: str) -> float | None:
    v = cells.get(col, "")
    if not v:
        return None
    try:
        return float(v.replace(",", "."))
    except ValueError:
        raise _Bad(col, f"not a number: {v!r}") from None


def _carrier(cells) -> Carrier:
    res = cells.get("resource", "").lower()
    if res not in CHOICES["resource"]:
        raise _Bad("resource", f"{cells.get('resource')!r} is not a resource; pick one of {', '.join(CHOICES['resource'])}")
    q: dict[str, object] = {}
    for col in _QUALITY:
        if not cells.get(col):
            continue
        q[col] = cells[col] if col in ("grade", "ewc", "material") else _number(cells, col)
    try:
        carrier = Carrier(resource=res, **q)
    except ValidationError as e:
        err = e.errors()[0]
        raise _Bad(str(err["loc"][0]) if err["loc"] else "resource", err["msg"]) from None
    bad = quality_problems(carrier)
    if bad:
        col = next((k for k in carrier.stated() if repr(k) in bad[0]), "resource")
        raise _Bad(col, bad[0])
    return carrier


def _company(cells, profiles: dict[str, Profile]) -> Profile:
    cid = cells.get("company_id", "")
    if not _ID.match(cid):
        raise _Bad("company_id", f"{cid!r}: lower case letters, digits and _, starting with a letter")
    code = norm_nace(cells.get("nace", ""))
    if not _NACE.match(code):
        raise _Bad("nace", f"{cells.get('nace')!r} is not a NACE Rev. 2 division, group or class, like 10 or 23.62")
    lat, lon = _number(cells, "lat"), _number(cells, "lon")
    if (lat is None) != (lon is None):
        raise _Bad("lon" if lon is None else "lat", "state both lat and lon, or neither")
    if lat is not None and not (-90 <= lat <= 90):
        raise _Bad("lat", f"a latitude is between -90 and 90 (got {lat:g})")
    if lon is not None and not (-180 <= lon <= 180):
        raise _Bad("lon", f"a longitude is between -180 and 180 (got {lon:g})")
    staff = _employees(cells)
    p = profiles.get(cid)
    if p is None:
        return Profile(cid, cells.get("company_name", ""), code, cells.get("location", ""),
                       (lat, lon) if lat is not None else None, employees=staff)
    if p.nace != code:
        raise _Bad("nace", f"company {cid} was given NACE {p.nace} on an earlier row")
    if staff is not None and p.employees not in (None, staff):
        raise _Bad("employees", f"company {cid} was given {p.employees} employees on an earlier row (got {staff})")
    return p


def _employees(cells) -> int | None:
    """Persons employed: a whole number from 1 (a spreadsheet's 12.0 is 12), or None when not stated."""
    v = cells.get("employees", "")
    if not v:
        return None
    try:
        n = float(v.replace(",", "."))
    except ValueError:
        n = math.nan
    if not math.isfinite(n) or n != int(n):
        raise _Bad("employees", f"{v!r} is not a whole number of persons, like 12")
    if not 1 <= n <= MAX_EMPLOYEES:
        raise _Bad("employees", f"from 1 to {MAX_EMPLOYEES:,} persons (got {v})")
    return int(n)


_COMPANY_COLUMNS = ("company_id", "company_name", "nace", "employees", "location", "lat", "lon")


def _row(cells: dict[str, str], n: int, currency: str, profiles: dict[str, Profile], rates: dict[str, float]) -> None:
    prof = _company(cells, profiles)
    if not any(v for k, v in cells.items() if k not in _COMPANY_COLUMNS):  # a company known by its sector alone
        _keep(prof, cells, profiles)
        return
    direction = cells.get("direction", "").lower()
    if direction not in CHOICES["direction"]:
        raise _Bad("direction", f"write output or input (got {cells.get('direction')!r})")
    fid = cells.get("flow_id", "")
    if not _ID.match(fid):
        raise _Bad("flow_id", f"{fid!r}: lower case letters, digits and _, starting with a letter")
    if any(f.id == fid for f in prof.flows):
        raise _Bad("flow_id", f"{fid} is already used by an earlier row of {prof.id}")
    carrier = _carrier(cells)
    unit, amount = FLOW_UNITS[carrier.resource], amount_unit(carrier.resource)
    hourly = None
    if cells.get("quantity"):
        _no_ton(cells, "quantity")
        try:
            q = parse_quantity(cells["quantity"], unit, what="quantity")
        except UnitProblem as e:
            raise _Bad("quantity", f"{e} (a {carrier.resource.value} flow: {unit}, or an amount per year)") from None
        if q < 0:
            raise _Bad("quantity", "a quantity is 0 or more")
        hourly = shape(_profile(cells), q, {})
    elif cells.get("profile") and cells["profile"].lower() != "flat":
        raise _Bad("profile", "a profile shapes a quantity: fill in the quantity too")
    cost = _cost(cells, currency, amount, rates)
    co2 = _per_unit(cells, "co2", f"kg/({amount})")
    cont = cells.get("continuity", "").lower() or "continuous"
    if cont not in CHOICES["continuity"]:
        raise _Bad("continuity", f"write one of {', '.join(CHOICES['continuity'])} (got {cells['continuity']!r})")
    haz, acc, hp = _yes(cells, "hazardous"), _yes(cells, "accepts_hazardous"), _yes(cells, "heat_pump")
    if direction == "input" and haz is not None:
        raise _Bad("hazardous", "stated on outputs only (an input states accepts_hazardous)")
    if direction == "output" and (acc is not None or hp is not None):
        raise _Bad("accepts_hazardous" if acc is not None else "heat_pump", "stated on inputs only")
    haz = haz if haz is not None else bool(carrier.ewc and carrier.ewc.endswith("*"))
    prof.flows.append(Flow(prof.id, fid, direction, carrier, "residue" if direction == "output" else "need", hourly,
                           None, None, cost, co2, cells.get("route", ""), cont, haz, bool(acc), hp is not False,
                           f"row {n}"))
    _keep(prof, cells, profiles)


def _keep(prof: Profile, cells, profiles: dict[str, Profile]) -> None:
    """Keep a row's company, with its employees if this row is the first to state them (checked by _company)."""
    if prof.employees is None:
        prof.employees = _employees(cells)
    profiles[prof.id] = prof


def _profile(cells) -> list[float] | None:
    v = cells.get("profile", "")
    if not v or v.lower() == "flat":
        return None
    parts = [x for x in re.split(r"[;\s]+", v) if x]
    try:
        f = [float(x.replace(",", ".")) for x in parts]
    except ValueError:
        raise _Bad("profile", f"12 numbers separated by ; (got {v!r})") from None
    if len(f) != 12 or min(f) < 0 or sum(f) <= 0:
        raise _Bad("profile", f"12 monthly factors, 0 or more, not all 0 (got {len(f)})")
    return f


def _no_ton(cells, col: str) -> None:
    if _TON.search(cells.get(col, "")):
        raise _Bad(col, f"{cells[col]!r}: 'ton' is ambiguous (a US short ton is 907 kg, a long ton 1,016 kg): "
                        "write t or tonne for 1,000 kg")


def _cost(cells, currency: str, amount: str, rates: dict[str, float]) -> float | None:
    """A cost per unit in the park's currency; another currency converts by its stated rate."""
    v = cells.get("cost", "")
    found = {m.group(1) for m in _CURRENCY.finditer(v)} - {currency}
    if not found:
        return _per_unit(cells, "cost", f"{currency}/({amount})")
    other = found.pop()
    if other not in rates:
        flag = "--eur-rate " if other == "EUR" else f"--rate {other}="
        raise _Bad("cost", f"{v!r} is in {other} and the park's currency is {currency}: state the rate "
                           f"({flag}{currency}-per-{other}, aisym match), or write the cost in {currency}")
    return _per_unit(cells, "cost", f"{other}/({amount})") * rates[other]


def _per_unit(cells, col: str, unit: str) -> float | None:
    v = cells.get(col, "")
    if not v:
        return None
    _no_ton(cells, col)
    try:
        return parse_quantity(v, unit, what=col)
    except UnitProblem as e:
        raise _Bad(col, str(e)) from None
