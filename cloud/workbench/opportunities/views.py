"""A company's opportunities: the candidates of the park's matchmaking where it gives or takes,
with the reason in words and its own share under the park's split rule; "not interested"
(stored as an outcome), the hidden ones and "show it again"; the company's choice to be named;
the facilitator's split rule.

Only the company's members (and the facilitator it shares its costs with) see the page: its
shares come from its own costs. A partner is named only if it chose to be; its costs, prices and
share never reach the page.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
from collections import OrderedDict

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cloud.workbench import tenancy
from cloud.workbench.companies.estimated import words as estimate_words
from cloud.workbench.companies.models import PRIVATE, Company
from cloud.workbench.parks.models import Park
from sim_env.match.readable import money

from . import outcomes
from .forms import REASONS, NamedForm, NotInterestedForm, ShowAgainForm, SplitRuleForm
from .matches import park_match, rows_for
from .models import SPLIT_RULES, ParkSplitRule, split_rule_of
from .partners import described

CONVERSIONS = {
    "direct": lambda r: _("it fits directly"),
    "known use": lambda r: _("a documented use: it replaces what they take now"),
    "heat pump": lambda r: _("through a heat pump (COP %(cop).1f)") % {"cop": r["cop"] or 0},
    "let-down": lambda r: _("through a pressure-reducing station"),
    "exchanger": lambda r: _("through a steam-to-water exchanger"),
    "new input": lambda r: _("their sector is a known user: they would need a new input for it"),
}


def _company(request, park: str, company: str) -> Company:
    return tenancy.company_or_404(tenancy.viewer(request), park, company, need=PRIVATE)


def _test_url(park: Park) -> str | None:
    """Helper B's "test it in the twin" endpoint, where this install has it."""
    try:
        return reverse("simulations:start", kwargs={"park": park.slug})
    except NoReverseMatch:
        return None


def _simulated(park: Park, version: str, key: str, company: str) -> dict | None:
    """The company's shares of a simulated candidate under each rule (rule -> share, and ``co2_t``),
    where the twin has tested it on this version; the other companies' rows are left out here."""
    try:
        from cloud.workbench.simulations.store import candidate_result
    except ImportError:  # the simulations app is not there yet: estimates only
        return None
    result = candidate_result(park, version, key)
    if not result:
        return None
    shares = result.get("companies") or {}
    mine = shares.get(company, []) if isinstance(shares, dict) else [s for s in shares if s.get("company") == company]
    out: dict = {}
    for share in mine:
        payback = share.get("payback_years")
        out[share["rule"]] = {"gain": share["gain_per_year"], "investment": share["investment"],
                              "payback": math.inf if payback is None and share["investment"] > 0 else (payback or 0.0)}
    return {"shares": out, "co2_t": result.get("co2_avoided_t_per_year")} if out else None


def _tested(park: Park, version: str) -> set[str]:
    """The candidates some finished twin test of this park version simulated (one query: most pages
    have none, and :func:`_simulated` then asks nothing per candidate)."""
    try:
        from cloud.workbench.simulations.models import Job
    except ImportError:
        return set()
    keys: set[str] = set()
    with tenancy.system_access():  # any company's test of this version: only the viewer's share is read after
        for ks in Job.objects.filter(park=park, version=version, state=Job.DONE,
                                     kind=Job.CANDIDATES).values_list("keys", flat=True):
            keys.update(ks)
    return keys


def _payback(years: float) -> str:
    if years <= 0:
        return _("nothing to invest")
    if math.isinf(years):
        return _("never pays back")
    return ngettext("%(n).1f year", "%(n).1f years", 1 if years == 1 else 2) % {"n": years}


