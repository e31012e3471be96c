"""Template tags of the pipeline: whether the viewer may use it (the park page's link)."""

from __future__ import annotations

from django import template

from cloud.workbench import tenancy

register = template.Library()


@register.simple_tag(takes_context=True)
def may_use_pipeline(context, park) -> bool:
    """The park's facilitators and admins, and the members of its companies (they see their own entries)."""
    request = context.get("request")
    if request is None:
        return False
    v = tenancy.viewer(request)
    return tenancy.can_run_park(v, park.pk) or park.pk in v.member_parks
