"""What one viewer may read of a twin job's result, in plain words.

A result (``aisym match --simulate``'s report_data) holds every company's money. A company's
member reads its own share under each split rule, the candidate's CO2, water and residues, and
the flows before and after; never a partner's share or money, nor the candidate's total money
(the total less its own share would be the partner's). The park's facilitator (and an admin)
reads the park-tier totals, and a company's share only where the company lets the facilitator
see its private tier.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext as _

from cloud.workbench import tenancy
from cloud.workbench.companies.models import PRIVATE

RULES = ("cost sharing", "50/50", "transfer price")
DEFAULT_RULE = "cost sharing"


def park_rule(park) -> str:
    """The park's split rule, as the facilitator set it on the opportunities page (default cost sharing)."""
    from cloud.workbench.opportunities.models import split_rule_of

    rule = split_rule_of(park)
    return rule if rule in RULES else DEFAULT_RULE


def rule_name(rule: str) -> str:
    """A split rule's name in the viewer's language (the opportunities app's words for it)."""
    from cloud.workbench.opportunities.models import SPLIT_RULES

    return str(dict(SPLIT_RULES).get(rule, rule))


def about(x: float) -> str:
    """A figure to two significant digits, with thousands separators: 41,000; 2.3; 0.57."""
    if x == 0 or not math.isfinite(x):
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    return f"{round(x, 1 - magnitude):,.{max(0, 1 - magnitude)}f}"


def sentence(share: dict, co2_t: float, currency: str) -> str:
    """"about 41,000 NOK a year for you, 12 t CO2 less, pays back in 2.3 years"."""
    gain, payback = share["gain_per_year"], share["payback_years"]
    if abs(gain) < 0.5:  # rounds to nothing: say so rather than "about 0 NOK"
        money = _("no money for you under this rule")
    else:
        money = (_("about %(amount)s %(cur)s a year for you") if gain > 0 else
                 _("it costs you about %(amount)s %(cur)s a year")) % {"amount": about(abs(gain)), "cur": currency}
    co2 = (_("%(t)s t CO2 less") if co2_t >= 0 else _("%(t)s t CO2 more")) % {"t": about(abs(co2_t))}
    if share["investment"] <= 0:
        back = _("no investment on your side")
    elif payback is None or gain <= 0:
        back = _("does not pay back")
    else:
        back = _("pays back in %(years)s years") % {"years": about(payback)}
    return f"{money}, {co2}, {back}"


def _names(park, home) -> dict[str, str]:
    """Each company as the viewer may call it: for a company's own job, its partners by name only
    if they chose to be named to partners, else "a food company 2 km away"; by name for the park."""
    from cloud.workbench.opportunities.partners import described

    companies = list(park.companies.all())
    if home is None:
        return {c.slug: c.name for c in companies}
    return {c.slug: c.name if c.pk == home.pk else described(c, home) for c in companies}


def view(job, v: tenancy.Viewer) -> dict:
    """The template's context of a finished job for viewer ``v``."""
    data, park = job.result, job.park
    own = job.company.slug if job.company is not None and job.company.pk in v.member_of else None
    names = _names(park, job.company if own else None)
    cur, rule = data["currency"], park_rule(park)
    by_slug = {c.slug: c for c in park.companies.all()}
    private = {s for s, c in by_slug.items() if (tenancy.tier(v, c) or 0) >= PRIVATE}
    totals = own is None  # the facilitator's and the admin's view: park-tier totals
    rows = []
    for r in data["ranking"]:
        shares = [dict(g, company=c, company_name=names.get(c, c), rule_name=rule_name(g["rule"]))
                  for c, gs in data["companies"].items()
                  if c in private and (own is None or c == own) for g in gs if g["candidate"] == r["id"]]
        mine = next((g for g in shares if g["company"] == own and g["rule"] == rule), None) if own else None
        rows.append({"row": r, "shares": shares, "supplier": names.get(r["supplier"], r["supplier"]),
                     "receiver": names.get(r["receiver"], r["receiver"]), "own": mine,
                     "summary": sentence(mine, r["co2_avoided_t_per_year"], cur) if mine else ""})
    best = max(rows, key=lambda x: x["own"]["gain_per_year"] if x["own"] else x["row"]["net_per_year"]) if rows else None
    focus = job.company.slug if job.company is not None else None
    return {"rows": rows, "currency": cur, "rule": rule, "rule_name": rule_name(rule), "rules": RULES,
            "totals": totals, "own": own, "not_simulated": data["not_simulated"], "best": best,
            "before": _sankey(data["flows_before"], focus, names),
            "after": _sankey(data["flows_after"].get(best["row"]["id"], []) if best else [], focus, names),
            "best_set": data["best_set"] if totals else [],
            "shapley": [dict(s, company_name=names.get(s["company"], s["company"])) for s in data["shapley"]
                        if s["company"] in private] if totals else []}


def _sankey(flows: list[dict], focus: str | None, names: dict[str, str]) -> dict:
    """The flows per year between companies (those of the company asking; all for the park's),
    drawn as the park's flows page draws them (:func:`cloud.workbench.parks.flows.sankey_svg`)."""
    from cloud.workbench.parks.flows import Flow, sankey_svg

    chosen = [Flow(names.get(f["from"], f["from"]), names.get(f["to"], f["to"]), f["resource"], f["amount_per_year"],
                   f["unit"], []) for f in flows if focus is None or focus in (f["from"], f["to"])]
    order = list(dict.fromkeys(n for f in chosen for n in (f.src, f.dst)))
    return {"flows": chosen, "svg": sankey_svg(order, chosen)}
