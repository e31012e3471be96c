"""The start page (ready for a first visitor, with or without parks) and a park's own pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cloud.workbench import tenancy
from cloud.workbench.accounts.models import AuditEntry
from cloud.workbench.companies.models import Company

from .models import Park


def start(request):
    v = tenancy.viewer(request)
    mine = Company.objects.filter(pk__in=v.member_of).select_related("park") if v.signed_in else []
    facilitated = Park.objects.filter(pk__in=v.facilitates) if v.signed_in else []
    parks = Park.objects.all() if v.signed_in else Park.objects.none()
    return render(request, "parks/start.html", {
        "my_companies": mine, "facilitated": facilitated, "parks": parks, "park_count": Park.objects.count(),
    })


def _park_or_404(slug: str) -> Park:
    park = Park.objects.filter(slug=slug).first()
    if park is None:
        raise Http404("no such park")
    return park


COMPANIES_PER_PAGE = 50


def _company_search(q: str):
    """Companies of the park whose name holds the words, or whose sector is that code or those words."""
    from django.db.models import Q

    from cloud.workbench.companies.vocabulary import find_sectors

    found = Q(name__icontains=q) | Q(nace__startswith=q)  # the ORM binds the text: no SQL is built from it
    codes = [s.code for s in find_sectors(q) if s.score >= 1]  # "bakery" -> 10.71, as the directory reads it
    return found | Q(nace__in=codes) if codes else found


@login_required
def park_detail(request, park: str):
    """The park and its companies, 50 a page in natural name order, searched by name or sector."""
    from django.core.paginator import Paginator
    from django.db.models import Count

    from cloud.workbench.directory.ordering import natural

    v = tenancy.viewer(request)
    p = _park_or_404(park)
    q = request.GET.get("q", "").strip()[:100]
    companies = tenancy.companies(v).filter(park=p)
    if q:
        companies = companies.filter(_company_search(q))
    companies = companies.annotate(listing_count=Count("listings")).order_by(natural("name"), "id")
    pages = Paginator(companies, COMPANIES_PER_PAGE)
    number = request.GET.get("page", "1")
    if not number.isdecimal() or not 1 <= int(number) <= pages.num_pages:  # a page that is not there: as Django's ListView
        raise Http404("no such page")
    page = pages.page(int(number))
    rows = [{"company": c, "fields": tenancy.visible(v, c), "listings": c.listing_count,
             "can_edit": tenancy.can_edit(v, c)} for c in page]
    context = {"park": p, "rows": rows, "page": page, "q": q, "runs_park": tenancy.can_run_park(v, p.pk),
               "page_numbers": pages.get_elided_page_range(page.number, on_each_side=2, on_ends=1)}
    return render(request, "parks/detail.html#companies" if request.htmx else "parks/detail.html", context)


@login_required
def park_audit(request, park: str):
    """The park's audit log: its facilitators and admins only."""
    v = tenancy.viewer(request)
    p = _park_or_404(park)
    if not tenancy.can_run_park(v, p.pk):
        raise Http404("no such page")
    entries = AuditEntry.objects.filter(park_id=p.pk)[:200]
    return render(request, "parks/audit.html", {"park": p, "entries": entries})


@login_required
@require_http_methods(["GET", "POST"])
def park_import(request, park: str):
    """The facilitator's bulk import of a workshop's sheet; refused rows are listed by row and column."""
    from .bulk_import import Refused, import_profiles, read_upload

    v = tenancy.viewer(request)
    p = _park_or_404(park)
    if not tenancy.can_run_park(v, p.pk):
        raise Http404("no such page")
    context, status = {"park": p}, 200
    if request.method == "POST":
        upload = request.FILES.get("sheet")
        if upload is None:
            context["refused"], status = _("Choose the filled-in template (.xlsx or .csv) first."), 400
        else:
            try:
                profiles, problems = read_upload(upload, p.currency)
            except Refused as e:
                context["refused"], status = str(e), 400
            else:
                context["result"] = import_profiles(p, profiles, problems)
    return render(request, "parks/import.html", context, status=status)


@login_required
def park_map(request, park: str):
    """The park's companies on a map (Leaflet, no tiles): what each viewer may see of them."""
    v = tenancy.viewer(request)
    p = _park_or_404(park)
    rows = [tenancy.visible(v, c) | {"url": f"/parks/{p.slug}/companies/{c.slug}/"}
            for c in tenancy.companies(v).filter(park=p, lat__isnull=False, lon__isnull=False)]
    return render(request, "parks/map.html", {"park": p, "points": rows})


@login_required
def park_export(request, park: str):
    """The park as a v2 park file; costs only of the companies whose private tier the viewer may read."""
    from django.http import HttpResponse

    from cloud.workbench.companies.models import PRIVATE

    from .export import export_park

    v = tenancy.viewer(request)
    p = _park_or_404(park)
    if not tenancy.can_run_park(v, p.pk):
        raise Http404("no such page")
    private_of = {c.pk for c in p.companies.all() if (tenancy.tier(v, c) or 0) >= PRIVATE}
    response = HttpResponse(export_park(p, private_of), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{p.slug}.yaml"'
    return response


@login_required
def park_flows_view(request, park: str):
    """The park's exchanges as a Sankey: the park tier (its companies, facilitators, admins)."""
    from .flows import park_flows, sankey_svg

    v = tenancy.viewer(request)
    p = _park_or_404(park)
    if not (p.pk in v.member_parks or tenancy.can_run_park(v, p.pk)):
        raise Http404("no such page")
    names, flows, links = park_flows(p, with_links=True)
    return render(request, "parks/flows.html", {"park": p, "svg": sankey_svg(names, flows), "flows": flows,
                                                **_telemetry(p, links)})


def _telemetry(p, links) -> dict:
    """The metered exchanges' latest values and sparklines, or why there are none."""
    from aisym.influx import InfluxError

    from .telemetry import influx_from_env, meters

    metered = [lk for lk in links if lk.meter_tag]
    if not metered:
        return {"meters": [], "telemetry_note": ""}
    client = influx_from_env()
    if client is None:
        return {"meters": [], "telemetry_note": _("No InfluxDB is configured (AISYM_WORKBENCH_INFLUX_URL).")}
    try:
        return {"meters": meters(p.slug, metered, client), "telemetry_note": ""}
    except InfluxError as e:
        return {"meters": [], "telemetry_note": _("Telemetry could not be read: %(why)s") % {"why": str(e)[:200]}}
    finally:
        client.close()
