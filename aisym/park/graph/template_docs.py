"""The template reference (docs/templates.md), written from the templates' own code.

Each template is run with a :class:`_Recorder` in place of its parameters: every read says its
key, unit, bounds, cited default, choices or what a mapping holds, so the table cannot drift
from the code. A text parameter with choices is run once per choice, and a parameter read only
under one of them says so ("only with output: steam"). ``tests/core/test_park_format.py`` fails
when the committed file differs from what this writes.

    python -m aisym.park.graph.template_docs > docs/templates.md
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field

from .params import ParamProblem, Params
from .templates import TEMPLATES


@dataclass
class _Row:
    kind: str  # "number", "fraction", "text", "value"
    unit: str = ""
    default: str = ""  # the default taken when absent, with its source; "" when required
    bounds: str = ""
    doc: str = ""
    choices: tuple[str, ...] = ()
    only: set[str] = field(default_factory=set)  # the choices under which it is read, when not always
    skipped: set[str] = field(default_factory=set)  # the choices under which it is not read
    other_units: dict[str, list[str]] = field(default_factory=dict)  # unit -> the choices it is read in under


class _Recorder(Params):
    """Params that record each read and answer with a value that lets the template go on."""

    def __init__(self, template: str, chosen: dict[str, str]):
        super().__init__({}, template)
        self.rows: dict[str, _Row] = {}
        self.chosen = chosen

    def _keep(self, key: str, row: _Row) -> None:
        self.rows.setdefault(key, row)

    def number(self, key, unit, default=None, cite="", lo=None, hi=None) -> float:
        self.used.add(key)
        fraction = unit == "dimensionless" and lo == 0.0 and hi == 1.0
        bounds = "" if fraction else " ".join(x for x in (f"≥ {lo:g}" if lo is not None else "",
                                                         f"≤ {hi:g}" if hi is not None else "") if x)
        text = "" if default is None else f"{default:g}" + (f" — {cite}" if cite else "")
        self._keep(key, _Row("fraction" if fraction else "number", "0–1" if fraction else unit, text, bounds))
        if default:  # a non-zero default is a value the template is built for
            return float(default)
        # non-zero, so the branches a 0 skips are read too; an optional fraction below a required one
        if fraction:
            return 0.25 if default == 0.0 else 0.5
        return max(2.0, (lo or 0.0) + 1.0)

    def text(self, key, default=None, choices=(), doc="") -> str:
        self.used.add(key)
        self._keep(key, _Row("text", default=default or "" if default != "" else '""', doc=doc,
                             choices=tuple(choices)))
        return self.chosen.get(key, default if default else (choices[0] if choices else "series_id"))

    def raw(self, key, default=None, doc="", required=False) -> object:
        self.used.add(key)
        text = "" if required else ("none" if default is None else
                                    f"{default:g}" if isinstance(default, float) else str(default) or "none")
        self._keep(key, _Row("value", default=text, doc=doc))
        return 1.0 if default is None and required else default  # a required price: go on past it


def _explore(name: str) -> dict[str, _Row]:
    """Every parameter ``name`` reads, over every choice of its text parameters."""
    def run(chosen: dict[str, str]) -> dict[str, _Row]:
        rec = _Recorder(name, chosen)
        # a value the recorder made up may stop the template: what was read so far is recorded
        with contextlib.suppress(ParamProblem, ZeroDivisionError, TypeError, ValueError):
            TEMPLATES[name]("asset", rec)
        return rec.rows

    rows = run({})
    base = set(rows)
    for key, row in list(rows.items()):
        for choice in row.choices:
            got = run({key: choice})
            for k in base - set(got):
                rows[k].skipped.add(f"{key}: {choice}")
            for k, r in got.items():
                if k not in rows:
                    rows[k] = r
                elif r.unit and r.unit != rows[k].unit:  # fuel_lhv: kWh/Nm3, or kWh/kg for a solid fuel
                    rows[k].other_units.setdefault(r.unit, []).append(f"{key}: {choice}")
                if k not in base:
                    rows[k].only.add(f"{key}: {choice}")
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """docs/templates.md: one section per template, one row per parameter."""
    out = ["# Template parameters", "",
           "Generated from `aisym/park/graph/templates.py` by `python -m aisym.park.graph.template_docs >",
           "docs/templates.md`; do not edit by hand (a test fails when it is stale). A parameter with no",
           "default is required. A bare number is in the unit shown; text with a unit (`2 MW`, `800 SEK/MWh`)",
           "is converted by pint. Sources: [S] sourced, [D] derived, [E] estimate (docs/park_parameters.md).",
           "The components each template expands into are listed in docs/park_graph.md.", ""]
    for name in sorted(TEMPLATES):
        doc = " ".join((TEMPLATES[name].__doc__ or "").split())
        out += [f"## `{name}`", "", doc, "", "| parameter | unit | default (source) | notes |", "|---|---|---|---|"]
        for key, r in _explore(name).items():
            notes = [r.doc, r.bounds, ("one of " + ", ".join(f"`{c}`" for c in r.choices)) if r.choices else "",
                     ("only with " + "; ".join(sorted(r.only))) if r.only else "",
                     ("not with " + "; ".join(sorted(r.skipped))) if r.skipped else ""]
            default = r.default if r.default else "required"
            unit = "; ".join([r.unit or r.kind] + [f"{u} with {', '.join(w)}" for u, w in r.other_units.items()])
            out.append(f"| `{key}` | {_cell(unit)} | {_cell(default)} | "
                       f"{_cell('; '.join(n for n in notes if n))} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(markdown())
