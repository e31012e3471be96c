"""``{% learn_link "cost" %}``: the "?" link of a field that no form class carries (the costs step)."""

from __future__ import annotations

from django import template

from cloud.workbench.learning.help import COSTS_STEP, link

register = template.Library()


@register.simple_tag
def learn_link(field: str):
    return link(*COSTS_STEP[field])
