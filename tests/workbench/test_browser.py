"""Browser journeys in Debian's Chromium, driven by Playwright (pinned; no browser is downloaded).

The workbench runs as a user starts it (``aisym workbench init`` then ``serve``, on localhost),
and axe-core (vendored from npm under vendor/) checks every page the journey opens: no serious
or critical violation. Screenshots and the measured journey go to ``$AISYM_TEST_ARTEFACTS``
(default ``.aisym/test-artefacts/workbench``).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

playwright = pytest.importorskip("playwright.sync_api", reason="the workbench extra is not installed")

HERE = Path(__file__).parent
AXE = HERE / "vendor" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
ARTEFACTS = Path(os.environ.get("AISYM_TEST_ARTEFACTS", Path(__file__).resolve().parents[2] / ".aisym" / "test-artefacts"))
OUT = ARTEFACTS / "workbench"

pytestmark = pytest.mark.timeout(240)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``aisym workbench serve`` on a folder, stopped and started again at will (a server restart)."""

    def __init__(self, folder: Path, env: dict) -> None:
        self.folder, self.env, self.port = folder, env, _free_port()
        self.base = f"http://localhost:{self.port}"  # localhost: a secure context, so Secure cookies are sent
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "aisym", "workbench", "serve", "--port", str(self.port),
                                      "--dir", str(self.folder)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=self.env)
        deadline = time.monotonic() + 90
        while True:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/", timeout=10)
                return
            except requests.RequestException:  # not up yet, or a loaded machine answering the first page late
                assert self.proc.poll() is None and time.monotonic() < deadline, "the workbench did not start"
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run scripts/setup.sh (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("workbench")
    env = {k: v for k, v in os.environ.items() if k not in ("AISYM_WORKBENCH_DIR", "DJANGO_SETTINGS_MODULE")}
    init = subprocess.run([sys.executable, "-m", "aisym", "workbench", "init", str(HERE / "data" / "two_parks_a.yaml"),
                           "--dir", str(folder)], capture_output=True, text=True, env=env, timeout=120)
    assert init.returncode == 0, init.stderr
    s = Server(folder, env)
    s.secrets = dict(line.split(": ", 1) for line in (folder / "workbench-park_a-facilitator.txt").read_text().splitlines())
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def live(server):
    """(base URL, join code, the facilitator's user and password)."""
    return server.base, server.secrets["join code for companies"], server.secrets


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_playwright_drives_debians_chromium(browser):
    """Playwright guarantees only its own build: say which pair ran."""
    version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    from importlib.metadata import version as pkg_version

    print(f"playwright {pkg_version('playwright')} drives {version} (browser reports {browser.version})")
    assert browser.version.split(".")[0] == re.search(r"(\d+)\.", version).group(1)


class Axe:
    """axe-core run in each page opened; counts every violation by impact."""

    def __init__(self) -> None:
        self.pages: dict[str, list[dict]] = {}

    def check(self, page, name: str) -> None:
        page.add_script_tag(path=str(AXE))
        found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help}))""")
        self.pages[name] = found

    def serious(self) -> list[str]:
        return [f"{page}: {v['id']} ({v['impact']}, {v['nodes']} nodes): {v['help']}"
                for page, vs in self.pages.items() for v in vs if v["impact"] in ("serious", "critical")]


def test_the_bakery_onboards_from_the_first_page_to_a_saved_profile(live, browser):
    base, join_code, _ = live
    OUT.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    started, submits = time.monotonic(), 0

    page.goto(base + "/")
    axe.check(page, "start")
    page.screenshot(path=str(OUT / "start.png"), full_page=True)
    page.get_by_role("link", name="Join your park with its code").click()
    axe.check(page, "join")
    page.get_by_label("Join code").fill(join_code)
    page.get_by_label("Your company's name").fill("Bakeriet AS")
    page.get_by_label("Choose a user name").fill("baker")
    page.get_by_label("Your e-mail address").fill("baker@example.org")
    page.get_by_label("Choose a password").fill("kneading dough daily")
    page.get_by_role("button", name="Join").click()
    submits += 1

    page.wait_for_url(re.compile(r"/onboarding/sector/$"))
    page.get_by_label("What does your company do?").press_sequentially("bakery", delay=30)
    page.locator("#choices").get_by_text("10.71").wait_for()  # htmx brought the choices
    axe.check(page, "sector")
    page.get_by_label(re.compile(r"10\.71")).check()
    page.get_by_role("button", name="Save and go on").click()
    submits += 1

    page.wait_for_url(re.compile(r"/onboarding/listings/$"))
    for words, quantity, unit in (("bread", "2", "t/month"), ("oven heat", "40", "kW")):
        page.get_by_label("we have it (output)").check()
        page.get_by_label("What is it, in your words?").press_sequentially(words, delay=20)
        page.locator("#suggestions input[type=radio]").first.wait_for()
        page.get_by_label("How much?").fill(quantity)
        page.get_by_label("Unit", exact=True).fill(unit)
        page.get_by_role("button", name="Save this one").click()
        submits += 1
        page.get_by_role("cell", name=words, exact=True).wait_for()
    axe.check(page, "listings")
    page.screenshot(path=str(OUT / "listings.png"), full_page=True)
    page.get_by_role("button", name="Done: go on to where you are").click()
    submits += 1

    page.wait_for_url(re.compile(r"/onboarding/location/$"))
    page.get_by_label("Address or place").fill("Havnegata 1")
    page.locator("#map").click(position={"x": 200, "y": 150})  # a click on the (tile-less) map sets the site
    assert page.get_by_label("Latitude").input_value() != ""
    axe.check(page, "location")
    page.get_by_role("button", name="Save and go on").click()
    submits += 1

    page.wait_for_url(re.compile(r"/onboarding/costs/$"))
    page.get_by_label("Cost of bread").fill("450")
    axe.check(page, "costs")
    page.get_by_role("button", name="Save my profile").click()
    submits += 1

    page.wait_for_url(re.compile(r"/parks/park_a/companies/bakeriet_as/$"))
    page.get_by_text("Your profile is saved").wait_for()
    seconds = time.monotonic() - started
    page.get_by_text("Costs and prices (private)").wait_for()
    page.locator("#private").get_by_text("450").wait_for()  # the private partial, loaded by htmx
    axe.check(page, "profile")
    page.screenshot(path=str(OUT / "profile.png"), full_page=True)
    assert page.get_by_role("cell", name="02 06 01").count() == 1  # bread's EWC code, found from the word
    (OUT / "onboarding.json").write_text(json.dumps(
        {"seconds": round(seconds, 1), "submits": submits, "pages": list(axe.pages), "axe": axe.pages}, indent=1))
    print(f"bakery onboarding: {seconds:.1f} s, {submits} form submits, {len(axe.pages)} pages checked by axe")
    assert not axe.serious(), "\n".join(axe.serious())
    context.close()


def test_a_norwegian_session(live, browser):
    base, _, secrets = live
    axe = Axe()
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    page.goto(base + "/")
    assert page.locator("html").get_attribute("lang") == "nb"
    page.get_by_role("heading", name="Velkommen til AISYM-arbeidsbenken").wait_for()
    page.get_by_role("link", name="Logg inn", exact=True).first.click()
    page.get_by_label("Brukernavn").fill(secrets["user"])
    page.get_by_label("Passord").fill(secrets["password"])
    page.get_by_role("button", name="Logg inn").click()
    page.get_by_role("link", name="Park A").first.click()
    page.get_by_role("link", name="Endringslogg").wait_for()
    axe.check(page, "park (nb)")
    page.screenshot(path=str(OUT / "park-nb.png"), full_page=True)
    # the switch on the page turns it to English
    page.get_by_label("Språk").select_option("en")
    page.get_by_role("button", name="Bytt").click()
    page.get_by_role("link", name="Audit log").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    assert not axe.serious(), "\n".join(axe.serious())
    context.close()


def _join(page, base: str, join_code: str, company: str, user: str) -> None:
    page.goto(base + "/join/")
    page.get_by_label("Join code").fill(join_code)
    page.get_by_label("Your company's name").fill(company)
    page.get_by_label("Choose a user name").fill(user)
    page.get_by_label("Your e-mail address").fill(f"{user}@example.org")
    page.get_by_label("Choose a password").fill("kneading dough daily")
    page.get_by_role("button", name="Join").click()
    page.wait_for_url(re.compile(r"/onboarding/sector/$"))


def test_a_server_restart_in_the_middle_of_onboarding_keeps_the_draft(server, browser):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    _join(page, server.base, server.secrets["join code for companies"], "Second Bakery", "baker2")
    page.get_by_label("What does your company do?").fill("bakery")
    page.get_by_role("button", name="Find").click()
    page.get_by_label(re.compile(r"10\.71")).check()
    page.get_by_role("button", name="Save and go on").click()
    page.wait_for_url(re.compile(r"/onboarding/listings/$"))
    page.get_by_label("we have it (output)").check()
    page.get_by_label("What is it, in your words?").press_sequentially("bread", delay=20)
    page.locator("#suggestions input[type=radio]").first.wait_for()
    page.get_by_role("button", name="Save this one").click()
    page.get_by_role("cell", name="bread", exact=True).wait_for()
    server.stop()
    server.start()  # same folder: database, secret key and the session survive
    page.reload()
    page.get_by_role("cell", name="bread", exact=True).wait_for()  # still signed in, the listing kept
    page.goto(server.base + "/")
    page.get_by_role("link", name="go on with your profile").click()
    page.wait_for_url(re.compile(r"/onboarding/listings/$"))
    context.close()


def test_the_facilitator_imports_a_sheet_searches_and_sees_the_map(live, browser):
    from .test_import import workshop_sheet

    base, _, secrets = live
    axe = Axe()
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(base + "/accounts/login/")
    page.get_by_label("User name").fill(secrets["user"])
    page.get_by_label("Password").fill(secrets["password"])
    page.get_by_role("button", name="Sign in").click()
    page.goto(base + "/parks/park_a/")
    page.get_by_role("link", name="Import companies from a sheet").click()
    data, _, _ = workshop_sheet(20)
    page.get_by_label("Filled-in template").set_input_files(
        {"name": "workshop.xlsx", "mimeType": "application/octet-stream", "buffer": data})
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Imported: 20 companies created").wait_for()
    page.get_by_role("cell", name="resource", exact=True).first.wait_for()  # a bad row, by its column
    axe.check(page, "import")
    page.screenshot(path=str(OUT / "import.png"), full_page=True)
    page.goto(base + "/parks/park_a/map/")
    page.locator(".leaflet-interactive").nth(19).wait_for()  # 20 firms and the park's own two companies
    assert page.locator(".leaflet-interactive").count() >= 22
    axe.check(page, "map")
    page.screenshot(path=str(OUT / "map.png"), full_page=True)
    page.goto(base + "/directory/")
    page.get_by_label("Sector, resource or code, in words").press_sequentially("bread", delay=20)
    page.locator("#results").get_by_text("Firm 7", exact=True).wait_for()  # htmx results while typing
    axe.check(page, "directory")
    page.screenshot(path=str(OUT / "directory.png"), full_page=True)
    assert not axe.serious(), "\n".join(axe.serious())
    context.close()
