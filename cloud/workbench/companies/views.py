"""A company's page, its private tier, and editing (by its members, or on its behalf by the facilitator)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cloud.workbench import tenancy

from .estimated import estimated_flows, estimates_of, listing_from
from .forms import CompanyForm, ListingForm, StaleEdit
from .models import PARK, PRIVATE


@login_required
def company_detail(request, park: str, company: str):
    v = tenancy.viewer(request)
    c = tenancy.company_or_404(v, park, company)
    listings = [{"listing": x, "fields": tenancy.visible(v, x, c)} for x in c.listings.all()]
    tier = tenancy.tier(v, c)
    # scaled by the head count, a park-tier field: the public tier does not see them
    estimates, notes = estimates_of(c) if tier >= PARK else ([], [])
    return render(request, "companies/detail.html", {
        "company": c, "fields": tenancy.visible(v, c), "listings": listings, "tier": tier,
        "can_edit": tenancy.can_edit(v, c), "PARK": PARK, "PRIVATE": PRIVATE,
        "estimates": estimates, "estimate_notes": notes,
    })


@require_POST
@login_required
def estimate_confirm(request, park: str, company: str):
    """An estimated flow confirmed (or about to be corrected) by the company: it becomes its own listing."""
    v = tenancy.viewer(request)
    c = tenancy.editable_company_or_404(v, park, company)
    flow, action = request.POST.get("flow", ""), request.POST.get("action", "confirm")
    e = next((e for e in estimated_flows(c) if e.flow == flow), None)
    if e is None or action not in ("confirm", "correct"):
        why = (_("action: confirm or correct") if e is not None else
               _("flow: %(flow)s is not an estimate of this company (already listed?)") % {"flow": flow[:64]})
        return render(request, "companies/estimate_refused.html", {"company": c, "why": why}, status=400)
    x = listing_from(c, e)
    if action == "correct":
        return redirect("companies:listing_edit", park=c.park.slug, company=c.slug, listing=x.slug)
    return redirect("companies:detail", park=c.park.slug, company=c.slug)


@login_required
def company_private(request, park: str, company: str):
    """The private tier (costs and prices) as a partial: 404 for whoever may not read it."""
    v = tenancy.viewer(request)
    c = tenancy.company_or_404(v, park, company, need=PRIVATE)
    return render(request, "companies/detail.html#private", {
        "company": c, "rows": [{"listing": x, "fields": tenancy.visible(v, x, c)} for x in c.listings.all()]})


@login_required
def listing_detail(request, park: str, company: str, listing: str):
    v = tenancy.viewer(request)
    c = tenancy.company_or_404(v, park, company)
    x = tenancy.listing_or_404(v, c, listing)
    return render(request, "companies/listing.html", {
        "company": c, "listing": x, "fields": tenancy.visible(v, x, c), "can_edit": tenancy.can_edit(v, c)})


def _edit(request, form, template: str, context: dict, done_url: str):
    if request.method == "POST" and form.is_valid():
        try:
            form.save()
        except StaleEdit:
            form.add_error("version", _("Someone else saved this while you were editing. Your text is kept below: "
                                        "compare it with the saved one and save again."))
        else:
            return redirect(done_url)
    return render(request, template, {**context, "form": form}, status=409 if "version" in form.errors else
                  (400 if form.errors else 200))


@login_required
@require_http_methods(["GET", "POST"])
def company_edit(request, park: str, company: str):
    v = tenancy.viewer(request)
    c = tenancy.editable_company_or_404(v, park, company)
    form = CompanyForm(request.POST or None, instance=c)
    if tenancy.tier(v, c) < PRIVATE:  # the facilitator without the company's grant never sees the grant itself
        del form.fields["share_private_with_facilitator"]
    return _edit(request, form, "companies/edit.html", {"company": c},
                 f"/parks/{c.park.slug}/companies/{c.slug}/")


@login_required
@require_http_methods(["GET", "POST"])
def listing_edit(request, park: str, company: str, listing: str):
    v = tenancy.viewer(request)
    c = tenancy.editable_company_or_404(v, park, company)
    x = tenancy.listing_or_404(v, c, listing)
    form = ListingForm(request.POST or None, instance=x)
    if tenancy.tier(v, c) < PRIVATE:  # costs and prices are neither shown nor overwritten
        for name in ("cost", "price"):
            del form.fields[name]
    return _edit(request, form, "companies/listing_edit.html", {"company": c, "listing": x},
                 f"/parks/{c.park.slug}/companies/{c.slug}/listings/{x.slug}/")
