"""Which action of the twin a controllable tag drives, and what the others are held at.

See :mod:`sim_env.plant.signals` (the module docstring) for the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim_env.graph.compile import F_MAX, F_RATED, L_CAP, CompiledPark

from .words import asset_of, converts, to_unit, words


@dataclass
class Actuator:
    """A controllable tag wired to one action of the twin.

    :param tag: the setpoint tag
    :param action: index into the twin's actions
    :param full: the action's full scale in ``action_unit`` (fraction 1)
    :param action_unit: the unit of the action (the carrier's flow unit)
    :param unit: the tag's unit
    :param name: the action's name (a component or exchange id)
    """

    tag: str
    action: int
    full: float
    action_unit: str
    unit: str
    name: str = ""

    def fraction(self, value: float) -> float:
        """The action fraction for ``value`` in the tag's unit (clipped to [0, 1] by the kernel)."""
        return to_unit(value, self.unit, self.action_unit) / self.full if self.full > 0 else 0.0



def hold_of(cp: CompiledPark, a: int, hold: float | None) -> float:
    """Fraction of an action no tag drives: ``hold``, else the site's own automation: a flare
    burns nothing unasked (0), valves and units run as far as their users take (1)."""
    if hold is not None:
        return hold
    return 0.0 if int(cp.action_kind[a]) == 2 else 1.0



def actuator(cp: CompiledPark, tag_id: str, tag) -> Actuator | str:
    """The action a controllable tag drives, or why there is none."""
    asset, name = tag_id.split(".", 1)
    g = cp.graph
    cands = []
    for a, (act, unit) in enumerate(zip(cp.action_names, cp.action_units, strict=True)):
        kind, ref = int(cp.action_kind[a]), int(cp.action_ref[a])
        if kind == 1:
            link = g.links[ref]
            if asset_of(link.src) != asset:
                continue
            text, full = f"{act} {link.meter_tag or ''}", float(cp.LF[ref, L_CAP])
        else:
            if asset_of(act) != asset:
                continue
            text, full = act, float(cp.NF[ref, F_RATED if kind == 0 else F_MAX])
        if converts(unit, tag.unit):
            cands.append((len(words(text) & (words(name) - {"setpoint"})), a, unit, full))
    if not cands:
        return f"no action of {asset} in a unit {tag.unit} converts to"
    _, a, unit, full = max(cands, key=lambda c: (c[0], -c[1]))
    return Actuator(tag_id, a, full, unit, tag.unit, cp.action_names[a])


