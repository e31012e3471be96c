"""The sector prior: how often a giver's sector gave a resource family to a receiver's sector.

Learned from documented exchanges (``corpus.py``). For a giver sector ``g``, a family ``f`` and a
receiver sector ``r`` it is a probability over receiving sectors, smoothed across NACE levels:
from the section down to the class, each level's counts are pulled toward the level above
(split evenly over that level's children) with weight ``alpha``::

    p_L(r) = (n_L(g, f, r) + alpha * p_(L-1)(r) / children) / (n_L(g, f) + alpha)

A giver sector seen at class level is ranked by its own exchanges; an unseen one falls back to
its group, division and section, and at the top to what the family is given to at all (and that
to what any family is given to). ``p(g=None, ...)`` is that receiver marginal alone. A park's
rejected proposals (``Exchange.rejected``) count in the giver's total and not for the receiver,
so a park's own outcomes move its rankings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache

from . import classifications
from .corpus import Exchange


@lru_cache(maxsize=4096)
def levels(code: str) -> tuple[str, ...]:
    """Section, division, group, class of a NACE code, as far as it goes (``"23.62"`` → C, 23, 23.6, 23.62)."""
    c = code.strip().rstrip(".")
    div, rest = c[:2], c[3:]
    sec = next((e.code for e in classifications.nace_path(div) if e.level == "section"), "?" + div)
    out = [sec, div]
    if len(rest) >= 1:
        out.append(f"{div}.{rest[0]}")
    if len(rest) >= 2:
        out.append(f"{div}.{rest[:2]}")
    return tuple(out)


@lru_cache(maxsize=4096)
def _children(level_code: str, depth: int) -> int:
    """How many codes sit one level below a section/division/group (1 when unknown)."""
    n = sum(1 for e in classifications.nace_list().values() if e.parent == level_code)
    return max(n, 1) if depth < 3 else 1


class SectorPrior:
    """Counts of giver sector → receiver sector per family, at every NACE level."""

    def __init__(self, exchanges: Iterable[Exchange], alpha: float = 1.0):
        self.alpha = alpha
        self.memo: dict = {}  # ranking.features of pairs already asked for
        self._p: dict = {}
        self._totals: dict = {}
        # counts[(family, depth, giver code at depth or None)][receiver code at depth]
        self.counts: dict[tuple, Counter] = defaultdict(Counter)
        # a park's rejected proposals: they add to the giver's total, not to the receiver's count
        self.rejected: dict[tuple, Counter] = defaultdict(Counter)
        self.n = 0
        for x in exchanges:
            self.n += 1
            into = self.rejected if x.rejected else self.counts
            gl, rl = levels(x.giver_nace), levels(x.receiver_nace)
            for fam in (x.family, "*"):
                for d in range(len(rl)):
                    into[(fam, d, None)][rl[d]] += 1
                    if d < len(gl):
                        into[(fam, d, gl[d])][rl[d]] += 1

    def _walk(self, fam: str, giver_levels: tuple[str, ...] | None, rl: tuple[str, ...],
              outer: list[float] | None) -> list[float]:
        """Probabilities of the receiver at each depth; ``outer`` is a less specific model's, mixed in."""
        out: list[float] = []
        for d, code in enumerate(rl):
            split = _children(rl[d - 1], d - 1) if d > 0 else 22  # 22 sections
            above = out[-1] / split if d > 0 else 1 / 22
            prior = above if outer is None else 0.5 * above + 0.5 * outer[d]
            g = None
            if giver_levels is not None:
                g = giver_levels[min(d, len(giver_levels) - 1)]
            c = self.counts.get((fam, d, g))
            n, k = (self._total(fam, d, g), c[code]) if c else (self._total(fam, d, g), 0)
            out.append((k + self.alpha * prior) / (n + self.alpha))
        return out

    def _total(self, fam: str, d: int, g: str | None) -> int:
        """Exchanges (and rejections) of a giver at a depth: the denominator, counted once."""
        key = (fam, d, g)
        n = self._totals.get(key)
        if n is None:
            c, r = self.counts.get(key), self.rejected.get(key)
            n = self._totals[key] = (sum(c.values()) if c else 0) + (sum(r.values()) if r else 0)
        return n

    def p(self, giver_nace: str | None, family: str | None, receiver_nace: str) -> float:
        """P(receiver sector | giver sector, family), smoothed across levels; family None: any family."""
        key = (giver_nace, family, receiver_nace)
        hit = self._p.get(key)
        if hit is None:
            hit = self._p[key] = self._p_uncached(giver_nace, family, receiver_nace)
        return hit

    def _p_uncached(self, giver_nace: str | None, family: str | None, receiver_nace: str) -> float:
        rl = levels(receiver_nace)
        gl = levels(giver_nace) if giver_nace else None
        chain = self._walk("*", None, rl, None)  # what any family is given to
        if family is not None:
            chain = self._walk(family, None, rl, chain)  # what this family is given to
        if gl is not None:
            if family is not None:
                chain = self._walk("*", gl, rl, chain)  # what this giver gives, any family
            chain = self._walk(family or "*", gl, rl, chain)
        return chain[-1]
