"""The shortlist (facilitation:shortlist): add and remove candidates by their stable key with a
note; "find the best set of K" submits a twin job and links to it."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from .test_facilitation_matches import bakery_world

URL = "/parks/bakery_park/facilitate/shortlist/"


@pytest.fixture
def bakery(world):
    return bakery_world(world)


def keys(bakery) -> list[str]:
    from cloud.workbench.engine import key
    from cloud.workbench.facilitation.ranking import ranked

    return [key(c) for c in ranked(bakery.bakery_park).ranked.candidates]


def test_add_note_and_remove(bakery):
    from cloud.workbench.facilitation.models import ShortlistEntry

    c, k = bakery.client("facilitator_a"), keys(bakery)
    r = c.post(URL, {"key": k[0], "note": "call the greenhouse first", "next": "/parks/bakery_park/facilitate/"})
    assert r.status_code == 302 and r["Location"] == "/parks/bakery_park/facilitate/"
    c.post(URL, {"key": k[1], "note": ""})
    page = c.get(URL)
    assert [i["entry"].key for i in page.context["items"]] == k[:2]
    assert page.context["items"][0]["row"]["supplier"] == "Fjordbakeriet"
    assert "call the greenhouse first" in page.content.decode()
    matches = c.get("/parks/bakery_park/facilitate/").context["rows"]
    assert matches[0]["shortlisted"] == "call the greenhouse first" and matches[2]["shortlisted"] is None
    c.post(URL, {"key": k[0], "note": "greenhouse said yes"})  # the same candidate again: its note changes
    assert ShortlistEntry.objects.get(park=bakery.bakery_park, key=k[0]).note == "greenhouse said yes"
    c.post(URL, {"remove": k[0]})
    assert list(ShortlistEntry.objects.filter(park=bakery.bakery_park).values_list("key", flat=True)) == [k[1]]


def test_a_key_that_is_no_candidate_is_refused(bakery):
    r = bakery.client("facilitator_a").post(URL, {"key": "nothing>nowhere:direct", "note": "x"})
    assert r.status_code == 400
    assert "“nothing>nowhere:direct” is not a candidate of the park as it is now" in html.unescape(r.content.decode())


def test_k_larger_than_the_shortlist_is_refused(bakery):
    from cloud.workbench.facilitation.models import BestSetSearch

    c, k = bakery.client("facilitator_a"), keys(bakery)
    c.post(URL, {"key": k[0]})
    r = c.post(URL, {"size": "3"})
    assert r.status_code == 400 and r.context["form"].errors["size"] == [
        "K can be at most 1, the number of candidates on the shortlist."]
    r = c.post(URL, {"size": "9"})
    assert r.status_code == 400 and r.context["form"].errors["size"][0].startswith("The twin splits sets of at most 8")
    assert not BestSetSearch.objects.exists()


def test_find_the_best_set_submits_a_twin_job_and_links_to_it(bakery):
    from cloud.workbench.facilitation.models import BestSetSearch

    pytest.importorskip("cloud.workbench.simulations.store", reason="the twin's jobs are not installed")
    from cloud.workbench.simulations.models import Job

    c, k = bakery.client("facilitator_a"), keys(bakery)
    for x in k[:2]:
        c.post(URL, {"key": x})
    r = c.post(URL, {"size": "2"})
    s = BestSetSearch.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("facilitation:best_set", kwargs={
        "park": "bakery_park", "search": s.pk})
    job = Job.objects.get(pk=int(s.job))
    assert (job.keys, job.set_size, job.company, job.version) == (k[:2], 2, None, s.version)
    page = c.get(r["Location"])
    job_url = reverse("simulations:job", kwargs={"park": "bakery_park", "job": job.pk})
    assert page.status_code == 200 and f'href="{job_url}"' in page.content.decode()
    assert 'hx-trigger="every 3s"' in page.content.decode()  # polls until the job is done
    polled = c.get(r["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert polled.lstrip().startswith('<div id="state"') and "<html" not in polled
