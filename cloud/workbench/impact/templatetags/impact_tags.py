"""The impact app's template helpers: figures as shown, and who gets the park page's link."""

from __future__ import annotations

from django import template

from cloud.workbench import tenancy

from ..charts import shown

register = template.Library()


@register.filter
def impact_shown(value, key: str) -> str:
    """A figure rounded as the CSV writes it, localised; "—" when not known or not the viewer's to read."""
    return shown(key, value)


@register.filter
def impact_get(mapping: dict, key: str):
    return mapping.get(key)


@register.simple_tag(takes_context=True)
def impact_access(context, park) -> dict[str, bool]:
    """Whether the request's viewer may open the park's impact page, and whether the public summary is on."""
    from ..views import is_public, may_see

    request = context.get("request")
    v = tenancy.viewer(request) if request is not None else tenancy.ANONYMOUS
    return {"park": may_see(v, park), "public": is_public(park)}
