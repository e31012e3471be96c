"""The knowledge base of known residue uses: which sectors use which outputs, with sources.

Entries live in ``data/known_uses.yaml`` (every one cites a DOI or a public URL). A residue is
named by its EWC code (Commission Decision 2000/532/EC) or, for heat, steam, CO2 and water, by
its resource; sectors by NACE Rev. 2 codes, matched as prefixes (``"23.6"`` is the group,
``"10."`` the division).

How strongly an entry supports a pair is a product of three factors in [0, 1]:

- the output's code: 1 for a listed code, 0.8 inside a listed sub-chapter (``"02 01"``), 0.5 for
  a neighbouring code of a listed sub-chapter;
- the receiver's sector: 1 for the first (main) use listed, 0.85 for the others, 0.6 for
  another class of a listed group, 0.4 of a listed division;
- the donor's sector: 1 when listed (or the entry lists none, or it is unknown), else 0.7.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from aisym.park.graph.carriers import Carrier, Resource, WaterGrade
from aisym.yamlfile import parse_yaml_model

from . import classifications

KNOWN_USES = Path(__file__).resolve().parent / "data" / "known_uses.yaml"
_NACE = re.compile(r"^\d{2}(\.(\d{1,2})?)?$")
_SOURCE = re.compile(r"doi:10\.\d{4,9}/\S+|https?://\S+")


def nace(code: str) -> str:
    """A NACE Rev. 2 code as written in the tables, ``"23.62"``; ``"2362"`` and ``" 23.62 "`` too."""
    c = str(code).strip().replace(" ", "")
    if c.isdigit() and len(c) > 2:
        c = f"{c[:2]}.{c[2:]}"
    return c


def ewc(code: str) -> str:
    """An EWC code as ``"10 01 05"`` (``"100105"``, ``"10-01-05"`` too); a trailing ``*`` kept."""
    star = str(code).strip().endswith("*")
    d = re.sub(r"[^0-9]", "", str(code))
    return " ".join(d[i:i + 2] for i in range(0, len(d), 2)) + ("*" if star else "")


class KnownUse(BaseModel):
    """One documented use of a residue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    residue: str
    ewc: list[str] = Field(default_factory=list)
    resource: Resource | None = None
    donor_nace: list[str] = Field(default_factory=list)
    receiver_nace: Annotated[list[str], Field(min_length=1)]
    replaces: list[str] = Field(default_factory=list)
    processing: str = ""  # what it takes: drying, a heat pump, a let-down, a permit ("" : none stated)
    grades: list[WaterGrade] = Field(default_factory=list)  # water entries: the grades it is about (empty: any)
    # heat, steam, cooling and water entries: the supply temperatures (°C, [lowest, highest]) the use
    # takes; a supply outside the band is not supported by this entry (none given: any temperature)
    temperature_c: tuple[float, float] | None = None
    use: str
    sources: Annotated[list[str], Field(min_length=1)]

    @field_validator("ewc")
    @classmethod
    def _ewc(cls, v: list[str]) -> list[str]:
        out = [ewc(c) for c in v]
        for c in out:
            if len(c.rstrip("*").replace(" ", "")) not in (4, 6):
                raise ValueError(f"an EWC code has 6 digits (or 4 for a sub-chapter), like '10 01 05' (got {c!r})")
        return out

    @field_validator("donor_nace", "receiver_nace")
    @classmethod
    def _nace(cls, v: list[str]) -> list[str]:
        out = [nace(c) for c in v]
        for c in out:
            if not _NACE.match(c):
                raise ValueError(f"a NACE Rev. 2 code looks like '23.62', '23.6' or '23.' (got {c!r})")
        return out

    @field_validator("temperature_c")
    @classmethod
    def _band(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not v[0] < v[1]:
            raise ValueError(f"a temperature band is [lowest, highest] in °C, lowest first (got {list(v)})")
        return v

    @field_validator("sources")
    @classmethod
    def _sources(cls, v: list[str]) -> list[str]:
        for s in v:
            if not _SOURCE.search(s):
                raise ValueError(f"a source names a DOI (doi:10....) or a URL (https://...): {s!r}")
        return v


class KnowledgeBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    uses: Annotated[list[KnownUse], Field(min_length=1)]


_THERMAL = (Resource.heat, Resource.steam, Resource.cooling, Resource.water)


def _checks(kb: KnowledgeBase):
    seen: set[str] = set()
    for i, u in enumerate(kb.uses):
        if u.id in seen:
            yield ("uses", i, "id"), f"entry id {u.id!r} is used twice"
        seen.add(u.id)
        if bool(u.ewc) == (u.resource is not None):
            yield ("uses", i), "an entry names the residue by its EWC codes or by its resource, one of them"
        if u.temperature_c is not None and u.resource not in _THERMAL:
            yield ("uses", i, "temperature_c"), "a temperature band is for heat, steam, cooling or water entries"
        # every code must be one of the shipped classifications, so a typo cannot hide an entry
        for j, c in enumerate(u.ewc):
            if classifications.ewc(c.rstrip("*")) is None:
                yield ("uses", i, "ewc", j), f"{c!r} is not in the List of Waste (data/ewc.csv)"
        for field in ("donor_nace", "receiver_nace"):
            for j, c in enumerate(getattr(u, field)):
                if classifications.nace(c) is None:
                    yield ("uses", i, field, j), f"{c!r} is not a NACE code of data/nace.csv (a Rev. 2 class missing " \
                                                 "from Rev. 2.1 is written as its group: 16.10 as '16.1')"


@lru_cache(maxsize=4)
def load(path: str | Path = KNOWN_USES) -> tuple[KnownUse, ...]:
    """The knowledge base's entries; a file without a source on an entry is refused with its line."""
    text = Path(path).read_text(encoding="utf-8")
    return tuple(parse_yaml_model(text, str(path), KnowledgeBase, checks=_checks, what="knowledge base").uses)


def ewc_fit(use: KnownUse, code: str | None) -> float:
    """How well an output's EWC code fits an entry's codes (0: not at all)."""
    if not code or not use.ewc:
        return 0.0
    c = code.rstrip("*")
    best = 0.0
    for e in use.ewc:
        e = e.rstrip("*")
        if c == e:
            return 1.0
        if len(e) == 5 and c.startswith(e):  # a listed sub-chapter, "02 01"
            best = max(best, 0.8)
        elif c[:5] == e[:5]:
            best = max(best, 0.5)
    return best


_NACE_FIT: dict[tuple[int, str], tuple[list[str], float]] = {}


def nace_fit(listed: list[str], code: str | None) -> float:
    """How well a sector fits an entry's list of sectors (main use first); kept per list and code."""
    if not code:
        return 0.0
    key = (id(listed), code)
    hit = _NACE_FIT.get(key)
    if hit is not None and hit[0] is listed:
        return hit[1]
    v = _nace_fit(listed, code)
    _NACE_FIT[key] = (listed, v)  # the list is kept: its id is not reused while cached
    return v


_DIVISION = 0.7  # the weight of a match through a listed whole division


def _nace_fit(listed: list[str], code: str) -> float:
    c = nace(code)
    best = 0.0
    for i, p in enumerate(listed):
        if c.startswith(p):
            # a listed division ("20.") says less about one class of it than a listed class or group
            return (1.0 if i == 0 else 0.85) * (_DIVISION if len(p.rstrip(".")) == 2 else 1.0)
        if len(p) >= 4 and c[:4] == p[:4]:
            best = max(best, 0.6)
        elif c[:2] == p[:2]:
            best = max(best, 0.4)
    return best


def donor_fit(use: KnownUse, code: str | None) -> float:
    if not use.donor_nace or not code:
        return 1.0
    return 1.0 if nace_fit(use.donor_nace, code) >= 0.85 else 0.7


class Selection(tuple):
    """Some of the entries, as ``support(uses=...)`` takes them; hashed by identity, so the
    ranking's caches can key on a selection without hashing every entry."""

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other


def _plain(text: str) -> str:
    """Lower case without accents ("Händelö" is "handelo"), for matching a park's name."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def _refs(text: str) -> set[str]:
    """The DOIs and URLs a source names, normalised (case, trailing slash or punctuation)."""
    return {m.lower().rstrip("/.,;)") for m in _SOURCE.findall(text)}


def about(source: str, names: list[str], refs: set[str]) -> bool:
    """Whether a source is about a park: it names the park, or cites what the park's exchanges cite."""
    plain = _plain(source)
    if any(re.search(rf"\b{re.escape(_plain(n))}\b", plain) for n in names if n.strip()):
        return True
    return bool(_refs(source) & {r.lower().rstrip("/.,;)") for r in refs})


def without_park(uses: tuple[KnownUse, ...], names: list[str], sources: list[str]) -> Selection:
    """The entries that stay known when a park is held out: an entry whose every source is about
    that park (names it, or cites a DOI or URL its documented exchanges cite) is dropped, so the
    park's own exchanges are not in the knowledge that ranks them. An entry with one independent
    source stays: that source documents the use without the park."""
    refs = set().union(*(_refs(s) for s in sources)) if sources else set()
    return Selection(u for u in uses if not all(about(s, names, refs) for s in u.sources))


@dataclass(frozen=True)
class Support:
    """An entry of the knowledge base behind a pair, and how strongly it supports it."""

    use: KnownUse
    weight: float

    def reason(self) -> str:
        return f"known use '{self.use.id}': {self.use.use} ({self.use.sources[0]})"


_RELEVANT: dict[tuple, tuple] = {}


def _relevant(uses, resource: Resource, code: str | None) -> tuple[tuple[KnownUse, float], ...]:
    """The entries about an output, with how well its code fits each (a region's outputs share few
    codes, so this is kept per list of entries, resource and code)."""
    key = (id(uses), resource, code)
    hit = _RELEVANT.get(key)
    if hit is not None and hit[0] is uses:
        return hit[1]
    out = []
    for u in uses:
        fit = ewc_fit(u, code) if u.ewc else float(u.resource == resource)
        if fit > 0.0:
            out.append((u, fit))
    _RELEVANT[key] = (uses, tuple(out))  # the list itself is kept: its id is not reused while cached
    return tuple(out)


def _graded(found, grade: WaterGrade | None):
    """Water entries about another grade drop out (a condensate is not a waste water)."""
    return [(u, f) for u, f in found if grade is None or not u.grades or grade in u.grades]


def _in_band(found, temperature_c: float | None):
    """Entries whose temperature band leaves the supply out drop out (40 °C heat drives no turbine)."""
    return [(u, f) for u, f in found
            if temperature_c is None or u.temperature_c is None
            or u.temperature_c[0] <= temperature_c <= u.temperature_c[1]]


def _candidates(uses, supply) -> list:
    """The documented uses a supply may serve, each with its fit: its resource and waste code,
    then its grade's entries only, then those whose temperature band holds the supply's."""
    found = _relevant(uses if uses is not None else load(), supply.resource, supply.ewc)
    if supply.grade is not None:
        found = _graded(found, supply.grade)
    if supply.temperature_c is not None:
        found = _in_band(found, supply.temperature_c)
    return found


def support(supply: Carrier, donor_nace: str | None, receiver_nace: str | None,
            uses: tuple[KnownUse, ...] | None = None) -> Support | None:
    """The entry that best supports giving ``supply`` from a ``donor_nace`` to a ``receiver_nace``."""
    best: Support | None = None
    found = _candidates(uses, supply)
    for u, fit in found:
        w = fit * nace_fit(u.receiver_nace, receiver_nace) * donor_fit(u, donor_nace)
        if w > 0 and (best is None or w > best.weight):
            best = Support(u, w)
    return best


class SectorFits:
    """:func:`nace_fit` of every entry's receiving sectors against one list of sectors (a region's
    distinct NACE codes), kept per entry: a region asks the same few hundred sectors about every
    output, so each entry's row is computed once."""

    def __init__(self, sectors) -> None:
        self.sectors = [str(c) for c in sectors]
        self._rows: dict[int, tuple[KnownUse, np.ndarray]] = {}

    def row(self, use: KnownUse) -> np.ndarray:
        hit = self._rows.get(id(use))
        if hit is not None and hit[0] is use:
            return hit[1]
        r = np.array([nace_fit(use.receiver_nace, c) for c in self.sectors], dtype=float)
        self._rows[id(use)] = (use, r)  # the entry is kept: its id is not reused while cached
        return r


def support_weights(supply: Carrier, donor_nace: str | None, fits: SectorFits,
                    uses: tuple[KnownUse, ...] | None = None) -> np.ndarray:
    """``support(supply, donor_nace, c, uses).weight`` (0 where none) for every sector ``c`` of
    ``fits`` at once: the same products in the same order, so the same numbers."""
    found = _candidates(uses, supply)  # the same entries as support() keeps
    best = np.zeros(len(fits.sectors))
    for u, fit in found:
        np.maximum(best, fit * fits.row(u) * donor_fit(u, donor_nace), out=best)
    return best


def replaces(use: KnownUse, demand: Carrier) -> bool:
    """Whether the entry says its residue can replace what ``demand`` takes."""
    names = {n.lower() for n in use.replaces}
    if demand.material and demand.material.lower() in names:
        return True
    return bool(demand.ewc) and ewc_fit(use, demand.ewc) == 1.0


def rank_receivers(ewc_code: str, donor_nace: str | None, receivers, uses=None) -> list[tuple[str, float, str]]:
    """Rank receiving sectors for a residue by known uses alone (no quantities, no profiles).

    :param ewc_code: the residue's EWC code, ``"10 01 05"``
    :param donor_nace: the giving company's NACE code, or None
    :param receivers: candidate receivers' NACE codes (or ``(name, nace)`` pairs)
    :return: ``(receiver, weight, reason)``, best first; receivers without support get weight 0
    """
    carrier = Carrier(resource=Resource.material, ewc=ewc(ewc_code))
    out = []
    for r in receivers:
        name, code = r if isinstance(r, tuple) else (r, r)
        s = support(carrier, donor_nace, code, uses)
        out.append((name, s.weight if s else 0.0, s.reason() if s else "no known use of this residue in that sector"))
    return sorted(out, key=lambda x: -x[1])
