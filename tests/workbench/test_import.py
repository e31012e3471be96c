"""The facilitator's bulk import of a workshop's sheet: 80 companies, bad rows by row and column,
nothing good lost; a zip bomb and a 50 MB upload refused with a message."""

from __future__ import annotations

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from cloud.workbench.accounts.models import AuditEntry
from cloud.workbench.companies.models import Company, Listing

HEADER = ["company_id", "company_name", "nace", "lat", "lon", "direction", "flow_id", "resource", "temperature_c",
          "ewc", "material", "quantity", "cost", "route"]


def workshop_sheet(n: int = 80) -> tuple[bytes, int, int]:
    """An XLSX of ``n`` companies, two rows each, three of them bad; returns (bytes, good rows, bad rows)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Flows"
    ws.append(HEADER)
    for i in range(n):
        cid = f"firm_{i:02d}"
        ws.append([cid, f"Firm {i}", "10.71", 63 + i / 1000, 8.0, "output", "bread", "material", None, "02 06 01",
                   "bread", f"{10 + i} t/yr", "450 NOK/t", "landfill"])
        ws.append([cid, f"Firm {i}", "10.71", 63 + i / 1000, 8.0, "input", "heat_in", "heat", 70, None, None, "1 MW",
                   None, "gas boiler"])
    ws.append(["bad_nace", "Bad", "bakery", None, None, "output", "x", "material", None, None, "x", "1 t/yr", None, ""])
    ws.append(["bad_res", "Bad", "10.71", None, None, "output", "x", "plasma", None, None, None, "1 t/yr", None, ""])
    ws.append(["bad_site", "Bad", "10.71", 63.0, None, "output", "x", "material", None, None, "x", "1 t/yr", None, ""])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), 2 * n, 3


def upload(client, data: bytes, name: str = "workshop.xlsx"):
    return client.post("/parks/park_a/import/", {"sheet": SimpleUploadedFile(name, data)})


def test_a_workshop_sheet_of_80_companies(world):
    data, good, bad = workshop_sheet()
    assert bad == 3
    before = Company.objects.filter(park=world.park_a).count()
    c = world.client("facilitator_a")
    r = upload(c, data)
    body = r.content.decode()
    assert r.status_code == 200, body[:2000]
    assert "Imported: 80 companies created, 0 updated; 160 listings created, 0 updated." in body
    assert Company.objects.filter(park=world.park_a).count() == before + 80
    assert Listing.objects.filter(company__park=world.park_a, company__slug__startswith="firm_").count() == good
    # each bad row by its row and column
    assert "3 rows left out" in body
    for row, column in ((162, "nace"), (163, "resource"), (164, "lon")):
        assert f"<td>{row}</td><td>{column}</td>" in body, (row, column)
    firm = Listing.objects.get(company__slug="firm_05", slug="bread")
    assert (firm.quantity, firm.unit, firm.ewc, firm.cost) == (15.0, "t/yr", "02 06 01", 450.0)
    heat = Listing.objects.get(company__slug="firm_05", slug="heat_in")
    assert heat.resource == "heat" and heat.quality == {"temperature_c": 70.0} and heat.unit == "MWh/yr"
    assert round(heat.quantity) == 8760
    # made on the companies' behalf, in the audit log
    assert AuditEntry.objects.filter(actor="facilitator_a", on_behalf=True, model="companies.Listing").count() == good
    # the same sheet again: every row updates, nothing doubles
    r = upload(c, data)
    assert "0 companies created, 80 updated; 0 listings created, 160 updated." in r.content.decode()
    assert Listing.objects.filter(company__slug__startswith="firm_").count() == good


def test_a_csv_sheet_is_read_too(world):
    csv = (b"company_id,nace,direction,flow_id,resource,quantity\n"
           b"dairy_x,10.51,output,whey,material,100 t/yr\n"
           b"dairy_x,10.51,sideways,whey2,material,1 t/yr\n")
    r = upload(world.client("facilitator_a"), csv, "sheet.csv")
    body = r.content.decode()
    assert "1 companies created" in body and "<td>3</td><td>direction</td>" in body


def test_a_zip_bomb_is_refused_with_a_message(world):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    r = upload(world.client("facilitator_a"), buf.getvalue())
    assert r.status_code == 400
    assert "refused as a possible zip bomb" in r.content.decode()
    assert not Company.objects.filter(slug__startswith="firm_").exists()


def test_a_50_mb_upload_is_refused_with_a_message(world):
    r = upload(world.client("facilitator_a"), b"x" * (50 * 1024 * 1024))
    assert r.status_code == 413
    assert "the limit is 5 MB. Nothing was imported." in r.content.decode()


def test_a_file_that_is_not_a_sheet(world):
    r = upload(world.client("facilitator_a"), b"hello", "notes.txt")
    assert r.status_code == 400 and "upload the company template as .xlsx or .csv" in r.content.decode()
    r = upload(world.client("facilitator_a"), b"not a zip", "fake.xlsx")
    assert r.status_code == 400 and "not an XLSX workbook" in r.content.decode()
