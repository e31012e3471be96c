"""Plain words to codes: a sector to its NACE class, a residue or need to its resource and EWC code.

Nothing of the domain is copied here. What is read:

- NACE Rev. 2 classes and their names: the ``naceconverter`` package's table (Statistics
  Norway's SN2007, which is NACE Rev. 2 with national sub-classes; English names);
- residues and their EWC codes: matchmaking's knowledge base of known uses
  (``sim_env/match/data/known_uses.yaml``, through :func:`sim_env.match.knowledge.load`), and
  the whole EU List of Waste with its official descriptions and hazardous asterisks
  (``sim_env/match/data/ewc.csv``, through :mod:`sim_env.match.classifications`);
- resource families, water grades and flow units: :mod:`aisym.park.graph.carriers`.

What is added is the everyday words people type that the official names lack ("bakery" is in
no NACE title: class 10.71 is "Manufacture of bread; ..."), in English and Norwegian, each
pointing at an official code, and which EWC sub-chapter of chapter 02 (wastes of agriculture
and food processing) belongs to which food sector, as the List of Waste itself orders them.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from aisym.park.graph.carriers import FLOW_UNITS, Resource, amount_unit

# everyday names of businesses -> NACE class (the class's official name is shown with it)
SECTOR_WORDS = {
    "bakery": "10.71", "baker": "10.71", "bakeri": "10.71", "pastry": "10.71", "konditori": "10.71",
    "brewery": "11.05", "bryggeri": "11.05", "distillery": "11.01", "dairy": "10.51", "meieri": "10.51",
    "cheese": "10.51", "fish farm": "03.21", "salmon farm": "03.21", "fiskeoppdrett": "03.21",
    "lakseoppdrett": "03.21", "hatchery": "03.22", "settefisk": "03.22", "fish processing": "10.20",
    "fiskeforedling": "10.20", "slaughterhouse": "10.11", "slakteri": "10.11", "sawmill": "16.10",
    "sagbruk": "16.10", "power plant": "35.11", "kraftverk": "35.11", "district heating": "35.30",
    "fjernvarme": "35.30", "biogas": "35.21", "biogassanlegg": "35.21", "greenhouse": "01.13",
    "veksthus": "01.13", "drivhus": "01.13", "pig farm": "01.46", "grisegård": "01.46", "data centre": "63.11",
    "data center": "63.11", "datasenter": "63.11", "laundry": "96.01", "vaskeri": "96.01", "hotel": "55.10",
    "restaurant": "56.10", "canteen": "56.29", "kantine": "56.29", "refinery": "19.20", "raffineri": "19.20",
    "cement": "23.51", "plasterboard": "23.62", "fertiliser": "20.15", "fertilizer": "20.15",
    "gjødsel": "20.15", "hydrogen": "20.11", "hydrogenfabrikk": "20.11", "electrolyser": "20.11",
    "wastewater": "37.00", "sewage": "37.00", "avløp": "37.00", "recycling": "38.32", "gjenvinning": "38.32",
    "composting": "38.21", "kompost": "38.21", "landfill": "38.21", "feed mill": "10.91", "fôrfabrikk": "10.91",
    "chocolate": "10.82", "sjokolade": "10.82", "juice": "10.32", "pharmaceutical": "21.20",
}

# chapter 02 of the List of Waste is ordered by the food sector the waste comes from
EWC_SUBCHAPTER_OF_SECTOR = {
    "01.": "02 01", "03.": "02 01", "10.1": "02 02", "10.2": "02 02", "10.3": "02 03", "10.4": "02 03",
    "10.5": "02 05", "10.6": "02 03", "10.7": "02 06", "10.81": "02 04", "10.82": "02 06", "10.8": "02 03",
    "10.9": "02 03", "11.": "02 07",
}

# everyday words for the resource families a listing can be (English and Norwegian)
RESOURCE_WORDS: dict[str, tuple[Resource, dict]] = {
    "heat": (Resource.heat, {}), "waste heat": (Resource.heat, {}), "oven heat": (Resource.heat, {"temperature_c": 120}),
    "exhaust": (Resource.heat, {"temperature_c": 150}), "warm water": (Resource.heat, {"temperature_c": 40}),
    "hot water": (Resource.heat, {"temperature_c": 70}), "cooling water": (Resource.heat, {"temperature_c": 30}),
    "varme": (Resource.heat, {}), "spillvarme": (Resource.heat, {}), "varmt vann": (Resource.heat, {"temperature_c": 40}),
    "steam": (Resource.steam, {}), "damp": (Resource.steam, {}), "cooling": (Resource.cooling, {}),
    "kjøling": (Resource.cooling, {}), "electricity": (Resource.electricity, {}), "strøm": (Resource.electricity, {}),
    "co2": (Resource.co2, {}), "carbon dioxide": (Resource.co2, {}), "karbondioksid": (Resource.co2, {}),
    "oxygen": (Resource.oxygen, {}), "oksygen": (Resource.oxygen, {}), "hydrogen": (Resource.hydrogen, {}),
    "biogas": (Resource.biogas, {}), "water": (Resource.water, {"grade": "process"}),
    "vann": (Resource.water, {"grade": "process"}), "wastewater": (Resource.water, {"grade": "wastewater"}),
    "avløpsvann": (Resource.water, {"grade": "wastewater"}), "sludge": (Resource.sludge, {}),
    "slam": (Resource.sludge, {}),
}

# everyday words for food residues, pointing at the known use whose residue they are
RESIDUE_WORDS = {
    "bread": "food_waste_to_biogas", "brød": "food_waste_to_biogas", "dough": "food_waste_to_biogas",
    "pastry": "food_waste_to_biogas", "cake": "food_waste_to_biogas", "bakery waste": "food_waste_to_biogas",
    "food waste": "food_waste_to_biogas", "matavfall": "food_waste_to_biogas",
}

UNITS: dict[str, list[str]] = {}  # per resource: the units a person may pick (flow units and amounts per period)
for _r, _flow in FLOW_UNITS.items():
    _amount = amount_unit(_r)
    _big = {"kWh": "MWh", "kg": "t", "m3": "m3", "Nm3": "Nm3"}[_amount]
    UNITS[_r.value] = list(dict.fromkeys([_flow, f"{_amount}/day", f"{_big}/month", f"{_big}/yr"]))


@dataclass(frozen=True)
class Sector:
    code: str
    name: str
    score: float


@dataclass(frozen=True)
class Suggestion:
    """What a listing may be: a resource family, an EWC code and material where they apply."""

    label: str
    resource: str
    ewc: str = ""
    material: str = ""
    quality: tuple[tuple[str, object], ...] = ()
    source: str = ""  # the known use that names this residue, if any

    @property
    def key(self) -> str:
        return "|".join([self.resource, self.ewc, self.material, ";".join(f"{k}={v}" for k, v in self.quality)])


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\wæøå]+", text.lower()) if w]


@lru_cache(maxsize=1)
def nace_classes() -> dict[str, str]:
    """NACE class (``"10.71"``) -> its name, with the names of its national sub-classes as more words."""
    names: dict[str, str] = {}
    extra: dict[str, list[str]] = {}
    table = resources.files("naceconverter").joinpath("nacecodes.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(table.splitlines(), delimiter=";"):
        code, level = row["code"], row["level"]
        if level == "4":
            names[code] = row["name"]
        elif level == "5":
            extra.setdefault(row["parentCode"], []).append(row["name"])
    return names | {f"{c}#words": " ".join(v) for c, v in extra.items()}


@lru_cache(maxsize=1)
def _nace_words() -> dict[str, frozenset[str]]:
    """Each class's words (its name and its sub-classes' names), split once."""
    table = nace_classes()
    return {c: frozenset(_words(n)) | frozenset(_words(table.get(f"{c}#words", ""))) for c, n in table.items()
            if "#" not in c}


@lru_cache(maxsize=1)
def _use_words() -> dict[str, frozenset[str]]:
    return {u.id: frozenset(_words(" ".join([u.residue, *u.replaces]))) for u in _known_uses()}


def nace_name(code: str) -> str:
    return nace_classes().get(code, "")


def find_sectors(text: str, limit: int = 8) -> list[Sector]:
    """Sectors for the words typed: everyday names first, then official names by words in common."""
    text = text.strip().lower()[:100]
    if not text:
        return []
    table = nace_classes()
    scores: dict[str, float] = {}
    if re.fullmatch(r"\d{2}\.?\d{0,2}", text):  # a code typed as such
        code = text if "." in text or len(text) <= 2 else f"{text[:2]}.{text[2:]}"
        for c in table:
            if "#" not in c and c.startswith(code):
                scores[c] = 3.0
    for phrase, code in SECTOR_WORDS.items():
        if phrase in text or (text in phrase and len(text) >= 4):
            scores[code] = max(scores.get(code, 0), 2.0 + len(phrase) / 100)
    typed = set(_words(text))
    for code, words in _nace_words().items():
        common = sum(1 for t in typed if any(w.startswith(t) for w in words if len(t) >= 3))
        if common:
            scores[code] = max(scores.get(code, 0), common / len(typed))
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [Sector(c, table.get(c, ""), s) for c, s in ranked]


def _known_uses():
    from sim_env.match.knowledge import load

    return load()


def ewc_for_sector(codes: list[str], nace: str) -> str:
    """Of a known use's EWC codes, the one of the sub-chapter the company's sector belongs to."""
    for prefix in sorted(EWC_SUBCHAPTER_OF_SECTOR, key=len, reverse=True):
        if nace.startswith(prefix):
            sub = EWC_SUBCHAPTER_OF_SECTOR[prefix]
            for c in codes:
                if c.startswith(sub) and len(c.replace(" ", "")) == 6:
                    return c
            break
    return next((c for c in codes if len(c.replace(" ", "").rstrip("*")) == 6), "")


# a code typed as such: "10 01 05", "100105", "10 01 04*", or a chapter/sub-chapter "10", "10 01"
# (a dotted "10.71" is a NACE class, not a waste code)
EWC_TYPED = re.compile(r"\d{2}(?: ?\d{2}){0,2}\*?")


def _official(entry) -> Suggestion:
    """An entry of the List of Waste as it is officially worded; its code keeps the hazardous asterisk."""
    return Suggestion(entry.description, "material", entry.code, source="List of Waste")


def _by_code(text: str) -> list[Suggestion]:
    """A whole code: its entry; a chapter or sub-chapter: its entries in the List's order."""
    from sim_env.match import classifications

    if not EWC_TYPED.fullmatch(text):
        return []
    digits = re.sub(r"\D", "", text)
    if len(digits) == 6:
        found = classifications.ewc(digits)
        return [_official(found)] if found is not None and found.level == "entry" else []
    return [_official(e) for k, e in classifications.ewc_list().items()
            if e.level == "entry" and k.startswith(digits)]


