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
