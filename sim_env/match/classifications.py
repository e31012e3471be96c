"""The EU List of Waste and NACE as data: lookup by code at every level, and by words.

- ``data/ewc.csv``: the List of Waste (Commission Decision 2000/532/EC as replaced by
  2014/955/EU): 20 chapters, 111 sub-chapters and 842 entries, each with its official English
  description, its hazardous asterisk and whether it is one of a mirror pair.
- ``data/nace.csv``: NACE (sections, divisions, groups, classes) with English descriptions.

Every row names its source; the loader refuses a row without one (``file:line: source: ...``).
Attribution and reuse terms are in ``data/README.md``. Norwegian (Bokmål) names are shipped where
an official text could be read: the SN2007 division names (SN2007 is NACE Rev. 2 in Norwegian)
for divisions 01-43, whose meaning Rev. 2.1 kept, in ``description_nb`` with their own source in
``source_nb``; a Norwegian name without its source is refused. The Norwegian List of Waste
(avfallsforskriften, chapter 11, annex) could not be read as a whole, so none is shipped.
Lookup by words reads both languages.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
EWC_FILE = DATA / "ewc.csv"
NACE_FILE = DATA / "nace.csv"


class ListError(ValueError):
    """A row of a shipped list is unusable; the message is ``file:line: field: why``."""


@dataclass(frozen=True)
class Entry:
    code: str
    level: str  # ewc: chapter, sub-chapter, entry; nace: section, division, group, class
    description: str
    source: str
    parent: str = ""
    hazardous: bool = False
    mirror: bool = False
    description_nb: str = ""  # Norwegian (Bokmål), where an official text was read


def _rows(path: Path, required: tuple[str, ...]):
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ListError(f"{path}:1: header: missing column(s) {', '.join(missing)}")
        for i, row in enumerate(reader, start=2):
            for c in required:
                if not (row.get(c) or "").strip():
                    raise ListError(f"{path}:{i}: {c}: empty (every row states its {c})")
            if (row.get("description_nb") or "").strip() and not (row.get("source_nb") or "").strip():
                raise ListError(f"{path}:{i}: source_nb: empty (a Norwegian name states where it was read)")
            yield i, row


def _ewc_key(code: str) -> str:
    return re.sub(r"[^0-9]", "", str(code))


@lru_cache(maxsize=4)
def ewc_list(path: str | Path = EWC_FILE) -> dict[str, Entry]:
    """The List of Waste keyed by digits (``"100105"``, ``"1001"``, ``"10"``)."""
    out: dict[str, Entry] = {}
    for _, r in _rows(Path(path), ("code", "level", "description_en", "source")):
        key = _ewc_key(r["code"])
        parent = key[:-2] if len(key) > 2 else ""
        out[key] = Entry(r["code"], r["level"], r["description_en"], r["source"], parent,
                         r.get("hazardous") == "yes", r.get("mirror") == "yes", (r.get("description_nb") or "").strip())
    return out


@lru_cache(maxsize=4)
def nace_list(path: str | Path = NACE_FILE) -> dict[str, Entry]:
    """NACE keyed by code as written (``"A"``, ``"10"``, ``"10.7"``, ``"10.71"``)."""
    return {r["code"]: Entry(r["code"], r["level"], r["description_en"], r["source"], r.get("parent", ""),
                             description_nb=(r.get("description_nb") or "").strip())
            for _, r in _rows(Path(path), ("code", "level", "description_en", "source"))}


def ewc(code: str) -> Entry | None:
    """An EWC chapter, sub-chapter or entry by code (``"10"``, ``"10 01"``, ``"10 01 05"``, ``"100105"``)."""
    return ewc_list().get(_ewc_key(code))


def ewc_path(code: str) -> list[Entry]:
    """The chapter, sub-chapter and entry a code belongs to, broadest first (only those that exist)."""
    key = _ewc_key(code)
    return [e for e in (ewc_list().get(key[:n]) for n in (2, 4, 6) if n <= len(key)) if e]


def nace(code: str) -> Entry | None:
    """A NACE section, division, group or class (``"C"``, ``"23"``, ``"23.6"``, ``"23.62"``, ``"2362"``)."""
    c = str(code).strip().upper().rstrip(".")
    if c.isdigit() and len(c) > 2:
        c = f"{c[:2]}.{c[2:]}"
    return nace_list().get(c)


def nace_path(code: str) -> list[Entry]:
    """Section, division, group and class of a code, broadest first."""
    out: list[Entry] = []
    e = nace(code)
    while e is not None:
        out.append(e)
        e = nace_list().get(e.parent) if e.parent else None
    return out[::-1]


def _search(entries, words: str, limit: int) -> list[Entry]:
    terms = [w for w in re.findall(r"[^\W_]+", words.lower()) if len(w) > 1]  # "avløpsvann" is one word
    if not terms:
        return []
    scored = []
    for e in entries:
        text = f"{e.description} {e.description_nb}".lower()
        hits = sum(1 for t in terms if t in text)
        if hits:
            scored.append((-hits, len(e.description), e.code, e))  # the English order as before
    return [e for *_, e in sorted(scored)[:limit]]


def search_ewc(words: str, limit: int = 10) -> list[Entry]:
    """EWC codes whose description (English, or Norwegian where shipped) holds most of ``words``."""
    return _search(ewc_list().values(), words, limit)


def search_nace(words: str, limit: int = 10) -> list[Entry]:
    """NACE codes whose English or Norwegian description holds most of ``words``."""
    return _search(nace_list().values(), words, limit)
