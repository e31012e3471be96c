"""Estimates in the workbench (issue 23 item 3): a company known by its NACE code and employees alone.

A cake maker joins the bakery park with NACE 10.71 and 12 employees and lists nothing. Its food
waste (02 06 01) is what ``sim_env.match.estimates`` gives, checked by hand in that module's own
tests; when this was written, 11,000,000 t / 4,820,000 persons employed x 12 = 27,385.9 kg/yr, shown
as "≈ 27.4 t". The web ranks what ``aisym match EXPORT --estimate cakes:10.71:12`` ranks, figure for figure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .test_simulations_cli import _diff
from .test_simulations_job import DATA, _client


def _food_waste() -> tuple[float, str]:
    """(kg/yr, as the page shows it) of the cake maker's estimated food waste."""
    from sim_env.match.estimates import estimate_flows
    from sim_env.match.readable import amount

    kg = next(f.annual for f in estimate_flows("cakes", "10.71", 12)[0] if f.carrier.ewc == "02 06 01")
    return kg, f"≈ {amount(kg, 'kg')}"


@pytest.fixture
def cakes(world):
    """The bakery park (tests/workbench/data/bakery_park.yaml) with a cake maker (NACE 10.71, 12 employees, no
    listing), its member ``caker`` and the bakery's member ``baker``."""
    from django.contrib.auth import get_user_model

    from cloud.workbench.accounts.audit import acting_as
    from cloud.workbench.accounts.models import Membership
    from cloud.workbench.companies.models import Company
    from cloud.workbench.parks.importer import import_park

    park = import_park(DATA / "bakery_park.yaml", actor="test")
    with acting_as(None, "test"):
        c = Company.objects.create(park=park, slug="cakes", name="Kakebua", nace="10.71", employees=12,
                                   lat=63.001, lon=10.002)
        users = {n: get_user_model().objects.create_user(n, password="x" * 12) for n in ("caker", "baker")}
        Membership.objects.create(user=users["caker"], company=c)
        Membership.objects.create(user=users["baker"], company=park.companies.get(slug="bakery"))
    world.bakery_park, world.bakery_users, world.cakes = park, users, c
    return world


def _estimated(ranked) -> list:
    return [c for c in ranked.candidates if c.output.estimate or (c.input is not None and c.input.estimate)]


def test_the_web_ranks_an_estimated_company_as_the_cli_does(cakes, tmp_path):
    from typer.testing import CliRunner

    from aisym.cli import app
    from cloud.workbench import engine
    from sim_env.match.score import describe_inputs

    park = cakes.bakery_park
    text = engine.park_text(park)
    assert engine.estimate_args(park) == ["cakes:10.71:12"] and "# aisym match --estimate cakes:10.71:12\n" in text
    ranked = engine.rank(park, text=text)
    est = _estimated(ranked)
    food = [c for c in est if c.supplier == "cakes" and c.output.carrier.ewc == "02 06 01"]
    kg, _shown = _food_waste()
    assert food and abs(food[0].output.annual - kg) < 1e-9 * kg
    exported = tmp_path / "bakery_park.yaml"
    exported.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(app, ["match", str(exported), "--estimate", "cakes:10.71:12", "--format", "json",
                                 "--top", "1000"])
    assert r.exit_code == 0, r.output
    cli = json.loads(r.stdout)["candidates"]
    web = json.loads(json.dumps([{"rank": i + 1, **describe_inputs(c), "exchange": c.as_exchange(),
                                  "estimate": {"output": c.output.estimate or None,
                                               "input": c.input.estimate or None if c.input else None}}
                                 for i, c in enumerate(ranked.candidates)], default=float))
    differences = _diff(web, cli)
    assert not differences, "\n".join(differences[:20])
    print(f"web = CLI --estimate to 1e-9: {len(web)} candidates, {len(est)} with an estimated end "
          f"(food waste {food[0].output.annual:,.1f} kg/yr)")


