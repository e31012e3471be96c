"""A company's estimated flows: what ``aisym match --estimate ID:NACE:EMPLOYEES`` gives it, until it lists its own.

A company that states its NACE code and its employees but has not listed a flow is mapped
anyway (issue 23 item 3, the Syner approach): :mod:`sim_env.match.estimates` scales published
sector totals by its head count. The coefficients and the rule that a stated flow of the same
direction and resource replaces an estimate are that module's; this one only shows them and turns
a confirmed (or corrected) estimate into a listing of the company's own, which then replaces it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from aisym.park.graph.carriers import Carrier, amount_unit
from sim_env.match.estimates import EstimateError, apply, estimate_profile
from sim_env.match.profiles import Flow, Profile
from sim_env.match.readable import amount

from .models import Company, Listing

# the CLI's words for an estimate (sim_env.match.estimates.estimate_flows): split so that the page
# says them in the viewer's language; any other wording is shown as it is
_WORDS = re.compile(r"^estimate from NACE (?P<nace>\S+) and (?P<n>[\d.,]+) employees: (?P<source>.+)$")
_SHOWN_UNIT = {"kg": ("t/yr", 1e-3), "kWh": ("MWh/yr", 1e-3), "m3": ("m3/yr", 1.0), "Nm3": ("Nm3/yr", 1.0)}


def words(estimate: str) -> str:
    """``"≈ estimated from NACE 10.71 and 12 employees: <source>"`` in the viewer's language."""
    m = _WORDS.match(estimate)
    if m is None:
        return f"≈ {estimate}"
    return _("≈ estimated from NACE %(nace)s and %(n)s employees: %(source)s") % m.groupdict()


@dataclass(frozen=True)
class Estimated:
    """One estimated flow of a company, as its page shows it."""

    flow: str  # the estimate's flow id (est_food_waste), the confirm form's value
    direction: str  # output or input
    name: str
    resource: str
    ewc: str
    material: str
    quantity: float  # per year, in ``unit``
    unit: str  # a unit of the listing form (t/yr, MWh/yr, m3/yr)
    amount: str  # readable: "27.4 t"
    why: str  # :func:`words`


def _stated(x: Listing) -> Flow:
    """A listing as the flow the park file gives matchmaking: only its direction and carrier count here."""
    try:
        carrier = Carrier(resource=x.resource, ewc=x.ewc or None)
    except ValueError:
        carrier = Carrier(resource=x.resource)
    return Flow(x.company.slug, x.slug, x.direction, carrier, "residue" if x.direction == Listing.OUTPUT else "need")


def estimated_flows(company: Company) -> list[Estimated]:
    """The company's estimated flows that no listing of its own replaces (none without NACE and employees)."""
    return estimates_of(company)[0]


def estimates_of(company: Company) -> tuple[list[Estimated], list[str]]:
    """(:func:`estimated_flows`, why a resource family is not estimated: the estimator's words, or that no
    published figure covers the sector at all); nothing without NACE and employees."""
    if not (company.nace and company.employees):
        return [], []
    try:
        est, notes = estimate_profile(company.slug, company.nace, float(company.employees), company.name)
    except EstimateError as e:  # a data file the estimator refuses: said, as the opportunities page says it
        return [], [str(e).splitlines()[0]]
    if not est.flows and not notes:
        notes = [_("No published sector figure covers NACE %(nace)s yet: nothing is estimated.") % {"nace": est.nace}]
    stated = Profile(company.slug, flows=[_stated(x) for x in company.listings.all()])
    merged = apply({company.slug: stated}, [est])[company.slug]
    out = []
    for f in merged.flows:
        if not f.estimate:
            continue
        canonical = amount_unit(f.carrier.resource)
        unit, factor = _SHOWN_UNIT.get(canonical, (f"{canonical}/yr", 1.0))
        name = f.carrier.material or f.carrier.resource.value.replace("_", " ")
        out.append(Estimated(f.id, f.direction, name, f.carrier.resource.value, f.carrier.ewc or "",
                             f.carrier.material or "", f.annual * factor, unit, amount(f.annual, canonical),
                             words(f.estimate)))
    return out, notes


def listing_from(company: Company, e: Estimated) -> Listing:
    """The company's own listing of an estimate it confirms (or is about to correct): it replaces the estimate."""
    base = e.flow.removeprefix("est_")
    slug, n = base, 2
    while company.listings.filter(slug=slug).exists():
        slug, n = f"{base}_{n}", n + 1
    return Listing.objects.create(
        company=company, slug=slug, direction=e.direction, name=e.name, resource=e.resource, ewc=e.ewc,
        material=e.material, quantity=round(e.quantity, 3), unit=e.unit, frequency="continuous",
        description=_("Confirmed from the estimate: %(why)s") % {"why": e.why})
