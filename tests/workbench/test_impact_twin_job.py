"""The impact page's first view asks the twin's year of a worker job instead of running it in the request.

The job is the simulations app's (kind ``impact``), run by its worker; the page polls its progress
every second, as the twin test's page does, and reloads itself (``HX-Refresh``) once it is done.
Jobs are not launched here in a process (the test's transaction is not visible to one): the
worker's ``run`` is called as its process would call it. The year's figures are those of the
hand-calculated park (test_impact_indicators.py): January's sludge 74.4 t.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PARK = Path(__file__).parent / "data" / "impact_park.yaml"
URL = "/parks/impact_park/impact/?year=2025&exchange=sludge_to_biogas"


@pytest.fixture
def facilitated(db, monkeypatch):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cloud.workbench.accounts.models import Facilitator
    from cloud.workbench.parks.importer import import_park

    monkeypatch.setenv("AISYM_WORKBENCH_TWIN_WORKER", "process")  # on_commit never comes here: the job stays queued
    park = import_park(PARK, actor="test")
    user = get_user_model().objects.create_user("facilitator", password="x" * 12)
    Facilitator.objects.create(user=user, park=park)
    c = Client()
    c.force_login(user)
    return park, c


def test_the_first_view_queues_the_year_and_the_page_follows_its_progress(facilitated, monkeypatch):
    from cloud.workbench import tenancy
    from cloud.workbench.impact import sources
    from cloud.workbench.simulations import worker
    from cloud.workbench.simulations.models import Job

    _park, client = facilitated
    calls = []
    real = sources.twin_months
    monkeypatch.setattr(sources, "twin_months", lambda *a, **k: calls.append(1) or real(*a, **k))
    page = client.get(URL).content.decode()
    assert calls == []  # nothing of the year ran in the request
    job = Job.objects.get(kind=Job.IMPACT)
    assert (job.state, job.company, job.user, job.hours) == (Job.QUEUED, None, None, 8760.0)
    assert 'hx-get="/parks/impact_park/impact/twin-year/"' in page and 'hx-trigger="every 1s"' in page
    assert "The twin is computing this park's year" in page and "<progress" in page
    client.get(URL)
    assert Job.objects.filter(kind=Job.IMPACT).count() == 1  # a second view waits for the same job
    assert client.get(f"/parks/impact_park/twin/jobs/{job.pk}/").status_code == 404  # not a twin test of candidates
    polled = client.get("/parks/impact_park/impact/twin-year/", HTTP_HX_REQUEST="true")
    assert polled.status_code == 200 and "HX-Refresh" not in polled and "<progress" in polled.content.decode()

    with tenancy.system_access():
        worker.run(job.pk, slots=False)  # what the worker process does with it
    job.refresh_from_db()
    assert job.state == Job.DONE and job.progress == 1.0 and calls == [1], job.error
    assert job.result["exchanges"] == 3
    polled = client.get("/parks/impact_park/impact/twin-year/", HTTP_HX_REQUEST="true")
    assert polled["HX-Refresh"] == "true"  # htmx reloads the page
    page = client.get(URL).content.decode()
    assert 'id="twin-year"' not in page  # money is the companies' (—): the facilitator has no grant
    assert '<th scope="row">2025-01</th><td>—</td><td>—</td><td>74.400</td>' in page
    assert calls == [1]  # the kept months answer: no second year


def test_the_progress_says_the_month_reached_in_the_viewers_language(facilitated):
    from cloud.workbench.simulations.models import Job

    _park, client = facilitated
    client.get(URL)
    Job.objects.filter(kind=Job.IMPACT).update(state=Job.RUNNING, progress=0.5, progress_text="month 6 of 12 simulated")
    assert "month 6 of 12 simulated" in client.get("/parks/impact_park/impact/twin-year/").content.decode()
    from django.utils import translation

    try:
        norsk = client.get("/parks/impact_park/impact/twin-year/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    finally:
        translation.activate("en")  # the request left Norwegian active in this thread: the next tests read English
    assert "måned 6 av 12 simulert" in norsk
