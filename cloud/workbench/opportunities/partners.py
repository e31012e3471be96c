"""A possible partner as a company sees it: by name where the partner chose to be named, else by
sector and distance ("a food company 2 km away").

The sector words are the NACE section's (``sim_env.match.classifications``), with a shorter word
for the divisions a park meets most, each translated here: the classification ships in English only.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cloud.workbench.directory.views import km_between
from sim_env.match.classifications import nace_path

# what a company of the division is called, in a sentence ("a food company"); the others by section
DIVISIONS = {
    "01": gettext_lazy("farming"), "02": gettext_lazy("forestry"), "03": gettext_lazy("fish farming"),
    "10": gettext_lazy("food"), "11": gettext_lazy("beverage"), "16": gettext_lazy("wood"),
    "17": gettext_lazy("paper"), "19": gettext_lazy("refinery"), "20": gettext_lazy("chemicals"),
    "21": gettext_lazy("pharmaceutical"), "23": gettext_lazy("building materials"), "24": gettext_lazy("metals"),
    "35": gettext_lazy("energy"), "36": gettext_lazy("water supply"), "37": gettext_lazy("wastewater"),
    "38": gettext_lazy("waste management"),
}
SECTIONS = {
    "A": gettext_lazy("agriculture, forestry or fishing"), "B": gettext_lazy("mining"),
    "C": gettext_lazy("manufacturing"), "D": gettext_lazy("energy"), "E": gettext_lazy("water and waste"),
    "F": gettext_lazy("construction"), "G": gettext_lazy("trade"), "H": gettext_lazy("transport"),
    "I": gettext_lazy("hospitality"), "J": gettext_lazy("information"), "K": gettext_lazy("finance"),
    "L": gettext_lazy("real estate"), "M": gettext_lazy("professional services"),
    "N": gettext_lazy("support services"), "O": gettext_lazy("public administration"),
    "P": gettext_lazy("education"), "Q": gettext_lazy("health"), "R": gettext_lazy("arts and recreation"),
    "S": gettext_lazy("service"),
}


def sector_words(nace: str) -> str:
    """``"10.71"`` -> "food"; a code the classification does not know -> "" (no sector said)."""
    if not nace:
        return ""
    division = nace[:2]
    if division in DIVISIONS:
        return str(DIVISIONS[division])
    path = nace_path(nace)
    section = path[0].code if path and path[0].level == "section" else ""
    return str(SECTIONS.get(section, ""))


def km(a, b) -> float | None:
    """Straight-line distance between two companies (None where either states no coordinates)."""
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    return km_between((a.lat, a.lon), (b.lat, b.lon))


def described(partner, home) -> str:
    """The partner as ``home``'s members may read it: its name if it chose to be named, else its
    sector and distance in words."""
    if partner.named_to_partners:
        return partner.name
    sector, d = sector_words(partner.nace), km(partner, home)
    if d is not None:
        away = _("%(km)s km away") % {"km": f"{d:.1f}" if d < 10 else f"{d:.0f}"}
        if not sector:
            return _("a company %(away)s") % {"away": away}
        if _vowel(sector):
            return _("an %(sector)s company %(away)s") % {"sector": sector, "away": away}
        return _("a %(sector)s company %(away)s") % {"sector": sector, "away": away}
    if not sector:
        return _("a company in the park")
    if _vowel(sector):
        return _("an %(sector)s company in the park") % {"sector": sector}
    return _("a %(sector)s company in the park") % {"sector": sector}


def _vowel(word: str) -> bool:
    # English takes "an" before a vowel sound; the translations carry their own article
    return word[:1].lower() in "aeio"
