"""The opportunity pipeline per role: the facilitator manages every entry, a company's members see and
comment on their own company's entries only; stage changes keep a dated history and tell matchmaking
the outcome; the funnel counts stages and the time spent at each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cloud.workbench.pipeline.changes import change_stage, create
from cloud.workbench.pipeline.funnel import funnel
from cloud.workbench.pipeline.models import Opportunity, StageChange

from .conftest import DATA


def _url(name, park="park_a", **kw):
    return reverse(f"pipeline:{name}", kwargs={"park": park, **kw})


@pytest.fixture
def entries(world):
    """One opportunity of the fish farm alone, one of the biogas plant alone, one between them."""
    fac = world.users["facilitator_a"]
    return {
        "fish": create(world.park_a, fac, title="Fish sludge dried on site", supplier=world.fish, resource="material",
                       material="fish sludge", ewc="02 01 06"),
        "biogas": create(world.park_a, fac, title="Digestate to farmers", supplier=world.biogas, resource="material"),
        "both": create(world.park_a, fac, title="Sludge to the digester", supplier=world.fish, receiver=world.biogas,
                       resource="material", material="fish sludge"),
    }


def test_each_role_sees_the_entries_it_may(world, entries):
    seen = {}
    for role in ("member_a", "member_a2", "facilitator_a", "admin"):
        body = world.client(role).get(_url("list")).content.decode()
        seen[role] = {k for k, o in entries.items() if o.title in body}
    assert seen["member_a"] == {"fish", "both"}
    assert seen["member_a2"] == {"biogas", "both"}
    assert seen["facilitator_a"] == seen["admin"] == {"fish", "biogas", "both"}
    for role in ("member_b", "nobody"):
        assert world.client(role).get(_url("list")).status_code == 404
    # another company's entry does not exist for a member, whatever the page
    member_a = world.client("member_a")
    for name in ("detail", "edit"):
        assert member_a.get(_url(name, opportunity=entries["biogas"].pk)).status_code == 404
    assert member_a.get(_url("detail", opportunity=entries["both"].pk)).status_code == 200
    assert member_a.get(_url("edit", opportunity=entries["both"].pk)).status_code == 404  # members do not manage


def test_the_facilitator_adds_an_opportunity_with_an_owner(world):
    fac = world.client("facilitator_a")
    r = fac.post(_url("add"), {"title": "Waste heat to the fish", "supplier": world.biogas.pk,
                               "receiver": world.fish.pk, "resource": "heat", "owner": world.users["member_a"].pk,
                               "notes": "first talk in March"})
    assert r.status_code == 302, r.content.decode()[:2000]
    opp = Opportunity.objects.get(title="Waste heat to the fish")
    assert opp.owner == world.users["member_a"] and opp.stage == "idea"
    assert [(h.from_stage, h.to_stage, h.actor) for h in opp.history.all()] == [("", "idea", "facilitator_a")]
    # the owner must be someone of the park: the brewery's member (park B) is refused, the typed text kept
    r = fac.post(_url("add"), {"title": "Kept title", "owner": world.users["member_b"].pk})
    assert r.status_code == 400 and "Kept title" in r.content.decode()


def test_stage_changes_keep_a_dated_history(world, entries):
    fac = world.client("facilitator_a")
    opp = entries["both"]
    for stage, note in (("contacted", "called both"), ("feasibility", "sample taken")):
        assert fac.post(_url("stage", opportunity=opp.pk), {"stage": stage, "note": note}).status_code == 302
    # stopping needs the reason: refused with the field named, nothing changed
    r = fac.post(_url("stage", opportunity=opp.pk), {"stage": "stopped", "note": "x"})
    assert r.status_code == 400 and "Say why the opportunity stopped" in r.content.decode()
    opp.refresh_from_db()
    assert opp.stage == "feasibility"
    r = fac.post(_url("stage", opportunity=opp.pk), {"stage": "stopped", "stop_reason": "too wet to pump"})
    assert r.status_code == 302
    opp.refresh_from_db()
    assert (opp.stage, opp.stop_reason) == ("stopped", "too wet to pump")
    history = [(h.from_stage, h.to_stage, h.note, h.actor) for h in opp.history.all()]
    assert history == [("", "idea", "", "facilitator_a"), ("idea", "contacted", "called both", "facilitator_a"),
                       ("contacted", "feasibility", "sample taken", "facilitator_a"),
                       ("feasibility", "stopped", "", "facilitator_a")]
    times = [h.at for h in opp.history.all()]
    assert times == sorted(times)
    page = world.client("member_a2").get(_url("detail", opportunity=opp.pk)).content.decode()
    assert "too wet to pump" in page and "sample taken" in page
    # members see their entries but do not move them
    assert world.client("member_a").post(_url("stage", opportunity=opp.pk), {"stage": "idea"}).status_code == 404


def test_members_comment_on_their_own_entries_only(world, entries):
    member_a = world.client("member_a")
    both = _url("comment", opportunity=entries["both"].pk)
    assert member_a.post(both, {"text": "We can dry it to 30 %"}).status_code == 302
    page = world.client("member_a2").get(_url("detail", opportunity=entries["both"].pk)).content.decode()
    assert "We can dry it to 30 %" in page
    assert member_a.post(_url("comment", opportunity=entries["biogas"].pk), {"text": "x"}).status_code == 404
    r = member_a.post(_url("comment", opportunity=entries["both"].pk), {"text": ""})
    assert r.status_code == 400 and "This field is required" in r.content.decode()


def test_the_plan_texts_are_prefilled_from_cited_rules(world, entries):
    page = world.client("facilitator_a").get(_url("edit", opportunity=entries["fish"].pk)).content.decode()
    assert "Regulation (EC) No 1069/2009" in page and "Directive 2008/98/EC" in page
    steam = create(world.park_a, None, title="Steam to the dryer", resource="steam")
    page = world.client("facilitator_a").get(_url("detail", opportunity=steam.pk)).content.decode()
    assert "Directive 2014/68/EU" in page and "1069/2009" not in page


def test_the_funnel_counts_stages_and_days(world, entries):
    now = timezone.now()
    fish, biogas, both = entries["fish"], entries["biogas"], entries["both"]
    change_stage(fish, "contacted", None)
    change_stage(both, "agreed", None)  # skipped contacted and feasibility: it still passed them
    change_stage(biogas, "stopped", None, stop_reason="no buyer")
    # put the history on known dates: each opportunity created 10 days ago, moved 4 days ago
    for opp in (fish, biogas, both):
        first, second = opp.history.all()
        StageChange.objects.filter(pk=first.pk).update(at=now - timedelta(days=10))
        StageChange.objects.filter(pk=second.pk).update(at=now - timedelta(days=4))
    rows = {s.stage: s for s in funnel(Opportunity.objects.filter(park=world.park_a), at=now)}
    assert {s: r.now for s, r in rows.items()} == {"idea": 0, "contacted": 1, "feasibility": 0, "agreed": 1,
                                                   "running": 0, "stopped": 1}
    assert {s: r.reached for s, r in rows.items()} == {"idea": 3, "contacted": 2, "feasibility": 1, "agreed": 1,
                                                       "running": 0, "stopped": 1}
    assert rows["idea"].mean_days == pytest.approx(6.0) and rows["contacted"].mean_days == pytest.approx(4.0)
    assert rows["feasibility"].mean_days is None
    page = world.client("facilitator_a").get(_url("funnel")).content.decode()
    assert 'role="img"' in page and "<title id=\"funnel-title\">" in page and "<td>6.0</td>" in page
    # a member's funnel counts only its own company's entries
    page = world.client("member_a2").get(_url("funnel")).content.decode()
    assert "2 opportunities, by stage" in page


def test_stage_changes_tell_matchmaking(db):
    """agreed -> accepted, running -> implemented, stopped -> rejected with the reason, through
    the opportunities app's record_outcome (on the bakery park, whose candidates rank)."""
    from cloud.workbench.opportunities.models import Outcome
    from cloud.workbench.parks.importer import import_park
    from cloud.workbench.pipeline.assess import fill_from_ranking

    park = import_park(DATA / "bakery_park.yaml", actor="test")
    first, second = fill_from_ranking(park, 2)
    assert first.key and first.supplier is not None and first.receiver is not None
    change_stage(first, "agreed", None, note="signed")
    change_stage(first, "running", None)
    change_stage(second, "stopped", None, stop_reason="the greenhouse closes in winter")
    told = list(Outcome.objects.filter(park=park).order_by("pk").values_list("key", "status", "reason"))
    assert told == [(first.key, "accepted", "signed"), (first.key, "implemented", ""),
                    (second.key, "rejected", "the greenhouse closes in winter")]
    assert [h.outcome for h in first.history.all()] == ["", "accepted", "implemented"]


