"""Bulk import of opportunities from a CSV sheet (a workshop's list), as NetBox imports: each bad row is
refused with ``row N: field: why`` (N is the sheet's line, the header being row 1) and every good row
is kept."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from cloud.workbench.accounts.models import Facilitator, Membership

from .changes import create
from .models import STAGES, STOPPED

COLUMNS = ("title", "key", "supplier", "receiver", "resource", "stage", "owner", "notes", "stop_reason")
MAX_BYTES = 1_000_000
MAX_ROWS = 2000


class Refused(ValueError):
    """The whole file is unreadable (not CSV, no title column, too large): nothing imported."""


@dataclass
class Result:
    created: list = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_csv(upload) -> list[dict[str, str]]:
    """The sheet's rows as dicts of the known columns (unknown columns refuse the file: nothing is ignored)."""
    name = getattr(upload, "name", "sheet.csv")
    raw = upload.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise Refused(_("%(file)s: larger than 1 MB") % {"file": name})
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused(_("%(file)s: not UTF-8 text (save the sheet as CSV UTF-8)") % {"file": name}) from None
    try:
        reader = csv.DictReader(io.StringIO(text), dialect=csv.Sniffer().sniff(text[:4096], delimiters=",;\t"))
    except csv.Error:
        reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    unknown = [h for h in header if h not in COLUMNS]
    if "title" not in header:
        raise Refused(_("%(file)s: row 1: no title column (columns: %(columns)s)") % {
            "file": name, "columns": ", ".join(COLUMNS)})
    if unknown:
        raise Refused(_("%(file)s: row 1: unknown column(s) %(unknown)s (columns: %(columns)s)") % {
            "file": name, "unknown": ", ".join(unknown), "columns": ", ".join(COLUMNS)})
    reader.fieldnames = header
    rows = []
    for row in reader:
        if len(rows) >= MAX_ROWS:
            raise Refused(_("%(file)s: more than %(n)d rows") % {"file": name, "n": MAX_ROWS})
        rows.append({k: (v or "").strip() for k, v in row.items() if k is not None})
    return rows


def _row(park, row: dict[str, str], companies: dict, owners: dict) -> tuple[dict, list[tuple[str, str]]]:
    """The opportunity's fields, or (field, why) of every problem of the row."""
    problems, fields = [], {}
    if not row.get("title"):
        problems.append(("title", _("required")))
    elif len(row["title"]) > 200:
        problems.append(("title", _("longer than 200 characters")))
    fields["title"], fields["key"] = row.get("title", "")[:200], row.get("key", "")[:300]
    for side in ("supplier", "receiver"):
        ref = row.get(side, "")
        if ref:
            company = companies.get(ref.lower())
            if company is None:
                problems.append((side, _("no company %(ref)s in this park") % {"ref": ref}))
            fields[side] = company
    stage = (row.get("stage") or "idea").lower()
    if stage not in dict(STAGES):
        problems.append(("stage", _("%(stage)s is not one of %(stages)s") % {
            "stage": stage, "stages": ", ".join(s for s, _l in STAGES)}))
    fields["stage"] = stage
    fields["stop_reason"] = row.get("stop_reason", "")[:300]
    if stage == STOPPED and not fields["stop_reason"]:
        problems.append(("stop_reason", _("a stopped opportunity needs the reason")))
    if row.get("owner"):
        owner = owners.get(row["owner"].lower())
        if owner is None:
            problems.append(("owner", _("%(user)s is neither a facilitator of this park nor a member of one of its "
                                        "companies") % {"user": row["owner"]}))
        fields["owner"] = owner
    fields["resource"], fields["notes"] = row.get("resource", "")[:32], row.get("notes", "")
    return fields, problems


def _candidates(park) -> tuple[dict, str]:
    """The park's matchmaking candidates by key, or why the park cannot be matched as it is."""
    from cloud.workbench import engine

    from .assess import _ranked

    try:
        return _ranked(park, engine.park_text(park)).by_key(), ""
    except ValueError as e:
        return {}, " ".join(str(e).split())


def _from_candidate(fields: dict, candidates: dict, unmatched: str, companies: dict) -> list[tuple[str, str]]:
    """Check the row's key against the matchmaking; what the row leaves blank is taken from the candidate."""
    c = candidates.get(fields["key"])
    if c is None:
        why = unmatched or _("not a candidate of the park as it is now (see the opportunities page)")
        return [("key", why)]
    carrier = c.output.carrier
    for side, slug in (("supplier", c.supplier), ("receiver", c.receiver)):
        if fields.get(side) is None:
            fields[side] = companies.get(slug.lower())
    fields["resource"] = fields["resource"] or str(carrier.resource)
    fields.update(material=carrier.material or "", ewc=carrier.ewc or "", conversion=c.conversion.kind)
    return []


def import_rows(park, rows: list[dict[str, str]], user) -> Result:
    """Create an opportunity per good row; list each bad row's problems."""
    companies = {}
    for c in park.companies.all():
        companies[c.slug.lower()] = companies[c.name.lower()] = c
    users = get_user_model().objects.filter(
        pk__in=[*Facilitator.objects.filter(park=park).values_list("user_id", flat=True),
                *Membership.objects.filter(company__park=park).values_list("user_id", flat=True)])
    owners = {u.get_username().lower(): u for u in users}
    candidates, unmatched = _candidates(park) if any(r.get("key") for r in rows) else ({}, "")
    result = Result()
    for n, row in enumerate(rows, start=2):
        fields, problems = _row(park, row, companies, owners)
        if fields["key"]:
            problems += _from_candidate(fields, candidates, unmatched, companies)
        if problems:
            result.problems += [f"row {n}: {f}: {why}" for f, why in problems]
            continue
        with transaction.atomic():
            opp = create(park, user, note=_("imported from a sheet"), **fields)
        result.created.append(opp)
        if opp.problem:
            result.problems.append(f"row {n}: key: " + _("imported, but matchmaking was not told: %(why)s") % {
                "why": opp.problem})
    return result
