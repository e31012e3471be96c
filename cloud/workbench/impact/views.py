"""The park's impact: the page and its CSV (park tier), the public summary and its switch.

Who sees what: the page and the CSV are the park tier's (the park's companies' members, its
facilitators, admins), with money only where the viewer reads the company's private tier (see
:mod:`.report`); the public summary, when the facilitator switches it on, is anyone's and holds
physical totals only. What a viewer may not see is 404.
"""

from __future__ import annotations

import csv
import re
from datetime import date

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cloud.workbench import tenancy
from cloud.workbench.parks.models import Park

from . import charts, report
from .indicators import KEYS, PHYSICAL
from .models import PublicSummary

EARLIEST_YEAR = 2000


def _park_or_404(slug: str) -> Park:
    park = Park.objects.filter(slug=slug).first()
    if park is None:
        raise Http404("no such park")
    return park


def may_see(v: tenancy.Viewer, park: Park) -> bool:
    """The park tier: its companies' members, its facilitators, admins."""
    return park.pk in v.member_parks or tenancy.can_run_park(v, park.pk)


def is_public(park: Park) -> bool:
    return PublicSummary.objects.filter(park=park, enabled=True).exists()


def months_of(year: str | None, today: date) -> list[tuple[int, int]]:
    """The calendar months of ``year``, or (none given) the 12 complete months before ``today``.

    :raises ValueError: a year that is not a number from 2000 to this year
    """
    if year in (None, ""):
        y, m = today.year, today.month
        out = []
        for _i in range(12):
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
            out.append((y, m))
        return out[::-1]
    if not year.isdigit() or not EARLIEST_YEAR <= int(year) <= today.year:
        raise ValueError(_("year: %(value)s is not a year from %(first)s to %(last)s")
                         % {"value": year[:20], "first": EARLIEST_YEAR, "last": today.year})
    return [(int(year), m) for m in range(1, 13)]


def _influx() -> tuple[object | None, str]:
    from cloud.workbench.parks.telemetry import influx_from_env

    client = influx_from_env()
    return client, "" if client is not None else _(
        "No InfluxDB is configured (AISYM_WORKBENCH_INFLUX_URL): every figure is the twin's.")


def _report(request, p: Park, v) -> report.Report:
    months = months_of(request.GET.get("year"), date.today())
    client, note = _influx()
    try:
        return report.build(p, v, months, client=client, client_note=note,
                            hours=float(getattr(settings, "AISYM_IMPACT_TWIN_HOURS", 8760.0)))
    finally:
        if client is not None:
            client.close()


@login_required
@require_GET
def park_impact(request, park: str):
    v = tenancy.viewer(request)
    p = _park_or_404(park)
    if not may_see(v, p):
        raise Http404("no such page")
    try:
        rep = _report(request, p, v)
    except ValueError as e:
        return render(request, "impact/park.html", {"park": p, "refused": str(e)}, status=400)
    focus = request.GET.get("exchange", "")
    rows = {r.exchange.id: r for r in rep.rows}
    if focus and focus not in rows:
        return render(request, "impact/park.html", {"park": p, "refused": _(
            "exchange: %(id)s is not a running exchange of this park") % {"id": focus[:100]}}, status=400)
    monthly = rows[focus].cells if focus else None
    series = [c.figures for c in monthly] if monthly is not None else rep.park_months
    readable = {c.slug for c in p.companies.all() if (tenancy.tier(v, c) or 0) >= 2}
    return render(request, "impact/park.html", {
        "park": p, "rep": rep, "focus": rows.get(focus), "months": charts.month_rows(rep.months, series, monthly),
        "charts": charts.charts(rep.months, series, rep.currency, with_money=True),
        "exchanges": [{"row": r, "disposal_factor": report.factor_text(r.exchange, rep.currency,
                                                                       r.exchange.supplier in readable, "disposal"),
                       "purchase_factor": report.factor_text(r.exchange, rep.currency,
                                                             r.exchange.receiver in readable, "purchase")}
                      for r in rep.rows],
        "year": request.GET.get("year", ""), "runs_park": tenancy.can_run_park(v, p.pk), "public": is_public(p),
        "keys": KEYS, "twin_year": _twin_year(rep.pending) if rep.pending is not None else None})


def _twin_year(job) -> dict:
    """What the page says of the worker job computing the twin's year (as the twin test's page says it)."""
    from django.utils import timezone

    from cloud.workbench.simulations.views import STEPS

    text = job.progress_text
    month = re.match(r"month (\d+) of (\d+) simulated", text)
    if month:  # run_twin_job's own step, in the viewer's language
        step = _("month %(m)s of %(n)s simulated") % {"m": month.group(1), "n": month.group(2)}
    else:
        step = STEPS.get(text.split(" ", 1)[0], text) if text else _("waiting")
    return {"job": job, "step": step,
            "elapsed": int(((job.finished or timezone.now()) - (job.started or job.created)).total_seconds())}