def test_the_pipeline_and_its_plan_in_norwegian(world, entries):
    from django.conf import settings

    fac = world.client("facilitator_a")
    fac.cookies[settings.LANGUAGE_COOKIE_NAME] = "nb"
    page = fac.get(_url("action_plan")).content.decode()
    assert 'lang="nb"' in page and "Handlingsplan for industriell symbiose" in page
    assert "Klassifiser materialet som animalsk biprodukt" in page  # the rules' text, translated, with the citation
    assert "Regulation (EC) No 1069/2009" in page
    page = fac.get(_url("list")).content.decode()
    assert "Mulighetsløp" in page and "Idé (" in page


def test_the_park_page_links_the_pipeline_for_those_who_may_use_it(world):
    link = reverse("pipeline:list", kwargs={"park": "park_a"})
    shown = {role for role in ("nobody", "member_a", "member_a2", "member_b", "facilitator_a", "admin")
             if link in world.client(role).get(reverse("parks:detail", kwargs={"park": "park_a"})).content.decode()}
    assert shown == {"member_a", "member_a2", "facilitator_a", "admin"}


def test_a_partner_is_named_to_members_only_if_it_chose_to_be(world, entries):
    both = _url("detail", opportunity=entries["both"].pk)
    assert world.client("member_a2").post(_url("comment", opportunity=entries["both"].pk),
                                          {"text": "Our digester takes 1,200 t"}).status_code == 302
    page = world.client("member_a").get(both).content.decode()
    assert "Biogas plant" not in page and "an energy company 1.1 km away" in page
    assert "member_a2" not in page and "a member of the partner company" in page and "Our digester takes" in page
    assert "Biogas plant" not in world.client("member_a").get(_url("list")).content.decode()
    assert "Biogas plant" in world.client("facilitator_a").get(both).content.decode()
    world.biogas.named_to_partners = True
    world.biogas.save()
    page = world.client("member_a").get(both).content.decode()
    assert "Biogas plant" in page and "member_a2" in page


def test_a_park_that_cannot_be_matched_is_said_so(world):
    """Park A states NOK costs but no EUR rate: matchmaking refuses it, in one line on the page."""
    fac = world.client("facilitator_a")
    for name, data in (("fill", {"count": 3}), ("assess", {"hours": 24})):
        r = fac.post(_url(name), data, follow=True)
        assert r.status_code == 200
        assert "The park cannot be matched as it is:" in r.content.decode(), name
    assert not Opportunity.objects.filter(park=world.park_a).exists()
