"""The action plan's content for one viewer: the park's opportunities with their simulated figures,
each company's payback, the permits, risks and next steps, in the form of a facilitation programme's
dossier (a title page, a summary table, a section per opportunity, the sources).

A company's members get only the opportunities their company is part of, and of the money only
their own company's share: a partner's gain or payback is derived from the partner's costs. The
facilitator sees each company's share only where the company let the facilitator see its costs
(``share_private_with_facilitator``, the same tier the rest of the workbench reads), and the
park's net saving of an opportunity only where both its companies did; elsewhere "not shared".
"""

from __future__ import annotations

from django.utils import timezone

from cloud.workbench import engine, tenancy
from cloud.workbench.opportunities.models import SPLIT_RULES as RULE_NAMES
from cloud.workbench.opportunities.models import split_rule_of

from .assess import assessments
from .lens import Lens
from .models import FORWARD, STOPPED
from .rules import rules_for, suggestion

PARTS = ("permits", "risks", "next_steps")
SPLIT_RULES = ("cost sharing", "50/50", "transfer price")  # sim_env.match.benefits' rules, in its order


def texts(opp) -> dict[str, str]:
    """The opportunity's permits, risks and next steps: the facilitator's text, else the rules' suggestion."""
    found = rules_for(opp.resource, opp.material, opp.ewc, opp.conversion)
    return {part: getattr(opp, part) or suggestion(found, part) for part in PARTS}


def _shares(data: dict, names: dict[str, str], own: set[str] | None, readable: set[str], rule: str) -> list[dict]:
    """Per company (all, or only ``own`` slugs): its net gain and payback under each split rule, and
    under the park's rule (``rule``); a company outside ``readable`` is listed as not shared."""
    out = []
    for slug, rows in sorted(data.get("shares", {}).items()):
        if own is not None and slug not in own:
            continue
        shared = slug in readable
        by_rule = {r["rule"]: r for r in rows} if shared else {}
        out.append({"company": names.get(slug, slug), "shared": shared,
                    "rules": [by_rule.get(r) for r in SPLIT_RULES], "park_rule": by_rule.get(rule)})
    return out


def _entry(opp, a, version: str, names: dict[str, str], own: set[str] | None, readable: set[str], rule: str) -> dict:
    row = (a.data.get("row") if a is not None else None) or None
    return {
        "money_shared": bool(row) and {row.get("supplier"), row.get("receiver")} <= readable,
        "opp": opp, "texts": texts(opp), "row": row, "why_not": a.data.get("why") if a is not None else None,
        "hours": a.hours if a is not None else None, "stale": a is not None and a.version != version,
        "shares": _shares(a.data, names, own, readable, rule) if row else [],
        "rules": rules_for(opp.resource, opp.material, opp.ewc, opp.conversion),
    }


def plan_context(v, park, opportunities, user, *, pdf: bool = False) -> dict:
    """Everything the action plan template shows to viewer ``v``."""
    runs = tenancy.can_run_park(v, park.pk)
    names = {c.slug: c.name for c in park.companies.all()}
    own = None if runs else {c.slug for c in park.companies.filter(pk__in=v.member_of)}
    readable = {c.slug for c in park.companies.all() if tenancy.tier(v, c) == tenancy.PRIVATE}
    lens, rule = Lens(v, park), split_rule_of(park)
    opps = sorted((lens.show(o) for o in opportunities if o.stage != STOPPED),
                  key=lambda o: (-FORWARD.index(o.stage), o.created))
    version = engine.park_version(park)
    found = assessments(park, [o.key for o in opps if o.key], version)
    entries = [_entry(o, found.get(o.key) if o.key else None, version, names, own, readable, rule) for o in opps]
    assessed = [e for e in entries if e["row"]]
    cited = {r.id: r for e in entries for r in e["rules"] if r.citation}
    currency = next((a.data.get("currency") for a in found.values() if a.data.get("currency")), park.currency)
    totals = {k: sum(e["row"][k] for e in assessed) for k in (
        "co2_avoided_t_per_year", "water_saved_m3_per_year", "residues_diverted_t_per_year", "investment")}
    return {
        "park": park, "entries": entries, "assessed": assessed, "runs_park": runs, "version": version,
        "currency": currency, "totals": totals, "sources": list(cited.values()), "today": timezone.now(),
        "prepared_by": user.get_username(), "own_companies": sorted(names[s] for s in own) if own else [],
        "pdf": pdf, "split_rules": RULE_NAMES, "park_rule": rule,
        "park_rule_name": dict(RULE_NAMES).get(rule, rule), "hours": max((e["hours"] or 0 for e in assessed), default=None),
    }
