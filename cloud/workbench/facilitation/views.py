"""The facilitator's park-wide matchmaking, shortlist and best set of K (park facilitators and admins)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cloud.workbench import tenancy
from cloud.workbench.parks.models import Park

from . import jobs
from .forms import BestSetForm, ShortlistForm
from .models import BestSetSearch, ShortlistEntry
from .ranking import RankError, filtered, ranked, rows


def park_run_or_404(request, slug: str) -> Park:
    """The park, if the viewer runs it (its facilitators, admins); else 404."""
    park = Park.objects.filter(slug=slug).first()
    if park is None or not tenancy.can_run_park(tenancy.viewer(request), park.pk):
        raise Http404("no such page")
    return park


@login_required
@require_http_methods(["GET", "POST"])
def matches(request, park: str):
    """Every candidate of the park, best first; POST: run matchmaking again on the current version."""
    p = park_run_or_404(request, park)
    v = tenancy.viewer(request)
    try:
        result = ranked(p, force=request.method == "POST")
    except RankError as e:
        return render(request, "facilitation/matches.html", {"park": p, "error": str(e)})
    if request.method == "POST":
        messages.success(request, _("Matchmaking ran on park version %(v)s: %(n)s candidates.") % {
            "v": result.ranked.version, "n": len(result.ranked.candidates)})
        return redirect("facilitation:matches", park=p.slug)
    short = dict(ShortlistEntry.objects.filter(park=p).values_list("key", "note"))
    table = rows(v, p, result.ranked.candidates, short)
    resource, company = request.GET.get("resource", "").strip(), request.GET.get("company", "").strip()
    companies = {c.slug: c.name for c in p.companies.all()}
    resources = sorted({r["resource"] for r in table})
    problems = []
    if company and company not in companies:
        problems.append(_("No company “%(c)s” in this park: showing every company.") % {"c": company})
        company = ""
    if resource and resource not in resources:
        problems.append(_("No candidate of the resource “%(r)s”: showing every resource.") % {"r": resource})
        resource = ""
    return render(request, "facilitation/matches.html", {
        "park": p, "rows": filtered(table, resource, company), "total": len(table), "version": result.ranked.version,
        "computed_at": result.computed_at, "resource": resource, "company": company, "resources": resources,
        "companies": sorted(companies.items(), key=lambda kv: kv[1]), "problems": problems,
        "rejected": len(result.ranked.rejected)})


@login_required
@require_http_methods(["GET", "POST"])
def shortlist(request, park: str):
    """The shortlist: add (from the matches page), change a note, remove; find the best set of K."""
    p = park_run_or_404(request, park)
    if request.method == "POST":
        return _shortlist_post(request, p)
    return _shortlist_page(request, p, BestSetForm())


def _shortlist_post(request, p: Park):
    if "remove" in request.POST:
        ShortlistEntry.objects.filter(park=p, key=request.POST["remove"]).delete()
        return redirect("facilitation:shortlist", park=p.slug)
    if "size" in request.POST:
        return _best_set(request, p)
    form = ShortlistForm(request.POST)
    if not form.is_valid():
        return _shortlist_page(request, p, BestSetForm(), problems=[f"{k}: {' '.join(e)}" for k, e in form.errors.items()])
    key, note = form.cleaned_data["key"], form.cleaned_data["note"].strip()
    try:
        known = key in ranked(p).ranked.by_key()
    except RankError as e:
        return _shortlist_page(request, p, BestSetForm(), problems=[str(e)])
    if not known:
        return _shortlist_page(request, p, BestSetForm(), problems=[
            _("“%(k)s” is not a candidate of the park as it is now: run matchmaking again.") % {"k": key}])
    entry, created = ShortlistEntry.objects.update_or_create(park=p, key=key, defaults={"note": note})
    if created:
        entry.added_by = request.user
        entry.save(update_fields=["added_by"])
    messages.success(request, (_("Added to the shortlist: %(k)s.") if created else _("Note saved: %(k)s.")) % {"k": key})
    back = request.POST.get("next", "")
    return redirect(back if back.startswith(f"/parks/{p.slug}/facilitate/") else
                    reverse("facilitation:shortlist", kwargs={"park": p.slug}))


def _best_set(request, p: Park):
    entries = list(ShortlistEntry.objects.filter(park=p))
    form = BestSetForm(request.POST)
    if form.is_valid() and form.cleaned_data["size"] > len(entries):
        form.add_error("size", _("K can be at most %(n)s, the number of candidates on the shortlist.") % {"n": len(entries)})
    if not form.is_valid():
        return _shortlist_page(request, p, form)
    keys = [e.key for e in entries]
    search = BestSetSearch.objects.create(park=p, size=form.cleaned_data["size"], keys=keys, created_by=request.user)
    try:
        job = jobs.submit(p, keys, form.cleaned_data["size"], request.user)
    except jobs.NotSubmitted as e:
        search.error = str(e)[:500]
    else:
        search.job, search.version = str(job.pk), job.version
    search.save()
    return redirect("facilitation:best_set", park=p.slug, search=search.pk)


def _shortlist_page(request, p: Park, form: BestSetForm, problems=()):
    entries = list(ShortlistEntry.objects.filter(park=p))
    try:
        by_key = {r["key"]: r for r in rows(tenancy.viewer(request), p, ranked(p).ranked.candidates)}
        stale = None
    except RankError as e:
        by_key, stale = {}, str(e)
    items = [{"entry": e, "row": by_key.get(e.key)} for e in entries]
    status = 400 if problems or form.errors else 200
    return render(request, "facilitation/shortlist.html", {
        "park": p, "items": items, "form": form, "problems": problems, "rank_error": stale,
        "searches": BestSetSearch.objects.filter(park=p)[:10]}, status=status)


@login_required
def best_set(request, park: str, search: int):
    """A best-set search: its twin job's link and state, and when done the set with its interactions."""
    p = park_run_or_404(request, park)
    s = BestSetSearch.objects.filter(park=p, pk=search).first()
    if s is None:
        raise Http404("no such search")
    state = jobs.state(p, s.job) if s.job else None
    try:
        job_url = reverse("simulations:job", kwargs={"park": p.slug, "job": int(s.job)}) if s.job else ""
    except (NoReverseMatch, ValueError):
        job_url = ""
    done = state is not None and state.result is not None
    context = {"park": p, "search": s, "state": state, "job_url": job_url, "done": done,
               "polling": state is not None and not done and state.state != "failed"}
    if done:
        context.update(jobs.best_set(tenancy.viewer(request), p, state))
    template = "facilitation/best_set.html" + ("#state" if request.htmx else "")
    return render(request, template, context)
