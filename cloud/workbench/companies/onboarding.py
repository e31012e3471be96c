"""A company's onboarding in plain words: join, sector, listings, location, costs.

The draft is the company itself: each step saves what it got before the next page opens, and
``Company.onboarding_step`` says where to go on. A server restart in the middle loses nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cloud.workbench import tenancy
from cloud.workbench.accounts.models import Membership
from cloud.workbench.parks.models import Park

from .models import PRIVATE, Company, Listing
from .onboarding_forms import JoinForm, ListingStepForm, LocationForm, SectorForm
from .vocabulary import UNITS, find_resources, find_sectors, nace_name

STEPS = ["sector", "listings", "location", "costs", "done"]


def step_url(c: Company, step: str) -> str:
    if step == "done":
        return reverse("companies:detail", args=[c.park.slug, c.slug])
    return reverse("companies:onboarding", args=[c.park.slug, c.slug, step])


def _unique_slug(park: Park, name: str) -> str:
    base = slugify(name)[:50].replace("-", "_") or "company"
    slug, n = base, 1
    while Company.objects.filter(park=park, slug=slug).exists():
        n += 1
        slug = f"{base}_{n}"
    return slug


@require_http_methods(["GET", "POST"])
def join(request):
    """A company joins a park with the facilitator's code: its account and its (draft) company at once."""
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        park = Park.objects.exclude(join_code="").filter(join_code=d["join_code"].strip()).first()
        if park is None:
            form.add_error("join_code", _("No park has this join code: check it with your facilitator."))
        else:
            with transaction.atomic(), tenancy.system_access():  # a new company has no member yet to write it
                user = get_user_model().objects.create_user(d["username"], email=d["email"], password=d["password"])
                company = Company.objects.create(park=park, slug=_unique_slug(park, d["company_name"]),
                                                 name=d["company_name"], country=park.country, onboarding_step="sector")
                Membership.objects.create(user=user, company=company)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(step_url(company, "sector"))
    return render(request, "companies/onboarding/join.html", {"form": form}, status=400 if form.errors else 200)


def _company(request, park: str, company: str) -> Company:
    return tenancy.editable_company_or_404(tenancy.viewer(request), park, company)


@login_required
def sector_choices(request, park: str, company: str):
    """HTMX partial: the sectors that fit the words typed."""
    _company(request, park, company)
    return render(request, "companies/onboarding/sector.html#choices",
                  {"choices": find_sectors(request.GET.get("words", ""))})


@login_required
def resource_choices(request, park: str, company: str):
    """HTMX partial: what a listing in these words may be."""
    c = _company(request, park, company)
    return render(request, "companies/onboarding/listings.html#suggestions",
                  {"suggestions": find_resources(request.GET.get("words", ""), c.nace)})


@login_required
@require_http_methods(["GET", "POST"])
def onboarding(request, park: str, company: str, step: str):
    c = _company(request, park, company)
    handler = {"sector": _sector, "listings": _listings, "location": _location, "costs": _costs}.get(step)
    if handler is None:
        from django.http import Http404

        raise Http404("no such step")
    return handler(request, c)


def _render(request, c, step, context, form):
    return render(request, f"companies/onboarding/{step}.html",
                  {"company": c, "step": step, "steps": STEPS[:-1], "form": form, **context},
                  status=400 if form is not None and form.errors else 200)


def _sector(request, c: Company):
    words = request.POST.get("words") or request.GET.get("words") or ""
    choices = find_sectors(words) if words else ([] if not c.nace else find_sectors(c.nace))
    if request.method == "POST" and "find" not in request.POST:
        form = SectorForm(request.POST, choices=choices)
        if form.is_valid():
            c.nace = form.cleaned_data["nace"]
            if c.onboarding_step == "sector":
                c.onboarding_step = "listings"
            c.save()
            return redirect(step_url(c, "listings"))
    else:
        form = SectorForm(request.POST or None, initial={"nace": c.nace}, choices=choices)
        if request.method == "POST":
            form.errors.clear()
    return _render(request, c, "sector", {"choices": choices, "current": nace_name(c.nace)}, form)


