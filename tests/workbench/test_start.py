"""The start page: ready for a first visitor (no park yet), in the browser's language, with a switch."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("db")


def test_first_visitor_without_any_park_gets_a_start_page(client):
    r = client.get("/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "aisym workbench init PARK.yaml" in body
    assert 'href="/accounts/login/"' in body


def test_page_follows_accept_language_and_switches(client):
    nb = client.get("/", HTTP_ACCEPT_LANGUAGE="nb-NO,nb;q=0.9,en;q=0.5").content.decode()
    assert '<html lang="nb">' in nb
    assert "Velkommen" in nb  # translated, not only labelled
    en = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in en and "Welcome" in en
    # the switch on the page overrides the browser's choice (a cookie)
    r = client.post("/i18n/setlang/", {"language": "nb", "next": "/"}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 302
    assert '<html lang="nb">' in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.fixture
def client():
    from django.test import Client

    return Client()


def test_vendored_static_files_are_served_with_their_licences(client):
    from django.contrib.staticfiles import finders

    for path in ("vendor/htmx/htmx.min.js", "vendor/htmx/LICENSE", "vendor/leaflet/leaflet.js",
                 "vendor/leaflet/LICENSE", "workbench/site.css"):
        assert finders.find(path), path
    page = client.get("/").content.decode()
    assert "//cdn" not in page and "https://" not in page.split("<body")[0]  # nothing from a CDN
