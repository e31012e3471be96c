"""Matchmaking-event mode: the facilitator's event, its attendees, the live pairs and the agenda;
the attendees' self-registration with the event code and their quick listing cards on a phone.

An attendee needs no account on the day: the link with their token opens their cards and their
meetings. Cards are listings of the attendee's company, written as the onboarding writes them.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cloud.workbench import tenancy
from cloud.workbench.accounts.audit import acting_as
from cloud.workbench.companies.models import Company
from cloud.workbench.companies.onboarding import _unique_slug  # the park's one rule for a new company's id
from cloud.workbench.companies.vocabulary import UNITS
from cloud.workbench.parks.models import Park

from . import agenda as agenda_mod
from .cards import add_card
from .forms import AttendeeForm, CardForm, EventForm
from .models import Attendee, Event
from .ranking import RankError, ranked, rows
from .views import park_run_or_404


def _event_or_404(request, park: str, event: int) -> tuple[Park, Event]:
    p = park_run_or_404(request, park)
    e = Event.objects.filter(park=p, pk=event).first()
    if e is None:
        raise Http404("no such event")
    return p, e


@login_required
@require_http_methods(["GET", "POST"])
def events(request, park: str):
    p = park_run_or_404(request, park)
    form = EventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        e = form.save(commit=False)
        e.park, e.created_by = p, request.user
        e.save()
        messages.success(request, _("Event created. Its code for attendees: %(code)s.") % {"code": e.code})
        return redirect("facilitation:event", park=p.slug, event=e.pk)
    return render(request, "facilitation/events.html", {"park": p, "form": form, "events": Event.objects.filter(park=p)},
                  status=400 if form.errors else 200)


def _register(event: Event, data: dict, *, self_registered: bool) -> Attendee:
    """The attendee, and their new company if they named one (the server writes it: no member yet)."""
    park = event.park
    with transaction.atomic(), tenancy.system_access():
        company = data.get("company")
        if company is None:
            name = data["new_company"].strip()
            company = Company.objects.create(park=park, slug=_unique_slug(park, name), name=name, nace=data["nace"],
                                             location=data["location"].strip(), country=park.country)
        return Attendee.objects.create(event=event, name=data["name"].strip(), email=data["email"], company=company,
                                       self_registered=self_registered)


@login_required
@require_http_methods(["GET", "POST"])
def event(request, park: str, event: int):
    p, e = _event_or_404(request, park, event)
    v = tenancy.viewer(request)
    if request.method == "POST" and "open" in request.POST:
        e.open = request.POST["open"] == "1"
        e.save(update_fields=["open"])
        return redirect("facilitation:event", park=p.slug, event=e.pk)
    form = AttendeeForm(request.POST or None, event=e, companies=tenancy.companies(v).filter(park=p))
    if request.method == "POST" and form.is_valid():
        a = _register(e, form.cleaned_data, self_registered=False)
        messages.success(request, _("Registered: %(name)s (%(company)s).") % {"name": a.name, "company": a.company.name})
        _send_link(request, a)
        return redirect("facilitation:event", park=p.slug, event=e.pk)
    return render(request, "facilitation/event.html", {
        "park": p, "event": e, "form": form,
        "join_url": request.build_absolute_uri(reverse("facilitation:event_join", kwargs={"park": p.slug, "code": e.code})),
        **_live_context(v, p, e)}, status=400 if form.errors else 200)


def _send_link(request, a: Attendee) -> None:
    """The attendee's own link by e-mail, to reopen their cards and meetings on the day; a mail
    server that fails loses no registration: the page says so and the facilitator hands it out."""
    import smtplib

    from django.core.mail import send_mail

    url = request.build_absolute_uri(reverse("facilitation:card", kwargs={"park": a.event.park.slug, "token": a.token}))
    try:
        send_mail(_("Your cards for %(event)s") % {"event": a.event.name},
                  _("Fill your listing cards and see your meetings at %(event)s (%(date)s) here:\n\n%(url)s\n")
                  % {"event": a.event.name, "date": a.event.date, "url": url}, None, [a.email])
    except (OSError, smtplib.SMTPException) as err:
        messages.warning(request, _("The e-mail to %(email)s could not be sent (%(why)s): give them their link "
                                    "from the list of attendees.") % {"email": a.email, "why": err})


def _live_context(v: tenancy.Viewer, p: Park, e: Event) -> dict:
    """What the event page polls: the attendees with their cards so far, and the pairs to meet."""
    attendees = list(e.attendees.select_related("company").prefetch_related("cards"))
    return {"attendees": attendees, "cards": sum(len(a.cards.all()) for a in attendees), **_pairs_context(v, p, e)}


def _pairs_context(v: tenancy.Viewer, p: Park, e: Event) -> dict:
    companies = {a.company.slug: a.company for a in e.attendees.select_related("company")}
    try:
        result = ranked(p)
    except RankError as err:
        return {"pairs": [], "rank_error": str(err)}
    return {"pairs": agenda_mod.pairs(rows(v, p, result.ranked.candidates), companies),
            "version": result.ranked.version, "rank_error": ""}


@login_required
def pairs(request, park: str, event: int):
    """The live ranked pairs and attendees' cards (an htmx partial, polled by the event page)."""
    p, e = _event_or_404(request, park, event)
    return render(request, "facilitation/event.html#live",
                  {"park": p, "event": e, **_live_context(tenancy.viewer(request), p, e)})