@login_required
@require_GET
def twin_year_progress(request, park: str):
    """The partial the impact page polls while the twin's year is computed; once the job is finished,
    htmx reloads the page (``HX-Refresh``), which then shows the twin's months or why there are none."""
    from cloud.workbench.simulations.models import Job
    from cloud.workbench.simulations.runner import check

    v = tenancy.viewer(request)
    p = _park_or_404(park)
    if not may_see(v, p):
        raise Http404("no such page")
    with tenancy.system_access():  # the park's own job (no company's): its progress is all that is shown
        job = Job.objects.filter(park=p, kind=Job.IMPACT).order_by("-created", "-id").first()
        job = check(job) if job is not None else None
    ctx = {"park": p, **(_twin_year(job) if job is not None else {"job": None})}
    response = render(request, "impact/_twin_year.html", ctx)
    if job is not None and job.finished_state and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def impact_csv(request, park: str):
    """Every exchange-month, the park's months and the period's totals, as on the page."""
    v = tenancy.viewer(request)
    p = _park_or_404(park)
    if not may_see(v, p):
        raise Http404("no such page")
    try:
        rep = _report(request, p, v)
    except ValueError as e:
        return HttpResponse(str(e) + "\n", status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{p.slug}-impact.csv"'
    write_csv(rep, csv.writer(response))
    return response


def csv_header(currency: str) -> list[str]:
    return [_("month"), _("exchange"), _("supplier"), _("receiver"), _("resource"), _("source"), _("hours metered"),
            _("amount"), _("amount unit"), _("disposal cost avoided (%(cur)s)") % {"cur": currency},
            _("purchase cost avoided (%(cur)s)") % {"cur": currency}, _("raw material saved (t)"),
            _("water saved (m3)"), _("energy saved (MWh)"), _("GHG avoided (t CO2e)")]


def write_csv(rep: report.Report, w) -> None:
    """One row per exchange and month, per exchange for the period (month ``total``), then the park's."""
    from .charts import csv_value

    w.writerow(csv_header(rep.currency))
    label = {(y, m): f"{y}-{m:02d}" for y, m in rep.months}
    for r in rep.rows:
        x = r.exchange
        head = [x.id, r.supplier, r.receiver, x.resource.value]
        for (y, m), c in zip(rep.months, r.cells, strict=True):
            w.writerow([label[(y, m)], *head, c.source, "" if c.hours is None else c.hours,
                        "" if c.amount is None else f"{c.amount:.3f}", x.unit,
                        *(csv_value(k, c.figures[k]) for k in KEYS)])
        w.writerow([_("total"), *head, r.sources, "", "", x.unit, *(csv_value(k, r.total[k]) for k in KEYS)])
    park_head = [_("park"), "", "", ""]
    for (y, m), figs in zip(rep.months, rep.park_months, strict=True):
        w.writerow([label[(y, m)], *park_head, "", "", "", "", *(csv_value(k, figs[k]) for k in KEYS)])
    w.writerow([_("total"), *park_head, "", "", "", "", *(csv_value(k, rep.park_total[k]) for k in KEYS)])


def public_summary(request, park: str):
    """The park's physical totals for the public authority: anyone, once the facilitator publishes them."""
    p = _park_or_404(park)
    if not is_public(p):
        raise Http404("no such page")
    try:
        rep = _report(request, p, tenancy.ANONYMOUS)
    except ValueError as e:
        return render(request, "impact/public.html", {"park": p, "refused": str(e)}, status=400)
    physical = [k for k, _unit in PHYSICAL]
    return render(request, "impact/public.html", {
        "park": p, "rep": rep, "months": charts.month_rows(rep.months, rep.park_months, None, keys=physical),
        "charts": charts.charts(rep.months, rep.park_months, rep.currency, with_money=False),
        "totals": [(k, u, rep.park_total[k]) for k, u in PHYSICAL], "year": request.GET.get("year", ""),
        "exchanges": len(rep.rows)})


@require_POST
@login_required
def public_switch(request, park: str):
    """The facilitator publishes or withdraws the public summary (recorded in the park's audit log)."""
    from cloud.workbench.accounts.models import AuditEntry

    v = tenancy.viewer(request)
    p = _park_or_404(park)
    if not tenancy.can_run_park(v, p.pk):
        raise Http404("no such page")
    enabled = request.POST.get("enabled") == "on"
    row, _created = PublicSummary.objects.get_or_create(park=p)
    if row.enabled != enabled:
        old = row.enabled
        row.enabled = enabled
        row.save()
        AuditEntry.objects.create(user=request.user, actor=request.user.get_username(), action=AuditEntry.UPDATE,
                                  model="impact.PublicSummary", object_pk=str(row.pk),
                                  object_repr=f"public impact summary of {p.slug}", park_id=p.pk,
                                  changes={"enabled": [old, enabled]})
    return redirect("impact:park", park=p.slug)
