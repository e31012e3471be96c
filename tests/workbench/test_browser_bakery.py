"""The bakery's journey in Debian's Chromium (Playwright): its member opens its opportunities, tests
the first one in the twin, watches the job's progress (htmx polling), and reads its share; the
opportunities page then shows that candidate's figures as simulated. axe-core: no violation.

The workbench is served as a user serves it; the job runs a full year (the button's default) in
a worker process of the server.
"""

from __future__ import annotations

import time

import pytest

from .test_browser import ARGS, CHROMIUM, OUT, Axe
from .test_opportunities_browser import served_bakery

playwright = pytest.importorskip("playwright.sync_api", reason="the workbench extra is not installed")
pytestmark = [pytest.mark.timeout(240), pytest.mark.expensive]  # a served workbench and worker processes


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    # the twin's jobs run in worker processes here, as served (not inline in the request)
    yield from served_bakery(tmp_path_factory, "workbench-bakery-twin", drop=("AISYM_WORKBENCH_TWIN_WORKER",))


@pytest.fixture(scope="module")
def chromium():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_the_bakery_tests_an_opportunity_in_the_twin_and_reads_its_share(served, chromium):
    base = served.base
    OUT.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    context = chromium.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(base + "/accounts/login/")
    page.get_by_label("User name").fill("baker")
    page.get_by_label("Password").fill("kneading dough daily")
    page.get_by_role("button", name="Sign in").click()
    page.goto(base + "/parks/bakery_park/")
    page.get_by_role("link", name="Opportunities of Fjordbakeriet").click()
    page.get_by_role("heading", name="Your opportunities").wait_for()
    first = page.locator("article.opportunity").first
    title = first.locator("h2").inner_text()
    started = time.monotonic()
    first.get_by_role("button", name="Test it in the twin").click()
    page.get_by_role("heading", name="Twin test of 1 candidate").wait_for()
    states = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # what the polled partial shows, second by second
        states.add(page.locator("#job-status").get_attribute("data-state"))
        if states & {"done", "failed"}:
            break
        time.sleep(0.1)
    seconds = time.monotonic() - started
    assert "done" in states, page.locator("#job-status").inner_text()
    assert states & {"queued", "running"}, states  # the page showed the job before its result
    page.get_by_role("heading", name="What the twin says").wait_for()
    summary = page.locator("ul.summary li").first.inner_text()
    assert "a year for you" in summary or "no money for you" in summary
    assert "t CO2" in summary and "split rule: cost sharing" in summary
    page.get_by_role("table", name="Your share under each split rule").wait_for()
    assert page.locator("svg.sankey").count() == 1  # after (the park has no exchange before)
    page.get_by_role("img", name="After").wait_for()
    axe.check(page, "twin result")
    page.screenshot(path=str(OUT / "twin-result.png"), full_page=True)

    page.goto(base + "/parks/bakery_park/opportunities/bakery/")
    tested = page.locator("article.opportunity", has_text=title.split(". ", 1)[1])
    assert tested.get_by_text("a year simulated in the park's twin").count() == 1
    axe.check(page, "opportunities after the test")
    violations = [f"{name}: {v['id']} ({v['impact']}): {v['help']}" for name, vs in axe.pages.items() for v in vs]
    print(f"bakery in Chromium: '{title}' tested in the twin, a year simulated and shown {seconds:.1f} s after "
          f"the click (states seen: {', '.join(sorted(states))}); '{summary}'; "
          f"axe: {len(axe.pages)} pages, {len(violations)} violations")
    assert not violations, "\n".join(violations)
    context.close()
