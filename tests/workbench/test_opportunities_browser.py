"""The bakery's member sees its opportunities in Debian's Chromium (Playwright), filters them by
resource (htmx), says "not interested" to one and takes it back, tests one in the twin and reads its
simulated share; every page passes axe-core with no violation."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from .test_browser import ARGS, CHROMIUM, HERE, OUT, Axe, Server

playwright = pytest.importorskip("playwright.sync_api", reason="the workbench extra is not installed")
pytestmark = pytest.mark.timeout(400)

SETUP = """
import sys
from pathlib import Path
from cloud.workbench import cli
cli.init(Path(sys.argv[1]), facilitator=None, password_file=None, data_dir=Path(sys.argv[2]))
from django.contrib.auth import get_user_model
from cloud.workbench.accounts.models import Membership
from cloud.workbench.companies.models import Company
user = get_user_model().objects.create_user("baker", password="kneading dough daily")
Membership.objects.create(user=user, company=Company.objects.get(park__slug="bakery_park", slug="bakery"))
"""


def served_bakery(tmp_path_factory, name: str, drop: tuple[str, ...] = ()):
    """The bakery park and its baker (SETUP) in a fresh workbench folder, served until the module ends.

    :param drop: more environment variables the server must not inherit
    """
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: run scripts/setup.sh (apt-get install chromium)")
    folder = tmp_path_factory.mktemp(name)
    env = {k: v for k, v in os.environ.items() if k not in ("AISYM_WORKBENCH_DIR", "DJANGO_SETTINGS_MODULE", *drop)}
    # ``aisym workbench init`` and the bakery's member in one process (one start of Python and Django)
    init = subprocess.run([sys.executable, "-c", SETUP, str(HERE / "data" / "bakery_park.yaml"), str(folder)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert init.returncode == 0, init.stderr
    s = Server(folder, env)
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def bakery_server(tmp_path_factory):
    yield from served_bakery(tmp_path_factory, "workbench-bakery")


def test_the_bakery_sees_filters_and_hides_its_opportunities(bakery_server, browser_chromium):
    base = bakery_server.base
    OUT.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    context = browser_chromium.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(base + "/accounts/login/")
    page.get_by_label("User name").fill("baker")
    page.get_by_label("Password").fill("kneading dough daily")
    page.get_by_role("button", name="Sign in").click()
    page.goto(base + "/parks/bakery_park/")
    started = time.monotonic()
    page.get_by_role("link", name="Opportunities of Fjordbakeriet").click()
    page.get_by_role("heading", name="Your opportunities").wait_for()
    seconds = time.monotonic() - started
    opportunities = page.locator("article.opportunity")
    total = opportunities.count()
    assert total >= 3
    assert page.get_by_text("a farming company 0.8 km away").count() == 1  # the greenhouse, not named
    assert page.get_by_text("450 k NOK").count() == 1  # its share of the bread waste, cost sharing
    axe.check(page, "opportunities")
    page.screenshot(path=str(OUT / "opportunities.png"), full_page=True)

    page.get_by_label("Resource").select_option("biomass")  # htmx replaces the list
    page.wait_for_function("document.querySelectorAll('article.opportunity').length === 1")
    assert "resource=biomass" in page.url
    axe.check(page, "opportunities, biomass")

    page.get_by_text("Not interested").first.click()
    page.get_by_label("Why not?").select_option("too far")
    page.get_by_label("In your own words (optional)").fill("no truck access")
    page.get_by_role("button", name="Hide it and tell matchmaking").click()
    page.get_by_role("link", name=re.compile("1 hidden opportunity")).click()
    page.get_by_role("cell", name="too far: no truck access").wait_for()
    axe.check(page, "hidden")
    page.get_by_role("button", name="Show it again").click()
    page.get_by_role("cell", name="Nothing hidden.").wait_for()
    page.goto(base + "/parks/bakery_park/opportunities/bakery/")
    assert page.locator("article.opportunity").count() == total

    # test the bread waste in the twin (the simulations app's job), then read the simulated share here
    bread = page.locator("article.opportunity", has_text="EWC 02 06 01")
    bread.get_by_role("button", name="Test it in the twin").click()
    page.locator("#job-status[data-state=done]").wait_for(timeout=180_000)
    page.goto(base + "/parks/bakery_park/opportunities/bakery/")
    bread = page.locator("article.opportunity", has_text="EWC 02 06 01")
    bread.get_by_text("a year simulated in the park's twin").wait_for()
    share = bread.locator("dd").first.inner_text()
    axe.check(page, "opportunities, one tested")
    page.screenshot(path=str(OUT / "opportunities-tested.png"), full_page=True)
    print(f"the bakery's share of its bread waste to biogas, simulated for a year: {share} (cost sharing)")
    violations = [f"{name}: {v['id']} ({v['impact']}): {v['help']}" for name, vs in axe.pages.items() for v in vs]
    print(f"bakery opportunities in Chromium: {total} shown, first page {seconds:.2f} s after the click, "
          f"{len(axe.pages)} pages checked by axe, {len(violations)} violations")
    assert not violations, "\n".join(violations)
    context.close()


@pytest.fixture(scope="module")
def browser_chromium():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
