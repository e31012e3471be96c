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
