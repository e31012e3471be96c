"""The park page's links to the companies' opportunities pages that the viewer may open."""

from __future__ import annotations

from django import template
from django.db.models import Q

from cloud.workbench import tenancy
from cloud.workbench.companies.models import PRIVATE

register = template.Library()


@register.simple_tag(takes_context=True)
def your_opportunities(context, park) -> list:
    """The companies of ``park`` whose opportunities the viewer may read (their private tier)."""
    request = context.get("request")
    if request is None:
        return []
    v = tenancy.viewer(request)
    mine = Q(pk__in=v.member_of) | Q(park_id__in=v.facilitates, share_private_with_facilitator=True)
    return [c for c in tenancy.companies(v).filter(mine, park=park) if (tenancy.tier(v, c) or 0) >= PRIVATE]


@register.simple_tag
def matchmaking_feedback(park) -> str:
    """What the park's recorded outcomes changed in its rankings, in a sentence (the facilitator's pages:
    ``{% load opportunities_links %}{% matchmaking_feedback park %}``); "" where matchmaking cannot run."""
    from cloud.workbench.opportunities.matches import park_match
    from cloud.workbench.opportunities.outcomes import feedback
    from cloud.workbench.opportunities.views import _feedback_text

    pm = park_match(park)
    return _feedback_text(feedback(park, pm)) if pm.ranked is not None else ""
