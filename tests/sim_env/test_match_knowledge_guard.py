"""Issue 23 item 1/6: the recall benchmark's leakage guard. A known use written only from a park's
own papers must not rank that park's exchanges when the park is held out."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from sim_env.match import corpus, knowledge, ranking
from sim_env.match.prior import SectorPrior

ROOT = Path(__file__).resolve().parents[2]
SMALL = Path(__file__).parent / "match_data" / "exchanges_small.csv"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_match_recall", ROOT / "benchmarks" / "bench_match_recall.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _use(id_, *sources):
    return knowledge.KnownUse(id=id_, residue="FGD gypsum", ewc=["10 01 05"], receiver_nace=["23.62"], use="plaster",
                              sources=list(sources))


def test_a_use_whose_only_sources_are_about_the_park_is_dropped():
    park_doi = "doi:10.1162/108819806775545411"
    own = _use("own", f"Jacobsen (2006), Industrial symbiosis in Kalundborg, {park_doi}")
    cited = _use("cited", f"a paper the park's exchanges cite, {park_doi}.")  # trailing punctuation ignored
    named = _use("named", "Händelö eco-industrial park, https://example.org/h")  # the name, accents or not
    both = _use("both", f"Kalundborg, {park_doi}", "a review of FGD gypsum, doi:10.1016/j.example.2020.1")
    uses = (own, cited, named, both)
    kept = knowledge.without_park(uses, ["Kalundborg"], [park_doi])
    assert [u.id for u in kept] == ["named", "both"]  # an independent source keeps an entry
    assert [u.id for u in knowledge.without_park(uses, ["Handelo"], ["https://example.org/other"])] == \
        ["own", "cited", "both"]
    # no park: nothing dropped; a word inside another word is not the park's name
    assert len(knowledge.without_park(uses, ["Kal"], [])) == 4


def test_no_held_out_park_is_ranked_by_knowledge_written_from_it():
    xs = corpus.load()
    uses = knowledge.load()
    for park in {x.park for x in xs}:
        sources = [x.source for x in xs if x.park == park]
        for u in knowledge.without_park(uses, [park], sources):
            assert not all(knowledge.about(s, [park], set(sources)) for s in u.sources), (park, u.id)


def test_the_benchmark_ranks_a_held_out_park_without_its_own_knowledge():
    """Park A's exchanges are the only source of a plasterboard use: guarded, A's gypsum exchange gets
    no documented use in its own fold (unguarded it does), and both figures are printed."""
    bench = _bench()
    xs = corpus.load(SMALL)
    a_only = knowledge.KnownUse(id="a_only", residue="FGD gypsum", ewc=["10 01 05"], receiver_nace=["23.62"],
                                use="plaster", sources=["doi:10.1162/108819806775545411"])
    fold = bench.guarded((a_only,), xs, "A")
    assert len(fold) == 0 and len(bench.guarded((a_only,), xs, "C")) == 1
    gypsum = next(x for x in xs if x.park == "A" and x.resource == "10 01 05")
    prior = SectorPrior([x for x in xs if x.park != "A"])
    assert ranking.features(gypsum.giver_nace, gypsum.resource, "23.62", prior, fold)[0] == 0.0
    assert ranking.features(gypsum.giver_nace, gypsum.resource, "23.62", prior,
                            knowledge.Selection((a_only,)))[0] == 1.0
    rows, dropped = bench.evaluate(xs, (a_only,))
    assert dropped == {"A": 1, "B": 0, "C": 0}
    assert all(r["ranked"] for r in rows) and {"aisym", "unguarded", "prior", "sector", "random"} <= set(rows[0])
    side = bench.side_by_side(rows, 20, 0)
    assert "AISYM MRR, guarded" in side and "unguarded MRR" in side and "| all | 12 |" in side
    assert np.isfinite([r["aisym"][0] for r in rows]).all()
    known = {(r["park"], r["resource"]): (r["known"], r["known_unguarded"]) for r in rows}
    assert known[("A", "10 01 05")] == (0.0, 1.0)  # ranked without its own paper's entry
    assert known[("C", "10 01 05")] == (1.0, 1.0)  # another park's exchange: the entry is independent of it
