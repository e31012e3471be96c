"""Who would gain what before the twin has run: matchmaking's estimate split by the same rules.

:func:`~sim_env.match.benefits.splits` divides a simulated candidate's books between its two
companies. Before a simulation, the same rules can divide matchmaking's estimate
(:func:`~sim_env.match.score.estimate`): the receiver's avoided purchase, the supplier's avoided
disposal (or lost sale), the running cost of transport and the investment that
:func:`~sim_env.match.simulate.plan` prices. Each side's part is made of the same terms as the
candidate's money (``score._money``), so the shares add up to it: under every rule the two
companies' net gains sum to the candidate's money per year.
"""

from __future__ import annotations

from .benefits import Investment, Share, splits
from .score import Candidate, Options


def avoided(m: Candidate, opts: Options) -> tuple[float, float, float] | None:
    """``(supplier's saving, receiver's saving, running cost)`` per year of a candidate's estimate,
    or None where matchmaking estimated no money."""
    if m.money is None or m.annual is None or m.transport is None or m.input is None:
        return None
    t, out, inp = m.transport, m.output, m.input
    delivered = m.annual
    supplied = delivered / m.conversion.gain / (1 - t.loss) if delivered else 0.0
    receiver = (inp.cost or 0.0) * delivered
    if m.conversion.cop is not None and opts.electricity_price is not None:
        receiver -= delivered / m.conversion.cop * opts.electricity_price  # the heat pump is the receiver's
    supplier = 0.0
    if out.kind == "residue":
        supplier = (out.cost or 0.0) * supplied
    elif out.kind in ("sale", "market"):
        supplier = -(out.cost or 0.0) * supplied
    return supplier, receiver, t.per_unit * delivered


def estimated_splits(m: Candidate, opts: Options, inv: Investment | None) -> list[Share]:
    """The estimate's shares under the cost-sharing, 50/50 and transfer-price rules (per year).

    :param m: a candidate estimated by matchmaking
    :param inv: its investment (:attr:`~sim_env.match.simulate.Plan.investment`); None: nothing to build
    :returns: [] where matchmaking estimated no money for it
    """
    parts = avoided(m, opts)
    if parts is None:
        return []
    s, r, running = parts
    return splits(m.supplier, m.receiver, s, r, running, m.annual or 0.0, inv or Investment(0.0))
