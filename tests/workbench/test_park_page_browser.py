"""The park page in Debian's Chromium (Playwright): 62 companies on two pages in natural name order,
the page nav followed by its links, the search by name answered through htmx while typing; axe-core
finds no violation at all (any impact) on either page or the search, in English and Norwegian."""

from __future__ import annotations

import re

import pytest

from .test_browser import OUT, Axe, browser, live, server  # noqa: F401  (fixtures shared with the onboarding journeys)

pytestmark = pytest.mark.timeout(240)


def _names(page) -> list[str]:
    return page.locator("#companies tbody td:first-child").all_inner_texts()


def test_the_park_page_pages_and_searches(live, browser):  # noqa: F811
    from .test_import import workshop_sheet

    base, _, secrets = live
    OUT.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(base + "/accounts/login/?next=/parks/park_a/import/")
    page.get_by_label("User name").fill(secrets["user"])
    page.get_by_label("Password").fill(secrets["password"])
    page.get_by_role("button", name="Sign in").click()
    data, _, _ = workshop_sheet(60)  # Firm 0 .. Firm 59, with the park's fish farm and biogas plant: 62
    page.get_by_label("Filled-in template").set_input_files(
        {"name": "workshop.xlsx", "mimeType": "application/octet-stream", "buffer": data})
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Imported: 60 companies created").wait_for()

    page.goto(base + "/parks/park_a/")
    nav = page.get_by_role("navigation", name="Pages of companies")
    assert nav.locator("[aria-current=page]").inner_text() == "1"
    names = _names(page)
    assert len(names) == 50 and names[:4] == ["Biogas plant", "Firm 0", "Firm 1", "Firm 2"] and names[-1] == "Firm 48"
    axe.check(page, "park, page 1")
    nav.get_by_role("link", name="Next").click()
    page.wait_for_url(re.compile(r"/parks/park_a/\?page=2$"))
    assert _names(page) == [f"Firm {i}" for i in range(49, 60)] + ["Fish farm"]
    assert page.get_by_role("navigation", name="Pages of companies").locator("[aria-current=page]").inner_text() == "2"
    axe.check(page, "park, page 2")

    page.get_by_label("Find a company by name or sector").press_sequentially("firm 5", delay=20)
    page.locator("#companies").get_by_text("Firm 59", exact=True).wait_for()  # htmx results while typing
    page.wait_for_function("document.querySelectorAll('#companies tbody tr').length === 11")
    assert _names(page) == ["Firm 5", *[f"Firm {i}" for i in range(50, 60)]]
    assert page.get_by_role("navigation", name="Pages of companies").count() == 0  # one page: no page nav
    axe.check(page, "park, search")
    page.screenshot(path=str(OUT / "park-page-search.png"), full_page=True)
    context.close()

    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    page.goto(base + "/accounts/login/?next=/parks/park_a/%3Fpage%3D2")
    page.get_by_label("Brukernavn").fill(secrets["user"])
    page.get_by_label("Passord").fill(secrets["password"])
    page.get_by_role("button", name="Logg inn").click()
    page.get_by_role("navigation", name="Sider med bedrifter").get_by_role("link", name="Forrige").wait_for()
    axe.check(page, "park, page 2 (nb)")
    context.close()
    found = {name: [f"{v['id']} ({v['impact']})" for v in vs] for name, vs in axe.pages.items()}
    print(f"park page: axe on {len(found)} pages: {found}")
    assert all(not vs for vs in axe.pages.values()), found
