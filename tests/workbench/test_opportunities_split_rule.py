"""The park's split rule and what its own outcomes changed (opportunities:split_rule): the facilitator
sets the rule every company's share follows; the refit on recorded outcomes changes rankings."""

from __future__ import annotations

import time

from django.urls import reverse

from cloud.workbench.opportunities.outcomes import feedback, record_outcome

from .test_opportunities_company import articles, bakery  # noqa: F401  (the fixture)


def _url(bakery):  # noqa: F811
    return reverse("opportunities:split_rule", kwargs={"park": bakery.park.slug})


def test_the_facilitator_sets_the_rule_the_shares_follow(bakery):  # noqa: F811
    assert bakery.client("bakery").get(_url(bakery)).status_code == 404
    f = bakery.client("facilitator")
    assert "cost sharing" in f.get(_url(bakery)).content.decode()
    heat = articles(bakery.client("bakery").get(bakery.url()).content.decode())[0]
    assert "Your money per year</dt><dd>0.00 NOK" in heat  # vented heat: under cost sharing the bakery saves nothing
    assert f.post(_url(bakery), {"rule": "transfer price"}).status_code == 302
    html = bakery.client("bakery").get(bakery.url()).content.decode()
    assert "<strong>transfer price</strong>" in html
    assert "Your money per year</dt><dd>553 k NOK" in articles(html)[0]  # paid half the gas boiler's cost per kWh
    r = f.post(_url(bakery), {"rule": "whoever shouts"})
    assert r.status_code == 400 and "Select a valid choice" in r.content.decode()


def test_the_parks_outcomes_change_its_rankings(bakery):  # noqa: F811
    park = bakery.park
    assert feedback(park).outcomes == 0
    record_outcome(park, "ovens.bread_waste>digester.feed:direct", "rejected", reason="too far")
    record_outcome(park, "ovens.waste_heat>glasshouse.heating:direct", "accepted")
    t = time.perf_counter()
    fb = feedback(park)
    print(f"refit on 2 outcomes: {fb.changed} of {fb.rankings} rankings changed ({fb.companies} companies), "
          f"{time.perf_counter() - t:.1f} s")
    assert (fb.outcomes, fb.rankings) == (2, 3) and fb.changed >= 2 and fb.companies >= 1
    said = f"Your park&#x27;s 2 recorded outcomes changed the order of {fb.changed} of 3 receiver rankings"
    assert said in bakery.client("facilitator").get(_url(bakery)).content.decode()
    assert said in bakery.client("greenhouse").get(bakery.url("greenhouse")).content.decode()
    from django.template import Context, Template  # the sentence for the facilitator's other pages

    tag = Template("{% load opportunities_links %}{% matchmaking_feedback park %}").render(Context({"park": park}))
    assert said in tag


def test_every_rule_splits_the_whole_estimate(bakery):  # noqa: F811
    """Each rule's two shares of a candidate add up to matchmaking's money for it (sim_env/match/shares.py)."""
    from cloud.workbench.opportunities.matches import park_match
    from sim_env.match.shares import estimated_splits

    pm = park_match(bakery.park)
    for key, plan in pm.plans.items():
        shares = estimated_splits(plan.match, pm.ranked.opts, plan.investment)
        if plan.match.money is None:  # e.g. a new input of the receiver: no money estimated, nothing to split
            assert shares == [], key
            continue
        for rule in ("cost sharing", "50/50", "transfer price"):
            net = sum(s.net for s in shares if s.rule == rule)
            assert abs(net - plan.match.money) <= 1e-6 * abs(plan.match.money), (key, rule)


def test_the_refit_on_stored_rows_is_the_clis_on_a_file(bakery, tmp_path):  # noqa: F811
    """The outcomes written as the CLI's --outcomes table rank exactly as the stored rows do."""
    import csv

    from cloud.workbench.opportunities.matches import park_match
    from cloud.workbench.opportunities.outcomes import corpus_rows
    from sim_env.match.corpus import COLUMNS
    from sim_env.match.receivers import rank_outputs, rank_outputs_of

    park = bakery.park
    record_outcome(park, "ovens.bread_waste>digester.feed:direct", "rejected", reason="too far")
    rows = corpus_rows(park)
    path = tmp_path / "outcomes.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for x in rows:
            w.writerow([getattr(x, c) for c in COLUMNS])
    pm = park_match(park)
    by_file = rank_outputs(pm.ranked.profiles, pm.ranked.candidates, (str(path),))
    by_rows = rank_outputs_of(pm.ranked.profiles, pm.ranked.candidates, rows)
    assert [[(r.name, round(r.score, 12)) for r in o.ranked] for o in by_file] == \
        [[(r.name, round(r.score, 12)) for r in o.ranked] for o in by_rows]
