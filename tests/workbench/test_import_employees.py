"""The company template's ``employees`` column reaches the workbench: the facilitator's bulk import puts
it in Company.employees (issue 23 item 3), and a bad value is one row left out, said by row and column."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from cloud.workbench.companies.models import Company, Listing

SHEET = (b"company_id,company_name,nace,employees,direction,flow_id,resource,material,ewc,quantity\n"
         b"harbour_bakery,Harbour Bakery,10.71,12,,,,,,\n"
         b"harbour_bakery,Harbour Bakery,10.71,,output,bread,material,bread,02 06 01,50 t/yr\n"
         b"big_mill,Big Mill,10.61,many,,,,,,\n")


def test_employees_from_the_template_land_in_the_company(world):
    r = world.client("facilitator_a").post("/parks/park_a/import/",
                                           {"sheet": SimpleUploadedFile("sheet.csv", SHEET)})
    body = r.content.decode()
    assert r.status_code == 200, body[:2000]
    bakery = Company.objects.get(park=world.park_a, slug="harbour_bakery")
    assert bakery.employees == 12 and bakery.nace == "10.71"  # main: the file refused (unknown column 'employees')
    assert Listing.objects.filter(company=bakery).count() == 1
    assert "<td>4</td><td>employees</td>" in body and not Company.objects.filter(slug="big_mill").exists()
