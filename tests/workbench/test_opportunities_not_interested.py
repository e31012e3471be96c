""""Not interested" (opportunities:not_interested), the hidden list (opportunities:hidden) and "show it
again" (opportunities:show_again): an outcome stored with its reason, the candidate hidden from the
company's list and back; record_outcome as the pipeline calls it."""

from __future__ import annotations

import pytest

from cloud.workbench.opportunities.models import Outcome
from cloud.workbench.opportunities.outcomes import hidden, record_outcome

from .test_opportunities_company import articles, bakery  # noqa: F401  (the fixture)

BREAD = "ovens.bread_waste>digester.feed:direct"


def test_not_interested_is_stored_and_hides_the_candidate(bakery):  # noqa: F811
    c = bakery.client("bakery")
    before = articles(c.get(bakery.url()).content.decode())
    r = c.post(bakery.url(name="not_interested"), {"key": BREAD, "reason": "too far", "detail": "no truck access"})
    assert r.status_code == 302 and r["Location"] == bakery.url()
    o = Outcome.objects.get(park=bakery.park, key=BREAD)
    assert (o.supplier, o.receiver, o.company.slug, o.status) == ("bakery", "biogas", "bakery", "rejected")
    assert o.reason == "too far: no truck access" and o.user == bakery.users["bakery"]
    assert (o.supplier_nace, o.receiver_nace, o.resource) == ("10.71", "35.21", "02 06 01")
    html = c.get(bakery.url()).content.decode()
    after = articles(html)
    assert len(after) == len(before) - 1 and not any("EWC 02 06 01" in a for a in after)
    assert "1 hidden opportunity" in html
    listed = c.get(bakery.url(name="hidden")).content.decode()
    assert "biomass EWC 02 06 01" in listed and "too far: no truck access" in listed and "Show it again" in listed
    # the partner still sees it: only the company that said no hides it
    assert any("EWC 02 06 01" in a for a in articles(bakery.client("biogas").get(bakery.url("biogas")).content.decode()))
    r = c.post(bakery.url(name="show_again"), {"key": BREAD})
    assert r.status_code == 302
    assert len(articles(c.get(bakery.url()).content.decode())) == len(before)
    assert Outcome.objects.get(park=bakery.park, key=BREAD).withdrawn  # kept for the record


@pytest.mark.parametrize("data, why", [
    ({"reason": "too far"}, "key: This field is required."),
    ({"key": BREAD, "reason": "because"}, "reason: Select a valid choice."),
    ({"key": "nothing>nowhere:direct", "reason": "other"}, "key: &#x27;nothing&gt;nowhere:direct&#x27; is not a candidate"),
])
def test_a_bad_request_is_refused_in_one_line(bakery, data, why):  # noqa: F811
    r = bakery.client("bakery").post(bakery.url(name="not_interested"), data)
    assert r.status_code == 400 and why in r.content.decode()
    assert not Outcome.objects.filter(park=bakery.park).exists()


def test_only_get_is_refused_and_only_members_say_no(bakery):  # noqa: F811
    assert bakery.client("bakery").get(bakery.url(name="not_interested")).status_code == 405
    r = bakery.client("greenhouse").post(bakery.url(name="not_interested"), {"key": BREAD, "reason": "other"})
    assert r.status_code == 404 and not Outcome.objects.exists()
    assert bakery.client("greenhouse").post(bakery.url(name="show_again"), {"key": BREAD}).status_code == 404


def test_show_again_only_what_the_company_hid(bakery):  # noqa: F811
    r = bakery.client("bakery").post(bakery.url(name="show_again"), {"key": BREAD})
    assert r.status_code == 400 and "key: not a candidate your company said no to" in r.content.decode()


def test_record_outcome_as_the_pipeline_calls_it(bakery):  # noqa: F811
    park, bakery_co = bakery.park, bakery.companies["bakery"]
    stopped = record_outcome(park, BREAD, "rejected", reason="permit refused")  # said for both companies
    assert stopped.company is None and BREAD in hidden(park, bakery_co) and BREAD in hidden(park, bakery.companies["biogas"])
    assert BREAD not in hidden(park, bakery.companies["greenhouse"])
    record_outcome(park, BREAD, "accepted")  # agreed after all: back in both lists
    assert BREAD not in hidden(park, bakery_co)
    assert record_outcome(park, BREAD, "implemented", company=bakery_co).status == "implemented"
    with pytest.raises(ValueError, match=r"^status: 'maybe' is not one of accepted, implemented, rejected$"):
        record_outcome(park, BREAD, "maybe")
    with pytest.raises(ValueError, match=r"^company: greenhouse is neither the supplier nor the receiver"):
        record_outcome(park, BREAD, "accepted", company=bakery.companies["greenhouse"])
    with pytest.raises(ValueError, match=r"^company: fish is neither"):  # another park's company
        record_outcome(park, BREAD, "accepted", company=bakery.world.fish)
    with pytest.raises(KeyError, match="is not a candidate of park bakery_park"):
        record_outcome(park, "a>b:direct", "accepted")
