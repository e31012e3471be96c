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

from .simulate import Plan


def batches(doc: dict, plans: list[Plan], source: str) -> list[list[Plan]]:
    """The plans (with a candidate) loosened where they loop, in groups that compile together.

    Plans that cannot be compiled lose their candidate and get their ``why_not`` (in place).
    """
    if not plans:
        return []
    if _compiles(doc, [p.candidate for p in plans], source) is None:
        return [plans]
    _break_cycles(doc, plans, source)
    plans = [p for p in plans if p.candidate is not None]
    if _compiles(doc, [p.candidate for p in plans], source) is None:
        return [plans]
    groups: list[list[Plan]] = []
    for p in plans:  # first fit: a plan joins the first batch it compiles with
        for g in groups:
            if _compiles(doc, [q.candidate for q in g] + [p.candidate], source) is None:
                g.append(p)
                break
        else:
            groups.append([p])
    return groups


def _break_cycles(doc: dict, plans: list[Plan], source: str) -> None:
    """Loosen a candidate that closes a loop of assets waiting on each other: its exchanges made
    controllable (the rules ask a controlled exchange for its full capacity, so it still carries
    what it can), then its added converter run on a setpoint the rules choose; a candidate that
    cannot be compiled even so is not simulated, and says why."""
    for p in plans:  # only when the batch fails: compile each alone to find the ones that loop
        err = _compiles(doc, [p.candidate], source)
        if err is None:
            continue
        for e in p.candidate.exchanges:
            e["control"] = "controllable"
        err = _compiles(doc, [p.candidate], source)
        if err is not None:
            for _, asset in p.candidate.assets:
                for comp in asset.get("components", []):
                    if comp.get("type") == "converter":
                        comp["control"] = "setpoint"
            err = _compiles(doc, [p.candidate], source)
        if err is None:
            p.notes.append("run under control (controllable exchanges, a setpoint): passive, it would close a loop "
                           "of assets waiting on each other")
        else:
            loop = str(err).split("cycle", 1)[-1].split(";")[0].strip()
            p.why_not, p.candidate, p.investment = f"not simulated: it closes a loop of assets waiting on each other " \
                                                   f"in the twin, even under control {loop}", None, None


def _compiles(doc: dict, cands: list[sweep.Candidate], source: str):
    """None if the park compiles with ``cands``, else the error."""
    from sim_env.graph.compile import CompileError

    try:
        sweep.with_candidates(doc, cands, source)
    except CompileError as err:
        return err
    return None