def test_the_company_page_shows_its_estimates_and_a_confirmed_one_replaces_them(cakes):
    from cloud.workbench import engine

    park, c = cakes.bakery_park, cakes.cakes
    kg, shown = _food_waste()
    url = f"/parks/{park.slug}/companies/cakes/"
    page = _client(cakes, "caker").get(url).content.decode()
    assert shown in page and "estimated from NACE 10.71 and 12 employees: Eurostat env_wasfw" in page
    assert "Confirm one to list it as yours, or correct it." in page and 'value="est_food_waste"' in page
    from django.utils.html import escape

    from sim_env.match.estimates import estimate_flows

    notes = estimate_flows("cakes", "10.71", 12)[1]  # why a family is not estimated (water, when this was written)
    assert all(escape(n) in page for n in notes), notes
    neighbour = _client(cakes, "baker").get(url).content.decode()  # the park sees them, with no prompt
    assert shown in neighbour and "Confirm one to list it as yours" not in neighbour
    outsider = cakes.client("member_b").get(url).content.decode()  # another park: the public tier, no head count
    assert "Kakebua" in outsider and "≈" not in outsider and "estimated from NACE" not in outsider
    from django.utils import translation

    try:
        norsk = _client(cakes, "caker").get(url, HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    finally:
        translation.activate("en")  # the request left Norwegian active in this thread
    assert shown in norsk and "anslått ut fra NACE 10.71 og 12 ansatte" in norsk
    before = engine.park_version(park)
    r = _client(cakes, "baker").post(f"{url}estimates/", {"flow": "est_food_waste", "action": "confirm"})
    assert r.status_code == 404  # a neighbour may not confirm another company's estimate
    r = _client(cakes, "caker").post(f"{url}estimates/", {"flow": "est_food_waste", "action": "confirm"})
    assert r.status_code == 302 and r["Location"] == url
    x = c.listings.get()
    assert (x.slug, x.direction, x.resource, x.ewc, x.unit) == ("food_waste", "output", "material", "02 06 01", "t/yr")
    assert abs(x.quantity - kg / 1000) < 1e-3
    page = _client(cakes, "caker").get(url).content.decode()
    assert 'value="est_food_waste"' not in page and 'value="est_heat"' in page  # the inputs are still estimated
    assert engine.park_version(park) != before
    ranked = engine.rank(park)
    food = [k for k in ranked.candidates if k.supplier == "cakes" and k.output.carrier.ewc == "02 06 01"]
    assert food and not any(k.output.estimate for k in food)  # the company's own flow, no longer an estimate
    r = _client(cakes, "caker").post(f"{url}estimates/", {"flow": "est_food_waste", "action": "confirm"})
    assert r.status_code == 400 and "is not an estimate of this company" in r.content.decode()
    r = _client(cakes, "caker").post(f"{url}estimates/", {"flow": "est_heat", "action": "correct"})
    assert r.status_code == 302 and r["Location"] == f"{url}listings/heat/edit/"


def test_the_opportunities_say_which_figures_are_estimates(cakes):
    page = _client(cakes, "caker").get(f"/parks/{cakes.bakery_park.slug}/opportunities/cakes/").content.decode()
    assert "(≈)" in page and f"{_food_waste()[1]} a year delivered" in page
    assert "estimated from NACE 10.71 and 12 employees: Eurostat env_wasfw" in page


def test_the_company_page_with_its_estimates_passes_axe(cakes):
    """The member's page (the table of estimates and its confirm and correct buttons) in Chromium: axe-core, no violation."""
    playwright = pytest.importorskip("playwright.sync_api", reason="the workbench extra is not installed")
    from .test_browser import ARGS, AXE, CHROMIUM

    css = Path(__file__).resolve().parents[2] / "cloud" / "workbench" / "static" / "workbench" / "site.css"
    html = _client(cakes, "caker").get(f"/parks/{cakes.bakery_park.slug}/companies/cakes/").content.decode()
    assert 'value="est_food_waste"' in html
    html = html.replace('<link rel="stylesheet" href="/static/workbench/site.css">', f"<style>{css.read_text()}</style>")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_content(html.replace('<script src="/static/vendor/htmx/htmx.min.js" defer></script>', ""))
        page.add_script_tag(path=str(AXE))
        found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
            .violations.map(v => `${v.id} (${v.impact}, ${v.nodes.length} nodes): ${v.help}`)""")
        browser.close()
    assert found == []


def test_a_sector_no_figure_covers_is_said_not_left_blank(cakes, monkeypatch):
    from cloud.workbench.companies import estimated
    from sim_env.match.profiles import Profile

    monkeypatch.setattr(estimated, "estimate_profile", lambda cid, nace, *a, **k: (Profile(cid, nace=nace), []))
    page = _client(cakes, "caker").get(f"/parks/{cakes.bakery_park.slug}/companies/cakes/").content.decode()
    assert "No published sector figure covers NACE 10.71 yet: nothing is estimated." in page
    assert 'value="est_' not in page