def _reasons(r: dict, partner: str) -> list[str]:
    """Why this candidate, in words that name nobody the company may not know."""
    out = [CONVERSIONS.get(r["conversion"], CONVERSIONS["direct"])(r)]
    if r["annual"] is not None:
        text = _("%(amount)s a year delivered") % {"amount": ("≈ " if r["estimates"] else "") + r["amount"]}
        if r["overlap"] is not None:
            text += ", " + _("%(pct)d %% of the hours match") % {"pct": round(100 * r["overlap"])}
        out.append(text)
    if r["replaces"]:
        out.append(_("it replaces %(route)s") % {"route": r["replaces"]})
    if r["instead_of"]:
        out.append(_("instead of %(route)s") % {"route": r["instead_of"]})
    if r["km"] is not None:
        out.append(_("%(km).1f km by %(mode)s") % {"km": r["km"], "mode": _("pipe") if r["mode"] == "pipe" else
                                                   _("truck") if r["mode"] == "truck" else r["mode"]})
    if r["known_use"]:
        out.append(_("documented use: %(use)s (%(source)s)") % {"use": r["known_use"], "source": r["source"]})
    out += [estimate_words(e) for e in r["estimates"]]
    if r["existing"]:
        out.append(_("already an exchange of the park"))
    return out


def _view_rows(park: Park, company: Company, pm, rule: str, resource: str, companies: list[Company],
               words: list) -> tuple[list[dict], list[str], int]:
    """(the rows shown, the resources to filter by, how many are hidden)."""
    rows = rows_for(pm, company.slug)
    hidden = outcomes.hidden(park, company, words)
    rows = [r for r in rows if r["key"] not in hidden]
    resources = sorted({r["resource"] for r in rows})
    if resource:
        rows = [r for r in rows if r["resource"] == resource]
    partners = {c.slug: c for c in companies}
    tested = _tested(park, pm.version) if pm.version else set()
    shown = []
    for r in rows:
        partner = partners.get(r["partner"])
        who = described(partner, company) if partner is not None else _("a company in the park")
        sim = _simulated(park, pm.version, r["key"], company.slug) if r["key"] in tested else None
        shares = sim["shares"] if sim is not None else r["shares"]
        share = shares.get(rule)
        shown.append({
            **r, "partner_text": who, "reasons": _reasons(r, who), "simulated": sim is not None,
            "gain": money(share["gain"], park.currency) if share else None,
            "investment": money(share["investment"], park.currency) if share else None,
            "payback": _payback(share["payback"]) if share else None,
            # what the company's own share would be under the park's other rules, for the talk with its partner
            "other_rules": [(str(label), money(shares[code]["gain"], park.currency)) for code, label in SPLIT_RULES
                            if code != rule and code in shares],
            "co2": sim["co2_t"] if sim is not None and sim.get("co2_t") is not None else r["co2_t"],
            "role_text": _("you give it") if r["role"] == "supplier" else _("you take it"),
        })
    return shown, resources, len(hidden)


def _feedback_text(fb) -> str:
    if not fb.outcomes:
        return _("Your park has recorded no outcome yet: the ranking is learned from documented exchanges of other parks.")
    outcomes_text = ngettext("your park's %(n)d recorded outcome", "your park's %(n)d recorded outcomes",
                             fb.outcomes) % {"n": fb.outcomes}
    return ngettext("%(who)s changed the order of %(changed)d of %(total)d receiver rankings (%(companies)d company's "
                    "list).", "%(who)s changed the order of %(changed)d of %(total)d receiver rankings (%(companies)d "
                    "companies' lists).", fb.companies) % {"who": outcomes_text[:1].upper() + outcomes_text[1:],
                                                           "changed": fb.changed, "total": fb.rankings,
                                                           "companies": fb.companies}


# The list's HTML by what it shows: rendering it is most of a page view's time, and it changes only
# when its rows do. The CSRF token, the one per-session part, goes in after (TOKEN stands for it).
_LISTS: OrderedDict[str, str] = OrderedDict()
_LISTS_LOCK = threading.Lock()
TOKEN = f"csrf-{secrets.token_hex(16)}"  # random: no text a company types can be taken for it


def _list_html(request, context: dict) -> str:
    key = hashlib.sha256(repr(sorted(context.items())).encode("utf-8")).hexdigest()
    with _LISTS_LOCK:
        html = _LISTS.get(key)
    if html is None:
        html = render_to_string("opportunities/_list.html", {**context, "csrf_token": TOKEN})
        with _LISTS_LOCK:
            _LISTS[key] = html
            while len(_LISTS) > 256:
                _LISTS.popitem(last=False)
    return html.replace(TOKEN, get_token(request))


