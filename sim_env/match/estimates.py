"""Estimates where nothing is known: a company's outputs and inputs from its sector and size.

A company known only by its NACE code and its number of employees (the Syner approach: map a
region before anyone fills in a form) gets estimated flows from published sector totals divided
by the persons the sector employs in the same place and year: tonnes of waste per employee and
year, kWh of electricity and of fuels and heat, m³ of process water. The totals are data,
``data/sector_totals.csv`` (one published figure a row, each with its publisher, table code, year
and source URL), and ``data/sector_flows.csv`` says which flow each figure becomes (an EWC code of
the sector's own List of Waste sub-chapter for a waste, a share for an energy carrier), again with
a source a row. A company that gives its production instead (tonnes a year) gets the figures per
tonne of ``data/sector_per_tonne.csv`` where one is cited, and is told which families have none.
A row without a source is refused (``file:line: field: why``); ``data/sector_gaps.csv`` says why a
sector has no figure of a family.

Several totals of one family (waste, energy, water) can cover a sector: the most specific one
wins (the longest code that covers it, then the fewest codes covered), with the totals of the same
table beside it (electricity and fuels of one energy table), so no flow is counted twice.

A company gives its size in the template's ``employees`` column (:func:`from_templates`) or with
``aisym match --estimate ID:NACE:EMPLOYEES``. Every estimated flow carries :attr:`Flow.estimate`,
the words that say where it came from, and :func:`apply` drops an estimate as soon as the company
states (or meters) a flow of the same carrier: a stated flow wins.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from aisym.park.graph.carriers import Carrier

from .classifications import ewc as ewc_entry
from .classifications import nace as nace_entry
from .knowledge import nace as norm_nace
from .profiles import HOURS, Flow, Profile

DATA = Path(__file__).resolve().parent / "data"
TOTALS = DATA / "sector_totals.csv"
FLOWS = DATA / "sector_flows.csv"
PER_TONNE = DATA / "sector_per_tonne.csv"
GAPS = DATA / "sector_gaps.csv"
_URL = re.compile(r"^https?://\S+$")
_TABLE = re.compile(r"^[a-z][a-z0-9_]+$")  # a table's code, like env_wasfw, sbs_na_ind_r2 or tene_2020_tau_002
# canonical amount per unit of a published total: material in kg, energy in kWh, water in m³ (per
# year); a per-tonne figure in canonical units per tonne of product
_TO_CANONICAL = {"t/yr": 1000.0, "PJ/yr": 1e15 / 3.6e6, "TJ/yr": 1e12 / 3.6e6, "GWh/yr": 1e6, "m3/yr": 1.0,
                 "persons": 1.0, "kg/t": 1.0}
_UNIT_WORD = {"t/yr": "t", "PJ/yr": "PJ", "TJ/yr": "TJ", "GWh/yr": "GWh", "m3/yr": "m3", "persons": "persons",
              "kg/t": "kg/t"}
FAMILIES = ("waste", "energy", "water")


class EstimateError(ValueError):
    """A data row that cannot be used: ``file:line: field: why``."""


@dataclass(frozen=True)
class Total:
    """One published sector figure: a total per year, or the persons employed."""

    id: str
    nace: tuple[str, ...]  # the divisions, groups or classes it covers
    figure: str  # persons_employed, food_waste, industrial_waste, final_energy, electricity...
    value: float
    unit: str
    per: str  # the id of the persons-employed row it is divided by ("" : none, so no estimate)
    geo: str
    year: int | None  # None: the source does not state it (a per-tonne survey)
    table: str
    source: str
    note: str
    family: str = ""  # waste, energy, water or persons: totals of one family compete for a sector
    publisher: str = "Eurostat"

    def covering(self, code: str) -> str:
        """The code of this total that covers NACE ``code`` ("" : none): "24" and "24.1" cover "24.10"."""
        fits = [n for n in self.nace if code == n or (code.startswith(n) and (len(n) > 2 or code[2:3] == "."))]
        return max(fits, key=len, default="")

    def covers(self, code: str) -> bool:
        return bool(self.covering(code))

    def cite(self) -> str:
        year = f" {self.year}" if self.year else " (year not stated)"
        return f"{self.publisher} {self.table}{year} ({self.geo} {_num(self.value)} {_UNIT_WORD[self.unit]})"


@dataclass(frozen=True)
class FlowRule:
    """Which flow a figure becomes for a sector: its carrier and its share of the figure."""

    figure: str
    nace: str  # a NACE prefix ("10.7"), or "" for every sector the figure covers
    direction: str
    flow_id: str
    carrier: Carrier
    share: float
    source: str
    note: str


def _rows(path: Path, columns: tuple[str, ...]):
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise EstimateError(f"{path}: cannot read: {e}") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise EstimateError(f"{path}:1: header: lacks {', '.join(missing)}")
    for line, row in enumerate(reader, start=2):
        yield line, {k: (v or "").strip() for k, v in row.items() if k}


def _number(path, line, row, col) -> float:
    try:
        return float(row[col])
    except ValueError:
        raise EstimateError(f"{path}:{line}: {col}: not a number: {row[col]!r}") from None


def _source(path, line, row) -> str:
    if not _URL.match(row["source"]):
        raise EstimateError(f"{path}:{line}: source: every figure names its source (a URL); got {row['source']!r}")
    return row["source"]


def _total(path, line, r, per_tonne: bool) -> Total:
    """One row of a totals or per-tonne file, checked."""
    src = _source(path, line, r)
    if not _TABLE.match(r["table"]):
        raise EstimateError(f"{path}:{line}: table: the statistical table it comes from, like env_wasfw "
                            f"(got {r['table']!r})")
    units = ("kg/t",) if per_tonne else tuple(u for u in _TO_CANONICAL if u != "kg/t")
    if r["unit"] not in units:
        raise EstimateError(f"{path}:{line}: unit: one of {', '.join(units)} (got {r['unit']!r})")
    codes = tuple(norm_nace(c) for c in r["nace"].split(";") if c.strip())
    if not codes:
        raise EstimateError(f"{path}:{line}: nace: the sectors the figure covers, like 10;11")
    unknown = [c for c in codes if nace_entry(c) is None]
    if unknown:
        raise EstimateError(f"{path}:{line}: nace: {', '.join(unknown)} is not a NACE Rev. 2 code")
    family = r.get("family") or ("persons" if r["figure"] == "persons_employed" else r["figure"])
    if family not in (*FAMILIES, "persons") and r.get("family"):
        raise EstimateError(f"{path}:{line}: family: one of {', '.join(FAMILIES)} or persons (got {family!r})")
    if not r["year"] and not per_tonne:
        raise EstimateError(f"{path}:{line}: year: a total and the persons it is divided by have a year")
    value = _number(path, line, r, "value")
    if not value > 0:
        raise EstimateError(f"{path}:{line}: value: more than 0 (got {value:g})")
    year = int(_number(path, line, r, "year")) if r["year"] else None
    return Total(r["id"], codes, r["figure"], value, r["unit"], r.get("per", ""), r["geo"], year, r["table"], src,
                 r["note"], family, r.get("publisher") or "Eurostat")


@lru_cache(maxsize=4)
def load_totals(path: Path = TOTALS) -> dict[str, Total]:
    """The published sector totals, by id; a row without a source or table code is refused."""
    cols = ("id", "nace", "figure", "value", "unit", "per", "geo", "year", "table", "source", "note")
    out: dict[str, Total] = {}
    for line, r in _rows(Path(path), cols):
        if r["id"] in out:
            raise EstimateError(f"{path}:{line}: id: {r['id']} is used by an earlier row")
        out[r["id"]] = _total(path, line, r, per_tonne=False)
    for t in out.values():
        if t.per and (t.per not in out or out[t.per].figure != "persons_employed"):
            raise EstimateError(f"{path}: {t.id}: per: {t.per!r} is not a persons_employed row")
        if t.per and not all(out[t.per].covers(c) for c in t.nace):
            raise EstimateError(f"{path}: {t.id}: nace: {';'.join(t.nace)} is not within the persons it is divided "
                                f"by ({';'.join(out[t.per].nace)})")
    return out


@lru_cache(maxsize=4)
def load_per_tonne(path: Path = PER_TONNE) -> dict[str, Total]:
    """Cited figures per tonne of product, by id (a row without a source is refused)."""
    cols = ("id", "nace", "figure", "value", "unit", "geo", "year", "table", "source", "note")
    out: dict[str, Total] = {}
    for line, r in _rows(Path(path), cols):
        if r["id"] in out:
            raise EstimateError(f"{path}:{line}: id: {r['id']} is used by an earlier row")
        out[r["id"]] = _total(path, line, r, per_tonne=True)
    return out


@lru_cache(maxsize=4)
def load_gaps(path: Path = GAPS) -> tuple[tuple[tuple[str, ...], str, str], ...]:
    """Why a sector has no figure of a family: (NACE codes, family, why)."""
    out = []
    for line, r in _rows(Path(path), ("nace", "family", "why")):
        if r["family"] not in FAMILIES or not r["why"]:
            raise EstimateError(f"{path}:{line}: family: one of {', '.join(FAMILIES)}, with a why")
        out.append((tuple(norm_nace(c) for c in r["nace"].split(";") if c.strip()), r["family"], r["why"]))
    return tuple(out)


@lru_cache(maxsize=4)
def load_flow_rules(path: Path = FLOWS) -> tuple[FlowRule, ...]:
    """Which flow each figure becomes, per sector; a row without a source is refused."""
    cols = ("figure", "nace", "direction", "flow_id", "resource", "ewc", "material", "share", "source", "note")
    out = []
    for line, r in _rows(Path(path), cols):
        src = _source(path, line, r)
        if r["direction"] not in ("output", "input"):
            raise EstimateError(f"{path}:{line}: direction: output or input (got {r['direction']!r})")
        q = {k: r[k] for k in ("ewc", "material") if r[k]}
        if r["ewc"] and ewc_entry(r["ewc"]) is None:
            raise EstimateError(f"{path}:{line}: ewc: {r['ewc']} is not in the List of Waste")
        try:
            carrier = Carrier(resource=r["resource"], **q)
        except ValueError as e:
            raise EstimateError(f"{path}:{line}: resource: {str(e).splitlines()[0]}") from None
        share = _number(path, line, r, "share")
        if not 0 < share <= 1:
            raise EstimateError(f"{path}:{line}: share: above 0 and at most 1 (got {share:g})")
        out.append(FlowRule(r["figure"], norm_nace(r["nace"]) if r["nace"] else "", r["direction"], r["flow_id"],
                            carrier, share, src, r["note"]))
    return tuple(out)


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.4g}"


def per_employee(total: Total, totals: dict[str, Total]) -> float:
    """The figure per person employed and year, canonical (kg, kWh)."""
    persons = totals[total.per]
    return total.value * _TO_CANONICAL[total.unit] / persons.value


def _rules(figure: str, code: str, rules) -> list[FlowRule]:
    """The flow rules of ``figure`` for sector ``code``: the most specific prefix that matches, or the general ones."""
    fits = [r for r in rules if r.figure == figure and (not r.nace or code == r.nace or code.startswith(r.nace))]
    if not fits:
        return []
    longest = max(len(r.nace) for r in fits)
    return [r for r in fits if len(r.nace) == longest]


def _specificity(t: Total, code: str) -> tuple[int, int]:
    """How closely a total fits a sector: the longer its covering code, then the fewer codes it covers."""
    return len(t.covering(code)), -len(t.nace)


def _chosen(family: str, code: str, totals: dict[str, Total], sized) -> list[Total]:
    """The totals of ``family`` that estimate sector ``code``: the most specific usable one and those of its table."""
    usable = [t for t in totals.values() if t.family == family and sized(t) and t.covers(code)]
    if not usable:
        return []
    best = max(usable, key=lambda t: _specificity(t, code))
    return [t for t in usable if t.table == best.table and _specificity(t, code) == _specificity(best, code)]


def _why_none(family: str, code: str, totals: dict[str, Total], gaps) -> list[str]:
    """Why sector ``code`` gets no estimate of ``family``: a total without persons employed, or a known gap."""
    out = [f"no {t.figure.replace('_', ' ')} estimate for NACE {code}: the data has no persons employed for "
           f"{';'.join(t.nace)} ({t.id})" for t in totals.values() if t.family == family and t.covers(code)]
    out += [f"no {family} estimate for NACE {code}: {why}" for codes, fam, why in gaps
            if fam == family and any(code == c or code.startswith(c + ".") for c in codes)]
    return out


def estimate_flows(company: str, nace: str, employees: float | None, totals: dict[str, Total] | None = None,
                   rules: tuple[FlowRule, ...] | None = None, *, tonnes: float | None = None,
                   ) -> tuple[list[Flow], list[str]]:
    """Estimated flows of a company from its sector and size, and why any family gives none.

    :param company: the company id
    :param nace: its NACE Rev. 2 code (division, group or class)
    :param employees: persons employed (more than 0), or None when ``tonnes`` is given
    :param tonnes: its production, tonnes a year: a family with a cited per-tonne figure is estimated from it
    """
    if employees is None and tonnes is None:
        raise EstimateError(f"{company}: size: state its employees or its production (t/yr)")
    if employees is not None and not employees > 0:
        raise EstimateError(f"{company}: employees: more than 0 (got {employees:g})")
    if tonnes is not None and not tonnes > 0:
        raise EstimateError(f"{company}: production: more than 0 t/yr (got {tonnes:g})")
    totals = totals if totals is not None else load_totals()
    rules = rules if rules is not None else load_flow_rules()
    per_t = load_per_tonne() if tonnes is not None else {}
    code = norm_nace(nace)
    flows, notes = [], []
    for family in FAMILIES:
        by_tonne = _chosen(family, code, per_t, lambda t: True)
        chosen = by_tonne or (_chosen(family, code, totals, lambda t: bool(t.per)) if employees else [])
        for t in chosen:
            if t in by_tonne:  # canonical amount per tonne of product, times tonnes a year
                coef, size = t.value * _TO_CANONICAL[t.unit], tonnes
                base = f"estimate from NACE {code} and {tonnes:g} t/yr of production: {t.cite()}"
            else:
                coef, size = per_employee(t, totals), employees
                persons = totals[t.per]
                base = (f"estimate from NACE {code} and {employees:g} employees: {t.cite()} / "
                        f"{_num(persons.value)} persons employed ({persons.publisher} {persons.table} {persons.year})"
                        + (f", average of NACE {';'.join(t.nace)}" if t.covering(code) != code and len(t.nace) > 1
                           else ""))
            for r in _rules(t.figure, code, rules):
                annual = coef * size * r.share
                why = base + (f" x {r.share:g}" if r.share < 1 else "")
                flows.append(Flow(company, f"est_{r.flow_id}", r.direction, r.carrier,
                                  "residue" if r.direction == "output" else "need", np.full(HOURS, annual / HOURS),
                                  route="not known (estimated)", origin=f"estimate ({t.id})", estimate=why))
        if chosen:
            continue
        if tonnes is not None and employees is None:
            notes.append(f"no per-tonne {family} figure for NACE {code}: give its employees for a per-employee estimate")
        else:
            notes += _why_none(family, code, totals, load_gaps())
    return flows, notes


_SIZE = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>t/yr|t|tons?|tonnes?)?$", re.IGNORECASE)


def parse_size(text: str) -> tuple[float | None, float | None]:
    """A company's size as written after ``--estimate ID:NACE:``: ``12`` employees, or ``5000t/yr`` (``5000 t``)
    of production; ``ton`` is refused as ambiguous (a short ton is 0.907 t)."""
    m = _SIZE.match(str(text).strip())
    if not m:
        raise EstimateError(f"size: a number of employees (12) or a production in tonnes a year (5000t/yr); "
                            f"got {text!r}")
    unit = (m["unit"] or "").lower()
    if unit.startswith("ton") and not unit.startswith("tonne"):
        raise EstimateError(f"size: 'ton' is ambiguous (a short ton is 0.907 t): write t/yr for tonnes; got {text!r}")
    return (None, float(m["n"])) if unit else (float(m["n"]), None)


def estimate_profile(company: str, nace: str, employees: float | None, name: str = "", *,
                     tonnes: float | None = None) -> tuple[Profile, list[str]]:
    """A profile of a company known by its sector and size alone (employees, production or both): its estimated
    flows."""
    flows, notes = estimate_flows(company, nace, employees, tonnes=tonnes)
    return Profile(company, name, norm_nace(nace), flows=flows), notes


def from_templates(profiles: list[Profile]) -> tuple[list[Profile], list[str]]:
    """Estimated profiles of the template companies that state their employees, and why any gets none.

    A template's company gives its NACE code and, in its ``employees`` column, its size: it gets the
    same estimates as ``--estimate ID:NACE:EMPLOYEES``, and :func:`apply` keeps only those of the
    carriers it does not state.
    """
    out, notes = [], []
    for p in profiles:
        if p.employees is None:
            continue
        est, why = estimate_profile(p.id, p.nace, p.employees, p.name)
        notes += [f"{p.id}: {w}" for w in why]
        if not est.flows:
            notes.append(f"{p.id}: no sector figure covers NACE {est.nace}: nothing estimated")
        out.append(est)
    return out, notes


def _same(a: Flow, b: Flow) -> bool:
    """Whether a stated flow ``a`` states what the estimate ``b`` estimates: same direction and resource, and
    for a coded residue the same EWC sub-chapter (02 06 01 and 02 06 99 are both the bakery's)."""
    if a.direction != b.direction or a.carrier.resource != b.carrier.resource:
        return False
    ea, eb = (a.carrier.ewc or "")[:5], (b.carrier.ewc or "")[:5]
    return not ea or not eb or ea == eb


def apply(profiles: dict[str, Profile], estimated: list[Profile]) -> dict[str, Profile]:
    """Add estimated profiles: a company's own stated or metered flow of the same carrier replaces the estimate.

    :param profiles: the park's and the imported profiles
    :param estimated: from :func:`estimate_profile`
    """
    out = dict(profiles)
    for est in estimated:
        old = out.get(est.id)
        if old is None:
            out[est.id] = est
            continue
        kept = [f for f in est.flows if not any(_same(s, f) for s in old.flows if not s.estimate)]
        out[est.id] = replace(old, nace=old.nace or est.nace, name=old.name or est.name,
                              flows=[*old.flows, *[replace(f, company=old.id) for f in kept]])
    return out
