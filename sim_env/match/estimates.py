"""Estimates where nothing is known: a company's outputs and inputs from its sector and size.

A company known only by its NACE code and its number of employees (the Syner approach: map a
region before anyone fills in a form) gets estimated flows from published sector totals divided
by the persons the sector employs: tonnes of food waste per employee and year, MWh of final
energy per employee and year split into electricity and heat. The totals are data,
``data/sector_totals.csv`` (one published figure a row, each with its table code, year and
source URL), and ``data/sector_flows.csv`` says which flow each figure becomes (an EWC code for
a waste, a share for an energy carrier), again with a source a row. A row without a source is
refused (``file:line: field: why``).

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

from .knowledge import nace as norm_nace
from .profiles import HOURS, Flow, Profile

DATA = Path(__file__).resolve().parent / "data"
TOTALS = DATA / "sector_totals.csv"
FLOWS = DATA / "sector_flows.csv"
_URL = re.compile(r"^https?://\S+$")
_TABLE = re.compile(r"^[a-z][a-z0-9_]+$")  # a Eurostat table code, like env_wasfw or sbs_na_ind_r2
# canonical amount per unit of a published total: material in kg, energy in kWh (per year)
_TO_CANONICAL = {"t/yr": 1000.0, "PJ/yr": 1e15 / 3.6e6, "persons": 1.0}
_UNIT_WORD = {"t/yr": "t", "PJ/yr": "PJ", "persons": "persons"}


class EstimateError(ValueError):
    """A data row that cannot be used: ``file:line: field: why``."""


@dataclass(frozen=True)
class Total:
    """One published sector figure: a total per year, or the persons employed."""

    id: str
    nace: tuple[str, ...]  # the divisions, groups or classes it covers
    figure: str  # persons_employed, food_waste, final_energy...
    value: float
    unit: str
    per: str  # the id of the persons-employed row it is divided by ("" : none, so no estimate)
    geo: str
    year: int
    table: str
    source: str
    note: str

    def covers(self, code: str) -> bool:
        return any(code == n or code.startswith(n + ".") or (len(n) == 2 and code[:2] == n) for n in self.nace)

    def cite(self) -> str:
        return f"Eurostat {self.table} {self.year} ({self.geo} {_num(self.value)} {_UNIT_WORD[self.unit]})"


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


@lru_cache(maxsize=4)
def load_totals(path: Path = TOTALS) -> dict[str, Total]:
    """The published sector totals, by id; a row without a source or table code is refused."""
    cols = ("id", "nace", "figure", "value", "unit", "per", "geo", "year", "table", "source", "note")
    out: dict[str, Total] = {}
    for line, r in _rows(Path(path), cols):
        src = _source(path, line, r)
        if not _TABLE.match(r["table"]):
            raise EstimateError(f"{path}:{line}: table: the statistical table it comes from, like env_wasfw "
                                f"(got {r['table']!r})")
        if r["unit"] not in _TO_CANONICAL:
            raise EstimateError(f"{path}:{line}: unit: one of {', '.join(_TO_CANONICAL)} (got {r['unit']!r})")
        codes = tuple(norm_nace(c) for c in r["nace"].split(";") if c.strip())
        if not codes:
            raise EstimateError(f"{path}:{line}: nace: the sectors the figure covers, like 10;11")
        if r["id"] in out:
            raise EstimateError(f"{path}:{line}: id: {r['id']} is used by an earlier row")
        out[r["id"]] = Total(r["id"], codes, r["figure"], _number(path, line, r, "value"), r["unit"], r["per"],
                             r["geo"], int(_number(path, line, r, "year")), r["table"], src, r["note"])
    for t in out.values():
        if t.per and (t.per not in out or out[t.per].figure != "persons_employed"):
            raise EstimateError(f"{path}: {t.id}: per: {t.per!r} is not a persons_employed row")
    return out


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


def estimate_flows(company: str, nace: str, employees: float, totals: dict[str, Total] | None = None,
                   rules: tuple[FlowRule, ...] | None = None) -> tuple[list[Flow], list[str]]:
    """Estimated flows of a company from its sector and size, and why any figure gives none.

    :param company: the company id
    :param nace: its NACE Rev. 2 code (division, group or class)
    :param employees: persons employed (more than 0)
    """
    if not employees > 0:
        raise EstimateError(f"{company}: employees: more than 0 (got {employees:g})")
    totals = totals if totals is not None else load_totals()
    rules = rules if rules is not None else load_flow_rules()
    code = norm_nace(nace)
    flows, notes = [], []
    for t in totals.values():
        if t.figure == "persons_employed" or not t.covers(code):
            continue
        if not t.per:
            notes.append(f"no {t.figure.replace('_', ' ')} estimate for NACE {code}: the data has no persons "
                         f"employed for {';'.join(t.nace)} ({t.id})")
            continue
        coef = per_employee(t, totals)
        persons = totals[t.per]
        for r in _rules(t.figure, code, rules):
            annual = coef * employees * r.share
            why = (f"estimate from NACE {code} and {employees:g} employees: {t.cite()} / "
                   f"{_num(persons.value)} persons employed ({persons.table} {persons.year})"
                   + (f" x {r.share:g}" if r.share < 1 else ""))
            flows.append(Flow(company, f"est_{r.flow_id}", r.direction, r.carrier,
                              "residue" if r.direction == "output" else "need", np.full(HOURS, annual / HOURS),
                              route="not known (estimated)", origin=f"estimate ({t.id})", estimate=why))
    return flows, notes


def estimate_profile(company: str, nace: str, employees: float, name: str = "") -> tuple[Profile, list[str]]:
    """A profile of a company known by its sector and size alone: its estimated flows."""
    flows, notes = estimate_flows(company, nace, employees)
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
