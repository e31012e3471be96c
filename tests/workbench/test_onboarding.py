"""A bakery's onboarding in plain words, through the pages (Django's test client; the browser
journey is test_browser.py): join with the park's code, sector by words, listings by words,
location, optional costs. Every step is saved; an error names the field and keeps the text."""

from __future__ import annotations

from django.test import Client

from cloud.workbench.accounts.models import Membership
from cloud.workbench.companies.models import Company, Listing
from cloud.workbench.companies.vocabulary import find_resources, find_sectors

BAKERY = {"company_name": "Bakeriet AS", "username": "baker", "email": "baker@example.org",
          "password": "kneading dough daily"}


def join(world, client: Client) -> Company:
    r = client.post("/join/", {**BAKERY, "join_code": world.park_a.join_code})
    assert r.status_code == 302, r.content.decode()[:3000]
    c = Company.objects.get(name="Bakeriet AS")
    assert r["Location"] == f"/parks/park_a/companies/{c.slug}/onboarding/sector/"
    return c


def test_words_find_the_codes():
    assert find_sectors("bakery")[0].code == "10.71"
    assert find_sectors("bakeri")[0].code == "10.71"
    assert find_sectors("bread")[0].code == "10.71"
    bread = find_resources("bread", "10.71")[0]
    assert (bread.resource, bread.ewc) == ("material", "02 06 01")
    assert find_resources("oven heat")[0].resource == "heat"
    assert dict(find_resources("warm water")[0].quality) == {"temperature_c": 40}
    # the knowledge base's residues, by their own words
    assert find_resources("spent grain", "11.05")[0].ewc.startswith("02 07")


def test_the_bakery_onboards_in_plain_words(world):
    c = Client()
    company = join(world, c)
    base = f"/parks/park_a/companies/{company.slug}/onboarding"
    assert Membership.objects.filter(company=company, user__username="baker").exists()
    # sector: the words give the choices (htmx partial), the pick is saved
    partial = c.get(f"{base}/sectors/", {"words": "bakery"})
    assert partial.status_code == 200 and "10.71" in partial.content.decode()
    assert c.post(f"{base}/sector/", {"words": "bakery", "nace": "10.71"})["Location"].endswith("/onboarding/listings/")
    company.refresh_from_db()
    assert company.nace == "10.71" and company.onboarding_step == "listings"
    # listings by words
    r = c.post(f"{base}/listings/", {"direction": "output", "words": "bread", "choice": "0", "quantity": "2",
                                     "unit": "t/month", "frequency": "continuous"})
    assert r.status_code == 302, r.content.decode()[:3000]
    r = c.post(f"{base}/listings/", {"direction": "output", "words": "oven heat", "choice": "0", "quantity": "",
                                     "unit": "", "frequency": "seasonal", "months": ["1", "2", "12"]})
    assert r.status_code == 302, r.content.decode()[:3000]
    bread = Listing.objects.get(company=company, name="bread")
    assert (bread.resource, bread.ewc, bread.quantity, bread.unit, bread.status) == (
        "material", "02 06 01", 2.0, "t/month", "available")
    heat = Listing.objects.get(company=company, name="oven heat")
    assert heat.status == "partial" and heat.months == [1, 2, 12]  # no quantity yet: Partial, still listed
    assert c.post(f"{base}/listings/", {"next": "1"})["Location"].endswith("/onboarding/location/")
    # location by coordinates (a click on the map fills them)
    r = c.post(f"{base}/location/", {"location": "Havnegata 1", "lat": "63.005", "lon": "8.01"})
    assert r["Location"].endswith("/onboarding/costs/")
    # optional private costs
    r = c.post(f"{base}/costs/", {"cost-bread": "450", "price-bread": "", "cost-oven_heat": "", "price-oven_heat": ""})
    assert r.status_code == 302 and r["Location"] == f"/parks/park_a/companies/{company.slug}/"
    company.refresh_from_db()
    bread.refresh_from_db()
    assert company.onboarding_step == "done" and bread.cost == 450
    # the park's other members see it, without the cost
    page = world.client("member_a").get(f"/parks/park_a/companies/{company.slug}/").content.decode()
    assert "bread" in page and "02 06 01" in page and "450" not in page


def test_an_error_names_the_field_and_keeps_what_was_typed(world):
    c = Client()
    company = join(world, c)
    base = f"/parks/park_a/companies/{company.slug}/onboarding"
    c.post(f"{base}/sector/", {"nace": "10.71"})
    r = c.post(f"{base}/listings/", {"direction": "output", "words": "bread", "choice": "0", "quantity": "2",
                                     "unit": "litres", "frequency": "continuous"})
    body = r.content.decode()
    assert r.status_code == 400
    assert ">Unit</a>: Pick a unit of material: kg/h, kg/day, t/month, t/yr." in body
    assert 'value="bread"' in body and ('value="2.0"' in body or 'value="2"' in body)
    assert not Listing.objects.filter(company=company).exists()
    r = c.post(f"{base}/costs/", {"cost-x": "1"})  # no listing: nothing to check, saved
    assert r.status_code == 302


def test_a_wrong_join_code_is_refused_in_words(world):
    r = Client().post("/join/", {**BAKERY, "join_code": "guess"})
    assert r.status_code == 400
    assert "No park has this join code" in r.content.decode() and 'value="Bakeriet AS"' in r.content.decode()
    assert not Company.objects.filter(name="Bakeriet AS").exists()


def test_the_draft_survives_a_new_session(world):
    """Whatever a step saved is in the database: a new sign-in resumes at the step reached."""
    c = Client()
    company = join(world, c)
    c.post(f"/parks/park_a/companies/{company.slug}/onboarding/sector/", {"nace": "10.71"})
    again = Client()
    assert again.post("/accounts/login/", {"username": "baker", "password": BAKERY["password"]}).status_code == 302
    start = again.get("/").content.decode()
    assert f"/parks/park_a/companies/{company.slug}/onboarding/listings/" in start


def test_the_template_upload_is_the_other_way_in(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = Client()
    company = join(world, c)
    url = f"/parks/park_a/companies/{company.slug}/onboarding/listings/"
    sheet = (b"company_id,nace,direction,flow_id,resource,ewc,material,quantity,cost\n"
             b"my_bakery,10.71,output,bread,material,02 06 01,bread,24 t/yr,450 NOK/t\n"
             b"my_bakery,10.71,output,oven_heat,heat,,,40 kW,\n"
             b"my_bakery,10.71,output,crumbs,material,02 06 1,crumbs,1 t/yr,\n")
    r = c.post(url, {"sheet": SimpleUploadedFile("bakery.csv", sheet)})
    body = r.content.decode()
    assert r.status_code == 200, body[:2000]
    assert "From the sheet: 2 listings added, 0 updated." in body and "<td>4</td><td>ewc</td>" in body
    bread = Listing.objects.get(company=company, slug="bread")
    assert (bread.ewc, bread.quantity, bread.unit, bread.cost) == ("02 06 01", 24.0, "t/yr", 450.0)
    company.refresh_from_db()
    assert company.nace == "10.71"
    two = sheet + b"other_firm,10.51,output,whey,material,,whey,1 t/yr,\n"
    r = c.post(url, {"sheet": SimpleUploadedFile("two.csv", two)})
    assert r.status_code == 400 and "describes 2 companies" in r.content.decode()
