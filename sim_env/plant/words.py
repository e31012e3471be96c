"""Words of identifiers and units, shared by the tag rules (:mod:`sim_env.plant.signals`)."""

from __future__ import annotations

import re

from aisym.park.quantity import convert, convertible

# what a tag's name may call a carrier or a quantity, as the park's own ids spell it
_SYNONYMS = {"temp": "temperature", "el": "electricity", "h2": "hydrogen", "o2": "oxygen", "gas": "biogas",
             "power": "electricity", "co2": "co2", "ch4": "ch4_fraction"}


def words(name: str) -> set[str]:
    """The words of an identifier, with their synonyms (``stack_temp`` -> stack, temp, temperature)."""
    out = set()
    for w in re.split(r"[_.\s]+", name.lower()):
        if w:
            out.add(w)
            if w in _SYNONYMS:
                out.add(_SYNONYMS[w])
    return out


def canonical(name: str) -> set[str]:
    """The words of an identifier, each replaced by its synonym (``feed_temp`` -> feed, temperature)."""
    return {_SYNONYMS.get(w, w) for w in re.split(r"[_.\s]+", name.lower()) if w}


def to_unit(value: float, src: str, dst: str) -> float:
    """``value`` from ``src`` to ``dst``; ``%`` and ``1`` are fractions of one another."""
    if src == dst:
        return value
    if (src, dst) == ("1", "%"):
        return value * 100.0
    if (src, dst) == ("%", "1"):
        return value / 100.0
    return convert(value, src, dst)


def converts(src: str, dst: str) -> bool:
    """Whether a value in ``src`` converts to ``dst`` (``%`` and ``1`` only to each other)."""
    return src == dst or ({src, dst} <= {"1", "%"}) or (src not in ("1", "%") and convertible(src, dst))


def asset_of(key: str) -> str:
    """The asset of ``<asset>.<name>``."""
    return key.split(".", 1)[0]
