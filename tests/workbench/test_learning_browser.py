"""Learning in Debian's Chromium (Playwright): a "?" link of the join form opens its paragraph, a
module's check is answered through htmx, the index shows the signed-in reader's progress; axe-core
finds no violation at all (any impact) on the index and a module page, in English and Norwegian."""

from __future__ import annotations

import re

import pytest

from .test_browser import OUT, Axe, browser, live, server  # noqa: F401  (fixtures shared with the onboarding journeys)

pytestmark = pytest.mark.timeout(240)


def test_learning_pages_pass_axe_and_keep_progress(live, browser):  # noqa: F811
    base, _, secrets = live
    OUT.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(base + "/join/")
    page.get_by_role("link", name="Learn more: People make it happen: the facilitator").click()
    page.wait_for_url(re.compile(r"/learn/industrial-symbiosis/#facilitation$"))
    page.goto(base + "/learn/")
    page.get_by_text("your progress is not kept").wait_for()
    axe.check(page, "learning index (anonymous)")

    page.goto(base + "/accounts/login/?next=/learn/reading-a-match/")
    page.get_by_label("User name").fill(secrets["user"])
    page.get_by_label("Password").fill(secrets["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/learn/reading-a-match/$"))
    page.get_by_role("heading", name="Reading a match and its numbers", level=1).wait_for()
    axe.check(page, "module")
    for n, choice in ((1, 1), (2, 2), (3, 1)):  # two right, the third wrong
        page.locator(f"#q{n}-{choice}").check()
    page.get_by_role("button", name="Check my answers").click()
    page.get_by_text("You got 2 of 3 right.").wait_for()  # swapped in by htmx: the page stays
    assert page.get_by_text("Not this one: the answer is “About 2.2 years.”").count() == 1
    axe.check(page, "module, answers explained")
    page.screenshot(path=str(OUT / "learning-module.png"), full_page=True)
    page.get_by_role("link", name="Learn", exact=True).click()
    page.get_by_text("passed: best 2 of 3 (1 try)").wait_for()
    axe.check(page, "learning index (signed in)")
    page.screenshot(path=str(OUT / "learning-index.png"), full_page=True)
    context.close()

    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    page.goto(base + "/learn/permits-and-regulation/")
    page.get_by_role("heading", name="Tillatelser og regelverk", level=1).wait_for()
    axe.check(page, "module (nb)")
    context.close()
    found = {name: [f"{v['id']} ({v['impact']})" for v in vs] for name, vs in axe.pages.items()}
    print(f"learning: axe on {len(found)} pages: {found}")
    assert all(not vs for vs in axe.pages.values()), found