@login_required
def company_opportunities(request, park: str, company: str):
    c = _company(request, park, company)
    p = c.park
    companies = list(Company.objects.filter(park=p))  # read once: the version's hash and the partners
    pm = park_match(p, companies)
    rule = split_rule_of(p)
    words = outcomes.said(p)
    resource = request.GET.get("resource", "").strip()[:32]
    rows, resources, n_hidden = _view_rows(p, c, pm, rule, resource, companies, words)
    listed = {"park_slug": p.slug, "company_slug": c.slug, "rows": rows, "error": pm.error, "test_url": _test_url(p),
              "reasons": [(code, str(label)) for code, label in REASONS], "language": get_language()}
    html = _list_html(request, listed)
    if request.htmx:
        return HttpResponse(html)
    return render(request, "opportunities/company.html", {
        "park": p, "company": c, "list_html": mark_safe(html), "resources": resources,  # our template's output, escaped
        "resource": resource, "rule": dict(SPLIT_RULES).get(rule, rule), "hidden": n_hidden,
        "feedback": _feedback_text(outcomes.feedback(p, pm, words)) if pm.ranked is not None else "",
    })


@require_POST
@login_required
def not_interested(request, park: str, company: str):
    c = _company(request, park, company)
    form = NotInterestedForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        return render(request, "opportunities/refused.html", {"company": c, "park": c.park,
                                                               "why": f"{field}: {' '.join(errors)}"}, status=400)
    try:
        outcomes.record_outcome(c.park, form.cleaned_data["key"], "rejected", company=c, reason=form.reason_text(),
                                user=request.user)
    except (KeyError, ValueError) as e:
        return render(request, "opportunities/refused.html", {"company": c, "park": c.park, "why": str(e).strip("'\"")},
                      status=400)
    return redirect("opportunities:company", park=c.park.slug, company=c.slug)


@login_required
def hidden_list(request, park: str, company: str):
    c = _company(request, park, company)
    said = outcomes.hidden(c.park, c)
    pm = park_match(c.park)
    rows = {r["key"]: r for r in rows_for(pm, c.slug)}
    partners = {x.slug: x for x in Company.objects.filter(park=c.park)}
    items = []
    for key, o in said.items():
        other = o.receiver if o.supplier == c.slug else o.supplier
        partner = partners.get(other)
        items.append({"key": key, "outcome": o, "own": o.company_id == c.pk,
                      "partner": described(partner, c) if partner else _("a company in the park"),
                      "carrier": rows[key]["carrier"] if key in rows else o.resource})
    return render(request, "opportunities/hidden.html", {"park": c.park, "company": c, "items": items})


@require_POST
@login_required
def show_again(request, park: str, company: str):
    c = _company(request, park, company)
    form = ShowAgainForm(request.POST)
    if not form.is_valid() or not outcomes.show_again(c.park, c, form.cleaned_data["key"]):
        return render(request, "opportunities/refused.html", {
            "company": c, "park": c.park, "why": _("key: not a candidate your company said no to")}, status=400)
    return redirect("opportunities:hidden", park=c.park.slug, company=c.slug)


@require_POST
@login_required
def named(request, park: str, company: str):
    c = _company(request, park, company)
    form = NamedForm(request.POST)
    form.is_valid()  # a checkbox: absent is False, never invalid
    value = form.cleaned_data.get("named_to_partners", False)
    if value != c.named_to_partners:
        c.named_to_partners = value
        c.version += 1  # an edit form opened before is told, as for any other change of the company
        c.save()
    return redirect("opportunities:company", park=c.park.slug, company=c.slug)


@login_required
@require_http_methods(["GET", "POST"])
def split_rule(request, park: str):
    """The park's split rule: its facilitators and admins set it."""
    v = tenancy.viewer(request)
    p = Park.objects.filter(slug=park).first()
    if p is None or not tenancy.can_run_park(v, p.pk):
        raise Http404("no such page")
    instance = ParkSplitRule.objects.filter(park=p).first() or ParkSplitRule(park=p)
    form = SplitRuleForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("opportunities:split_rule", park=p.slug)
    pm = park_match(p)
    fb = outcomes.feedback(p, pm) if pm.ranked is not None else None
    return render(request, "opportunities/split_rule.html", {
        "park": p, "form": form, "feedback": _feedback_text(fb) if fb is not None else "", "error": pm.error},
        status=400 if form.errors else 200)
