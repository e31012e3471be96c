"""The best set of K (facilitation:best_set): once the twin's job is done, the set with its
interactions and each company's Shapley split, money only where the companies granted it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .test_facilitation_matches import bakery_world

pytest.importorskip("cloud.workbench.simulations.worker", reason="the twin's jobs are not installed")


@pytest.fixture
def search(world):
    """A best set of 2 of the bakery park's two best candidates, simulated for a week by the twin's own worker."""
    from cloud.workbench.engine import key
    from cloud.workbench.facilitation.ranking import ranked
    from cloud.workbench.simulations.models import Job
    from cloud.workbench.simulations.worker import run

    w = bakery_world(world)
    c = w.client("facilitator_a")
    shortlist = reverse("facilitation:shortlist", kwargs={"park": "bakery_park"})
    for cand in ranked(w.bakery_park).ranked.candidates[:2]:
        c.post(shortlist, {"key": key(cand)})
    r = c.post(shortlist, {"size": "2"})
    job = Job.objects.get()
    Job.objects.filter(pk=job.pk).update(hours=168)  # a week scaled to a year: the test's horizon, not a year's
    run(job.pk, slots=False)  # what the worker process does, here (the test database is this connection's)
    job.refresh_from_db()
    assert job.state == Job.DONE, job.error
    w.url = r["Location"]
    return w


def test_the_best_set_with_its_interactions(search):
    r = search.client("facilitator_a").get(search.url)
    assert r.status_code == 200
    members = r.context["members"]
    assert [(m["supplier"], m["receiver"]) for m in members] == [("Fjordbakeriet", "Grønt Veksthus"),
                                                                 ("Fjordbakeriet", "Midt Biogass")]
    assert all(m["alone"] is None for m in members)  # no company granted its costs to the facilitator
    assert {s["company"] for s in r.context["shapley"]} == {"Fjordbakeriet", "Grønt Veksthus", "Midt Biogass"}
    assert all(s["gain"] is None for s in r.context["shapley"])
    assert "not shared" in r.content.decode() and 'hx-trigger="every 3s"' not in r.content.decode()


def test_money_where_the_companies_granted_it(search):
    search.bakery_park.companies.update(share_private_with_facilitator=True)
    r = search.client("facilitator_a").get(search.url)
    members, shapley = r.context["members"], r.context["shapley"]
    assert all(m["alone"] > 0 and m["marginal"] is not None for m in members)
    gains = {s["company"]: s["gain"] for s in shapley}
    assert all(v is not None and v > 0 for v in gains.values())
    assert r.context["shapley"][0]["payback"] is not None
    print("best set of 2: " + ", ".join(f"{m['supplier']} -> {m['receiver']} alone {m['alone']:,.0f}, "
                                        f"marginal {m['marginal']:,.0f}" for m in members)
          + "; Shapley " + ", ".join(f"{k} {v:,.0f}" for k, v in gains.items()))
