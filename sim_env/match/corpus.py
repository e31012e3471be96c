"""Documented exchanges between companies of real parks, and the resource families they fall in.

``data/exchanges.csv`` is compiled from published case studies (each row cites its DOI or URL):
giver and receiver by name and NACE code, the resource (an EWC code such as ``10 01 05``, a
carrier such as ``steam``, or a water with the grade its source states, ``water:treated``), the
park, the year it began, its status and its source. Any table with the same columns can be read
(``load(path)``): the recall benchmark takes one as its input, and a park's recorded outcomes
(status accepted, implemented, or ``rejected: why``) are such a table.
A row without a source, or with a code that is not a NACE or EWC code, is refused with
``file:line: field: why``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from aisym.park.graph.carriers import Resource, WaterGrade

from .knowledge import ewc as norm_ewc
from .knowledge import nace as norm_nace

EXCHANGES = Path(__file__).resolve().parent / "data" / "exchanges.csv"
COLUMNS = ("park", "year", "giver", "giver_nace", "resource", "receiver", "receiver_nace", "status", "source")
_SOURCE = re.compile(r"doi:10\.\d{4,9}/\S+|https?://\S+")
_NACE = re.compile(r"^\d{2}(\.\d{1,2})?$")

# Resource families, as the benchmark reports them.
FAMILIES = ("heat_steam", "electricity", "water", "gases", "organic", "inorganic")
_CARRIER_FAMILY = {
    "heat": "heat_steam", "steam": "heat_steam", "cooling": "heat_steam",
    "electricity": "electricity", "water": "water",
    "co2": "gases", "hydrogen": "gases", "oxygen": "gases", "natural_gas": "gases",
    "biogas": "gases", "biomethane": "gases",
    "sludge": "organic", "biomass": "organic", "volatile_solids": "organic",
}
# EWC chapters and sub-chapters of organic (biodegradable) residues; every other code is inorganic.
_ORGANIC_EWC = ("02", "03 01", "03 03 01", "03 03 02", "03 03 05", "03 03 07", "03 03 08", "03 03 10",
                "03 03 11", "04", "07 05 14", "15 01 01", "15 01 03", "19 05", "19 06", "19 08 05",
                "19 08 09", "19 08 12", "19 08 14", "19 09 02", "20 01 01", "20 01 08", "20 01 25",
                "20 01 38", "20 02 01", "20 03 01", "20 03 02")


@lru_cache(maxsize=4096)
def family(resource: str) -> str:
    """The family of a carrier name or an EWC code (``"steam"`` → heat_steam, ``"02 07 01"`` → organic)."""
    r = str(resource).strip().split(":", 1)[0]  # "water:treated" is water
    if r in _CARRIER_FAMILY:
        return _CARRIER_FAMILY[r]
    code = norm_ewc(r).rstrip("*")
    return "organic" if any(code.startswith(p) for p in _ORGANIC_EWC) else "inorganic"


@dataclass(frozen=True)
class Exchange:
    park: str
    year: int | None
    giver: str
    giver_nace: str
    resource: str  # an EWC code "10 01 05", a carrier name "steam", or "water:treated"
    receiver: str
    receiver_nace: str
    status: str
    source: str

    @property
    def family(self) -> str:
        return family(self.resource)

    @property
    def rejected(self) -> bool:
        """A park's recorded outcome "rejected (why)": counts against the pair, never as an exchange."""
        return self.status.lower().startswith("rejected")


class CorpusError(ValueError):
    """An unusable row; the message is ``file:line: field: why``."""


# Names other tables give carriers, and the carrier each means.
SYNONYMS = {
    "power": "electricity", "electric power": "electricity", "el": "electricity",
    "waste heat": "heat", "hot water": "heat", "district heat": "heat", "heat (hot water)": "heat",
    "process steam": "steam", "cold": "cooling", "chilled water": "cooling",
    # a water's grade, where the table names it, is kept: it decides which known uses fit (a
    # refinery's treated effluent is not a brewery's raw waste water)
    "waste water": "water:wastewater", "wastewater": "water:wastewater", "treated wastewater": "water:treated",
    "treated waste water": "water:treated", "reclaimed water": "water:treated", "cooling water": "water:cooling",
    "process water": "water:process", "condensate": "water:demineralised", "sea water": "water:seawater",
    "seawater": "water:seawater",
    "fuel gas": "natural_gas", "refinery gas": "natural_gas", "natural gas": "natural_gas", "off-gas": "natural_gas",
    "flare gas": "natural_gas", "blast furnace gas": "natural_gas", "coke oven gas": "natural_gas",
    "carbon dioxide": "co2", "h2": "hydrogen", "o2": "oxygen", "landfill gas": "biogas", "digester gas": "biogas",
    "biomethane": "biomethane", "rng": "biomethane", "sludge": "sludge", "biomass": "biomass",
}


def _resource(v: str, where: str) -> str:
    v = v.strip()
    low = re.sub(r"[\s_]+", " ", v.lower()).strip()
    if low.replace(" ", "_") in _CARRIER_FAMILY:
        return low.replace(" ", "_")
    if low in SYNONYMS:
        return SYNONYMS[low]
    if low.startswith("water:"):  # "water:treated", as a park's flows name a grade
        grade = low.split(":", 1)[1].strip().replace(" ", "")
        if grade not in WaterGrade.__members__:
            raise CorpusError(f"{where}: resource: {v!r}: the water grade is one of {', '.join(WaterGrade.__members__)}")
        return f"water:{grade}"
    digits = re.sub(r"[^0-9]", "", v)
    if len(digits) != 6:
        carriers = ", ".join(r.value for r in Resource if r.value in _CARRIER_FAMILY)
        raise CorpusError(f"{where}: resource: {v!r} is neither an EWC code ('10 01 05') nor a carrier ({carriers}, "
                          f"or a name such as {', '.join(repr(k) for k in list(SYNONYMS)[:6])})")
    return norm_ewc(v)


def load(path: str | Path = EXCHANGES) -> list[Exchange]:
    """Every row of an exchange table; refuses a row without a source or with a bad code."""
    path = Path(path)
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CorpusError(f"{path}:1: header: missing column(s) {', '.join(missing)}")
        for i, row in enumerate(reader, start=2):
            where = f"{path}:{i}"
            for c in ("park", "giver", "giver_nace", "resource", "receiver", "receiver_nace", "source"):
                if not (row.get(c) or "").strip():
                    raise CorpusError(f"{where}: {c}: empty")
            if not _SOURCE.search(row["source"]):
                raise CorpusError(f"{where}: source: names a DOI (doi:10....) or a URL (https://...), got {row['source']!r}")
            codes = {}
            for c in ("giver_nace", "receiver_nace"):
                codes[c] = norm_nace(re.sub(r"^[A-Ua-u]\s*(?=\d)", "", row[c].strip()))  # "D35.11" is 35.11
                if not _NACE.match(codes[c]):
                    raise CorpusError(f"{where}: {c}: a NACE code looks like '23.62' or '23' (got {row[c]!r})")
            year = (row.get("year") or "").strip()
            found = re.search(r"\b(1[89]\d\d|20\d\d)", year)  # "1993", "1990s", "ca. 2004"
            if year and not found:
                raise CorpusError(f"{where}: year: a year like 1993 (got {year!r})")
            year = found.group(1) if found else ""
            out.append(Exchange(row["park"].strip(), int(year) if year else None, row["giver"].strip(),
                                codes["giver_nace"], _resource(row["resource"], where), row["receiver"].strip(),
                                codes["receiver_nace"], (row.get("status") or "").strip(), row["source"].strip()))
    return out
