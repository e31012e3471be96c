"""The facilitator's bulk import: a workshop's filled-in company template (XLSX or CSV) into the park.

The sheet is read by matchmaking's own reader (:func:`sim_env.match.importers.read_profiles`,
the one behind ``aisym match --import``), so a sheet means the same in the CLI and the browser.
Rows it refuses are reported by row and column and the others are imported; a company already
in the park gets its flows added or updated by flow id (nothing it had is removed).

Before the reader opens an XLSX (a zip), its members' unpacked size is checked: a zip bomb is
refused with a message instead of filling memory.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from aisym.park.graph.carriers import amount_unit
from cloud.workbench.companies.models import Company, Listing
from cloud.workbench.parks.models import Park

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a sheet of 80 companies is ~30 kB
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100  # unpacked / packed: text XML compresses ~10x; a bomb ~1000x
# a year's canonical amount shown in the unit people use for it
_YEARLY = {"kWh": ("MWh/yr", 1e-3), "kg": ("t/yr", 1e-3), "m3": ("m3/yr", 1.0), "Nm3": ("Nm3/yr", 1.0)}


class Refused(ValueError):
    """The file as a whole is refused (too large, a zip bomb, unreadable); nothing was imported."""


@dataclass
class Result:
    companies_created: int = 0
    companies_updated: int = 0
    listings_created: int = 0
    listings_updated: int = 0
    problems: list = field(default_factory=list)  # RowProblem: row, column, message


def check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except zipfile.BadZipFile:
        raise Refused("the file is not an XLSX workbook (not a zip archive)") from None
    unpacked = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if unpacked > MAX_UNPACKED_BYTES or unpacked / packed > MAX_RATIO:
        raise Refused(f"the workbook unpacks to {unpacked / 1e6:,.0f} MB from {packed / 1e6:,.1f} MB "
                      f"(at most {MAX_UNPACKED_BYTES // 10**6} MB, {MAX_RATIO}x): refused as a possible zip bomb")


def read_upload(upload, currency: str):
    """Profiles and row problems of an uploaded sheet; :class:`Refused` for a file refused whole."""
    from sim_env.match.importers import EmptyTemplate, read_profiles

    name = (upload.name or "").lower()
    suffix = ".xlsx" if name.endswith((".xlsx", ".xlsm")) else ".csv" if name.endswith(".csv") else ""
    if not suffix:
        raise Refused(f"{upload.name}: upload the company template as .xlsx or .csv")
    if upload.size > MAX_UPLOAD_BYTES:
        raise Refused(f"{upload.name} is {upload.size / 1e6:,.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"sheet{suffix}"
        with path.open("wb") as f:
            for chunk in upload.chunks():
                f.write(chunk)
        if suffix == ".xlsx":
            check_zip(path)
        try:
            return read_profiles(path, currency)
        except EmptyTemplate as e:
            raise Refused(str(e).replace(str(path), upload.name)) from None
        except ValueError as e:
            raise Refused(str(e).replace(str(path), upload.name)) from None


def _listing_values(flow) -> dict:
    amount = amount_unit(flow.carrier.resource)
    unit, factor = _YEARLY[amount]
    quality = {k: v for k, v in flow.carrier.stated().items() if k not in ("ewc", "material")}
    return {
        "direction": flow.direction, "name": (flow.carrier.material or flow.id.replace("_", " "))[:200],
        "resource": flow.carrier.resource.value, "ewc": flow.carrier.ewc or "", "material": flow.carrier.material or "",
        "quality": quality, "quantity": None if flow.annual is None else round(flow.annual * factor, 6),
        "unit": unit if flow.annual is not None else "", "route": flow.route[:200],
        "frequency": "seasonal" if flow.continuity == "seasonal" else "one_off" if flow.continuity == "batch"
        else "continuous",
        # the sheet's cost is per canonical amount (kg, kWh...): shown per the listing's unit
        "cost": None if flow.cost is None else round(flow.cost / factor, 6),
    }


def import_profiles(park: Park, profiles, problems) -> Result:
    """Create or update the park's companies and listings from the sheet's profiles (one transaction)."""
    result = Result(problems=list(problems))
    with transaction.atomic():
        for p in profiles:
            company = Company.objects.filter(park=park, slug=p.id).first()
            values = {"name": p.name or p.id, "nace": p.nace, "location": p.location, "employees": p.employees,
                      "lat": p.site[0] if p.site else None, "lon": p.site[1] if p.site else None}
            if company is None:
                company = Company.objects.create(park=park, slug=p.id, country=park.country, **values)
                result.companies_created += 1
            else:
                for k, v in values.items():
                    if v not in (None, ""):
                        setattr(company, k, v)
                company.version += 1
                company.save()
                result.companies_updated += 1
            _upsert_listings(company, p.flows, result)
    return result


def _upsert_listings(company: Company, flows, result: Result) -> None:
    """Each flow becomes the company's listing of the same id: created, or updated (its version bumped)."""
    for flow in flows:
        listing = company.listings.filter(slug=flow.id).first()
        if listing is None:
            Listing.objects.create(company=company, slug=flow.id, **_listing_values(flow))
            result.listings_created += 1
        else:
            for k, v in _listing_values(flow).items():
                setattr(listing, k, v)
            listing.version += 1
            listing.save()
            result.listings_updated += 1


def import_own_sheet(company: Company, profiles, problems) -> Result:
    """A company's own filled-in template: its rows become its listings, whatever id it wrote.

    :raises Refused: the sheet describes more than one company
    """
    ids = sorted({p.id for p in profiles})
    if len(ids) > 1:
        raise Refused(f"the sheet describes {len(ids)} companies ({', '.join(ids[:5])}): upload only your own rows")
    result = Result(problems=list(problems))
    with transaction.atomic():
        for p in profiles:
            if (not company.nace and p.nace) or p.employees is not None:
                company.nace = company.nace or p.nace
                company.employees = p.employees if p.employees is not None else company.employees
                company.save()
            _upsert_listings(company, p.flows, result)
    return result
