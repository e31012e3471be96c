"""The region's ranking (``receivers.rank_outputs``) computes the known-use part of every sector in
one pass (``ranking.features_of_sectors``): it must be the pairwise features, bit for bit."""

from __future__ import annotations

import numpy as np

from sim_env.match import corpus, knowledge, ranking
from sim_env.match.prior import SectorPrior


def test_a_regions_features_for_all_sectors_at_once_are_the_pairwise_ones():
    # the region's ranking computes the known-use part for every sector in one pass
    # (ranking.features_of_sectors); it must give the pairwise features bit for bit, including
    # graded water, a heat band, a donor that does not fit and sectors with no support at all
    prior = SectorPrior(corpus.load())
    sectors = ["35.11", "38.21", "10.20", "23.51", "01.13", "20.15", "17.12", "24.10", "86.10", "99.99"]
    fits = knowledge.SectorFits(sectors)
    cases = [("35.11", "heat"), ("10.20", "water:wastewater"), ("23.51", "10 01 05"), ("17.12", "03 03 05"),
             (None, "co2"), ("86.10", "electricity"), ("24.10", "10 02 02")]
    some = 0
    for giver, res in cases:
        pairwise = np.array([ranking.features(giver, res, c, prior) for c in sectors])
        at_once = ranking.features_of_sectors(giver, res, fits, prior)
        assert np.array_equal(pairwise, at_once), (giver, res)
        some += int((at_once[:, 0] > 0).sum())
    assert some >= 5  # the known-use part is exercised, not all zeros
