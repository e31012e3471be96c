"""Who gets the opportunities views: a company's page is its members' (its shares come from its own
costs; the facilitator only where the company shares its costs); the split rule is the park's runners'."""

from __future__ import annotations

RULES = {
    "opportunities:company": "private", "opportunities:hidden": "private",
    "opportunities:not_interested": "post_only", "opportunities:show_again": "post_only",
    "opportunities:named": "post_only",
    "opportunities:split_rule": "run_park",
}
