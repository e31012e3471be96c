"""Issue 23 item 2: the corpus of documented exchanges grows park by park, each row cited."""

from __future__ import annotations

from collections import Counter

from sim_env.match import classifications as cl
from sim_env.match import corpus


def test_new_parks_are_cited_and_none_is_a_one_exchange_park():
    xs = corpus.load()
    parks = Counter(x.park for x in xs)
    assert len(xs) >= 171 and len(parks) >= 21  # 133 rows in 14 parks, then 162 in 19
    assert {"Hoganas", "Alholmen"} <= set(parks)
    assert {"Dunkirk", "Mo i Rana", "Sotenas", "Antwerp Waasland Port", "Heroya"} <= set(parks)
    # a held-out park with one exchange ranks trivially; every park documents at least three
    assert min(parks.values()) >= 3, parks
    mo = [x for x in xs if x.park == "Mo i Rana"]
    assert {x.source for x in mo} == {"doi:10.3390/en13184627",
                                      "https://overskuddsenergi.no/innovasjon/yngler-med-overskuddsenergi/"}
    assert {(x.giver, x.resource, x.receiver_nace) for x in mo} >= {
        ("Ferroglobe Mangan Norge", "natural_gas", "35.30"), ("Elkem Rana", "heat", "03.22")}


def test_every_residue_code_of_the_corpus_is_in_the_list_of_waste():
    for x in corpus.load():
        if x.resource[0].isdigit():
            assert cl.ewc(x.resource.rstrip("*")) is not None, (x.park, x.resource)