def _by_description(typed: list[str]) -> list[Suggestion]:
    """Entries whose official description has a word starting with every word typed, fewest words first.

    classifications.search_ewc finds the descriptions holding the words anywhere ("ash" in
    "washing" too); a word's start is what a person means, so only those stay, in its order.
    """
    from sim_env.match import classifications

    if not typed:
        return []
    out = []
    for e in classifications.search_ewc(" ".join(typed), limit=len(classifications.ewc_list())):
        words = _words(e.description)
        if e.level == "entry" and all(any(w.startswith(t) for w in words) for t in typed):
            out.append(_official(e))
    return out


def find_resources(text: str, nace: str = "", limit: int = 8) -> list[Suggestion]:
    """What a listing typed in words (or as a code) may be: a resource family, or a residue with its EWC code.

    Ranked: the entry of a code typed as such and the known uses of that code; the everyday words
    of resource families and residues; known uses naming every word typed; entries of the List of
    Waste whose official description does; last, known uses naming some of the words.
    """
    text = text.strip().lower()[:100]
    if not text:
        return []
    uses = {u.id: u for u in _known_uses()}
    out: list[Suggestion] = _by_code(text)

    def use_suggestion(u) -> Suggestion:
        resource = u.resource.value if u.resource is not None else "material"
        return Suggestion(u.residue, resource, ewc_for_sector(u.ewc, nace) if u.ewc else "",
                          u.residue[:100] if resource == "material" else "", source=u.id)

    if len(out) == 1:  # one entry by its code: the known uses of that very code follow it
        code = out[0].ewc
        out += [Suggestion(u.residue, "material", code, u.residue[:100], source=u.id)
                for u in uses.values() if code in u.ewc]
    for phrase, (resource, quality) in sorted(RESOURCE_WORDS.items(), key=lambda kv: -len(kv[0])):
        if phrase in text:
            out.append(Suggestion(phrase, resource.value, quality=tuple(quality.items())))
    for phrase, use_id in RESIDUE_WORDS.items():
        if phrase in text and use_id in uses:
            u = uses[use_id]
            out.append(Suggestion(phrase, "material", ewc_for_sector(u.ewc, nace), phrase, source=u.id))
    typed = [w for w in _words(text) if len(w) >= 3]
    use_words = _use_words()
    every, some = [], []
    for u in uses.values():
        hits = sum(1 for t in typed if any(w.startswith(t) for w in use_words[u.id]))
        if hits:
            (every if hits == len(typed) else some).append(use_suggestion(u))
    # the official entry stays beside a known use of the same code: its wording is the legal one
    out += every + _by_description(typed) + some
    seen, unique = set(), []
    for s in out:
        if s.key not in seen:
            seen.add(s.key)
            unique.append(s)
    return unique[:limit]
