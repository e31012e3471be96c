"""Issue 23 items 1, 2 and 6: the corpus of documented exchanges, the sector prior, the full ranking, the benchmark."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from sim_env.match import corpus, ranking
from sim_env.match.prior import SectorPrior

ROOT = Path(__file__).resolve().parents[2]
SMALL = Path(__file__).parent / "match_data" / "exchanges_small.csv"


def test_corpus_rows_are_cited_and_cover_every_family():
    xs = corpus.load()
    assert len(xs) >= 100 and len({x.park for x in xs}) >= 10
    assert {x.family for x in xs} == set(corpus.FAMILIES)
    assert all(x.source.startswith(("doi:10.", "https://")) for x in xs)


@pytest.mark.parametrize("column,value,why", [
    ("source", "a talk I heard", "source: names a DOI"),
    ("source", "", "source: empty"),
    ("giver_nace", "bakery", "giver_nace: a NACE code"),
    ("resource", "bread", "resource: 'bread' is neither an EWC code"),
])
def test_a_corpus_row_without_a_source_or_with_a_bad_code_is_refused(tmp_path, column, value, why):
    with open(SMALL, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows[2][column] = value
    bad = tmp_path / "x.csv"
    with open(bad, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=corpus.COLUMNS)
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(corpus.CorpusError, match=rf"x\.csv:4: {why}"):
        corpus.load(bad)


def test_families():
    assert corpus.family("steam") == "heat_steam"
    assert corpus.family("02 07 01") == "organic" and corpus.family("19 08 05") == "organic"
    assert corpus.family("10 01 05") == "inorganic" and corpus.family("co2") == "gases"


def test_the_prior_is_smoothed_across_nace_levels():
    xs = corpus.load(SMALL)
    prior = SectorPrior([x for x in xs if x.park != "B"])
    # seen at class level: power (35.11) gives inorganic residues to plaster (23.62)
    assert prior.p("35.11", "inorganic", "23.62") > 10 * prior.p("35.11", "inorganic", "01.41")
    # 35.12 was never seen as a giver: its group 35.1 carries it
    assert prior.p("35.12", "inorganic", "23.62") > 10 * prior.p("35.12", "inorganic", "01.41")
    # 01.46 was never a receiver: its group 01.4 (farms took spent grain) carries it
    assert prior.p("11.05", "organic", "01.46") > 10 * prior.p("11.05", "organic", "23.62")
    # a family never seen from this giver falls back to the giver's other families and the family's receivers
    assert 0 < prior.p("35.11", "gases", "19.20") < 1


def test_the_ranking_is_complete_banded_and_says_why():
    xs = corpus.load()
    train = [x for x in xs if x.park != "Kalundborg"]
    model = ranking.fit(train)
    assert model.coef[ranking.FEATURES.index("known_use")] > 0
    assert model.coef[ranking.FEATURES.index("takes_family")] > 0
    prior = SectorPrior(train)
    park = ranking.companies(xs)["Kalundborg"]
    receivers = [(n, c) for n, c in park.items() if n != "Asnaes power station"]
    ranked = ranking.rank("35.11", "10 01 05", receivers, model, prior)
    assert len(ranked) == len(receivers) == len(park) - 1  # every company of the park is ranked
    assert ranked[0].name == "Gyproc" and ranked[0].band == "documented use"
    assert "a documented use fits" in ranked[0].reasons
    assert {r.band for r in ranked} <= set(ranking.BANDS)
    assert all(0 < r.score < 1 for r in ranked)
    # an output the knowledge base knows nothing about is still ranked in full, by the prior
    unknown = ranking.rank("35.11", "16 05 09", receivers, model, prior)
    assert len(unknown) == len(receivers) and len({round(r.score, 9) for r in unknown}) > 1


def _bench():
    spec = importlib.util.spec_from_file_location("bench_match_recall", ROOT / "benchmarks" / "bench_match_recall.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_benchmark_takes_any_exchange_table(capsys):
    bench = _bench()
    assert bench.main([str(SMALL), "--boot", "20"]) == 0
    out = capsys.readouterr().out
    assert "12 exchanges in 3 parks" in out
    for m in ("aisym", "prior", "sector", "random"):
        assert m in out
    assert bench.expected(np.array([3.0, 1.0, 1.0, 1.0]), 1) == pytest.approx((np.mean([1 / 2, 1 / 3, 1 / 4]), 0, 2 / 3, 1))


def test_the_benchmark_refuses_a_bad_table_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("park,giver\nA,B\n", encoding="utf-8")
    assert _bench().main([str(bad)]) == 2
    assert "bad.csv:1: header: missing column(s)" in capsys.readouterr().err


def test_every_output_of_a_park_ranks_every_other_company(tmp_path):
    import json

    from typer.testing import CliRunner

    from aisym.cli import app

    bakery = tmp_path / "bakery.csv"
    bakery.write_text("company_id,company_name,nace,direction,flow_id,resource,material,ewc,temperature_c,quantity\n"
                      "bakery,Bakery,10.71,output,bread,material,bread,02 06 01,,50 t/yr\n"
                      "bakery,Bakery,10.71,output,oven_heat,heat,,,60,40 kW\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["match", "aisym/parks/kalundborg.yaml", "--profiles", str(bakery),
                                   "--receivers", "3", "--format", "json"])
    assert res.exit_code == 0, res.output
    outputs = json.loads(res.output)
    companies = {o["supplier"] for o in outputs} | {r["company"] for o in outputs for r in o["ranked"]}
    assert len(companies) == 18  # 17 companies of the park and the bakery
    for o in outputs:  # main: 0.9 companies proposed per output, the rest unranked
        assert sorted(r["company"] for r in o["ranked"]) == sorted(companies - {o["supplier"]}), o["output"]
        assert all(r["band"] in ranking.BANDS for r in o["ranked"])
    bread = next(o for o in outputs if o["supplier"] == "bakery" and o["output"] == "bread")
    assert bread["ranked"][0]["company"] == "kalundborg_bioenergi"  # main: bread to the gas-grid operator
    assert bread["ranked"][0]["band"] == "documented use" and bread["ranked"][0]["reasons"]


def test_a_parks_recorded_outcomes_move_its_ranking(tmp_path):
    import json

    from typer.testing import CliRunner

    from aisym.cli import app

    bakery = tmp_path / "bakery.csv"
    bakery.write_text("company_id,company_name,nace,direction,flow_id,resource,material,ewc,quantity\n"
                      "bakery,Bakery,10.71,output,bread,material,bread,02 06 01,50 t/yr\n", encoding="utf-8")
    outcomes = Path(__file__).parent / "match_data" / "outcomes_bakery.csv"
    args = ["match", "aisym/parks/kalundborg.yaml", "--profiles", str(bakery), "--receivers", "3", "--format", "json"]

    def bread(extra):
        res = CliRunner().invoke(app, args + extra)
        assert res.exit_code == 0, res.output
        return next(o for o in json.loads(res.output) if o["output"] == "bread")["ranked"]

    before, after = bread([]), bread(["--outcomes", str(outcomes)])
    assert before[0]["company"] == "kalundborg_bioenergi" and before[0]["band"] == "documented use"
    assert after[0]["company"] == "pig_farms" and after[0]["reasons"][0] == "the park recorded: implemented"
    assert after[-1]["company"] == "kalundborg_bioenergi"
    assert after[-1]["reasons"][0] == "the park recorded: rejected: too little to truck"
    assert len(after) == len(before)  # still every company ranked
    # the prior counts the rejections against the pair
    xs = corpus.load() + corpus.load(outcomes)
    assert SectorPrior(xs).p("10.71", "organic", "35.21") < SectorPrior(corpus.load()).p("10.71", "organic", "35.21")


def test_a_regions_top_k_is_the_head_of_its_full_ranking():
    spec = importlib.util.spec_from_file_location("bench_match_region", ROOT / "benchmarks" / "bench_match_region.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from sim_env.match.receivers import rank_outputs

    profiles = bench.region(150, seed=1)
    full, head = rank_outputs(profiles), rank_outputs(profiles, top=5)
    assert len(full) == len(head) == 300
    for f, h in zip(full, head, strict=True):
        assert f.n_ranked == h.n_ranked == 149 == len(f.ranked)  # every other company ranked
        assert [r.score for r in h.ranked] == [r.score for r in f.ranked[:5]]
        assert f.supplier.id not in {r.name for r in f.ranked}


def test_another_tables_words_for_carriers_sections_and_years_are_read(tmp_path):
    table = tmp_path / "other.csv"
    table.write_text(
        "park,year,giver,giver_nace,resource,receiver,receiver_nace,status,source\n"
        "P,1990s,Refinery,C19.20,Fuel gas,Plaster,23.62,operating,https://example.org/a\n"
        "P,ca. 2004,Town,E37.00,Waste water,Power,D3511,operating,https://example.org/a\n"
        "P,,Power,35.11,100105*,Plaster,23.62,ended,https://example.org/a\n", encoding="utf-8")
    xs = corpus.load(table)
    assert [(x.year, x.giver_nace, x.resource, x.receiver_nace) for x in xs] == [
        (1990, "19.20", "natural_gas", "23.62"), (2004, "37.00", "water:wastewater", "35.11"),
        (None, "35.11", "10 01 05*", "23.62")]


def test_options_that_do_not_go_together_are_refused_in_one_line():
    from typer.testing import CliRunner

    from aisym.cli import app

    run = CliRunner().invoke
    r = run(app, ["match", "aisym/parks/kraakoya.yaml", "--outcomes", str(SMALL)])
    assert r.exit_code == 2 and "--outcomes goes with --receivers" in r.output
    r = run(app, ["match", "aisym/parks/kraakoya.yaml", "--receivers", "3", "--simulate"])
    assert r.exit_code == 2 and "one at a time" in r.output
    bad = Path(__file__).parent / "match_data" / "synthetic_park.yaml"  # not an exchange table
    r = run(app, ["match", "aisym/parks/kraakoya.yaml", "--receivers", "3", "--outcomes", str(bad)])
    assert r.exit_code == 2 and "header: missing column(s)" in r.output


def test_the_receivers_as_csv():
    from typer.testing import CliRunner

    from aisym.cli import app

    r = CliRunner().invoke(app, ["match", "aisym/parks/kalundborg.yaml", "--receivers", "2", "--format", "csv"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(r.output.splitlines()))
    outputs = {(x["supplier"], x["output"]) for x in rows}
    assert len(rows) == 2 * len(outputs) and {x["rank"] for x in rows} == {"1", "2"}
    assert all(x["companies_ranked"] == "16" and x["band"] in ranking.BANDS for x in rows)


@pytest.mark.parametrize("extra", [["--top", "5"], ["--explain"]])
def test_receivers_refuse_options_they_would_ignore(extra):
    """Nothing given is silently ignored: --top and --explain belong to the candidate table."""
    from typer.testing import CliRunner

    from aisym.cli import app

    res = CliRunner().invoke(app, ["match", "aisym/parks/kalundborg.yaml", "--receivers", "3", *extra])
    assert res.exit_code == 2 and extra[0] in res.stderr and res.stderr.count("\n") == 1