def _listings(request, c: Company):
    if request.method == "POST" and "next" in request.POST:
        if c.onboarding_step in ("sector", "listings"):
            c.onboarding_step = "location"
            c.save()
        return redirect(step_url(c, "location"))
    if request.method == "POST" and "sheet" in request.FILES:
        return _upload(request, c)
    if request.method == "POST" and "remove" in request.POST:
        c.listings.filter(slug=request.POST["remove"]).delete()
        return redirect(step_url(c, "listings"))
    words = request.POST.get("words", "")
    suggestions = find_resources(words, c.nace) if words else []
    form = ListingStepForm(request.POST or None, suggestions=suggestions)
    if request.method == "POST" and form.is_valid():
        d, picked = form.cleaned_data, form.cleaned_data["picked"]
        base = slugify(d["words"])[:40].replace("-", "_") or "listing"
        slug, n = base, 1
        while c.listings.filter(slug=slug).exists():
            n += 1
            slug = f"{base}_{n}"
        Listing.objects.create(
            company=c, slug=slug, direction=d["direction"], name=d["words"], resource=picked["resource"],
            ewc=picked["ewc"], material=picked["material"], quality=picked["quality"], quantity=d["quantity"],
            unit=d["unit"] if d["quantity"] is not None else "", frequency=d["frequency"],
            months=d["months"] if d["frequency"] == "seasonal" else [])
        messages.success(request, _("Saved: %(name)s.") % {"name": d["words"]})
        return redirect(step_url(c, "listings"))
    return _render(request, c, "listings", {"suggestions": suggestions, "listings": c.listings.all(),
                                            "units": UNITS}, form)


def _upload(request, c: Company):
    """The other way in: the company's own filled-in template; bad rows shown by row and column."""
    from cloud.workbench.parks.bulk_import import Refused, import_own_sheet, read_upload

    context = {"suggestions": [], "listings": None, "units": UNITS}
    try:
        profiles, problems = read_upload(request.FILES["sheet"], c.park.currency)
        context["upload"] = import_own_sheet(c, profiles, problems)
        status = 200
    except Refused as e:
        context["upload_refused"], status = str(e), 400
    context["listings"] = c.listings.all()
    response = _render(request, c, "listings", context, ListingStepForm(suggestions=[]))
    response.status_code = status
    return response


def _location(request, c: Company):
    form = LocationForm(request.POST or None, initial={"location": c.location, "lat": c.lat, "lon": c.lon})
    if request.method == "POST" and form.is_valid():
        c.location, c.lat, c.lon = (form.cleaned_data[k] for k in ("location", "lat", "lon"))
        if c.onboarding_step in ("sector", "listings", "location"):
            c.onboarding_step = "costs"
        c.save()
        return redirect(step_url(c, "costs"))
    others = [o for o in Company.objects.filter(park=c.park, lat__isnull=False).exclude(pk=c.pk)]
    return _render(request, c, "location", {"others": others}, form)


def _save_costs(c: Company, listings: list[Listing], values: dict) -> None:
    for x in listings:
        x.cost, x.price = values[(x.pk, "cost")], values[(x.pk, "price")]
        x.version += 1
        x.save()
    c.onboarding_step = "done"
    c.save()


def _costs(request, c: Company):
    """Optional costs and prices: the private tier, read by the company's members only."""
    if tenancy.tier(tenancy.viewer(request), c) < PRIVATE:  # the facilitator without the grant: skip it
        return redirect(step_url(c, "done"))
    listings = list(c.listings.all())
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {}
        for x in listings:
            for field in ("cost", "price"):
                raw = request.POST.get(f"{field}-{x.slug}", "").strip().replace(",", ".")
                try:
                    values[(x.pk, field)] = float(raw) if raw else None
                    if raw and values[(x.pk, field)] < 0:
                        raise ValueError
                except ValueError:
                    errors[f"{field}-{x.slug}"] = _("%(what)s of “%(name)s”: a number of zero or more, like 450.") % {
                        "what": _("Cost") if field == "cost" else _("Price"), "name": x.name}
        if not errors:
            with transaction.atomic():  # all of the page's values or none
                _save_costs(c, listings, values)
            messages.success(request, _("Your profile is saved. The park's companies can now find what you have and want."))
            return redirect(step_url(c, "done"))
    rows = [{"listing": x, "cost": request.POST.get(f"cost-{x.slug}", x.cost if x.cost is not None else ""),
             "price": request.POST.get(f"price-{x.slug}", x.price if x.price is not None else ""),
             "cost_error": errors.get(f"cost-{x.slug}"), "price_error": errors.get(f"price-{x.slug}")}
            for x in listings]
    return render(request, "companies/onboarding/costs.html",
                  {"company": c, "step": "costs", "steps": STEPS[:-1], "rows": rows, "errors": errors},
                  status=400 if errors else 200)
