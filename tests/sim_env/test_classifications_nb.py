"""Norwegian names where an official text was read (issue 23 item 6): the SN2007 division names
for divisions 01-43, each with its source; lookup by Norwegian words finds them. No Norwegian
List of Waste is shipped (none could be read as a whole), so EWC lookup stays English."""

import pytest

from sim_env.match import classifications as cl


def test_norwegian_words_find_the_division():
    assert cl.search_nace("papir")[0].code == "17"  # nothing found before: English only
    assert cl.search_nace("avløpsvann")[0].code == "37"
    assert cl.search_nace("fiske akvakultur")[0].code == "03"
    assert cl.nace("35").description_nb == "Elektrisitets-, gass-, damp- og varmtvannsforsyning"
    # English lookup is unchanged, and only divisions whose meaning Rev. 2.1 kept carry a name
    assert cl.search_nace("sewerage")[0].code == "37"
    named = {c for c, e in cl.nace_list().items() if e.description_nb}
    assert len(named) == 40 and all(e.level == "division" and "01" <= c <= "43" for c, e in
                                    ((c, cl.nace(c)) for c in named))
    assert not any(e.description_nb for e in cl.ewc_list().values())


def test_a_norwegian_name_without_its_source_is_refused_with_its_line(tmp_path):
    f = tmp_path / "nace.csv"
    f.write_text("code,level,parent,description_en,source,description_nb,source_nb\n"
                 "17,division,C,Manufacture of paper,src,Produksjon av papir,SN2007\n"
                 "37,division,E,Sewerage,src,Oppsamling av avløpsvann,\n", encoding="utf-8")
    with pytest.raises(cl.ListError, match=r"nace\.csv:3: source_nb: empty"):
        cl.nace_list(f)
