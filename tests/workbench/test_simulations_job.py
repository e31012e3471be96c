"""'Test it in the twin': the start view, the job page and its partial, the cache, who sees what.

Jobs run inline here (``AISYM_WORKBENCH_TWIN_WORKER=inline``): Django's test database lives in
this process's transaction, which a worker process could not see. The worker processes, their
death and the server's restart are tested against a served workbench in test_simulations_worker.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import PASSWORD

DATA = Path(__file__).parent / "data"
HOURS = 168.0


@pytest.fixture
def bakery(world, monkeypatch):
    """The bakery park, its bakery's member ``baker``, the biogas plant's ``digester`` and its facilitator."""
    from django.contrib.auth import get_user_model

    from cloud.workbench import engine
    from cloud.workbench.accounts.audit import acting_as
    from cloud.workbench.accounts.models import Facilitator, Membership
    from cloud.workbench.parks.importer import import_park

    monkeypatch.setenv("AISYM_WORKBENCH_TWIN_WORKER", "inline")
    park = import_park(DATA / "bakery_park.yaml", actor="test")
    User = get_user_model()
    with acting_as(None, "test"):
        users = {n: User.objects.create_user(n, password=PASSWORD) for n in ("baker", "digester", "fac")}
        Membership.objects.create(user=users["baker"], company=park.companies.get(slug="bakery"))
        Membership.objects.create(user=users["digester"], company=park.companies.get(slug="biogas"))
        Facilitator.objects.create(user=users["fac"], park=park)
    world.bakery_park, world.bakery_users = park, users
    world.keys = [engine.key(c) for c in engine.rank(park).candidates if c.existing is None]
    return world


def _client(world, name):
    from django.test import Client

    c = Client()
    c.force_login(world.bakery_users[name])
    return c


def _start(client, park, keys, **fields):
    return client.post(f"/parks/{park.slug}/twin/test/", {"key": keys, "hours": HOURS, **fields})


def test_the_bakery_tests_a_candidate_and_reads_its_share(bakery):
    from cloud.workbench.simulations.models import Job

    park, key = bakery.bakery_park, bakery.keys[0]  # the ovens' heat to the greenhouse
    r = _start(_client(bakery, "baker"), park, [key], company="bakery")
    assert r.status_code == 302
    job = Job.objects.get()
    assert r["Location"] == f"/parks/{park.slug}/twin/jobs/{job.pk}/"
    assert job.state == Job.DONE and job.company.slug == "bakery" and job.keys == [key]
    from cloud.workbench.opportunities.models import ParkSplitRule
    from cloud.workbench.simulations.summary import about

    page = _client(bakery, "baker").get(r["Location"]).content.decode()
    assert "no money for you under this rule" in page  # cost sharing: the heat was vented at no cost
    ParkSplitRule.objects.create(park=park, rule="50/50")  # the facilitator's choice: the summary follows it
    page = _client(bakery, "baker").get(r["Location"]).content.decode()
    share = next(g for g in job.result["companies"]["bakery"] if g["rule"] == "50/50")
    co2 = job.result["ranking"][0]["co2_avoided_t_per_year"]
    assert (f"about {about(share['gain_per_year'])} NOK a year for you, {about(co2)} t CO2 less, pays back in "
            f"{about(share['payback_years'])} years (split rule: 50/50)") in page
    assert "Your share under each split rule" in page
    drawn = bool(job.result["flows_before"]) + bool(job.result["flows_after"][job.result["ranking"][0]["id"]])
    assert drawn == 1 and page.count("<svg") == drawn  # the bakery park has no exchange yet: after only
    assert f"{share['gain_per_year']:,.0f}" in page  # its 50/50 share, in the table of rules
    own = {f"{g[f]:,.0f}" for g in job.result["companies"]["bakery"] for f in ("gain_per_year", "investment", "net_per_year")}
    partner = {f"{g[f]:,.0f}" for g in job.result["companies"]["greenhouse"]
               for f in ("gain_per_year", "investment", "net_per_year")} - own
    assert partner and not [x for x in partner if x in page]  # never the partner's money
    assert f"{job.result['ranking'][0]['saved_per_year']:,.0f}" not in page  # nor the total (total - own = partner's)
    assert 'hx-trigger="every 1s"' not in page  # done: no more polling
    assert "Grønt Veksthus" not in page and "km away" in page  # the greenhouse did not choose to be named
    norsk = _client(bakery, "baker").get(r["Location"], HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "i året for dere" in norsk and "Deres andel under hver fordelingsregel" in norsk


def test_a_second_request_is_answered_from_the_cache(bakery):
    from cloud.workbench.simulations.models import Job

    park, keys = bakery.bakery_park, bakery.keys[:2]
    baker = _client(bakery, "baker")
    first = _start(baker, park, keys, company="bakery")
    again = _start(baker, park, list(reversed(keys)), company="bakery")  # the order does not matter
    assert first["Location"] == again["Location"] and Job.objects.count() == 1
    fac = _start(_client(bakery, "fac"), park, keys)  # the facilitator, for the park: its own job, done at once
    jobs = Job.objects.order_by("pk")
    assert fac.status_code == 302 and jobs.count() == 2 and jobs[1].state == Job.DONE and jobs[1].seconds == 0.0
    assert jobs[0].hits == 2 and jobs[1].result == jobs[0].result
    print(f"twin cache: 3 requests, 1 simulation ({jobs[0].seconds:.1f} s), {jobs[0].hits} hits")


def test_another_company_of_the_park_gets_404_and_never_sees_the_bakerys_money(bakery):
    from cloud.workbench.simulations.models import Job

    park = bakery.bakery_park
    url = _start(_client(bakery, "baker"), park, bakery.keys[:1], company="bakery")["Location"]
    job = Job.objects.get()
    digester = _client(bakery, "digester")
    assert digester.get(url).status_code == 404 and digester.get(url + "progress/").status_code == 404
    assert digester.post(url + "retry/").status_code == 404
    # the biogas plant may not ask in the bakery's name either
    assert _start(digester, park, bakery.keys[:1], company="bakery").status_code == 404
    fac_page = _client(bakery, "fac").get(url).content.decode()  # the facilitator: park-tier totals only
    own = next(g for g in job.result["companies"]["bakery"] if g["rule"] == "50/50")
    assert f"{job.result['ranking'][0]['saved_per_year']:,.0f}" in fac_page
    assert f"{own['gain_per_year']:,.0f}" not in fac_page  # the bakery did not grant its private tier


def test_bad_requests_get_one_line_naming_the_field(bakery):
    park = bakery.bakery_park
    baker = _client(bakery, "baker")
    cases = {
        "key: choose at least one candidate": {"key": []},
        "is not a candidate of the park as it is now": {"key": ["nowhere>nothing:direct"]},
        "is not a candidate of Fjordbakeriet": {"key": [k for k in bakery.keys if k.startswith("kitchen.")][:1]},
        "set_size: 3 is not between 0 and 1": {"key": bakery.keys[:1], "set_size": 3},
    }
    for want, fields in cases.items():
        r = baker.post(f"/parks/{park.slug}/twin/test/", {"company": "bakery", "hours": HOURS, **fields})
        assert r.status_code == 400 and want in r.content.decode(), want
    r = baker.post(f"/parks/{park.slug}/twin/test/", {"company": "bakery", "key": bakery.keys[:1], "hours": "lots"})
    assert r.status_code == 400 and "hours: Enter a number." in r.content.decode()
    assert baker.post(f"/parks/{park.slug}/twin/test/", {"key": bakery.keys[:1]}).status_code == 404  # no company: the park's


def test_the_job_page_polls_its_partial_until_done(bakery):
    from cloud.workbench.simulations.models import Job

    park = bakery.bakery_park
    job = Job.objects.create(park=park, version="0" * 16, keys=bakery.keys[:1], signature="x",
                             company=park.companies.get(slug="bakery"), progress=0.3,
                             progress_text="simulating a year in the twin", state=Job.RUNNING)
    baker = _client(bakery, "baker")
    page = baker.get(f"/parks/{park.slug}/twin/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and f"/twin/jobs/{job.pk}/progress/" in page
    part = baker.get(f"/parks/{park.slug}/twin/jobs/{job.pk}/progress/").content.decode()
    assert "<html" not in part and 'value="0.30"' in part and "simulating the candidates in the twin" in part
