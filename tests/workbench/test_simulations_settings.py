"""The park's twin settings: its Ray cluster, set by the facilitator; a cluster that does not answer
fails the job with one line naming it (no local Ray is started here: that costs seconds and memory
that the one-line refusal does not need)."""

from __future__ import annotations

import socket

from .test_simulations_job import HOURS, _client, _start, bakery  # noqa: F401 (the fixture)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_facilitator_names_a_cluster_and_an_unreachable_one_fails_the_job_in_one_line(bakery):  # noqa: F811
    from cloud.workbench.simulations.models import Job, TwinSettings

    park = bakery.bakery_park
    fac = _client(bakery, "fac")
    url = f"/parks/{park.slug}/twin/settings/"
    assert "Twin tests and the park's twin settings" in fac.get(f"/parks/{park.slug}/").content.decode()
    bad = fac.post(url, {"ray_address": "my cluster"})
    assert bad.status_code == 400 and "Give HOST:PORT" in bad.content.decode()
    address = f"127.0.0.1:{_free_port()}"  # nothing listens there
    assert fac.post(url, {"ray_address": address}).status_code == 200
    assert TwinSettings.objects.get(park=park).ray_address == address
    r = _start(fac, park, bakery.keys[:1])
    job = Job.objects.get()
    assert r.status_code == 302 and job.ray_address == address and job.state == Job.FAILED
    assert job.error.startswith(f"--ray {address}: no Ray cluster answers") and "\n" not in job.error
    page = fac.get(r["Location"]).content.decode()
    assert "The test failed" in page and "no Ray cluster answers" in page and "Try again" in page
    # the baker's page has no link to the settings, and the settings are the facilitator's alone
    assert "twin settings" not in _client(bakery, "baker").get(f"/parks/{park.slug}/").content.decode()
    assert _client(bakery, "baker").get(url).status_code == 404
