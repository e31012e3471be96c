"""Candidates in batches the twin can compile: each batch one compiled park, one kernel call per step.

The twin orders its assets by who waits on whom. A candidate can close a loop of assets waiting
on each other (the CHP's district heat into the town's heat pump, whose heat displaces the
CHP's): its exchanges are then made controllable (the rules ask a controlled exchange for its
full capacity, so it still carries what it can), then its added converter run on a setpoint the
rules choose; one that cannot be compiled even so is not simulated, and says why. Two
candidates that compile alone may loop together: they go into different batches.
"""

from __future__ import annotations

from sim_env.graph import sweep

from .simulate import Compiled, Plan


def batches(doc: dict, plans: list[Plan], source: str, compiled: Compiled | None = None) -> list[list[Plan]]:
    """The plans (with a candidate) loosened where they loop, in groups that compile together.

    Plans that cannot be compiled lose their candidate and get their ``why_not`` (in place).

    :param compiled: the pipeline's compiled sets (each group's compile is then the batch run's, not parsed again)
    """
    if not plans:
        return []
    compiled = compiled if compiled is not None else Compiled(doc, source)
    if _compiles(doc, [p.candidate for p in plans], compiled) is None:
        return [plans]
    _break_cycles(doc, plans, compiled)
    plans = [p for p in plans if p.candidate is not None]
    if _compiles(doc, [p.candidate for p in plans], compiled) is None:
        return [plans]
    groups: list[list[Plan]] = []
    for p in plans:  # first fit: a plan joins the first batch it compiles with
        for g in groups:
            if _compiles(doc, [q.candidate for q in g] + [p.candidate], compiled) is None:
                g.append(p)
                break
        else:
            groups.append([p])
    return groups


def _break_cycles(doc: dict, plans: list[Plan], compiled: Compiled) -> None:
    """Loosen a candidate that closes a loop of assets waiting on each other: its exchanges made
    controllable (the rules ask a controlled exchange for its full capacity, so it still carries
    what it can), then its added converter run on a setpoint the rules choose; a candidate that
    cannot be compiled even so is not simulated, and says why."""
    for p in plans:  # only when the batch fails: compile each alone to find the ones that loop
        err = _compiles(doc, [p.candidate], compiled)
        if err is None:
            continue
        for e in p.candidate.exchanges:
            e["control"] = "controllable"
        err = _compiles(doc, [p.candidate], compiled)
        if err is not None:
            for _, asset in p.candidate.assets:
                for comp in asset.get("components", []):
                    if comp.get("type") == "converter":
                        comp["control"] = "setpoint"
            err = _compiles(doc, [p.candidate], compiled)
        if err is None:
            p.notes.append("run under control (controllable exchanges, a setpoint): passive, it would close a loop "
                           "of assets waiting on each other")
        else:
            loop = str(err).split("cycle", 1)[-1].split(";")[0].strip()
            p.why_not, p.candidate, p.investment = f"not simulated: it closes a loop of assets waiting on each other " \
                                                   f"in the twin, even under control {loop}", None, None


def _compiles(doc: dict, cands: list[sweep.Candidate], compiled: Compiled):
    """None if the park compiles with ``cands``, else the error."""
    from sim_env.graph.compile import CompileError

    try:
        compiled(cands)
    except CompileError as err:
        return err
    return None
