"""A full ranking of receivers for an output: every company in scope gets a score and a band.

The score is a logistic regression (scikit-learn) over parts that each say something different:

- ``known_use``: how well a documented use fits (``knowledge.support``: code, receiver, giver);
- ``prior_family``: the sector prior for this resource family (``prior.SectorPrior``);
- ``prior_any``: the sector prior over all families (what this giver's sector gives this
  receiver's sector at all);
- ``takes_family``: how often the receiver's sector takes this family from anyone.

Its weights are fitted on documented exchanges (``corpus.py``), leave one park out: the sector
prior behind a training park's features is learned without that park, so the weights are
those that rank a park it has not seen. No threshold decides who is ranked; the bands are labels.
Quality and hour-by-hour fit, distance and money are not in the published exchanges, so they
are not fitted here: ``score.py`` estimates them for the candidates of a park's profiles.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from aisym.park.graph.carriers import Carrier, Resource

from . import knowledge
from .corpus import Exchange, family
from .prior import SectorPrior

FEATURES = ("known_use", "prior_family", "prior_any", "takes_family")
WORDS = {
    "known_use": "a documented use fits",
    "prior_family": "sectors like these exchanged this family",
    "prior_any": "these sectors exchanged something",
    "takes_family": "the receiver's sector takes this family",
}
BANDS = ("documented use", "sectors like these did this", "plausible by physics", "weak")


@lru_cache(maxsize=4096)
def carrier(resource: str) -> Carrier:
    """The carrier of a corpus resource: a carrier name, else a material with its EWC code."""
    if resource.startswith("water:"):  # a grade named, as the park's flows do
        return Carrier(resource=Resource.water, grade=resource.split(":", 1)[1])
    if resource in Resource.__members__:
        return Carrier(resource=Resource(resource))
    return Carrier(resource=Resource.material, ewc=resource)


def features(giver_nace: str | None, resource: str, receiver_nace: str, prior: SectorPrior,
             uses: tuple | None = None) -> np.ndarray:
    """The parts of one pair, on log scales where they are probabilities (memoised per prior)."""
    key = (giver_nace, resource, receiver_nace, uses)
    hit = prior.memo.get(key)
    if hit is not None:
        return hit
    s = knowledge.support(carrier(resource), giver_nace, receiver_nace, uses)
    fam = family(resource)
    prior.memo[key] = x = np.array([
        s.weight if s else 0.0,
        math.log(prior.p(giver_nace, fam, receiver_nace)),
        math.log(prior.p(giver_nace, None, receiver_nace)),
        math.log(prior.p(None, fam, receiver_nace)),
    ])
    return x


def features_of_sectors(giver_nace: str | None, resource: str, fits: knowledge.SectorFits,
                        prior: SectorPrior) -> np.ndarray:
    """:func:`features` for every sector of ``fits`` (rows in its order), the known-use part computed
    for all of them at once (a region's ranking asks it for each giver sector and resource)."""
    fam = family(resource)
    X = np.empty((len(fits.sectors), 4))
    X[:, 0] = knowledge.support_weights(carrier(resource), giver_nace, fits)
    for i, c in enumerate(fits.sectors):
        X[i, 1] = math.log(prior.p(giver_nace, fam, c))
        X[i, 2] = math.log(prior.p(giver_nace, None, c))
        X[i, 3] = math.log(prior.p(None, fam, c))
    return X


def companies(exchanges: Iterable[Exchange]) -> dict[str, dict[str, str]]:
    """Each park's companies (name → NACE) as its exchanges name them."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for x in exchanges:
        out[x.park].setdefault(x.giver, x.giver_nace)
        out[x.park].setdefault(x.receiver, x.receiver_nace)
    return out


def candidates(x: Exchange, park: dict[str, str], exchanges: Sequence[Exchange]) -> list[tuple[str, str]]:
    """The companies that could receive ``x``'s output: all of the park but the giver and the other
    documented receivers of the same output (each of those is hidden in its own turn)."""
    others = {y.receiver for y in exchanges
              if y.park == x.park and y.giver == x.giver and y.resource == x.resource and y.receiver != x.receiver}
    return [(n, c) for n, c in park.items() if n != x.giver and n not in others]


@dataclass
class Model:
    """The fitted weights (standardised features) and what they were fitted on."""

    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    scale: np.ndarray
    n_pairs: int = 0
    n_parks: int = 0
    cv: dict = field(default_factory=dict)

    def score(self, X: np.ndarray) -> np.ndarray:
        z = ((np.atleast_2d(X) - self.mean) / self.scale) @ self.coef + self.intercept
        return 1 / (1 + np.exp(-z))

    def reasons(self, x: np.ndarray, top: int = 2) -> list[str]:
        """The parts that carried a candidate most, in words (largest contribution first)."""
        contrib = (x - self.mean) / self.scale * self.coef
        order = np.argsort(-contrib)
        out = []
        for i in order[:top]:
            if contrib[i] <= 0:
                continue
            if FEATURES[i] == "known_use" and x[i] < 0.85:  # a neighbouring code or sector, not the use itself
                out.append("a documented use fits a related code or sector" if x[i] > 0 else "no documented use")
                continue
            out.append(WORDS[FEATURES[i]])
        return out


def pairs(exchanges: Sequence[Exchange], prior_for, uses=None) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of every (exchange, candidate) pair; ``prior_for(park)`` is the prior
    to use for a park's pairs (learned without it)."""
    parks = companies(exchanges)
    X, y = [], []
    for x in exchanges:
        if x.rejected:  # an outcome, not an exchange: it is in the prior
            continue
        prior = prior_for(x.park)
        for name, code in candidates(x, parks[x.park], exchanges):
            X.append(features(x.giver_nace, x.resource, code, prior, uses))
            y.append(1 if name == x.receiver else 0)
    return np.array(X), np.array(y)


def fit(exchanges: Sequence[Exchange], uses=None, C: float = 1.0) -> Model:
    """Fit the weights on documented exchanges, each park's features from a prior learned without it."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as e:  # the match extra brings it
        raise ImportError("the ranking fits its weights with scikit-learn: pip install 'aisym[match]'") from e

    priors = {p: SectorPrior([x for x in exchanges if x.park != p]) for p in {x.park for x in exchanges}}
    X, y = pairs(exchanges, priors.__getitem__, uses)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=1000).fit((X - mean) / scale, y)
    return Model(lr.coef_[0], float(lr.intercept_[0]), mean, scale, len(y), len(priors))


def band(x: np.ndarray, prior: SectorPrior, giver_nace: str | None, resource: str, receiver_nace: str) -> str:
    """A label for a candidate: what evidence there is, strongest first."""
    if x[0] >= 0.85:
        return BANDS[0]
    fam = family(resource)
    seen = giver_nace and prior.counts.get((fam, 1, giver_nace[:2]), {}).get(receiver_nace[:2], 0)
    if seen:
        return BANDS[1]
    if x[0] > 0 or prior.counts.get((fam, 1, None), {}).get(receiver_nace[:2], 0):
        return BANDS[2]
    return BANDS[3]


@dataclass(frozen=True)
class Ranked:
    name: str
    nace: str
    score: float
    band: str
    reasons: tuple[str, ...]


def rank(giver_nace: str | None, resource: str, receivers: Sequence[tuple[str, str]], model: Model,
         prior: SectorPrior, uses=None) -> list[Ranked]:
    """Every receiver ranked for one output; none left out."""
    if not receivers:
        return []
    X = np.array([features(giver_nace, resource, code, prior, uses) for _, code in receivers])
    s = model.score(X)
    out = [Ranked(n, c, float(s[i]), band(X[i], prior, giver_nace, resource, c), tuple(model.reasons(X[i])))
           for i, (n, c) in enumerate(receivers)]
    return sorted(out, key=lambda r: -r.score)
