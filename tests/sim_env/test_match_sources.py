"""Every source the shipped knowledge and corpus cite is a well-formed DOI or an https URL
(issue 23: many DOIs had been written from memory; docs/matchmaking.md lists which were checked)."""

import re

from sim_env.match import corpus, knowledge

# a DOI as Crossref registers it: "10.", a registrant of 4-9 digits, "/", a suffix without spaces
_DOI = re.compile(r"doi:(10\.\d{4,9}/[-._;()/:+<>A-Za-z0-9]+)")
_URL = re.compile(r"https?://[^\s,\"]+")


def _bad(source: str) -> list[str]:
    found = _DOI.findall(source) + _URL.findall(source)
    why = [] if found else [f"no DOI or URL in {source!r}"]
    why += [f"not https: {u}" for u in _URL.findall(source) if not u.startswith("https://")]
    why += [f"malformed DOI in {source!r}" for d in re.findall(r"doi:\S*", source) if not _DOI.fullmatch(d.rstrip(".,;"))]
    return why


def test_every_source_is_a_well_formed_doi_or_an_https_url():
    bad = [(u.id, w) for u in knowledge.load() for s in u.sources for w in _bad(s)]
    bad += [(f"{x.park}: {x.giver} -> {x.receiver}", w) for x in corpus.load() for w in _bad(x.source)]
    assert not bad, bad[:5]


def test_the_check_itself_refuses_what_it_should():
    assert _bad("Jacobsen (2006), doi:10.1162/108819806775545411") == []
    assert _bad("doi:10.1021/es050050+") == []
    assert _bad("https://www.symbiosis.dk/en/") == []
    assert _bad("http://www.symbiosis.dk/en/") == ["not https: http://www.symbiosis.dk/en/"]
    assert _bad("doi:10.11/x")  # registrant too short
    assert _bad("Jacobsen (2006), Journal of Industrial Ecology")


def test_the_data_readme_lists_only_dois_the_data_cites():
    # the README's record of the source check (confirmed / unverifiable, by DOI) must not name a DOI
    # that no entry or row cites any more: a fixed or dropped source has to leave the record too
    from pathlib import Path

    text = (Path(knowledge.__file__).parent / "data" / "README.md").read_text(encoding="utf-8")
    listed = {d.rstrip(".,;*)") for d in re.findall(r"10\.\d{4,9}/[^\s,;]+", text)}
    cited = {d.rstrip(".,;") for u in knowledge.load() for s in u.sources for d in _DOI.findall(s)}
    cited |= {d.rstrip(".,;") for x in corpus.load() for d in _DOI.findall(x.source)}
    # named in the record without being cited: a related paper the first round read (Baas 2008)
    cited |= {"10.1002/bse.624"}
    assert len(listed) > 80
    assert listed <= cited, sorted(listed - cited)[:5]
    road = [s for u in knowledge.load() if u.id == "bottom_ash_to_aggregate" for s in u.sources]
    assert any("10.1016/j.ijprt.2016.12.003" in s for s in road)  # read; the concrete paper was not found
