"""Results a facilitator can read: amounts in t, MWh and m³ chosen with pint, money rounded in
the park's currency, rejected pairs grouped by reason with counts."""

from __future__ import annotations

import re
from collections import Counter

from aisym.park.quantity import registry

# The unit an amount is shown in (its canonical amount unit → the readable one), then pint's
# prefixes choose the size: 1.653e8 kg → 165 kt, 2.499e8 kWh → 250 GWh.
_SHOWN = {"kg": "t", "kWh": "MWh", "m3": "m3", "Nm3": "Nm3"}


def amount(value: float | None, unit: str) -> str:
    """``1.653e8, "kg"`` → ``"165 kt"``; ``2.499e8, "kWh"`` → ``"250 GWh"``; ``None`` → ``"?"``."""
    if value is None:
        return "?"
    shown = _SHOWN.get(unit, unit)
    if shown in ("t", "MWh"):
        q = registry().Quantity(value, "kWh" if unit == "kWh" else unit).to(shown)
        base = "Wh" if shown == "MWh" else "t"
        v = q.magnitude * (1e6 if shown == "MWh" else 1)
        prefixes = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")) if base == "Wh" else ((1e6, "M"), (1e3, "k"))
        for f, p in prefixes:
            if abs(v) >= f:
                return f"{_sig(v / f)} {p}{base}"
        return f"{_sig(v)} {base}"
    text = {"m3": "m³", "Nm3": "Nm³"}.get(shown, shown)
    for f, p in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= f:
            return f"{_sig(value / f)} {p} {text}"
    return f"{_sig(value)} {text}"


def money(value: float | None, currency: str) -> str:
    """Rounded to three figures in the park's currency: ``142_672_120, "DKK"`` → ``"143 M DKK"``."""
    if value is None:
        return "?"
    for f, p in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= f:
            return f"{_sig(value / f)} {p} {currency}"
    return f"{_sig(value)} {currency}"


def _sig(v: float) -> str:
    a = abs(v)
    return f"{v:,.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}"


# Rejection reasons name both flows; these say what kind of reason it is.
_KINDS = (
    (r"^implausible: ", "implausible money: a price or a quantity typo?"),
    (r"needs a converter asset", "another resource: it would take a converter between them"),
    (r"water cannot serve", "water of a lower grade than the use: it would take treatment"),
    (r"colder than", "too cold for the use, and no heat pump fits or is allowed"),
    (r"no heat pump is allowed", "too cold for the use, and no heat pump fits or is allowed"),
    (r"is not the waste code", "another waste code, and no known use says it replaces the input's"),
    (r"hazardous", "hazardous, and the input's permit does not accept it"),
    (r"dry matter|wetter", "wetter than the input takes: it would take dewatering"),
    (r"pressure|bar", "steam below the pressure asked"),
    (r"purity|purer", "less pure than the use asks"),
)


def reason_kind(reason: str) -> str:
    for pattern, kind in _KINDS:
        if re.search(pattern, reason):
            return kind
    return re.sub(r"\d[\d.,]*", "N", reason)[:90]


def grouped(rejected) -> list[tuple[str, int, str]]:
    """Rejected pairs grouped by the kind of reason: ``(kind, count, one example)``, most first."""
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    for r in rejected:
        k = reason_kind(r.reason)
        counts[k] += 1
        example.setdefault(k, f"{r.output.label()} -> {r.input.label()}: {r.reason}")
    return [(k, n, example[k]) for k, n in counts.most_common()]
