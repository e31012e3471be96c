"""The impact pages in Debian's Chromium (Playwright, as test_browser.py drives it): axe-core finds no
violation on the page (as the facilitator sees it, with the public switch), one exchange's months,
the public summary, and the page while the twin's year is computed. The pages are rendered by the
test client with the site's stylesheet inlined, so colours and layout are the served ones without
starting a server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_browser import ARGS, AXE, CHROMIUM, OUT

playwright = pytest.importorskip("playwright.sync_api", reason="the workbench extra is not installed")
PARK = Path(__file__).parent / "data" / "impact_park.yaml"
CSS = Path(__file__).resolve().parents[2] / "cloud" / "workbench" / "static" / "workbench" / "site.css"


@pytest.fixture(autouse=True)
def _twin_year_inline(monkeypatch):
    """The twin's year runs as a worker job (test_impact_twin_job.py); here in the asking request, since a
    worker process could not see the test's transaction."""
    monkeypatch.setenv("AISYM_WORKBENCH_TWIN_WORKER", "inline")


def test_the_impact_pages_pass_axe(db):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cloud.workbench.accounts.models import Facilitator
    from cloud.workbench.parks.importer import import_park

    park = import_park(PARK, actor="test")
    user = get_user_model().objects.create_user("facilitator", password="x" * 12)
    Facilitator.objects.create(user=user, park=park)
    c = Client()
    c.force_login(user)
    c.post("/parks/impact_park/impact/public/switch/", {"enabled": "on"})
    pages = {"park": c.get("/parks/impact_park/impact/?year=2025"),
             "exchange": c.get("/parks/impact_park/impact/?year=2025&exchange=heat_to_greenhouse"),
             "public": Client().get("/parks/impact_park/impact/public/?year=2025")}
    from cloud.workbench.impact.models import TwinMonths
    from cloud.workbench.simulations.models import Job

    TwinMonths.objects.all().delete()  # a new version's first view: the year queued for a worker, its progress shown
    Job.objects.all().delete()
    with pytest.MonkeyPatch.context() as m:
        m.setenv("AISYM_WORKBENCH_TWIN_WORKER", "process")
        pages["computing"] = c.get("/parks/impact_park/impact/?year=2025")
    assert "<progress" in pages["computing"].content.decode()
    style = f"<style>{CSS.read_text()}</style>"
    found = {}
    OUT.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name, r in pages.items():
            assert r.status_code == 200, name
            html = r.content.decode()
            html = html.replace('<link rel="stylesheet" href="/static/workbench/site.css">', style)
            page.set_content(html.replace('<script src="/static/vendor/htmx/htmx.min.js" defer></script>', ""))
            page.add_script_tag(path=str(AXE))
            found[name] = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
                .violations.map(v => `${v.id} (${v.impact}, ${v.nodes.length} nodes): ${v.help}`)""")
            if name == "park":  # the artefact to look at: the whole page as the facilitator sees it
                page.screenshot(path=str(OUT / "impact-park.png"), full_page=True)
        browser.close()
    assert found == {"park": [], "exchange": [], "public": [], "computing": []}