@login_required
def agenda(request, park: str, event: int):
    """The printable agenda: per attendee, their meetings by time slot."""
    p, e = _event_or_404(request, park, event)
    ctx = _pairs_context(tenancy.viewer(request), p, e)
    plan = agenda_mod.schedule(e, ctx["pairs"])
    attendees = list(e.attendees.select_related("company"))
    by_company: dict[int, list[Attendee]] = {}
    for a in attendees:
        by_company.setdefault(a.company_id, []).append(a)
    people = []
    for a in attendees:
        day = []
        for slot, pair in plan.of(a.company_id):
            other = None if pair is None else (pair.b if pair.a.pk == a.company_id else pair.a)
            day.append({"slot": slot, "pair": pair, "other": other,
                        "with": by_company.get(other.pk, []) if other is not None else []})
        people.append({"attendee": a, "day": day})
    slots = [{"slot": s, "meetings": m} for s, m in zip(plan.slots, plan.meetings, strict=True)]
    return render(request, "facilitation/agenda.html", {
        "park": p, "event": e, "people": people, "slots": slots, "unscheduled": plan.unscheduled, **ctx})


def _open_event_or_404(park: str, code: str) -> Event:
    e = Event.objects.filter(park__slug=park, code=code.strip().upper()).select_related("park").first()
    if e is None or not e.open:
        raise Http404("no such event")
    return e


@require_http_methods(["GET", "POST"])
def enter_code(request, park: str):
    """Where an attendee types the event's short code on their phone."""
    code = (request.POST.get("code") or request.GET.get("code") or "").strip().upper()
    error = ""
    if code:
        if Event.objects.filter(park__slug=park, code=code, open=True).exists():
            return redirect("facilitation:event_join", park=park, code=code)
        error = _("No open event of this park has the code %(code)s: check it with the facilitator.") % {"code": code}
    if not Park.objects.filter(slug=park).exists():
        raise Http404("no such park")
    return render(request, "facilitation/enter_code.html", {"park_slug": park, "code": code, "error": error},
                  status=400 if error else 200)


@require_http_methods(["GET", "POST"])
def event_join(request, park: str, code: str):
    """Self-registration with the event's code: a new company, or (signed in) one of the user's own."""
    e = _open_event_or_404(park, code)
    v = tenancy.viewer(request)
    own = Company.objects.filter(park=e.park, pk__in=v.member_of) if v.member_of else None
    form = AttendeeForm(request.POST or None, event=e, companies=own)
    if request.method == "POST" and form.is_valid():
        with acting_as(request.user if v.signed_in else None, f"{form.cleaned_data['name']} (event {e.code})"):
            a = _register(e, form.cleaned_data, self_registered=True)
        _send_link(request, a)
        return redirect("facilitation:card", park=park, token=a.token)
    return render(request, "facilitation/join.html", {"event": e, "form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def card(request, park: str, token: str):
    """An attendee's quick listing cards (mobile first) and, once there are pairs, their meetings.

    The token is the attendee's key: with it the server reads their company and the park's
    pairs for them (PostgreSQL's row policies let no anonymous viewer read companies).
    """
    with tenancy.system_access():
        return _card(request, park, token)


def _card(request, park: str, token: str):
    a = Attendee.objects.filter(token=token, event__park__slug=park).select_related("event__park", "company").first()
    if a is None:
        raise Http404("no such attendee")
    form = CardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with acting_as(request.user if request.user.is_authenticated else None, f"{a.name} (event {a.event.code})"):
            listing = add_card(a, form.cleaned_data)
        messages.success(request, _("Card saved: %(name)s.") % {"name": listing.name})
        return redirect("facilitation:card", park=park, token=token)
    return render(request, "facilitation/card.html", {
        "attendee": a, "event": a.event, "form": form, "cards": list(a.cards.select_related("listing")),
        "meetings": _meetings_of(a), "units": UNITS}, status=400 if form.errors else 200)


def _meetings_of(a: Attendee) -> list[dict]:
    """The attendee's meetings by slot (names only: the attendee's link is no company account)."""
    ctx = _pairs_context(tenancy.ANONYMOUS, a.event.park, a.event)
    if not ctx["pairs"]:
        return []
    plan = agenda_mod.schedule(a.event, ctx["pairs"])
    out = []
    for slot, pair in plan.of(a.company_id):
        if pair is not None:
            out.append({"slot": slot, "other": pair.b if pair.a.pk == a.company_id else pair.a})
    return out
