"""Browser journey of a matchmaking event in Debian's Chromium (Playwright, pinned): the facilitator
creates an event, registers two attendees, each fills a listing card on a phone, the facilitator
sees the ranked pairs arrive live (htmx polling) and opens the printable agenda; then puts the best
candidates in the pipeline, has them assessed in the twin and exports the action plan as a PDF,
whose pages are turned into PNG images with pdftoppm and checked. axe-core checks every page: no
violation at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .test_browser import ARGS, CHROMIUM, OUT, Axe, Server

playwright = pytest.importorskip("playwright.sync_api", reason="the workbench extra is not installed")

HERE = Path(__file__).parent
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}

pytestmark = pytest.mark.timeout(420)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run scripts/setup.sh (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("workbench-event")
    env = {k: v for k, v in os.environ.items() if k not in ("AISYM_WORKBENCH_DIR", "DJANGO_SETTINGS_MODULE")}
    init = subprocess.run([sys.executable, "-m", "aisym", "workbench", "init", str(HERE / "data" / "bakery_park.yaml"),
                           "--dir", str(folder)], capture_output=True, text=True, env=env, timeout=120)
    assert init.returncode == 0, init.stderr
    s = Server(folder, env)
    s.secrets = dict(line.split(": ", 1)
                     for line in (folder / "workbench-bakery_park-facilitator.txt").read_text().splitlines())
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _card(browser, url: str, axe: Axe, name: str, words: str, direction: str, quantity: str, unit: str) -> None:
    phone = browser.new_context(locale="en-GB", **PHONE)
    page = phone.new_page()
    page.set_default_timeout(10_000)
    page.goto(url)
    page.get_by_label(direction).check()
    page.get_by_label("What is it, in your words?").fill(words)
    page.get_by_label("Kind of resource").select_option("biomass")
    page.get_by_label("Roughly how much?").fill(quantity)
    page.get_by_label("Unit", exact=True).fill(unit)
    page.get_by_role("button", name="Save this card").click()
    page.get_by_text("1 card so far").wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the card page scrolls sideways on a phone ({width} px)"
    axe.check(page, f"card ({name})")
    page.screenshot(path=str(OUT / f"event-card-{name}.png"), full_page=True)
    phone.close()


def _png_pages(pdf: Path) -> list[Path]:
    """The PDF's pages as PNG images (poppler's pdftoppm, 50 dpi)."""
    import shutil

    exe = shutil.which("pdftoppm")
    assert exe, "pdftoppm (poppler-utils) is missing: run scripts/setup.sh"
    subprocess.run([exe, "-r", "50", "-png", str(pdf), str(pdf.with_suffix(""))], check=True, timeout=60)
    return sorted(pdf.parent.glob(pdf.stem + "-*.png"))


def test_the_facilitator_runs_an_event(server, browser):
    OUT.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    started = time.monotonic()
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(server.base + "/accounts/login/")
    page.get_by_label("User name").fill(server.secrets["user"])
    page.get_by_label("Password").fill(server.secrets["password"])
    page.get_by_role("button", name="Sign in").click()
    page.goto(server.base + "/parks/bakery_park/")
    page.get_by_role("link", name="Matchmaking events").click()
    page.get_by_label("Name").fill("Work session 1")
    page.get_by_label("Date").fill("2027-03-04")
    page.get_by_label("First meeting at").fill("09:00")
    page.get_by_label("Place").fill("Town hall")
    page.get_by_label("Minutes per meeting").fill("15")
    page.get_by_label("Number of meeting slots").fill("4")
    axe.check(page, "events")
    page.get_by_role("button", name="Create the event").click()
    page.get_by_role("heading", name="Work session 1").wait_for()

    for name, company, new in (("Dina", None, ("Kaffebrenneriet", "10.83", "Havna 3")), ("Cato", "Midt Biogass", None)):
        page.get_by_label("Attendee's name").fill(name)
        page.get_by_label("E-mail address").fill(f"{name.lower()}@example.org")
        if company:
            page.get_by_label("Company of the park").select_option(label=company)
        else:
            page.get_by_label("Or a new company: its name").fill(new[0])
            page.get_by_label("New company's sector").fill(new[1])
            page.get_by_label("New company's address or place").fill(new[2])
        page.get_by_role("button", name="Register", exact=True).click()
        page.get_by_text(f"Registered: {name}").wait_for()
    axe.check(page, "event")
    links = {n: page.get_by_role("link", name=f"cards of {n}").get_attribute("href") for n in ("Dina", "Cato")}

    _card(browser, server.base + links["Dina"], axe, "dina", "coffee grounds", "we have it (output)", "30", "t/yr")
    _card(browser, server.base + links["Cato"], axe, "cato", "digestate", "we have it (output)", "1500", "t/yr")

    # the event page, left open, polls the pairs: the new company's coffee grounds to the digester
    live = page.locator("#live")
    live.get_by_text("Kaffebrenneriet → Midt Biogass").wait_for(timeout=15_000)
    live.get_by_text("2 attendees, 2 cards").wait_for(timeout=15_000)
    assert "fits" in live.inner_text()
    axe.check(page, "event with pairs")
    page.screenshot(path=str(OUT / "event.png"), full_page=True)

    page.get_by_role("link", name="The agenda (printable)").click()
    page.get_by_role("heading", name="Agenda of Work session 1").wait_for()
    page.get_by_role("heading", name="Dina · Kaffebrenneriet").wait_for()
    assert page.get_by_role("cell", name="09:00–09:15").count() >= 1
    axe.check(page, "agenda")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()  # the print stylesheet: no site header on paper
    page.screenshot(path=str(OUT / "agenda-print.png"), full_page=True)
    page.emulate_media(media="screen")

    # the park-wide matchmaking and the shortlist, as the same facilitator finds them
    page.goto(server.base + "/parks/bakery_park/")
    page.get_by_role("link", name="Matchmaking for the whole park").click()
    page.get_by_role("cell", name="Kaffebrenneriet").first.wait_for()  # the event's new company is in the park
    axe.check(page, "matches")
    page.get_by_label("Note").first.fill("call the greenhouse first")
    page.get_by_role("button", name="Add candidate 1 to the shortlist").click()
    page.goto(server.base + "/parks/bakery_park/facilitate/shortlist/")
    page.get_by_role("caption").get_by_text("1 candidate on the shortlist").wait_for()
    assert page.get_by_label("Note").first.input_value() == "call the greenhouse first"
    axe.check(page, "shortlist")

    # after the event: the best candidates into the pipeline, assessed in the twin, and the action plan
    # exported as the PDF a facilitation programme hands out, its pages checked as images
    page.goto(server.base + "/parks/bakery_park/")
    page.get_by_role("link", name="Opportunity pipeline").click()
    page.get_by_label("How many of the best candidates").fill("5")
    page.get_by_role("button", name="Add from matchmaking").click()
    page.get_by_label("Hours to simulate (scaled to a year)").fill("168")
    page.get_by_role("button", name="Assess in the twin").click()
    status = page.locator("#job-status")
    status.wait_for()
    deadline = time.monotonic() + 150
    while status.get_attribute("data-state") not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status.get_attribute("data-state") == "done", status.inner_text()
    page.goto(server.base + "/parks/bakery_park/pipeline/action-plan/")
    page.get_by_role("heading", name="Industrial symbiosis action plan").first.wait_for()
    axe.check(page, "action plan")
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("link", name="Download as PDF").click()
    pdf = OUT / "action-plan-browser.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = _png_pages(pdf)
    assert len(pages) >= 2 + 5, pages  # title, summary and a section per assessed opportunity
    import numpy as np
    from PIL import Image

    inks = [float(np.asarray(Image.open(p).convert("L"), dtype=float).std()) for p in pages]
    assert min(inks) > 3.0, f"a blank page: {inks}"
    print(f"action plan from the browser: {len(pages)} pages, pixel std per page " + ", ".join(f"{x:.1f}" for x in inks))
    seconds = time.monotonic() - started
    (OUT / "event.json").write_text(json.dumps({"seconds": round(seconds, 1), "axe": axe.pages}, indent=1))
    print(f"event journey: {seconds:.1f} s, {len(axe.pages)} pages checked by axe")
    found = [f"{p}: {v['id']} ({v['impact']}): {v['help']}" for p, vs in axe.pages.items() for v in vs]
    assert not found, "\n".join(found)
    context.close()
